package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// finishSnapshot is phase 2: it opens the snapshot file in a DuckDB
// instance of its own (so every name it stores is unqualified, as a
// notebook will see it), adds the runs.latest_D views, writes
// catalog.tables and catalog.columns as tables, sets COMMENT ON every
// relation and column, and checkpoints.
func (e *Engine) finishSnapshot(ctx context.Context, path string, plan *snapshotPlan) (*SnapshotResult, error) {
	db, closeDB, err := openSnapshotDB(path, e.opts.MemoryLimit, false)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	var stmts []string
	for _, r := range plan.latest {
		// note: with runs chosen by id, the newest included run of a
		// dataset need not be its latest; the view's comment says which
		// run it is, so that a notebook's "start here" query cannot read
		// an old run unawares.
		comment := fmt.Sprintf("The latest complete run of dataset %s (run %s)", r.dataset, r.id)
		if plan.explicitRuns {
			comment = fmt.Sprintf("The newest run of dataset %s among the runs this snapshot was asked for (run %s); the server may hold newer runs of it", r.dataset, r.id)
		}
		q, err := sqltmpl.SnapshotLatestView(r.dataset, r.id, comment, r.columns)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, q)
	}
	if len(plan.features) > 0 {
		q, err := sqltmpl.SnapshotComments(plan.features)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, q)
	}
	if plan.scored {
		q, err := sqltmpl.ScoredRunsView()
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, q)
	}
	cat, err := sqltmpl.SnapshotCatalog(e.catalogDocs())
	if err != nil {
		return nil, err
	}
	stmts = append(stmts, cat)
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("snapshot views and catalog: %w", err)
		}
	}
	if err := commentSnapshot(ctx, db); err != nil {
		return nil, err
	}
	res := &SnapshotResult{CreatedAt: plan.createdAt, StorageVersion: SnapshotStorageVersion, DuckDBVersion: plan.duckdb,
		Runs: []string{}, Include: plan.include}
	for _, r := range plan.runs {
		res.Runs = append(res.Runs, r.id)
	}
	if res.Tables, err = snapshotTables(ctx, db); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return nil, fmt.Errorf("checkpoint snapshot: %w", err)
	}
	return res, nil
}

// openSnapshotDB opens a snapshot file in a separate, small DuckDB
// instance. The returned function closes it.
func openSnapshotDB(path, memoryLimit string, readOnly bool) (*sql.DB, func(), error) {
	dsn := path
	if readOnly {
		dsn += "?access_mode=read_only"
	}
	c, err := duckdb.NewConnector(dsn, func(ex driver.ExecerContext) error {
		for _, q := range []string{
			"SET memory_limit = " + sqltmpl.Lit(memoryLimit).String(),
			"SET threads = 1",
			"SET autoinstall_known_extensions = false",
		} {
			if _, err := ex.ExecContext(context.Background(), q, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	return db, func() { db.Close(); c.Close() }, nil
}

// commentSnapshot sets COMMENT ON every relation and column from the
// snapshot's own catalog tables.
func commentSnapshot(ctx context.Context, db *sql.DB) error {
	rels := map[string]*sqltmpl.RelationComment{}
	var order []string
	rows, err := db.QueryContext(ctx, `SELECT schema_name, table_name, kind, coalesce(description, '') FROM catalog.tables ORDER BY ALL`)
	if err != nil {
		return fmt.Errorf("read snapshot catalog: %w", err)
	}
	for rows.Next() {
		var r sqltmpl.RelationComment
		var kind string
		if err := rows.Scan(&r.Schema, &r.Name, &kind, &r.Text); err != nil {
			rows.Close()
			return err
		}
		r.View = kind == "view"
		key := r.Schema + "." + r.Name
		rels[key] = &r
		order = append(order, key)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	rows, err = db.QueryContext(ctx, `SELECT schema_name, table_name, column_name,
		coalesce(description, '') || CASE WHEN unit <> '' THEN ' [' || unit || ']' ELSE '' END
		FROM catalog.columns ORDER BY schema_name, table_name, ordinal`)
	if err != nil {
		return fmt.Errorf("read snapshot catalog: %w", err)
	}
	for rows.Next() {
		var schema, table string
		var c sqltmpl.ColumnComment
		if err := rows.Scan(&schema, &table, &c.Name, &c.Text); err != nil {
			rows.Close()
			return err
		}
		if r := rels[schema+"."+table]; r != nil {
			r.Columns = append(r.Columns, c)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	list := make([]sqltmpl.RelationComment, len(order))
	for i, k := range order {
		list[i] = *rels[k]
	}
	q, err := sqltmpl.SnapshotComments(list)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("snapshot comments: %w", err)
	}
	return nil
}

// snapshotTables lists the snapshot's relations with their row counts.
func snapshotTables(ctx context.Context, db *sql.DB) ([]SnapshotTable, error) {
	rows, err := db.QueryContext(ctx, `SELECT schema_name, table_name, kind FROM catalog.tables ORDER BY ALL`)
	if err != nil {
		return nil, err
	}
	var out []SnapshotTable
	for rows.Next() {
		var t SnapshotTable
		if err := rows.Scan(&t.Schema, &t.Name, &t.Kind); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, t)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	for i := range out {
		q := "SELECT count(*) FROM " + sqltmpl.QualifiedIdent{Schema: sqltmpl.Ident(out[i].Schema), Name: sqltmpl.Ident(out[i].Name)}.String()
		if err := db.QueryRowContext(ctx, q).Scan(&out[i].Rows); err != nil {
			return nil, fmt.Errorf("count %s.%s: %w", out[i].Schema, out[i].Name, err)
		}
	}
	return out, nil
}

// InspectSnapshot opens a snapshot file read-only in a DuckDB instance of
// its own (no Engine needed, so it works while a server holds the
// database) and describes it from its meta.snapshot row and catalog; the
// CLI checks a snapshot downloaded from a server this way.
func InspectSnapshot(ctx context.Context, path string) (*SnapshotResult, error) {
	db, closeDB, err := openSnapshotDB(path, DefaultMemoryLimit, true)
	if err != nil {
		return nil, Wrap(BadRequest, err, "%s is not a DuckDB file this version of ExoHunter can open.", path)
	}
	defer closeDB()
	res := &SnapshotResult{Path: path, Runs: []string{}, Include: []string{}}
	var created time.Time
	var runs, include []any
	err = db.QueryRowContext(ctx, `SELECT created_at, duckdb_version, storage_version, run_ids, include FROM meta.snapshot`).
		Scan(&created, &res.DuckDBVersion, &res.StorageVersion, &runs, &include)
	if err != nil {
		return nil, Wrap(BadRequest, err, "%s is not an ExoHunter snapshot (it has no meta.snapshot row).", path)
	}
	res.CreatedAt = created.UTC()
	for _, v := range runs {
		res.Runs = append(res.Runs, fmt.Sprint(v))
	}
	for _, v := range include {
		res.Include = append(res.Include, fmt.Sprint(v))
	}
	if res.Tables, err = snapshotTables(ctx, db); err != nil {
		return nil, err
	}
	return res, nil
}
