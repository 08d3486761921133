package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	sqltmpl "github.com/exohunter/exohunter/sql"
	"github.com/exohunter/exohunter/sql/ducktype"
)

// How the console bounds what reaches Go. The driver materializes a whole
// result in memory regardless of memory_limit (DESIGN.md), and an outer
// LIMIT caps rows, not bytes. So the console learns the result's columns
// first (LIMIT 0), then runs a projection that cuts every variable-width
// value in SQL to a size chosen so that the row cap times the widest row
// fits the byte cap, and marks what it cut.

// consoleColKind says how a column is projected.
type consoleColKind int

const (
	colFixed  consoleColKind = iota // numbers, dates, UUID, ...: taken as they are
	colText                         // VARCHAR, and types shown as text: left(x, v+1)
	colBlob                         // BLOB: the value if small, else a base64 prefix
	colNested                       // LIST, ARRAY, STRUCT, MAP, UNION: the value if small, else a text prefix
)

// consoleFixedSize is the estimate of one fixed-width value, in bytes.
const consoleFixedSize = 16

// consoleCol is one column of a console result.
type consoleCol struct {
	name, dbType string
	typ          *ducktype.Type
	kind         consoleColKind
	// cast is set for colText columns that are not VARCHAR: they are cast
	// to VARCHAR (JSON, BIT, BIGNUM, and types the driver cannot scan).
	cast bool
	// toJSON is set for nested values the driver cannot scan (a MAP keyed
	// by lists): DuckDB writes them as JSON text, NaN and ±Inf nulled
	// first, instead of its own text form ({[1]=2}).
	toJSON bool
	// json is set for JSON columns: whole values are returned as raw JSON.
	json bool
}

// consoleFixedTypes scan to small Go values.
var consoleFixedTypes = consoleSet(
	"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UHUGEINT",
	"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL",
	"DATE", "TIME", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS",
	"TIMETZ", "TIMESTAMPTZ", "UUID", "INTERVAL", "ENUM",
)

func newConsoleCol(name, dbType string) consoleCol {
	col := consoleCol{name: name, dbType: dbType, typ: ducktype.Parse(dbType)}
	switch n := col.typ.Name; {
	case n == "VARCHAR":
		col.kind = colText
	case n == "BLOB":
		col.kind = colBlob
	case consoleFixedTypes[n]:
		col.kind = colFixed
	case isNestedDBType(n) && consoleScannable(col.typ, 0):
		col.kind = colNested
	case isNestedDBType(n):
		col.kind, col.cast, col.json, col.toJSON = colText, true, true, true
	default:
		col.kind, col.cast, col.json = colText, true, n == "JSON"
	}
	return col
}

func isNestedDBType(name string) bool {
	switch name {
	case "LIST", "ARRAY", "STRUCT", "MAP", "UNION":
		return true
	}
	return false
}

// consoleScannable reports whether the driver can scan every part of a nested
// type into values JSONValue understands.
func consoleScannable(t *ducktype.Type, depth int) bool {
	if depth > ducktype.MaxDepth {
		return false
	}
	switch {
	case t.Name == "LIST" || t.Name == "ARRAY":
		return consoleScannable(t.ElemType(), depth+1)
	case t.Name == "MAP" && len(t.Fields) == 2 && !consoleMapKey(t.Fields[0].Type):
		// note: the driver scans a MAP into a Go map, whose keys must be
		// comparable; MAP {[1]: 'x'} failed the whole query with a 500.
		return false
	case isNestedDBType(t.Name):
		for _, f := range t.Fields {
			if !consoleScannable(f.Type, depth+1) {
				return false
			}
		}
		return len(t.Fields) > 0
	}
	return consoleFixedTypes[t.Name] || t.Name == "VARCHAR" || t.Name == "BLOB" || t.Name == "BIT" || t.Name == "BIGNUM"
}

// consoleMapKey reports whether the driver can scan a MAP key of type t.
func consoleMapKey(t *ducktype.Type) bool {
	return t != nil && !isNestedDBType(t.Name) && t.Name != "BLOB" && t.Name != "BIT" && t.Name != "GEOMETRY"
}

