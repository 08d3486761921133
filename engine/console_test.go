package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/google/go-cmp/cmp"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// consoleFixture is an in-memory DuckDB set up the way serve sets it up: a
// data dir whose raw, outputs and tmp folders are the only allowed
// directories, a view over a CSV file inside raw, external access off and
// the configuration locked. db is the pipeline's pool; the console has its
// own pool over the same connector.
type consoleFixture struct {
	console   *Console
	db        *sql.DB
	consoleDB *sql.DB
	root      string // holds secret.txt, outside the allowed directories
	raw       string // DATA/raw, allowed
	rawFile   string // DATA/raw/koi/koi.csv, behind the view raw.koi
	outputs   string // DATA/outputs, allowed
}

type consoleFixtureOptions struct {
	memoryLimit  string
	consoleConns int
	limits       ConsoleLimits
}

// consoleTestCSV is a tiny KOI-like table; its text cells include a
// formula and a negative number for the spreadsheet checks.
const consoleTestCSV = `kepoi_name,koi_disposition,koi_period,koi_prad,note
K00001.01,CONFIRMED,2.47,13.04,hot jupiter
K00002.01,CONFIRMED,2.20,16.10,
K00003.01,FALSE POSITIVE,4.89,4.82,=HYPERLINK("http://x")
K00004.01,CANDIDATE,3.85,13.40,-5 is text here
K00005.01,CANDIDATE,4.78,2.27,ümlaut and 🦆
K00006.01,CONFIRMED,2.94,1.85,"comma, inside"
`

// consoleNoCloseConnector lets two pools share one DuckDB instance:
// sql.DB.Close closes a connector that implements io.Closer.
type consoleNoCloseConnector struct{ c *duckdb.Connector }

func (n consoleNoCloseConnector) Connect(ctx context.Context) (driver.Conn, error) {
	return n.c.Connect(ctx)
}

func (n consoleNoCloseConnector) Driver() driver.Driver { return n.c.Driver() }

