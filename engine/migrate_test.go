package engine

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
	dbtesting "github.com/golang-migrate/migrate/v4/database/testing"

	sqltmpl "github.com/exohunter/exohunter/sql"
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

// TestMigrateDriver_NoDirtyOnDisk: golang-migrate marks a version dirty,
// runs the file and marks it clean, three steps. A process killed between
// them, or a file that fails, must leave the previous version recorded
// clean, not a dirty mark that refuses every later command.
func TestMigrateDriver_NoDirtyOnDisk(t *testing.T) {
	t.Parallel()
	db := mustMemoryDB(t)
	ctx := context.Background()
	d, err := newMigrateDriver(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetVersion(3, false); err != nil {
		t.Fatal(err)
	}
	onDisk := func(want string) {
		t.Helper()
		fresh, err := newMigrateDriver(ctx, db) // what the next process reads
		if err != nil {
			t.Fatal(err)
		}
		v, dirty, err := fresh.Version()
		if got := fmt.Sprintf("%d %v %v", v, dirty, err); got != want {
			t.Errorf("recorded version = %s, want %s", got, want)
		}
	}
	// killed after the dirty mark, before the file ran
	if err := d.SetVersion(4, true); err != nil {
		t.Fatal(err)
	}
	onDisk("3 false <nil>")
	// the file fails
	if err := d.Run(strings.NewReader("CREATE TABLE t4 (x INTEGER); SELECT nope FROM t4;")); err == nil {
		t.Fatal("a broken file ran")
	}
	onDisk("3 false <nil>")
	// the file runs: its version is recorded with it, before the clean mark
	if err := d.Run(strings.NewReader("CREATE TABLE t4 (x INTEGER);")); err != nil {
		t.Fatal(err)
	}
	onDisk("4 false <nil>")
}

// TestEngine_Migrate_recovers: a data dir an older ExoHunter left dirty
// at the last version (killed during its upgrade) is upgraded again
// whether or not that file had been applied, and a data dir of a newer
// ExoHunter is refused with a sentence, untouched.
func TestEngine_Migrate_recovers(t *testing.T) {
	t.Parallel()
	known, err := embeddedVersions()
	if err != nil || len(known) < 2 {
		t.Fatalf("versions %v, %v", known, err)
	}
	last := known[len(known)-1]
	down, err := fs.ReadFile(sqltmpl.Migrations, "migrations/0005_dataset_source.down.sql")
	if err != nil || last != 5 {
		t.Fatalf("the test reverts 0005 by hand; last version is %d (%v)", last, err)
	}
	ctx := context.Background()
	sourceColumn := func(e *Engine) int64 {
		return mustQueryInt(t, e, "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'meta' AND table_name = 'datasets' AND column_name = 'source'")
	}
	for _, tc := range []struct {
		name    string
		applied bool
	}{{"file not applied", false}, {"file applied", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := MustOpenEngine(t, func(o *Options) { o.Config = nil })
			if !tc.applied {
				if _, err := e.db.ExecContext(ctx, string(down)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.db.ExecContext(ctx, "UPDATE "+migrationsTable+" SET version = 5, dirty = true"); err != nil {
				t.Fatal(err)
			}
			if err := e.Migrate(ctx, "up"); err != nil {
				t.Fatalf("up: %v", err)
			}
			if v, dirty, _ := e.MigrationVersion(ctx); v != 5 || dirty || sourceColumn(e) != 1 {
				t.Errorf("after up: version %d dirty %v, %d source columns; want 5, false, 1", v, dirty, sourceColumn(e))
			}
		})
	}
	t.Run("newer", func(t *testing.T) {
		e := MustOpenEngine(t, func(o *Options) { o.Config = nil })
		if _, err := e.db.ExecContext(ctx, "UPDATE "+migrationsTable+" SET version = 99"); err != nil {
			t.Fatal(err)
		}
		err := e.Migrate(ctx, "up")
		if ErrorCode(err) != Conflict || !strings.Contains(ErrorMessage(err), "upgraded by a newer ExoHunter (schema version 99") {
			t.Errorf("got %s %v", ErrorCode(err), err)
		}
		if v, _, _ := e.MigrationVersion(ctx); v != 99 {
			t.Errorf("version = %d, want 99 untouched", v)
		}
	})
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

// TestEngine_Migrate_backup: opening a database of an older schema copies
// the file to DATA/backups before the upgrade, the copy opens with DuckDB
// at the old version, an up-to-date database is not copied again, and a
// backup that cannot be written stops the upgrade with the file untouched.
func TestEngine_Migrate_backup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := MustTempDir(t)
	opts := Options{DBPath: filepath.Join(dir, "exo.duckdb"), DataDir: filepath.Join(dir, "data"),
		FeatureStore: filepath.Join(dir, "feature_store"), MemoryLimit: "512MB", Threads: 2}
	down, err := fs.ReadFile(sqltmpl.Migrations, "migrations/0004_models.down.sql")
	if err != nil {
		t.Fatal(err)
	}
	down5, err := fs.ReadFile(sqltmpl.Migrations, "migrations/0005_dataset_source.down.sql")
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{string(down5), string(down), "UPDATE " + migrationsTable + " SET version = 3",
		"INSERT INTO labels.labels (object_id, dataset, label, source) VALUES ('K00001.01', 'koi', 'CONFIRMED', 'human')"} {
		if _, err := e.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// version and label count of a database file, read without the engine
	readOnly := func(path string) (version, labels int) {
		t.Helper()
		c, err := duckdb.NewConnector(path+"?access_mode=read_only", nil)
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(c)
		defer db.Close()
		if err := db.QueryRow("SELECT (SELECT max(version) FROM "+migrationsTable+"), (SELECT count(*) FROM labels.labels)").Scan(&version, &labels); err != nil {
			t.Fatal(err)
		}
		return version, labels
	}
	backups := func() []string {
		m, _ := filepath.Glob(filepath.Join(opts.DataDir, DirBackups, "exo.schema3.*.duckdb"))
		return m
	}

	blocker := filepath.Join(opts.DataDir, DirBackups)
	if err := os.WriteFile(blocker, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, opts)
	if ErrorCode(err) != Storage || !strings.Contains(ErrorMessage(err), "Nothing was changed") {
		t.Fatalf("Open with an unwritable backup folder: %s %v", ErrorCode(err), err)
	}
	if v, n := readOnly(opts.DBPath); v != 3 || n != 1 {
		t.Fatalf("after the refused upgrade: version %d, %d labels; want 3, 1", v, n)
	}
	os.Remove(blocker)

	MustOpenEngineWith(t, opts).Close()
	got := backups()
	if len(got) != 1 {
		t.Fatalf("backups %v, want one", got)
	}
	if v, n := readOnly(got[0]); v != 3 || n != 1 {
		t.Errorf("backup: version %d, %d labels; want 3, 1", v, n)
	}
	if v, n := readOnly(opts.DBPath); v != 5 || n != 1 {
		t.Errorf("upgraded: version %d, %d labels; want 5, 1", v, n)
	}
	MustOpenEngineWith(t, opts).Close()
	if got := backups(); len(got) != 1 {
		t.Errorf("an up-to-date database was copied again: %v", got)
	}
}
