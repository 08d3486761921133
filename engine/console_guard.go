package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// The console's guard. DuckDB itself decides what the text is:
// json_serialize_sql parses it with DuckDB's parser, executes nothing, and
// answers an error for every statement that is not a SELECT (DESIGN.md:
// preparing multi-statement text would execute it). The guard then requires
// exactly one statement and walks the statement's syntax tree for table
// functions and table names that read files. The keyword lexer below only
// makes the messages friendlier; it never decides.

// consoleSerializeSQL parses $1 without executing it. The casts are needed:
// the parameter's type is unknown, and the JSON result would otherwise be
// decoded by the driver.
const consoleSerializeSQL = "SELECT json_serialize_sql($1::VARCHAR)::VARCHAR"

// consoleAlias names the subquery that holds the user's SQL in every
// statement the console builds around it.
const consoleAlias = "console_q"

// consoleQueryRower is what the guard needs from a connection.
type consoleQueryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// consoleGuard checks dangerousSQL, unvalidated text from a user, without
// executing it. It answers the parsed statement and the text to run (the
// input with leading and trailing semicolons blanked out), or an *Error
// (BadRequest) that says what is not allowed. Errors that are not *Error
// come from the connection.
func consoleGuard(ctx context.Context, conn consoleQueryRower, dangerousSQL string) (map[string]any, string, error) {
	if strings.TrimSpace(dangerousSQL) == "" || !sqlHasCode(lexSQL(dangerousSQL)) {
		return nil, "", Errorf(BadRequest, "the query is empty")
	}
	if strings.IndexByte(dangerousSQL, 0) >= 0 {
		return nil, "", Errorf(BadRequest, "the query contains a NUL byte")
	}
	if d := sqlNestingDepth(dangerousSQL); d > consoleMaxNesting {
		// note: DuckDB's parser and binder take time that grows steeply
		// with depth and that no time limit or cancel interrupts (990
		// nested calls held a console connection for 29 s).
		return nil, "", Errorf(BadRequest, "the query nests brackets %d levels deep; the console allows %d", d, consoleMaxNesting)
	}
	if sqlHasWords(dangerousSQL, "NOT", "MATERIALIZED") {
		// note: json_serialize_sql does not keep it, so the text is read.
		// Forty CTEs each joining the one before to itself, inlined, made
		// 2^40 rows of plan: the server was killed at 24 GB, past both
		// the memory limit and the time limit.
		return nil, "", Errorf(BadRequest, "NOT MATERIALIZED is not allowed in the console: a CTE inlined into CTEs that repeat it grows without bound; leave it out (DuckDB materializes a CTE used more than once)")
	}
	tree, err := consoleSerialize(ctx, conn, dangerousSQL)
	if err != nil {
		return nil, "", err
	}
	if tree.Error {
		return nil, "", tree.guardError(dangerousSQL)
	}
	switch n := len(tree.Statements); {
	case n == 0:
		return nil, "", Errorf(BadRequest, "the query is empty")
	case n > 1:
		return nil, "", Errorf(BadRequest, "the console runs one query at a time, and this text holds %d statements; remove all but one", n)
	}
	stmt := tree.Statements[0]
	if params, _ := stmt["named_param_map"].([]any); len(params) > 0 {
		return nil, "", Errorf(BadRequest, "the console does not take parameters ($1, ?, $name); write the values into the query")
	}
	node, _ := stmt["node"].(map[string]any)
	if node == nil {
		return nil, "", Errorf(BadRequest, "only SELECT queries are allowed in the console")
	}
	if err := checkConsoleTree(node, connRelations(ctx, conn)); err != nil {
		return nil, "", err
	}
	return node, sqlTrimSemicolons(dangerousSQL), nil
}

// consoleSerialized is json_serialize_sql's answer.
type consoleSerialized struct {
	Error        bool             `json:"error"`
	ErrorType    string           `json:"error_type"`
	ErrorMessage string           `json:"error_message"`
	Position     json.Number      `json:"position"`
	Statements   []map[string]any `json:"statements"`
}