func mustOpenConsoleFixture(tb testing.TB, opts consoleFixtureOptions) *consoleFixture {
	tb.Helper()
	if opts.memoryLimit == "" {
		opts.memoryLimit = "256MB"
	}
	if opts.consoleConns == 0 {
		opts.consoleConns = 2
	}
	root := tb.TempDir()
	f := &consoleFixture{root: root, raw: filepath.Join(root, "data", "raw"), outputs: filepath.Join(root, "data", "outputs")}
	tmp := filepath.Join(root, "data", "tmp")
	for _, d := range []string{filepath.Join(f.raw, "koi"), f.outputs, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	f.rawFile = filepath.Join(f.raw, "koi", "koi.csv")
	mustWrite(tb, f.rawFile, consoleTestCSV)
	mustWrite(tb, filepath.Join(root, "secret.txt"), "top secret\n")

	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		tb.Fatal(err)
	}
	f.db = sql.OpenDB(consoleNoCloseConnector{connector})
	f.consoleDB = sql.OpenDB(consoleNoCloseConnector{connector})
	f.consoleDB.SetMaxOpenConns(opts.consoleConns)
	tb.Cleanup(func() {
		f.consoleDB.Close()
		f.db.Close()
		connector.Close()
	})
	lit := func(s string) string { return sqltmpl.Lit(s).String() }
	dir := func(s string) string { return lit(s + string(filepath.Separator)) }
	for _, q := range []string{
		"SET memory_limit = " + lit(opts.memoryLimit),
		"SET threads = 2",
		"SET temp_directory = " + lit(tmp),
		"SET preserve_insertion_order = false",
		"SET autoinstall_known_extensions = false",
		"CREATE SCHEMA raw",
		"CREATE VIEW raw.koi AS SELECT * FROM read_csv(" + lit(f.rawFile) + ", header = true, all_varchar = false)",
		// a name that looks like a path, as a feature set "2025-10.rc1" does
		`CREATE VIEW raw."koi.v2" AS SELECT * FROM raw.koi`,
		"CREATE TABLE planets AS SELECT * FROM raw.koi",
		"CREATE SEQUENCE console_seq",
		"SET allowed_directories = [" + dir(f.raw) + ", " + dir(f.outputs) + ", " + dir(tmp) + "]",
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	} {
		if _, err := f.db.Exec(q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	limits := opts.limits
	limits.OutputsDir = f.outputs
	f.console = NewConsole(f.consoleDB, limits)
	return f
}

func mustWrite(tb testing.TB, path, data string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// assertUntouched checks that nothing the console was asked to do changed
// the database, its settings or the data dir.
func (f *consoleFixture) assertUntouched(tb testing.TB) {
	tb.Helper()
	var n int
	var memory, access string
	row := f.db.QueryRow(`SELECT (SELECT count(*) FROM planets),
		current_setting('memory_limit'), current_setting('enable_external_access')::VARCHAR`)
	if err := row.Scan(&n, &memory, &access); err != nil {
		tb.Fatal(err)
	}
	if n != 6 || access != "false" {
		tb.Errorf("planets has %d rows (want 6), enable_external_access=%s", n, access)
	}
	var objects []string
	rows, err := f.db.Query(`SELECT database_name || '.' || schema_name || '.' || table_name FROM duckdb_tables()
		UNION ALL SELECT database_name || '.' || schema_name || '.' || view_name FROM duckdb_views() WHERE NOT internal
		UNION ALL SELECT database_name FROM duckdb_databases() WHERE NOT internal
		ORDER BY 1`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		rows.Scan(&s)
		objects = append(objects, s)
	}
	want := []string{"memory", "memory.main.planets", "memory.raw.koi", "memory.raw.koi.v2"}
	if diff := cmp.Diff(want, objects); diff != "" {
		tb.Errorf("database objects changed (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(f.outputs)
	if len(entries) != 0 {
		tb.Errorf("outputs holds %d files after console queries", len(entries))
	}
	var seq sql.NullInt64
	if err := f.db.QueryRow("SELECT currval('console_seq')").Scan(&seq); err == nil && seq.Valid {
		tb.Errorf("console_seq advanced to %d", seq.Int64)
	}
}

func TestConsole_Query(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	res, err := f.console.Query(context.Background(), ConsoleRequest{
		SQL:     "SELECT kepoi_name, koi_period, koi_prad > 10 AS big FROM raw.koi ORDER BY kepoi_name LIMIT 3;",
		QueryID: "q-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(res.Rows)
	if want := `[["K00001.01",2.47,true],["K00002.01",2.2,true],["K00003.01",4.89,false]]`; string(got) != want {
		t.Errorf("rows = %s, want %s", got, want)
	}
	wantCols := []ConsoleColumn{{"kepoi_name", "VARCHAR"}, {"koi_period", "DOUBLE"}, {"big", "BOOLEAN"}}
	if diff := cmp.Diff(wantCols, res.Columns); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if res.Truncated || res.QueryID != "q-1" || res.Limit != consoleMaxRows {
		t.Errorf("truncated=%v query_id=%q limit=%d", res.Truncated, res.QueryID, res.Limit)
	}
	f.assertUntouched(t)
}

func TestConsole_Query_EmptyResultHasLists(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	res, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT * FROM raw.koi WHERE false"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res)
	for _, want := range []string{`"rows":[]`, `"truncated_values":[]`, `"columns":[{"name":"kepoi_name","type":"VARCHAR"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("response %s lacks %s", b, want)
		}
	}
}

// consoleAttack is one case of issue 4 "Read-only by construction".
type consoleAttack struct {
	name     string
	sql      string
	wantCode Code   // "" means the query runs (harmless)
	wantMsg  string // substring of the message
}

// consoleAttacks lists the attacks, with paths of the fixture f; the fuzz
// target seeds its corpus with them.
func consoleAttacks(f *consoleFixture) []consoleAttack {
	inRaw := sqltmpl.Lit(f.rawFile).String()
	dotdot := sqltmpl.Lit(filepath.Join(f.raw, "koi", "..", "..", "..", "secret.txt")).String()
	return []consoleAttack{
		// writes of any kind
		{"insert", "INSERT INTO planets SELECT * FROM planets", BadRequest, "INSERT statements are not allowed: the console is read-only"},
		{"update", "UPDATE planets SET koi_prad = 0", BadRequest, "UPDATE statements are not allowed"},
		{"delete", "DELETE FROM planets", BadRequest, "DELETE statements are not allowed"},
		{"create table", "CREATE TABLE t AS SELECT 1", BadRequest, "CREATE statements are not allowed"},
		{"create temp table", "CREATE TEMP TABLE t AS SELECT 1", BadRequest, "CREATE statements are not allowed"},
		{"create macro", "CREATE MACRO m() AS TABLE SELECT * FROM read_csv('/etc/passwd')", BadRequest, "CREATE statements are not allowed"},
		{"drop", "DROP TABLE planets", BadRequest, "DROP statements are not allowed"},
		{"alter", "ALTER TABLE planets ADD COLUMN x INTEGER", BadRequest, "ALTER statements are not allowed"},
		{"copy to outputs", "COPY planets TO " + sqltmpl.Lit(filepath.Join(f.outputs, "x.csv")).String(), BadRequest, "COPY statements are not allowed"},
		{"copy query to", "COPY (SELECT 1) TO '/tmp/x.parquet' (FORMAT parquet)", BadRequest, "COPY statements are not allowed"},
		{"copy from", "COPY planets FROM " + inRaw, BadRequest, "COPY statements are not allowed"},
		{"export database", "EXPORT DATABASE " + sqltmpl.Lit(f.outputs).String(), BadRequest, "EXPORT statements are not allowed"},
		{"import database", "IMPORT DATABASE " + sqltmpl.Lit(f.outputs).String(), BadRequest, "IMPORT statements are not allowed"},
		{"truncate", "TRUNCATE planets", BadRequest, "TRUNCATE statements are not allowed"},
		{"nextval", "SELECT nextval('console_seq')", BadRequest, "the console is read-only"},
		// databases, extensions, settings
		{"attach", "ATTACH " + sqltmpl.Lit(filepath.Join(f.outputs, "x.duckdb")).String() + " AS x", BadRequest, "ATTACH is not allowed"},
		{"detach", "DETACH memory", BadRequest, "DETACH is not allowed"},
		{"use", "USE system", BadRequest, "USE is not allowed"},
		{"install", "INSTALL httpfs", BadRequest, "INSTALL is not allowed: extensions cannot be installed or loaded"},
		{"load", "LOAD httpfs", BadRequest, "LOAD is not allowed"},
		{"set", "SET enable_external_access = true", BadRequest, "SET is not allowed: settings cannot be changed"},
		{"set memory", "SET memory_limit = '100GB'", BadRequest, "SET is not allowed"},
		{"reset", "RESET memory_limit", BadRequest, "RESET is not allowed"},
		{"pragma", "PRAGMA enable_profiling", BadRequest, "PRAGMA is not allowed"},
		{"call", "CALL checkpoint()", BadRequest, "CALL is not allowed"},
		{"checkpoint", "CHECKPOINT", BadRequest, "CHECKPOINT statements are not allowed"},
		{"force checkpoint", "FORCE CHECKPOINT", BadRequest, "FORCE statements are not allowed"},
		{"checkpoint table function", "SELECT * FROM checkpoint()", BadRequest, "table function checkpoint is not available"},
		{"enable logging function", "SELECT * FROM enable_logging()", BadRequest, "table function enable_logging is not available"},
		{"begin", "BEGIN TRANSACTION", BadRequest, "transaction statements are not allowed"},
		{"commit", "COMMIT", BadRequest, "transaction statements are not allowed"},
		{"explain analyze", "EXPLAIN ANALYZE SELECT 1", BadRequest, "EXPLAIN is not available"},
		{"vacuum", "VACUUM", BadRequest, "VACUUM statements are not allowed"},
		// files outside and inside the allowed directories
		{"read_csv passwd", "SELECT * FROM read_csv('/etc/passwd')", BadRequest, "read_csv reads files directly"},
		{"read_csv_auto", "SELECT * FROM read_csv_auto('/etc/passwd')", BadRequest, "read_csv_auto reads files directly"},
		{"read_text", "SELECT * FROM read_text('/etc/passwd')", BadRequest, "read_text reads files directly"},
		{"read_blob", "SELECT content FROM read_blob('/etc/hostname')", BadRequest, "read_blob reads files directly"},
		{"glob", "SELECT * FROM glob('/etc/*')", BadRequest, "glob reads files directly"},
		{"glob raw", "SELECT * FROM glob(" + sqltmpl.Lit(f.raw+"/*/*").String() + ")", BadRequest, "glob reads files directly"},
		{"dot dot", "SELECT * FROM read_text(" + dotdot + ")", BadRequest, "read_text reads files directly"},
		{"dot dot replacement scan", "SELECT * FROM " + dotdot, BadRequest, "reading files by path"},
		{"read_csv inside raw", "SELECT * FROM read_csv(" + inRaw + ")", BadRequest, "read_csv reads files directly"},
		{"read_text inside raw", "SELECT content FROM read_text(" + inRaw + ")", BadRequest, "read_text reads files directly"},
		{"replacement scan inside raw", "SELECT * FROM " + inRaw, BadRequest, "reading files by path"},
		{"quoted path inside raw", "SELECT * FROM \"" + f.rawFile + "\"", BadRequest, "reading files by path"},
		{"describe path", "DESCRIBE " + inRaw, BadRequest, "reading files by path"},
		// a database file by path, its extension as the table part
		{"database file as schema.table", "SELECT * FROM \"" + filepath.Join(f.raw, "snap") + "\".\"duckdb\"", BadRequest, "reading files by path"},
		{"database file dotted", "SELECT * FROM " + sqltmpl.Lit(filepath.Join(f.raw, "snap.db")).String(), BadRequest, "reading files by path"},
		{"glob in the schema part", "SELECT count(*) FROM \"/tmp/*/idx\".\"duckdb\"", BadRequest, "reading files by path"},
		// the server's folders
		{"allowed directories", "SELECT current_setting('allowed_directories')", BadRequest, "current_setting shows the server's own settings"},
		{"settings table", "SELECT * FROM duckdb_settings()", BadRequest, "the table function duckdb_settings is not available"},
		{"database file path", "SELECT path FROM duckdb_databases()", BadRequest, "the table function duckdb_databases is not available"},
		{"spill files", "SELECT * FROM duckdb_temporary_files()", BadRequest, "not available"},
		// values built outside the memory and time limits
		{"NOT MATERIALIZED chain", "WITH a0 AS NOT MATERIALIZED (SELECT 1 AS x), a1 AS NOT /* c */ materialized (SELECT p.x FROM a0 p, a0 q) SELECT count(*) FROM a1", BadRequest, "NOT MATERIALIZED is not allowed"},
		{"NOT MATERIALIZED in a string is data", "SELECT 'not materialized' AS s", "", ""},
		{"huge range list", "SELECT range(1000000000)", BadRequest, "range(...) here would build a list of 1e+09 values"},
		{"huge range by arithmetic", "SELECT len(generate_series(1, 10::BIGINT * 1000000000, 2))", BadRequest, "generate_series(...) here would build a list of 5e+09 values"},
		{"huge unnest", "SELECT unnest(range(3)), unnest(range(1e9::BIGINT))", BadRequest, "would build a list"},
		{"huge list_resize", "SELECT list_resize([1], 1000000000)", BadRequest, "list_resize(...) here would build a list"},
		{"huge repeat", "SELECT repeat('x', 1e9)", BadRequest, "repeat(...) here would build a value of 1e+09"},
		{"huge lpad", "SELECT lpad('x', 2e9::BIGINT, 'y')", BadRequest, "lpad(...) here would build a value"},
		{"range rows stream", "SELECT count(*) FROM range(100000000)", "", ""},
		{"small range list", "SELECT len(range(1000))", "", ""},
		{"range sized by data", "SELECT len(range(kepid::BIGINT)) FROM raw.koi", BadRequest, "range(...) here takes its size from the data"},
		{"generate_series bounded by data", "SELECT generate_series(1, koi_period::BIGINT) FROM raw.koi", BadRequest, "takes its size from the data"},
		{"repeat counted by data", "SELECT repeat('*', koi_prad::INT) FROM raw.koi", BadRequest, "repeat(...) here takes its count from the data"},
		{"list_resize sized by data", "SELECT list_resize([1], kepid::BIGINT) FROM raw.koi", BadRequest, "takes its size from the data"},
		{"repeat bounded with least", "SELECT repeat('*', least(koi_prad::INT, 50)) AS bar FROM raw.koi", "", ""},
		{"range bounded with least", "SELECT len(range(least(koi_prad::BIGINT, 10))) FROM raw.koi", "", ""},
		{"lpad to a constant width", "SELECT lpad(kepoi_name, 12, ' ') FROM raw.koi", "", ""},
		{"summarize path", "SUMMARIZE " + inRaw, BadRequest, "reading files by path"},
		{"read_parquet", "SELECT * FROM read_parquet('/etc/x.parquet')", BadRequest, "read_parquet reads files directly"},
		{"parquet_metadata", "SELECT * FROM parquet_metadata(" + inRaw + ")", BadRequest, "parquet_metadata reads files directly"},
		{"read_json in subquery", "SELECT (SELECT count(*) FROM read_json('/etc/x.json')) AS n", BadRequest, "read_json reads files directly"},
		{"read_csv in cte", "WITH x AS (FROM read_csv(" + inRaw + ")) SELECT * FROM x", BadRequest, "read_csv reads files directly"},
		{"read_csv lateral", "SELECT * FROM raw.koi, LATERAL (SELECT * FROM read_csv(" + inRaw + "))", BadRequest, "read_csv reads files directly"},
		{"sniff_csv", "SELECT * FROM sniff_csv(" + inRaw + ")", BadRequest, "sniff_csv reads files directly"},
		{"query function", "SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')", BadRequest, "query runs SQL from a string"},
		{"query_table", "SELECT * FROM query_table(" + inRaw + ")", BadRequest, "query_table runs SQL from a string"},
		{"histogram over a file", "SELECT * FROM histogram(" + inRaw + ", kepoi_name)", BadRequest, "table function histogram is not available"},
		{"histogram_values over a file", "SELECT * FROM histogram_values(" + inRaw + ", kepoi_name)", BadRequest, "table function histogram_values is not available"},
		{"pragma_table_info of a path", "SELECT * FROM pragma_table_info(" + inRaw + ")", BadRequest, "does not exist"},
		{"auto complete file names", "SELECT * FROM sql_auto_complete('SELECT * FROM ''" + f.raw + "/')", BadRequest, "table function sql_auto_complete is not available"},
		{"json_execute_serialized_sql", "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))", BadRequest, "runs SQL from a string"},
		{"upper case function", "SELECT * FROM READ_CSV('/etc/passwd')", BadRequest, "read_csv reads files directly"},
		{"quoted function", `SELECT * FROM "read_csv"('/etc/passwd')`, BadRequest, "read_csv reads files directly"},
		// stacked statements and comments
		{"stacked drop", "SELECT 1; DROP TABLE planets", BadRequest, "statement 2 of 2: DROP statements are not allowed"},
		{"stacked selects", "SELECT 1; SELECT 2", BadRequest, "one query at a time, and this text holds 2 statements"},
		{"stacked after comment", "SELECT 1 /* ; */; DELETE FROM planets", BadRequest, "statement 2 of 2: DELETE statements are not allowed"},
		{"stacked attach", "SELECT 1;\nATTACH '/tmp/x.duckdb'", BadRequest, "statement 2 of 2: ATTACH is not allowed"},
		{"stacked in string is data", "SELECT '; DROP TABLE planets' AS s", "", ""},
		{"line comment hides nothing", "SELECT 1 AS one -- ; DROP TABLE planets", "", ""},
		{"block comment hides nothing", "SELECT 1 AS one /* ; DROP TABLE planets */", "", ""},
		{"comment first", "/* DROP TABLE planets; */ SELECT 1 AS one", "", ""},
		{"unterminated comment", "SELECT 1 /* DROP TABLE planets", BadRequest, "unterminated /* comment"},
		{"dollar quote", "SELECT $$; DROP TABLE planets$$ AS s", "", ""},
		{"trailing semicolons", "SELECT 1 AS one;;  ; -- done", "", ""},
		{"parameters", "SELECT $1", BadRequest, "does not take parameters"},
		{"empty", "  -- nothing\n ; ", BadRequest, "the query is empty"},
		{"pivot statement", "PIVOT raw.koi ON koi_disposition USING count(*)", BadRequest, "PIVOT is not available as a statement"},
		// reads the console offers
		{"view over allowed file", "SELECT count(*) AS n FROM raw.koi", "", ""},
		{"describe view", "DESCRIBE raw.koi", "", ""},
		{"view named like a file", `SELECT count(*) AS n FROM raw."koi.v2"`, "", ""},
		{"describe view named like a file", `DESCRIBE raw."koi.v2"`, "", ""},
		{"qualified path that is no view", `SELECT * FROM raw."koi.csv"`, BadRequest, "reading files by path"},
		{"unqualified view name like a file", `SELECT * FROM "koi.v2"`, BadRequest, "reading files by path"},
		// unquoted, data.csv is schema data, table csv: DuckDB then reads the file data.csv
		{"unquoted file name", "SELECT * FROM data.csv", BadRequest, `reading files by path ("data.csv")`},
		{"unquoted compressed file name", "SELECT * FROM koi.csv.gz", BadRequest, `reading files by path ("koi.csv.gz")`},
		{"describe unquoted file name", "DESCRIBE data.parquet", BadRequest, "reading files by path"},
		{"missing view keeps DuckDB's message", "SELECT * FROM raw.kio", BadRequest, "does not exist"},
		{"summarize view", "SUMMARIZE raw.koi", "", ""},
		{"show tables", "SHOW TABLES", "", ""},
		{"catalog listing", "SELECT table_name FROM duckdb_tables()", "", ""},
		{"range", "FROM range(3)", "", ""},
		{"values", "VALUES (1, 'a'), (2, 'b')", "", ""},
		{"pivot in from", "SELECT * FROM (PIVOT raw.koi ON koi_disposition IN ('CONFIRMED', 'CANDIDATE') USING count(*))", "", ""},
		{"nested too deep", "SELECT " + strings.Repeat("list_value(", 65) + "1" + strings.Repeat(")", 65), BadRequest, "nests brackets 65 levels deep; the console allows 64"},
		{"nested brackets in a string are data", "SELECT '" + strings.Repeat("(", 100) + "' AS s", "", ""},
		{"pivot without IN", "SELECT * FROM (PIVOT raw.koi ON koi_disposition USING count(*))", BadRequest, "needs its values listed: ON column IN ("},
		{"pivot without IN in a CTE", "WITH p AS (PIVOT raw.koi ON koi_disposition USING count(*)) SELECT * FROM p", BadRequest, "needs its values listed"},
	}
}

// TestConsole_ReadOnly proves each case of issue 4 "Read-only by
// construction": every one is refused with a 4xx and a clear message, or is
// harmless, and afterwards nothing has changed.
func TestConsole_ReadOnly(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	for _, tc := range consoleAttacks(f) {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.console.Query(context.Background(), ConsoleRequest{SQL: tc.sql, TimeoutMS: 5000})
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("want a result, got %v", err)
				}
				if len(res.Rows) == 0 && tc.name != "stacked in string is data" {
					t.Errorf("want rows, got none")
				}
				return
			}
			if err == nil {
				t.Fatalf("want %s, got %d rows", tc.wantCode, len(res.Rows))
			}
			if got := ErrorCode(err); got != tc.wantCode {
				t.Errorf("code = %s, want %s (%v)", got, tc.wantCode, err)
			}
			if msg := ErrorMessage(err); !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", msg, tc.wantMsg)
			}
		})
	}
	f.assertUntouched(t)
}

func TestConsole_Limits(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{limits: ConsoleLimits{MaxRows: 5000, MaxTimeout: 10 * time.Second}})
	tests := []struct {
		name     string
		req      ConsoleRequest
		wantCode Code
		wantMsg  string
	}{
		{"limit above max", ConsoleRequest{SQL: "SELECT 1", Limit: 5001}, BadRequest, "limit (the row cap) must be between 1 and 5000"},
		{"negative limit", ConsoleRequest{SQL: "SELECT 1", Limit: -1}, BadRequest, "limit (the row cap) must be between"},
		{"timeout above max", ConsoleRequest{SQL: "SELECT 1", TimeoutMS: 10001}, BadRequest, "timeout_ms (the time limit in milliseconds) must be between 1 and 10000"},
		{"bad query id", ConsoleRequest{SQL: "SELECT 1", QueryID: "../x"}, BadRequest, "query_id must be"},
		{"too long", ConsoleRequest{SQL: "SELECT 1 " + strings.Repeat(" ", consoleMaxQueryLen)}, TooLarge, "the console accepts at most 65536"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.console.Query(context.Background(), tc.req)
			if ErrorCode(err) != tc.wantCode || !strings.Contains(ErrorMessage(err), tc.wantMsg) {
				t.Errorf("got %s %q, want %s %q", ErrorCode(err), ErrorMessage(err), tc.wantCode, tc.wantMsg)
			}
		})
	}
	t.Run("row cap", func(t *testing.T) {
		res, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT * FROM range(100000)"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != consoleMaxRows || !res.Truncated || res.TruncatedBy != "rows" {
			t.Errorf("rows=%d truncated=%v by=%q", len(res.Rows), res.Truncated, res.TruncatedBy)
		}
	})
	t.Run("lower limit", func(t *testing.T) {
		res, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT * FROM range(10)", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 10 || res.Truncated {
			t.Errorf("rows=%d truncated=%v, want exactly 10 and not truncated", len(res.Rows), res.Truncated)
		}
	})
	t.Run("raised limit", func(t *testing.T) {
		res, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT * FROM range(100000)", Limit: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 5000 || !res.Truncated {
			t.Errorf("rows=%d truncated=%v", len(res.Rows), res.Truncated)
		}
	})
}

// TestConsole_HugeValues: an outer LIMIT alone let 8 rows reach 2.9 GB.
// Long strings and lists are cut and marked, and the response stays under
// the byte cap.
func TestConsole_HugeValues(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	tests := []struct {
		name      string
		sql       string
		limit     int
		wantRows  int
		wantCut   bool
		truncated string
	}{
		// note: sizes from the data must be bounded (consoleCheckSize);
		// least(...) keeps each cell at the console's largest value.
		{"long strings", "SELECT repeat('x', least(16000000 + range * 0, 16000000)) AS s FROM range(8)", 0, 8, true, ""},
		{"list bomb", "SELECT range(least(1000000 + range * 0, 1000000)) AS l FROM range(8)", 0, 8, true, ""},
		{"array bomb", "SELECT range(2000)::BIGINT[2000] AS a FROM range(8)", 0, 8, true, ""},
		{"list of long strings", "SELECT [repeat('x', 10000000), 'y'] AS l FROM range(4)", 0, 4, true, ""},
		{"nested list bomb", "SELECT [range(least(1000000 + range * 0, 1000000)), range(10)] AS l FROM range(4)", 0, 4, true, ""},
		{"struct of long string", "SELECT {'a': repeat('y', 10000000), 'b': 1} AS s FROM range(3)", 0, 3, true, ""},
		{"blob bomb", "SELECT repeat('z', 5000000)::BLOB AS b FROM range(3)", 0, 3, true, ""},
		{"json bomb", "SELECT to_json(range(least(1000000 + range * 0, 1000000))) AS j FROM range(2)", 0, 2, true, ""},
		{"many medium strings", "SELECT repeat('y', 5000) AS s, range AS i FROM range(10000)", 10000, -1, true, "bytes"},
		{"wide rows", "SELECT range AS i, repeat('w', 3000) AS a, repeat('x', 3000) AS b, repeat('y', 3000) AS c FROM range(5000)", 5000, -1, true, "bytes"},
		{"many rows", "SELECT range AS i, range::VARCHAR AS s FROM range(1000000)", 10000, 10000, false, "rows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.console.Query(context.Background(), ConsoleRequest{SQL: tc.sql, Limit: tc.limit, TimeoutMS: 30000})
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > consoleMaxBytes {
				t.Errorf("response is %d bytes, over the %d cap", len(b), consoleMaxBytes)
			}
			if tc.wantRows >= 0 && len(res.Rows) != tc.wantRows {
				t.Errorf("rows = %d, want %d", len(res.Rows), tc.wantRows)
			}
			if tc.wantRows < 0 && (!res.Truncated || len(res.Rows) == 0) {
				t.Errorf("rows = %d truncated=%v, want a byte-capped prefix", len(res.Rows), res.Truncated)
			}
			if tc.truncated != "" && res.TruncatedBy != tc.truncated {
				t.Errorf("truncated_by = %q, want %q", res.TruncatedBy, tc.truncated)
			}
			if tc.wantCut != (len(res.TruncatedValues) > 0) {
				t.Errorf("truncated_values = %d entries, want some: %v", len(res.TruncatedValues), tc.wantCut)
			}
			for _, rc := range res.TruncatedValues {
				s, ok := res.Rows[rc[0]][rc[1]].(string)
				if !ok || !strings.HasSuffix(s, consoleTruncMark) || len(s) > consoleMaxValueBytes+len(consoleTruncMark) {
					t.Fatalf("value [%d,%d] is not a marked prefix (%T, %d bytes)", rc[0], rc[1], res.Rows[rc[0]][rc[1]], len(s))
				}
			}
		})
	}
	t.Run("wide table", func(t *testing.T) {
		// 40 text and 100 number columns of small values: the byte budget
		// lowers the row cap below the asked 1000 before any row is read,
		// and the result says bytes, not rows (it said rows).
		cols := []string{"range AS i"}
		for k := range 40 {
			cols = append(cols, fmt.Sprintf("'text' AS t%d", k))
		}
		for k := range 100 {
			cols = append(cols, fmt.Sprintf("range * %d AS n%d", k, k))
		}
		res, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT " + strings.Join(cols, ", ") + " FROM range(5000)", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) >= 1000 || !res.Truncated || res.TruncatedBy != "bytes" || len(res.TruncatedValues) != 0 {
			t.Errorf("rows=%d truncated=%v by=%q cut=%d; want fewer than 1000, by bytes, nothing cut", len(res.Rows), res.Truncated, res.TruncatedBy, len(res.TruncatedValues))
		}
	})
	t.Run("small values stay whole", func(t *testing.T) {
		res, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT [1, 2] AS l, {'a': 'b'} AS s, 'xy'::BLOB AS b, '{\"k\": [1]}'::JSON AS j"})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(res.Rows)
		if want := `[[[1,2],{"a":"b"},"eHk=",{"k":[1]}]]`; string(got) != want {
			t.Errorf("rows = %s, want %s", got, want)
		}
	})
	f.assertUntouched(t)
}

// TestConsole_Timeout: a long query is interrupted at the deadline with a
// Timeout, and the same connection answers the next query at once.
func TestConsole_Timeout(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{consoleConns: 1})
	for _, q := range []string{
		"SELECT count(*) FROM range(1000000) a, range(1000000) b",
		"WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t",
	} {
		start := time.Now()
		_, err := f.console.Query(context.Background(), ConsoleRequest{SQL: q, TimeoutMS: 300})
		if ErrorCode(err) != Timeout {
			t.Fatalf("%s: got %v, want Timeout", q, err)
		}
		if !strings.Contains(ErrorMessage(err), "ran longer than its time limit of 300ms") {
			t.Errorf("message = %q", ErrorMessage(err))
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("the timeout took %s to stop the query", took)
		}
		start = time.Now()
		res, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT 42 AS answer"})
		if err != nil || len(res.Rows) != 1 {
			t.Fatalf("the next query failed: %v", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("the next query took %s", took)
		}
	}
	f.assertUntouched(t)
}

// TestConsole_MemoryBomb: a query that needs more than memory_limit is
// stopped by DuckDB and answered with TooLarge.
func TestConsole_MemoryBomb(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{memoryLimit: "100MB"})
	for _, q := range []string{
		"SELECT length(list(range)) FROM range(200000000)",
		"SELECT length(string_agg(range::VARCHAR, ',')) FROM range(200000000)",
	} {
		_, err := f.console.Query(context.Background(), ConsoleRequest{SQL: q, TimeoutMS: 30000})
		if ErrorCode(err) != TooLarge || !strings.Contains(ErrorMessage(err), "more memory than the server allows") {
			t.Errorf("%s: got %s %q, want TooLarge", q, ErrorCode(err), ErrorMessage(err))
		}
	}
	if _, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT count(*) FROM raw.koi"}); err != nil {
		t.Errorf("query after the memory bomb: %v", err)
	}
	f.assertUntouched(t)
}

func TestConsole_Cancel(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	errc := make(chan error, 1)
	go func() {
		_, err := f.console.Query(context.Background(), ConsoleRequest{
			SQL: "SELECT count(*) FROM range(1000000) a, range(1000000) b", QueryID: "slow-1", TimeoutMS: 30000,
		})
		errc <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for f.console.Running() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	_, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT 1", QueryID: "slow-1"})
	if ErrorCode(err) != Conflict {
		t.Errorf("a second query with the same id: got %v, want Conflict", err)
	}
	start := time.Now()
	if !f.console.Cancel("slow-1") {
		t.Fatal("Cancel did not find the running query")
	}
	select {
	case err := <-errc:
		if ErrorCode(err) != Conflict || !errors.Is(err, context.Canceled) || !strings.Contains(ErrorMessage(err), "slow-1 was cancelled by DELETE /api/query/slow-1") {
			t.Errorf("got %s %v, want a Conflict caused by context.Canceled", ErrorCode(err), err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the cancelled query did not stop")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("cancel took %s", took)
	}
	if f.console.Cancel("slow-1") || f.console.Cancel("never-ran") {
		t.Error("Cancel reported a query that is not running")
	}
	if _, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT 1", QueryID: "slow-1"}); err != nil {
		t.Errorf("reusing the id after the query ended: %v", err)
	}
}

func TestConsole_ErrorPosition(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	tests := []struct {
		name    string
		sql     string
		wantMsg string
		wantPos SQLPosition
	}{
		{"unknown column", "SELECT zzz FROM raw.koi", `Referenced column "zzz" not found`, SQLPosition{1, 8}},
		{"unknown column line 3", "SELECT kepoi_name,\n  koi_period,\n    zzz FROM raw.koi", `Referenced column "zzz" not found`, SQLPosition{3, 5}},
		{"unknown table", "SELECT *\nFROM raw.nope", `Table with name nope does not exist`, SQLPosition{2, 6}},
		{"syntax error", "SELECT 1 FROM WHERE x", `syntax error at or near "WHERE"`, SQLPosition{1, 15}},
		{"syntax error line 2", "SELECT 1,\n  2 3 4", `syntax error at or near "3"`, SQLPosition{2, 5}},
		{"after unicode", "SELECT 'ü🦆' AS a, zzz FROM raw.koi", `Referenced column "zzz"`, SQLPosition{1, 19}},
		{"syntax error after unicode", "SELECT 'ü🦆' AS a, 2 3", `syntax error at or near "3"`, SQLPosition{1, 21}},
		{"long line", "SELECT " + strings.Repeat("kepoi_name, ", 20) + "zzz FROM raw.koi", `Referenced column "zzz"`, SQLPosition{1, 248}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.console.Query(context.Background(), ConsoleRequest{SQL: tc.sql})
			if ErrorCode(err) != BadRequest || !strings.Contains(ErrorMessage(err), tc.wantMsg) {
				t.Fatalf("got %s %q, want BadRequest %q", ErrorCode(err), ErrorMessage(err), tc.wantMsg)
			}
			pos, ok := ErrorSQLPosition(err)
			if !ok {
				t.Fatalf("no position in %v", err)
			}
			if diff := cmp.Diff(tc.wantPos, pos); diff != "" {
				t.Errorf("position (-want +got):\n%s", diff)
			}
			if d := ErrorDetails(err); len(d) != 1 || d[0].Field != "sql" {
				t.Errorf("details = %+v", d)
			}
			if strings.Contains(ErrorMessage(err), "console_q") {
				t.Errorf("the message shows the console's wrapper: %q", ErrorMessage(err))
			}
		})
	}
	t.Run("runtime error", func(t *testing.T) {
		_, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT sqrt(-1)"})
		if ErrorCode(err) != BadRequest || !strings.Contains(ErrorMessage(err), "square root of a negative") {
			t.Errorf("got %s %q", ErrorCode(err), ErrorMessage(err))
		}
	})
}

// TestConsole_Busy: a query that finds every console connection taken
// for its whole time limit never ran, so it is Busy (429 with Retry-After),
// not a Timeout (504, which the Contract keeps for a query that ran too
// long); a query waiting for a connection that is cancelled is a Conflict
// that names the DELETE.
func TestConsole_Busy(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{consoleConns: 2})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.console.Query(context.Background(), ConsoleRequest{
				SQL: "SELECT count(*) FROM range(1000000) a, range(1000000) b", TimeoutMS: 30000, QueryID: fmt.Sprintf("hold-%d", i),
			})
		}()
	}
	defer wg.Wait()
	defer f.console.Cancel("hold-0")
	defer f.console.Cancel("hold-1")
	deadline := time.Now().Add(10 * time.Second)
	for f.consoleDB.Stats().InUse < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := f.consoleDB.Stats().InUse; n < 2 {
		t.Fatalf("%d console connections in use, want both", n)
	}
	_, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT 1", TimeoutMS: 200, QueryID: "late"})
	if ErrorCode(err) != Busy || !strings.Contains(ErrorMessage(err), "the console is busy: each of its 2 connections") {
		t.Errorf("a query that found no free connection: %s %v, want Busy", ErrorCode(err), err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT 1", TimeoutMS: 30000, QueryID: "waiting"})
		errc <- err
	}()
	for !f.console.Cancel("waiting") {
		time.Sleep(5 * time.Millisecond)
	}
	if err := <-errc; ErrorCode(err) != Conflict || !strings.Contains(ErrorMessage(err), "cancelled by DELETE /api/query/waiting") {
		t.Errorf("a waiting query cancelled: %s %v, want Conflict", ErrorCode(err), err)
	}
}

// TestConsole_Starvation: with 16 slow console queries in flight, the
// engine's other pool on the same DuckDB instance still answers at once,
// because the console pool holds at most two connections. The bound is
// loose because the test machine may be busy; without the separate pool
// the other queries would wait for a console query to end (15 s).
func TestConsole_Starvation(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{consoleConns: 2})
	var wg sync.WaitGroup
	codes := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.console.Query(context.Background(), ConsoleRequest{
				SQL: "SELECT count(*) FROM range(1000000) a, range(1000000) b", TimeoutMS: 15000, QueryID: fmt.Sprintf("slow-%d", i),
			})
			codes <- err
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for (f.console.Running() < 16 || f.consoleDB.Stats().InUse < 2) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	var slowest time.Duration
	for i := 0; i < 20; i++ {
		start := time.Now()
		var n int
		if err := f.db.QueryRow("SELECT count(*) FROM raw.koi WHERE koi_prad > 2").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.Exec("INSERT INTO planets SELECT * FROM planets LIMIT 0"); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
	}
	running, inUse := f.console.Running(), f.consoleDB.Stats().InUse
	for i := 0; i < 16; i++ {
		f.console.Cancel(fmt.Sprintf("slow-%d", i))
	}
	wg.Wait()
	close(codes)
	t.Logf("other pool: slowest of 20 answers %s while %d console queries were in flight on %d connections", slowest, running, inUse)
	if running != 16 || inUse != 2 {
		t.Errorf("%d console queries in flight on %d connections, want 16 on 2", running, inUse)
	}
	if slowest > 2*time.Second {
		t.Errorf("the other pool's slowest answer took %s while the console was busy", slowest)
	}
	for err := range codes {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("a slow console query ended with %v, want it cancelled", err)
		}
	}
}

// TestConsole_AllTypes: the console's bounded projection returns the same
// JSON as JSONValue on the plain values for every type DuckDB has, and
// casts to text what the driver cannot scan (time_ns) or shows as WKB
// (geometry).
func TestConsole_AllTypes(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	res, err := f.console.Query(context.Background(), ConsoleRequest{SQL: "SELECT * FROM test_all_types()", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	names, types, rows := scanAll(t, f.db, "SELECT * EXCLUDE (time_ns, geometry) FROM test_all_types()")
	idx := map[string]int{}
	for i, c := range res.Columns {
		idx[c.Name] = i
	}
	for r := range rows {
		for i, n := range names {
			want := mustJSON(t, JSONValue(rows[r][i], types[i]))
			if got := mustJSON(t, res.Rows[r][idx[n]]); got != want {
				t.Errorf("row %d %s: console %s, JSONValue %s", r, n, got, want)
			}
		}
	}
	if got := mustJSON(t, res.Rows[1][idx["time_ns"]]); got != `"24:00:00"` {
		t.Errorf("time_ns max = %s", got)
	}
	if len(res.TruncatedValues) != 0 {
		t.Errorf("truncated values: %v", res.TruncatedValues)
	}
}

// TestConsoleError_OutOfMemoryAfterDeadline: a query that runs out of
// memory after its time limit passed (DuckDB cannot stop an allocation)
// is reported as too large, not as slow.
func TestConsoleError_OutOfMemoryAfterDeadline(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctx.Done()
	oom := &duckdb.Error{Type: duckdb.ErrorTypeOutOfMemory, Msg: "Out of Memory Error: could not allocate block of size 256.0 KiB"}
	err := consoleError(ctx, oom, consoleQuery{id: "q1", timeout: 5 * time.Second, maxTimeout: time.Minute}, "SELECT 1")
	if ErrorCode(err) != TooLarge {
		t.Errorf("got %s %q, want TooLarge", ErrorCode(err), ErrorMessage(err))
	}
	other := &duckdb.Error{Type: duckdb.ErrorTypeInterrupt, Msg: "INTERRUPT Error: Interrupted!"}
	if err := consoleError(ctx, other, consoleQuery{id: "q1", timeout: 5 * time.Second, maxTimeout: time.Minute}, "SELECT 1"); ErrorCode(err) != Timeout {
		t.Errorf("an interrupted query past its deadline: got %s, want Timeout", ErrorCode(err))
	}
}

// TestConsole_unknownTableHint: DuckDB's guess for a missing table is kept
// when it is one of ours, and replaced by where the tables are listed when
// it comes from DuckDB's system catalog; the query the hint gives runs.
func TestConsole_unknownTableHint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := MustOpenEngine(t)
	MustIngest(t, e, IngestInput{Path: "testdata/koi_small_commented.csv", Name: "koi"})
	if _, err := e.Process(ctx, ProcessInput{Dataset: "koi"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sql, want, not string
	}{
		{"SELECT * FROM nope", consoleTablesHint, "pg_"},
		{"SELECT * FROM raw.kio", `Did you mean "koi"?`, "catalog.tables"},
		{"SELECT * FROM results", `Did you mean "runs.results"?`, "catalog.tables"},
		// A missing function is no missing table: no pointer to the tables.
		{"SELECT pg_typeo(1)", "does not exist", "catalog.tables"},
	}
	for _, tc := range tests {
		_, err := e.Console().Query(ctx, ConsoleRequest{SQL: tc.sql})
		msg := ErrorMessage(err)
		if ErrorCode(err) != BadRequest || !strings.Contains(msg, tc.want) || strings.Contains(msg, tc.not) {
			t.Errorf("%s: %s %q, want it to say %q and not %q", tc.sql, ErrorCode(err), msg, tc.want, tc.not)
		}
	}
	_, hint, _ := strings.Cut(consoleTablesHint, ": ")
	res, err := e.Console().Query(ctx, ConsoleRequest{SQL: hint})
	if err != nil || len(res.Rows) < 5 {
		t.Fatalf("the hint's query: %v", err)
	}
}

// TestConsole_mapNestedKey: a MAP whose keys are lists or structs, which the
// driver cannot scan into a Go map, comes back as JSON, an object keyed by
// the keys' text as for other maps (it failed the query with a 500, then
// was DuckDB's text, "{[1]=x}"), its NaN null.
func TestConsole_mapNestedKey(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	for sql, want := range map[string]string{
		"SELECT MAP {[1]: 'x'} AS m":               `{"[1]":"x"}`,
		"SELECT MAP {{'a': 1}: 'x'} AS m":          `{"{'a': 1}":"x"}`,
		"SELECT [MAP {[1, 2]: 3}] AS m":            `[{"[1, 2]":3}]`,
		"SELECT MAP {'k': [1, 2]} AS m":            `{"k":[1,2]}`,
		"SELECT MAP {[1]: 'nan'::DOUBLE} AS m":     `{"[1]":null}`,
		"SELECT [MAP {[1]: ['-inf'::FLOAT]}] AS m": `[{"[1]":[null]}]`,
		// note: the driver names the ENUM without its values; a cast back
		// to that name failed the query.
		"SELECT MAP {[1]: {'e': 'a'::ENUM('a', 'b'), 'd': 'nan'::DOUBLE}} AS m": `{"[1]":{"e":"a","d":null}}`,
	} {
		res, err := f.console.Query(context.Background(), ConsoleRequest{SQL: sql})
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			continue
		}
		if got := mustJSON(t, res.Rows[0][0]); got != want {
			t.Errorf("%s = %s, want %s", sql, got, want)
		}
	}
}