// ident is the column's name inside console_q.
func consoleColIdent(i int) string { return fmt.Sprintf(`"c%d"`, i+1) }

// exprs returns the select-list items for column i with value cap v.
func (col consoleCol) exprs(i, v int) []string {
	id := consoleColIdent(i)
	switch col.kind {
	case colText:
		id = col.text(id)
		return []string{fmt.Sprintf("left(%s, %d)", id, v+1)}
	case colBlob:
		return []string{
			fmt.Sprintf("CASE WHEN octet_length(%s) <= %d THEN %s END", id, v, id),
			fmt.Sprintf("CASE WHEN octet_length(%s) > %d THEN left(to_base64(%s), %d) END", id, v, id, max(4, v/4*4)),
		}
	case colNested:
		txt := "CAST(" + id + " AS VARCHAR)"
		// note: CASE cannot return a type holding an ARRAY in DuckDB 1.5;
		// indexing a one-element list past its end gives NULL instead.
		return []string{
			fmt.Sprintf("[%s][1 + (strlen(%s) > %d)::INTEGER]", id, txt, v),
			fmt.Sprintf("CASE WHEN strlen(%s) > %d THEN left(%s, %d) END", txt, v, txt, v),
		}
	}
	return []string{id}
}

// text is the text of a colText column's value id.
func (col consoleCol) text(id string) string {
	switch {
	case col.toJSON:
		v, _ := sqltmpl.FiniteSQL(id, col.dbType)
		return "CAST(to_json(" + v + ") AS VARCHAR)"
	case col.cast:
		return "CAST(" + id + " AS VARCHAR)"
	}
	return id
}

// width is how many select-list items exprs returns.
func (col consoleCol) width() int {
	if col.kind == colBlob || col.kind == colNested {
		return 2
	}
	return 1
}

// sizeExpr estimates column i's bytes after cutting to v, for paging.
func (col consoleCol) sizeExpr(i, v int) string {
	id := consoleColIdent(i)
	switch col.kind {
	case colText:
		return fmt.Sprintf("coalesce(least(strlen(%s), %d), 0)", col.text(id), v)
	case colBlob:
		return fmt.Sprintf("coalesce(least(octet_length(%s) * 4 / 3, %d), 0)", id, v)
	case colNested:
		return fmt.Sprintf("coalesce(least(strlen(CAST(%s AS VARCHAR)), %d), 0)", id, v)
	}
	return fmt.Sprint(consoleFixedSize)
}

// consoleAliasList is console_q's column list: ("c1", "c2", ...).
func consoleAliasList(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = consoleColIdent(i)
	}
	return "(" + strings.Join(ids, ", ") + ")"
}

// wrap puts the user's SQL under console_q. The prefix is one line
// (consoleWrapperLines), so DuckDB's LINE n is the user's line n-1, and the
// suffix starts on a new line, so a trailing -- comment cannot hide it.
func (s *consoleSession) wrap(selectList, aliases string, limit int64) string {
	return fmt.Sprintf("SELECT %s FROM (\n%s\n) AS %s%s LIMIT %d", selectList, s.user, consoleAlias, aliases, limit)
}