func consoleSerialize(ctx context.Context, conn consoleQueryRower, text string) (*consoleSerialized, error) {
	var raw string
	if err := conn.QueryRowContext(ctx, consoleSerializeSQL, text).Scan(&raw); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var out consoleSerialized
	if err := dec.Decode(&out); err != nil {
		return nil, Wrap(Internal, err, "console guard: json_serialize_sql answered unreadable JSON")
	}
	return &out, nil
}

// guardError explains why DuckDB refused to serialize the text.
func (t *consoleSerialized) guardError(text string) error {
	if t.ErrorType == "parser" {
		e := Errorf(BadRequest, "%s", "Parser Error: "+t.ErrorMessage)
		if off, err := strconv.Atoi(t.Position.String()); err == nil && off >= 0 {
			return withSQLPosition(e, sqlPositionAt(text, off))
		}
		return e
	}
	// note: DuckDB says "Only SELECT statements can be serialized to json!"
	// for every other statement; name the culprit from the keywords.
	stmts := sqlStatementKeywords(text)
	for i, kw := range stmts {
		if consoleReadKeywords[kw] || kw == "" {
			continue
		}
		msg := consoleKeywordMessage(kw)
		if len(stmts) > 1 {
			msg = fmt.Sprintf("statement %d of %d: %s", i+1, len(stmts), msg)
		}
		return Errorf(BadRequest, "%s", msg)
	}
	if t.ErrorMessage != "" && !strings.HasPrefix(t.ErrorMessage, "Only SELECT") {
		return Errorf(BadRequest, "%s", t.ErrorMessage)
	}
	if sqlHasWord(text, "PIVOT") {
		// note: a PIVOT without IN (...) first runs a query of its own to
		// find the values, so it is not one SELECT.
		return Errorf(BadRequest, "a PIVOT in the console needs its values listed: ON column IN ('value', ...); without IN it runs a query of its own to find them")
	}
	return Errorf(BadRequest, "only SELECT queries are allowed in the console (SELECT, WITH, FROM, VALUES, TABLE, DESCRIBE, SUMMARIZE, SHOW)")
}

// consoleMaxNesting is the deepest bracket nesting the console parses.
const consoleMaxNesting = 64

// sqlNestingDepth is the deepest nesting of (), [] and {} outside strings
// and comments.
func sqlNestingDepth(text string) int {
	depth, deepest := 0, 0
	for _, t := range lexSQL(text) {
		if t.kind != tokOther {
			continue
		}
		switch text[t.start] {
		case '(', '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ')', ']', '}':
			depth--
		}
	}
	return deepest
}

// sqlHasWord reports whether the SQL text holds the keyword outside
// strings and comments, in any case.
func sqlHasWord(text, word string) bool {
	for _, t := range lexSQL(text) {
		if t.kind == tokWord && strings.EqualFold(text[t.start:t.end], word) {
			return true
		}
	}
	return false
}

