package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/golang-migrate/migrate/v4/database"
)

// migrationsTable records the applied version. It lives in the main schema
// because the meta schema is itself created by migration 0001.
const migrationsTable = "schema_migrations"

// migrateDriver is golang-migrate's database.Driver over the engine's one
// *sql.DB. Upstream has no DuckDB driver, and a second DuckDB library cannot
// be linked into the binary, so this small one runs each migration file in
// one transaction and keeps (version, dirty) in schema_migrations. Locking is
// in-process only: DuckDB's file lock already keeps other processes out.
type migrateDriver struct {
	db     *sql.DB
	ctx    context.Context
	locked atomic.Bool
	// pending is the version golang-migrate marked dirty before Run: Run
	// records it, clean, in the migration's own transaction.
	pending    int
	hasPending bool
}

var _ database.Driver = (*migrateDriver)(nil)

// newMigrateDriver returns a driver over db and creates the version table.
func newMigrateDriver(ctx context.Context, db *sql.DB) (*migrateDriver, error) {
	d := &migrateDriver{db: db, ctx: ctx}
	q := `CREATE TABLE IF NOT EXISTS ` + migrationsTable + ` (version BIGINT NOT NULL, dirty BOOLEAN NOT NULL)`
	if _, err := db.ExecContext(ctx, q); err != nil {
		return nil, &database.Error{OrigErr: err, Query: []byte(q)}
	}
	return d, nil
}

// Open is not supported: the driver is only built over an existing *sql.DB.
func (d *migrateDriver) Open(string) (database.Driver, error) {
	return nil, errors.New("duckdb migrate driver: open by URL is not supported")
}

// Close does nothing: the engine owns the *sql.DB.
func (d *migrateDriver) Close() error { return nil }

// Lock takes the in-process migration lock.
func (d *migrateDriver) Lock() error {
	if !d.locked.CompareAndSwap(false, true) {
		return database.ErrLocked
	}
	return nil
}

// Unlock releases the in-process migration lock.
func (d *migrateDriver) Unlock() error {
	if !d.locked.CompareAndSwap(true, false) {
		return database.ErrNotLocked
	}
	return nil
}

// Run applies one migration file and records its version, clean, in one
// transaction: a process killed half-way leaves the previous version, not
// a dirty mark that locks every later command out (DuckDB's DDL is
// transactional).
func (d *migrateDriver) Run(migration io.Reader) error {
	b, err := io.ReadAll(migration)
	if err != nil {
		return err
	}
	return d.inTx(func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(d.ctx, string(b)); err != nil {
			return &database.Error{OrigErr: err, Query: b}
		}
		if d.hasPending {
			return writeVersion(d.ctx, tx, d.pending, false)
		}
		return nil
	})
}

// SetVersion replaces the recorded version and dirty flag. golang-migrate
// marks the target version dirty before Run and clean after it; the dirty
// mark is only remembered, for Run to commit the clean version with the
// migration itself.
func (d *migrateDriver) SetVersion(version int, dirty bool) error {
	if dirty {
		d.pending, d.hasPending = version, true
		return nil
	}
	d.hasPending = false
	return d.inTx(func(tx *sql.Tx) error { return writeVersion(d.ctx, tx, version, false) })
}

// writeVersion replaces the row of the version table.
func writeVersion(ctx context.Context, tx *sql.Tx, version int, dirty bool) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+migrationsTable); err != nil {
		return err
	}
	if version >= 0 {
		q := `INSERT INTO ` + migrationsTable + ` (version, dirty) VALUES (?, ?)`
		if _, err := tx.ExecContext(ctx, q, int64(version), dirty); err != nil {
			return err
		}
	}
	return nil
}

// Version returns the recorded version, or NilVersion when none is. A
// version marked dirty and not yet run is reported dirty, as golang-migrate
// expects, though the database itself still holds the previous version.
func (d *migrateDriver) Version() (int, bool, error) {
	if d.hasPending {
		return d.pending, true, nil
	}
	var v int64
	var dirty bool
	err := d.db.QueryRowContext(d.ctx, `SELECT version, dirty FROM `+migrationsTable+` LIMIT 1`).Scan(&v, &dirty)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return database.NilVersion, false, nil
	case err != nil:
		return 0, false, err
	}
	return int(v), dirty, nil
}

// Drop removes every schema and table the migrations created, including the
// version table. Only tests call it.
func (d *migrateDriver) Drop() error {
	schemas := []string{"catalog", "features", "labels", "runs", "classified", "metrics", "normalized", "raw", "meta"}
	for _, s := range schemas {
		if _, err := d.db.ExecContext(d.ctx, `DROP SCHEMA IF EXISTS `+s+` CASCADE`); err != nil {
			return fmt.Errorf("drop schema %s: %w", s, err)
		}
	}
	_, err := d.db.ExecContext(d.ctx, `DROP TABLE IF EXISTS `+migrationsTable)
	return err
}

// inTx runs fn in a transaction on one connection and commits, or rolls back
// on error.
func (d *migrateDriver) inTx(fn func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(d.ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}
