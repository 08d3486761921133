package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Migrate applies the embedded migrations of the service's own tables.
// direction is "up" (apply every pending file) or "down" (revert every
// applied file; tests only). Open already migrates up, so calling Migrate
// "up" again is a no-op success.
func (e *Engine) Migrate(ctx context.Context, direction string) error {
	m, err := e.migrator(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	switch direction {
	case "up":
		st, err := readSchemaState(m)
		if err != nil {
			return err
		}
		if err := checkSchemaKnown(st, e.path(DirBackups)); err != nil {
			return err
		}
		if err := e.backupBeforeUpgrade(ctx, st); err != nil {
			return err
		}
		err = m.Up()
		var dirty migrate.ErrDirty
		if errors.As(err, &dirty) {
			err = recoverDirty(m, int(dirty.Version))
		}
	case "down":
		err = m.Down()
	default:
		return Errorf(BadRequest, "Unknown migration direction %q: use up.", direction)
	}
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return migrationError(err)
	}
	return nil
}

// MigrationVersion reports the applied migration number (0 when none has
// been applied) and whether the last migration failed half-way (dirty).
func (e *Engine) MigrationVersion(ctx context.Context) (version uint, dirty bool, err error) {
	m, err := e.migrator(ctx)
	if err != nil {
		return 0, false, err
	}
	defer m.Close()
	v, dirty, err := m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("migration version: %w", err)
	}
	return v, dirty, nil
}

// checkOwnDatabase refuses a database file that holds tables or views but
// no migrations table: a snapshot, or any other DuckDB file passed as
// --db. Migrating it would add ExoHunter's schemas to someone else's
// file, and on a snapshot (whose meta schema exists) fail half-way and
// leave it marked dirty. A new, empty file is ours to set up.
func (e *Engine) checkOwnDatabase(ctx context.Context) error {
	var own, objects int
	err := e.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = ?),
		(SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal)
		+ (SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() AND NOT internal)`,
		migrationsTable).Scan(&own, &objects)
	if err != nil {
		return fmt.Errorf("inspect the database: %w", err)
	}
	if own == 0 && objects > 0 {
		return Errorf(Conflict, "%s is not an ExoHunter database: it holds %d tables and views but no %s table (a snapshot, or another DuckDB file). ExoHunter left it untouched. Open a snapshot with DuckDB itself (for example duckdb.connect(path, read_only=True) in Python), or pass --db a new or ExoHunter file.",
			e.opts.DBPath, objects, migrationsTable)
	}
	return nil
}

// migrator builds a golang-migrate instance over the embedded files and the
// engine's own driver. It is cheap: nothing is read until Up or Version.
func (e *Engine) migrator(ctx context.Context) (*migrate.Migrate, error) {
	src, err := iofs.New(sqltmpl.Migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migration source: %w", err)
	}
	drv, err := newMigrateDriver(ctx, e.db)
	if err != nil {
		return nil, fmt.Errorf("migration driver: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "duckdb", drv)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return m, nil
}

// embeddedVersions lists the versions of the embedded migration files,
// ascending.
func embeddedVersions() ([]int, error) {
	entries, err := fs.ReadDir(sqltmpl.Migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range entries {
		head, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(head)
		if ok && err == nil && strings.HasSuffix(e.Name(), ".up.sql") {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil
}

// schemaState is where a database's schema stands against the embedded
// migration files.
type schemaState struct {
	applied int // -1 for a database without any migration
	dirty   bool
	last    int // the newest embedded version
}

func readSchemaState(m *migrate.Migrate) (schemaState, error) {
	known, err := embeddedVersions()
	if err != nil || len(known) == 0 {
		return schemaState{}, fmt.Errorf("migration files: %w", err)
	}
	st := schemaState{applied: -1, last: known[len(known)-1]}
	v, dirty, err := m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("migration version: %w", err)
	}
	st.applied, st.dirty = int(v), dirty
	return st, nil
}

// checkSchemaKnown refuses a database a newer ExoHunter has upgraded: this
// binary has no files for its version and would otherwise fail with
// golang-migrate's "no migration found for version N".
// The upgrade left a copy of the old file in backups (backupBeforeUpgrade).
func checkSchemaKnown(st schemaState, backups string) error {
	if st.applied > st.last {
		return Errorf(Conflict, "This database was upgraded by a newer ExoHunter (schema version %d; this one knows versions up to %d) and is left untouched. Use the newer ExoHunter, or the copy of the database made before the upgrade (in %s).", st.applied, st.last, backups)
	}
	return nil
}

// recoverDirty resumes an upgrade that an older ExoHunter left dirty at
// version n (it committed the dirty mark, the file and the clean mark
// separately). Every file ran in one transaction, so version n was applied
// whole or not at all: the previous version is recorded and the upgrade
// tried again; if the file's tables already exist, it had been applied, and
// n is recorded instead.
func recoverDirty(m *migrate.Migrate, n int) error {
	known, err := embeddedVersions()
	if err != nil {
		return err
	}
	prev := database.NilVersion
	for _, v := range known {
		if v < n {
			prev = v
		}
	}
	if err := m.Force(prev); err != nil {
		return err
	}
	err = m.Up()
	if err != nil && strings.Contains(err.Error(), "already exists") {
		if ferr := m.Force(n); ferr != nil {
			return ferr
		}
		err = m.Up()
	}
	return err
}

// migrationError turns a failed migration into a sentence. A dirty database
// needs a human: the message says so instead of retrying blindly.
func migrationError(err error) error {
	var dirty migrate.ErrDirty
	if errors.As(err, &dirty) {
		return Wrap(Conflict, err, "The database schema is marked dirty at migration %d: a previous upgrade failed half-way. Restore a backup or fix the schema by hand", dirty.Version)
	}
	return fmt.Errorf("migrate: %w", err)
}