// sqlHasWords reports whether the SQL text holds the keywords in a row
// (comments and white space between them), outside strings and comments.
func sqlHasWords(text string, words ...string) bool {
	var code []sqlToken
	for _, t := range lexSQL(text) {
		if t.kind != tokSpace && t.kind != tokComment {
			code = append(code, t)
		}
	}
	for i := 0; i+len(words) <= len(code); i++ {
		match := true
		for j, w := range words {
			t := code[i+j]
			if t.kind != tokWord || !strings.EqualFold(text[t.start:t.end], w) {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// consoleReadKeywords start statements that serialize as SELECT.
var consoleReadKeywords = map[string]bool{
	"SELECT": true, "WITH": true, "FROM": true, "VALUES": true, "TABLE": true,
	"DESCRIBE": true, "DESC": true, "SUMMARIZE": true, "SHOW": true,
}

func consoleKeywordMessage(kw string) string {
	switch kw {
	case "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "COPY", "EXPORT", "IMPORT",
		"TRUNCATE", "MERGE", "UPSERT", "REPLACE", "VACUUM", "ANALYZE", "CHECKPOINT", "FORCE", "COMMENT":
		return kw + " statements are not allowed: the console is read-only"
	case "ATTACH", "DETACH", "USE":
		return kw + " is not allowed: the console reads only ExoHunter's own database"
	case "INSTALL", "LOAD":
		return kw + " is not allowed: extensions cannot be installed or loaded from the console"
	case "SET", "RESET", "PRAGMA":
		return kw + " is not allowed: settings cannot be changed from the console"
	case "CALL":
		return "CALL is not allowed in the console; use SELECT * FROM function(...) for the table functions it offers"
	case "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE":
		return "transaction statements are not allowed: each console query runs in its own read-only transaction"
	case "EXPLAIN":
		return "EXPLAIN is not available in the console"
	case "PIVOT", "UNPIVOT":
		msg := kw + " is not available as a statement in the console; write SELECT * FROM (" + kw + " ...) instead"
		if kw == "PIVOT" {
			msg += ", with the values listed: ON column IN ('value', ...)"
		}
		return msg
	case "PREPARE", "EXECUTE", "DEALLOCATE":
		return "prepared statements are not available in the console"
	}
	return kw + " statements are not allowed: the console runs a single read-only query (SELECT, WITH, FROM, VALUES, TABLE, DESCRIBE, SUMMARIZE or SHOW)"
}

// Table functions the console may call: generators, JSON helpers and
// catalog listings that read no files and change nothing. Anything else is
// refused, so that a table function added by a later DuckDB (or one that
// runs SQL from a string, such as query()) is closed until reviewed. Left
// out on purpose: histogram and histogram_values (table macros over
// query_table, so histogram('file.csv', col) reads the file) and
// sql_auto_complete (completes file names); duckdb_settings,
// duckdb_databases, duckdb_temporary_files and duckdb_extensions, which
// show the server's folders (the database file, allowed_directories, the
// spill and extension paths).
var consoleTableFunctions = consoleSet(
	"range", "generate_series", "unnest", "repeat", "repeat_row", "json_each", "json_tree",
	"summary",
	"duckdb_columns", "duckdb_constraints", "duckdb_dependencies",
	"duckdb_functions", "duckdb_indexes", "duckdb_keywords", "duckdb_schemas",
	"duckdb_sequences", "duckdb_tables", "duckdb_types", "duckdb_views", "duckdb_optimizers",
	"duckdb_memory",
	"duckdb_approx_database_count", "duckdb_connection_count", "duckdb_variables",
	"pragma_table_info", "pragma_show", "pragma_version", "pragma_platform",
	"pragma_collations", "pragma_database_size", "pragma_storage_info",
	"pragma_metadata_info", "pragma_user_agent", "icu_calendar_names", "pg_timezone_names",
	"test_all_types",
)

// consoleFileFunctions read or list files. allowed_directories lets DuckDB
// read the data dir (raw uploads, runs, outputs), so the console refuses
// them even there; the registered views read those files by name instead.
var consoleFileFunctions = consoleSet(
	"read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
	"read_json_objects", "read_json_objects_auto", "read_ndjson", "read_ndjson_auto",
	"read_ndjson_objects", "read_text", "read_blob", "glob", "parquet_metadata",
	"parquet_schema", "parquet_file_metadata", "parquet_kv_metadata", "parquet_full_metadata",
	"parquet_bloom_probe", "sniff_csv", "read_duckdb", "read_xlsx", "iceberg_scan",
	"iceberg_metadata", "delta_scan", "sqlite_scan", "st_read", "arrow_scan", "arrow_scan_dumb",
)

// consoleServerFunctions show the server's settings, among them its
// folders (current_setting('allowed_directories'), 'temp_directory').
var consoleServerFunctions = consoleSet("current_setting", "getenv")

// consoleSQLFunctions run SQL held in a string, out of the guard's sight.
var consoleSQLFunctions = consoleSet("query", "query_table", "json_execute_serialized_sql")

func consoleSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// relationLookup says whether schema.name (in database catalog, any when
// "") is a table or view of the database.
type relationLookup func(catalog, schema, name string) (bool, error)

// connRelations looks relations up in DuckDB's catalog through conn.
func connRelations(ctx context.Context, conn consoleQueryRower) relationLookup {
	return func(catalog, schema, name string) (bool, error) {
		var n int
		err := conn.QueryRowContext(ctx, consoleRelationSQL, catalog, schema, name).Scan(&n)
		return n > 0, err
	}
}

const consoleRelationSQL = `SELECT count(*) FROM (
	SELECT database_name, schema_name, view_name AS name FROM duckdb_views()
	UNION ALL SELECT database_name, schema_name, table_name FROM duckdb_tables()
) WHERE ($1 = '' OR lower(database_name) = lower($1)) AND lower(schema_name) = lower($2) AND lower(name) = lower($3)`

// checkConsoleTree walks a serialized statement for functions and table
// names that would reach files or run hidden SQL. relations may be nil.
func checkConsoleTree(v any, relations relationLookup) error {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := checkConsoleTree(e, relations); err != nil {
				return err
			}
		}
	case map[string]any:
		if err := checkConsoleNode(x, relations); err != nil {
			return err
		}
		for k, e := range x {
			if fn, ok := e.(map[string]any); ok && k == "function" && x["type"] == "TABLE_FUNCTION" {
				// note: FROM range(1e9) streams rows; only its arguments
				// are checked as expressions.
				e = fn["children"]
			}
			if err := checkConsoleTree(e, relations); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkConsoleNode(m map[string]any, relations relationLookup) error {
	if m["type"] == "TABLE_FUNCTION" {
		fn, _ := m["function"].(map[string]any)
		name := consoleFunctionName(fn)
		if err := consoleCheckFunction(name); err != nil {
			return err
		}
		if !consoleTableFunctions[name] {
			return Errorf(BadRequest, "the table function %s is not available in the console", name)
		}
	}
	if m["class"] == "FUNCTION" {
		if err := consoleCheckFunction(consoleFunctionName(m)); err != nil {
			return err
		}
		if err := consoleCheckSize(m); err != nil {
			return err
		}
	}
	if name, ok := m["table_name"].(string); ok && (m["type"] == "BASE_TABLE" || m["type"] == "SHOW_REF") {
		path := consoleRefPath(m, name)
		// note: every part counts: "/some/dir/file"."duckdb" reads a
		// database file by path as surely as "/some/dir/file.duckdb".
		if (strings.ContainsAny(path, `/\:~*?`) || strings.Contains(name, ".") || consoleFileExtension(path)) && !consoleRelationExists(m, name, relations) {
			return Errorf(BadRequest, "reading files by path (%q) is not allowed in the console; query the registered views instead (raw.<dataset>, classified.<dataset>, runs.results, ...)", path)
		}
	}
	return nil
}

// consoleRefPath is a table reference as DuckDB's replacement scan reads
// it when no relation has that name: its parts joined by dots, so that an
// unquoted data.csv (schema data, table csv) is the file data.csv.
func consoleRefPath(m map[string]any, name string) string {
	var parts []string
	for _, k := range []string{"catalog_name", "schema_name"} {
		if p, _ := m[k].(string); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(append(parts, name), ".")
}

// consoleFileExtension reports whether a dotted reference ends in the
// extension of a file DuckDB would scan in its place.
func consoleFileExtension(path string) bool {
	i := strings.LastIndexByte(path, '.')
	return i >= 0 && consoleScanExtensions[strings.ToLower(path[i+1:])]
}

// consoleScanExtensions are the endings DuckDB's replacement scans read.
var consoleScanExtensions = consoleSet("csv", "tsv", "txt", "tbl", "dat", "parquet", "json", "jsonl", "ndjson", "gz", "gzip", "zst", "arrow", "xlsx",
	"duckdb", "db", "ddb", "sqlite", "sqlite3", "avro")

// consoleRelationExists reports whether a table reference whose name looks
// like a path (a feature set "2025-10.rc1") names a relation of the
// database: the binder resolves those before any replacement scan, which
// DuckDB tries only for names it cannot find (and then with the schema
// glued on as a relative path, features."csv" reading ./features.csv).
func consoleRelationExists(m map[string]any, name string, relations relationLookup) bool {
	schema, _ := m["schema_name"].(string)
	if schema == "" || relations == nil {
		return false
	}
	catalog, _ := m["catalog_name"].(string)
	ok, err := relations(catalog, schema, name)
	return err == nil && ok
}

func consoleFunctionName(fn map[string]any) string {
	name, _ := fn["function_name"].(string)
	return strings.ToLower(name)
}

func consoleCheckFunction(name string) error {
	switch {
	case consoleFileFunctions[name]:
		return Errorf(BadRequest, "%s reads files directly, which the console does not allow; query the registered views instead (raw.<dataset>, classified.<dataset>, runs.results, ...)", name)
	case consoleSQLFunctions[name]:
		return Errorf(BadRequest, "%s runs SQL from a string, which the console does not allow; write the query itself", name)
	case consoleServerFunctions[name]:
		return Errorf(BadRequest, "%s shows the server's own settings and folders, which the console does not expose", name)
	}
	return nil
}

// consoleVerifyWrapped checks a statement the console built around the user's SQL
// before running it: it must parse as one SELECT whose outer LIMIT is ours
// and whose subquery console_q is exactly the user's statement. This holds
// even if the user's text ends inside a comment or string that would
// swallow what the console appended.
func consoleVerifyWrapped(ctx context.Context, conn consoleQueryRower, text string, user map[string]any, limit int64) error {
	tree, err := consoleSerialize(ctx, conn, text)
	if err != nil {
		return err
	}
	if tree.Error || len(tree.Statements) != 1 {
		return Errorf(BadRequest, "the query cannot be run inside the console's wrapper; check for unterminated comments or quotes")
	}
	node, _ := tree.Statements[0]["node"].(map[string]any)
	from, _ := node["from_table"].(map[string]any)
	sub, _ := from["subquery"].(map[string]any)
	ok := node["type"] == "SELECT_NODE" && from["type"] == "SUBQUERY" && from["alias"] == consoleAlias &&
		consoleOuterLimit(node) == limit && consoleSameTree(sub["node"], user)
	if !ok {
		return Errorf(BadRequest, "the query changes meaning inside the console's wrapper; check for unterminated comments or quotes")
	}
	return checkConsoleTree(node, connRelations(ctx, conn))
}

// consoleOuterLimit returns the constant of the statement's LIMIT modifier, or -1.
func consoleOuterLimit(node map[string]any) int64 {
	mods, _ := node["modifiers"].([]any)
	for _, m := range mods {
		mod, _ := m.(map[string]any)
		if mod["type"] != "LIMIT_MODIFIER" || mod["offset"] != nil {
			continue
		}
		lim, _ := mod["limit"].(map[string]any)
		val, _ := lim["value"].(map[string]any)
		if n, ok := val["value"].(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				return i
			}
		}
	}
	return -1
}

// consoleSameTree compares two serialized trees, ignoring query_location (the
// wrapper shifts every offset).
func consoleSameTree(a, b any) bool {
	return reflect.DeepEqual(consoleStripLocations(a), consoleStripLocations(b))
}

func consoleStripLocations(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = consoleStripLocations(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k != "query_location" {
				out[k] = consoleStripLocations(e)
			}
		}
		return out
	}
	return v
}