// probe learns the result's column names and types without fetching rows.
func (s *consoleSession) probe(ctx context.Context) ([]consoleCol, error) {
	text := s.wrap("*", "", 0)
	if err := consoleVerifyWrapped(ctx, s.conn, text, s.ast, 0); err != nil {
		return nil, err
	}
	rows, err := s.conn.QueryContext(ctx, text, s.q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols := make([]consoleCol, len(types))
	for i, t := range types {
		cols[i] = newConsoleCol(t.Name(), t.DatabaseTypeName())
	}
	return cols, rows.Err()
}

// consoleBudget picks the value cap v and the row cap n (at most limit) so that
// n+1 rows of the widest shape fit maxBytes.
func consoleBudget(cols []consoleCol, limit, maxValue, maxBytes int) (v, n int) {
	fixed, wide := 0, 0
	for _, c := range cols {
		if c.kind == colFixed {
			fixed++
		} else {
			wide++
		}
	}
	v, n = maxValue, limit
	if wide > 0 {
		per := (maxBytes/(n+1) - consoleFixedSize*fixed) / wide
		v = min(maxValue, max(per, consoleMinValueBytes))
	}
	if row := consoleFixedSize*fixed + wide*v; row > 0 && (n+1)*row > maxBytes {
		n = max(1, maxBytes/row-1)
	}
	return v, n
}

// projection returns the bounded select statement over console_q.
func (s *consoleSession) projection(v int, limit int64) string {
	var items []string
	for i, col := range s.cols {
		items = append(items, col.exprs(i, v)...)
	}
	return s.wrap(strings.Join(items, ", "), consoleAliasList(len(s.cols)), limit)
}

// fetch runs the bounded query and converts its rows.
func (s *consoleSession) fetch(ctx context.Context) (*ConsoleResult, error) {
	l := s.c.limits
	v, n := consoleBudget(s.cols, s.q.limit, l.MaxValueBytes, l.MaxBytes)
	text := s.projection(v, int64(n)+1)
	if err := consoleVerifyWrapped(ctx, s.conn, text, s.ast, int64(n)+1); err != nil {
		return nil, err
	}
	res := &ConsoleResult{Columns: make([]ConsoleColumn, len(s.cols)), Rows: [][]any{}, TruncatedValues: [][2]int{}, Limit: n}
	for i, c := range s.cols {
		res.Columns[i] = ConsoleColumn{Name: c.name, Type: c.dbType}
	}
	rows, err := s.conn.QueryContext(ctx, text, s.q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// note: 128 bytes cover elapsed_ms, query_id and truncated_by.
	size, err := consoleJSONSize(res)
	size += 128
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		if len(res.Rows) == n {
			// note: below the asked limit, n is the byte budget's row count.
			res.Truncated, res.TruncatedBy = true, "rows"
			if n < s.q.limit {
				res.TruncatedBy = "bytes"
			}
			break
		}
		row, cut, err := s.scanRow(rows, v)
		if err != nil {
			return nil, err
		}
		add, err := consoleJSONSize(row)
		if err != nil {
			return nil, err
		}
		add++ // the comma
		for _, c := range cut {
			add += len(fmt.Sprintf("[%d,%d],", len(res.Rows), c))
		}
		if size+add > l.MaxBytes {
			res.Truncated, res.TruncatedBy = true, "bytes"
			break
		}
		size += add
		for _, c := range cut {
			res.TruncatedValues = append(res.TruncatedValues, [2]int{len(res.Rows), c})
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}

func consoleJSONSize(v any) (int, error) {
	b, err := json.Marshal(v)
	return len(b), err
}

// scanRow reads one row of a projection and converts it with JSONValue;
// cut lists the columns whose value was cut to v bytes.
func (s *consoleSession) scanRow(rows *sql.Rows, v int) ([]any, []int, error) {
	n := 0
	for _, c := range s.cols {
		n += c.width()
	}
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, nil, err
	}
	row, cut := convertConsoleRow(s.cols, vals, v)
	return row, cut, nil
}

// convertConsoleRow turns scanned projection values into JSON values.
func convertConsoleRow(cols []consoleCol, vals []any, v int) ([]any, []int) {
	row := make([]any, len(cols))
	var cut []int
	k := 0
	for i, col := range cols {
		switch col.kind {
		case colFixed:
			row[i] = jsonValue(vals[k], col.typ)
			k++
		case colText:
			str, ok := vals[k].(string)
			k++
			switch {
			case !ok:
				row[i] = jsonValue(vals[k-1], col.typ)
			case len(str) > v:
				row[i], cut = consoleCut(str, v)+consoleTruncMark, append(cut, i)
			case col.json:
				row[i] = jsonText(str)
			default:
				row[i] = str
			}
		default:
			if t, ok := vals[k+1].(string); ok {
				row[i], cut = consoleCut(t, v)+consoleTruncMark, append(cut, i)
			} else {
				row[i] = jsonValue(vals[k], col.typ)
			}
			k += 2
		}
	}
	return row, cut
}

// consoleCut returns at most n bytes of s, cut on a character boundary.
func consoleCut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
