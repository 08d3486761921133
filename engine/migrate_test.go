package engine

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
	dbtesting "github.com/golang-migrate/migrate/v4/database/testing"
)

// mustMemoryDB opens a bare in-memory DuckDB, without the engine.
func mustMemoryDB(t *testing.T) *sql.DB {
	t.Helper()
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestMigrateDriver_Conformance runs golang-migrate's own driver tests.
func TestMigrateDriver_Conformance(t *testing.T) {
	t.Parallel()
	d, err := newMigrateDriver(context.Background(), mustMemoryDB(t))
	if err != nil {
		t.Fatal(err)
	}
	dbtesting.Test(t, d, []byte("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);"))
}

// TestMigrateDriver_RunIsOneTransaction checks that a failing file leaves
// nothing of its earlier statements behind.
func TestMigrateDriver_RunIsOneTransaction(t *testing.T) {
	t.Parallel()
	db := mustMemoryDB(t)
	d, err := newMigrateDriver(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(strings.NewReader("CREATE TABLE half (x INTEGER); SELECT no_such_column FROM half;")); err == nil {
		t.Fatal("Run of a broken file succeeded")
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'half'").Scan(&n); err != nil || n != 0 {
		t.Errorf("table from the failed file exists (%d, %v)", n, err)
	}
}

// TestEngine_Migrate reverts and re-applies the migrations, as
// `exohunter migrate` would, and checks the service's tables.
func TestEngine_Migrate(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t, func(o *Options) { o.Config = nil })
	ctx := context.Background()
	tables := func() int64 {
		return mustQueryInt(t, e, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'meta' AND table_name IN ('datasets', 'runs', 'jobs')")
	}
	if got := tables(); got != 3 {
		t.Fatalf("meta tables after Open = %d, want 3", got)
	}
	if err := e.Migrate(ctx, "up"); err != nil {
		t.Fatalf("second up: %v", err)
	}
	if err := e.Migrate(ctx, "down"); err != nil {
		t.Fatalf("down: %v", err)
	}
	if v, _, _ := e.MigrationVersion(ctx); v != 0 || tables() != 0 {
		t.Errorf("after down: version %d, %d tables; want 0, 0", v, tables())
	}
	if err := e.Migrate(ctx, "up"); err != nil {
		t.Fatalf("up after down: %v", err)
	}
	if v, dirty, _ := e.MigrationVersion(ctx); v < 1 || dirty || tables() != 3 {
		t.Errorf("after up: version %d dirty %v, %d tables", v, dirty, tables())
	}
	if err := e.Migrate(ctx, "sideways"); ErrorCode(err) != BadRequest {
		t.Errorf("Migrate(sideways) = %v, want BadRequest", err)
	}
}

// TestOpen_ForeignDatabase: a DuckDB file with tables but no migrations
// table (a snapshot, a notebook's file) is refused and left byte for byte
// as it was; a new file is set up.
func TestOpen_ForeignDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "notebook.duckdb")
	c, err := duckdb.NewConnector(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	if _, err := db.Exec("CREATE SCHEMA meta; CREATE TABLE meta.mine (x INTEGER); INSERT INTO meta.mine VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	c.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{DBPath: path, DataDir: filepath.Join(dir, "data"), FeatureStore: filepath.Join(dir, "fs"), Config: os.DirFS(repoRoot)}
	if e, err := Open(context.Background(), opts); ErrorCode(err) != Conflict || !strings.Contains(err.Error(), "not an ExoHunter database") {
		if e != nil {
			e.Close()
		}
		t.Fatalf("Open(foreign file) = %v, want Conflict", err)
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(before, after) {
		t.Errorf("the foreign file changed (%v)", err)
	}
	opts.DBPath = filepath.Join(dir, "new.duckdb")
	MustOpenEngineWith(t, opts)
}
