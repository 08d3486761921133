package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// FuzzConsoleGuard feeds arbitrary text to the console of a locked
// database. Properties: it never panics; it never answers an internal error
// for user input; what it accepts is a single SELECT according to an
// independent oracle (DuckDB's prepared-statement type on a scratch
// database); and whatever it is given, nothing in the database, its
// settings or the data dir changes.
//
//	go test -run='^$' -fuzz=FuzzConsoleGuard -fuzztime=10s ./engine
func FuzzConsoleGuard(f *testing.F) {
	fx := mustOpenConsoleFixture(f, consoleFixtureOptions{limits: ConsoleLimits{MaxBytes: 1 << 16, MaxValueBytes: 1 << 10}})
	for _, a := range consoleAttacks(fx) {
		f.Add(a.sql)
	}
	for _, s := range []string{
		"SELECT 1; ATTACH ':memory:' AS x", "SELECT 1 --\n; DROP TABLE planets", "SELECT E'\\'; DROP TABLE planets; --'",
		"SELECT $a$ ; $b$ $a$", "SELECT 1 /* /* nested */ ; DROP TABLE planets */", "SELECT\u00a01", "SELECT 1\x00; DROP TABLE planets",
		"WITH x AS (DELETE FROM planets RETURNING *) SELECT * FROM x", "SELECT * FROM planets FOR UPDATE",
		"FROM planets SELECT *, nextval('console_seq')", "SELECT setseed(0.5)", "SELECT current_setting('allowed_directories')",
		"SELECT * FROM duckdb_settings() WHERE name = 'enable_external_access'", "select * from raw.koi;;;",
	} {
		f.Add(s)
	}
	oracle := mustOpenConsoleOracle(f, fx)
	f.Fuzz(func(t *testing.T, dangerousSQL string) {
		_, err := fx.console.Query(context.Background(), ConsoleRequest{SQL: dangerousSQL, Limit: 5, TimeoutMS: 500})
		switch code := ErrorCode(err); code {
		case "":
			oracle.assertSingleSelect(t, dangerousSQL)
		case BadRequest, TooLarge, Timeout:
		default:
			t.Errorf("user input answered %s: %v", code, err)
		}
		fx.assertUntouched(t)
	})
}

// consoleOracle is a scratch, unlocked DuckDB with the fixture's objects,
// used to ask DuckDB what kind of statement an accepted text is.
type consoleOracle struct{ db *sql.DB }

func mustOpenConsoleOracle(tb testing.TB, fx *consoleFixture) *consoleOracle {
	tb.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	o := &consoleOracle{db: db}
	o.reset(tb, fx)
	return o
}

func (o *consoleOracle) reset(tb testing.TB, fx *consoleFixture) {
	for _, q := range []string{
		"CREATE SCHEMA IF NOT EXISTS raw",
		"CREATE OR REPLACE VIEW raw.koi AS SELECT * FROM read_csv(" + sqltmpl.Lit(fx.rawFile).String() + ", header = true)",
		"CREATE OR REPLACE TABLE planets AS SELECT * FROM raw.koi",
		"CREATE SEQUENCE IF NOT EXISTS console_seq",
	} {
		if _, err := o.db.Exec(q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
}

// assertSingleSelect prepares the text on the scratch database. Preparing
// multi-statement text executes all but the last statement, so a text the
// guard wrongly accepted would also change the scratch planets table.
func (o *consoleOracle) assertSingleSelect(t *testing.T, text string) {
	ctx := context.Background()
	conn, err := o.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		stmt, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, text)
		if err != nil {
			return nil // no verdict: the text does not bind here
		}
		defer stmt.Close()
		typ, err := stmt.(*duckdb.Stmt).StatementType()
		if err == nil && typ != duckdb.STATEMENT_TYPE_SELECT {
			t.Errorf("the guard accepted a statement of type %d: %q", typ, text)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM planets").Scan(&n); err != nil || n != 6 {
		t.Errorf("the accepted text changed the scratch database (planets: %d rows, %v): %q", n, err, text)
	}
}
