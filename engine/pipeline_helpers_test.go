package engine_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/exohunter/exohunter/engine/mapping"
	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// pipelineSharedData is ../shared/data seen from engine/.
const pipelineSharedData = "../../shared/data/"

// mustPipelineDB opens an in-memory DuckDB with the view schemas.
func mustPipelineDB(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	// note: one connection, so that every statement sees the same in-memory
	// catalog regardless of pooling.
	db.SetMaxOpenConns(1)
	for _, s := range []string{"raw", "normalized", "metrics", "classified"} {
		mustExec(tb, db, "CREATE SCHEMA "+s)
	}
	return db
}

// mustPipelineBundle loads the repository's configs and schemas.
func mustPipelineBundle(tb testing.TB) *spec.Bundle {
	tb.Helper()
	b, err := spec.Load(os.DirFS(".."))
	if err != nil {
		tb.Fatalf("load config: %v", err)
	}
	return b
}

func mustExec(tb testing.TB, db *sql.DB, q string) {
	tb.Helper()
	if _, err := db.ExecContext(context.Background(), q); err != nil {
		tb.Fatalf("%v\n--- SQL:\n%s", err, q)
	}
}

// hashLines counts the leading lines that start with '#', NASA's comment
// block, which read_csv skips with skip=N (comment='#' would cut values).
func hashLines(tb testing.TB, path string) int {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && strings.HasPrefix(sc.Text(), "#") {
		n++
	}
	return n
}

// readCSV returns read_csv(...) over path with the # block skipped and the
// given columns typed VARCHAR.
func readCSV(tb testing.TB, path string, varchar []string) string {
	tb.Helper()
	var types []string
	for _, c := range varchar {
		types = append(types, fmt.Sprintf("%s: 'VARCHAR'", sqltmpl.Lit(c)))
	}
	opts := fmt.Sprintf("skip=%d, header=true", hashLines(tb, path))
	if len(types) > 0 {
		opts += ", types={" + strings.Join(types, ", ") + "}"
	}
	return fmt.Sprintf("read_csv(%s, %s)", sqltmpl.Lit(path), opts)
}

// mustLoadDataset creates raw."name" over a CSV the way the engine does (ids
// read as text) and the three pipeline views over it.
func mustLoadDataset(tb testing.TB, db *sql.DB, b *spec.Bundle, name, path string, opt mapping.Options) *mapping.Mapping {
	tb.Helper()
	cols := describe(tb, db, "SELECT * FROM "+readCSV(tb, path, nil))
	m, err := mapping.Map(cols, b.Columns, opt)
	if err != nil {
		tb.Fatalf("map %s: %v", path, err)
	}
	raw := sqltmpl.QualifiedIdent{Schema: "raw", Name: sqltmpl.Ident(name)}
	mustExec(tb, db, fmt.Sprintf("CREATE OR REPLACE VIEW %s AS SELECT * FROM %s", raw, readCSV(tb, path, m.IDColumns())))
	m.Columns = describe(tb, db, "SELECT * FROM "+raw.String())
	views, err := sqltmpl.Views(sqltmpl.PipelineInput{Dataset: name, Bundle: b, Mapping: m})
	if err != nil {
		tb.Fatal(err)
	}
	for _, v := range views {
		mustExec(tb, db, v)
	}
	return m
}

// describe returns the columns and types of a query.
func describe(tb testing.TB, db *sql.DB, q string) []mapping.Column {
	tb.Helper()
	rows, err := db.Query("DESCRIBE " + q)
	if err != nil {
		tb.Fatalf("describe: %v", err)
	}
	defer rows.Close()
	var out []mapping.Column
	for rows.Next() {
		var name, typ string
		var null, key, def, extra sql.NullString
		if err := rows.Scan(&name, &typ, &null, &key, &def, &extra); err != nil {
			tb.Fatal(err)
		}
		out = append(out, mapping.Column{Name: name, Type: typ})
	}
	return out
}

// mustRunTable materializes RunSelect for the dataset as table name.
func mustRunTable(tb testing.TB, db *sql.DB, in sqltmpl.PipelineInput, table string) {
	tb.Helper()
	q, err := sqltmpl.RunSelect(in)
	if err != nil {
		tb.Fatal(err)
	}
	mustExec(tb, db, fmt.Sprintf("CREATE OR REPLACE TABLE %s AS %s", sqltmpl.Ident(table), q))
}

// queryInt runs a query returning one integer.
func queryInt(tb testing.TB, db *sql.DB, q string) int64 {
	tb.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		tb.Fatalf("%v\n--- SQL:\n%s", err, q)
	}
	return n
}

// queryFloat runs a query returning one number.
func queryFloat(tb testing.TB, db *sql.DB, q string) float64 {
	tb.Helper()
	var f sql.NullFloat64
	if err := db.QueryRow(q).Scan(&f); err != nil {
		tb.Fatalf("%v\n--- SQL:\n%s", err, q)
	}
	if !f.Valid {
		tb.Fatalf("NULL from %s", q)
	}
	return f.Float64
}

// queryCSV renders a query's rows compactly: one line per row,
// comma-separated, lists joined with ';', floats to 4 significant digits,
// NULL as empty. Used for want.csv goldens.
func queryCSV(tb testing.TB, db *sql.DB, q string) string {
	tb.Helper()
	rows, err := db.Query(q)
	if err != nil {
		tb.Fatalf("%v\n--- SQL:\n%s", err, q)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	b.WriteString(strings.Join(cols, ",") + "\n")
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = formatValue(v)
		}
		b.WriteString(strings.Join(parts, ",") + "\n")
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

// formatValue prints one value for queryCSV.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprint(x)
		}
		return fmt.Sprintf("%.4g", x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return strings.Join(parts, ";")
	}
	return fmt.Sprint(v)
}

// mustCatalogRun loads a file of the shared NASA data as dataset name and
// writes its run into the table run of a fresh database; it returns the
// database and the file's mapping.
func mustCatalogRun(t *testing.T, b *spec.Bundle, name, file string) (*sql.DB, *mapping.Mapping) {
	t.Helper()
	db := mustPipelineDB(t)
	m := mustLoadDataset(t, db, b, name, pipelineSharedData+file, mapping.Options{})
	mustRunTable(t, db, sqltmpl.PipelineInput{Dataset: name, Bundle: b, Mapping: m}, "run")
	return db, m
}
