package engine

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// snapshotPlan is what phase 1 copied, for phase 2 (views, catalog,
// comments) and the result.
type snapshotPlan struct {
	createdAt time.Time
	source    string
	duckdb    string
	include   []string
	runs      []snapshotRun
	// latest is each dataset's newest included run, with its columns.
	latest []snapshotRun
	// explicitRuns: the runs were chosen by id (--runs ID,...).
	explicitRuns bool
	// scored: meta.scores is copied, so phase 2 creates runs.scored.
	scored bool
	// features describe the copied feature sets' columns (phase 2 sets
	// them as comments; a copied view's comments do not come along).
	features []sqltmpl.RelationComment
}

// snapshotRun is a complete run as meta.runs records it.
type snapshotRun struct {
	id, dataset, path string
	columns           []string
}

// maxWaitingSnapshots bounds the snapshots waiting for snapshotTurn; more
// are refused as Busy (429).
const maxWaitingSnapshots = 4

// writeSnapshot writes a complete snapshot to tmp: phase 1 copies the data
// in one read transaction of the server's database into tmp attached as
// alias; phase 2 opens tmp on its own for views, catalog and comments.
func (e *Engine) writeSnapshot(ctx context.Context, tmp, alias string, opts SnapshotOptions) (*SnapshotResult, error) {
	progress := orNoProgress(opts.Progress)
	// note: copying a dataset's stages runs its pipeline; at ten million
	// rows that fills the memory limit alone, and a score job beside it
	// ran out of memory. Large snapshots take the bulk turn.
	rows, err := e.snapshotRows(ctx, opts)
	if err != nil {
		return nil, snapshotError(ctx, err)
	}
	release, err := e.bulkTurn(ctx, rows, "a snapshot", progress)
	if err != nil {
		return nil, err
	}
	defer release()
	// note: one snapshot at a time. With two, the DETACH of one waits for
	// the other's transaction to end before DuckDB lets go of the file, and
	// phase 2, which opens it in an instance of its own, failed with
	// "Unique file handle conflict" (a 500 for the second of two
	// concurrent GET /api/snapshot). Long reads and writes elsewhere do
	// not hold a DETACH back.
	// note: and a few waiting: eight concurrent downloads of every run
	// took up to 57 s each, holding their clients' connections (a review).
	if n := e.snapshotWaiting.Add(1); n > maxWaitingSnapshots {
		e.snapshotWaiting.Add(-1)
		return nil, Errorf(Busy, "%d snapshots are already waiting for their turn (one is written at a time); try again when they are done.", n-1)
	}
	select {
	case e.snapshotTurn <- struct{}{}:
		e.snapshotWaiting.Add(-1)
	case <-ctx.Done():
		e.snapshotWaiting.Add(-1)
		return nil, snapshotError(ctx, ctx.Err())
	}
	defer func() { <-e.snapshotTurn }()
	before, _ := datasetNames(ctx, e.db)
	plan, err := e.copySnapshotData(ctx, tmp, alias, opts, progress)
	// note: a dataset's stages may meet text the types sniffed at ingest
	// did not foresee, as a run may; its column is retyped as a run does
	// it, and the copy (rolled back, nothing kept) starts again.
	for late, tries := (*lateCopy)(nil), 0; errors.As(err, &late); tries++ {
		r, rerr := e.retypeLateValue(ctx, late.copy.Name, late.err)
		if rerr != nil || r == nil || tries > maxRetypes {
			err = cmp.Or(rerr, snapshotCopyError(late.err, late.copy))
			break
		}
		progress(0.05, "copying again: dataset "+late.copy.Name+": "+r.Sentence())
		plan, err = e.copySnapshotData(ctx, tmp, alias, opts, progress)
	}
	if err != nil {
		return nil, e.deletedDuringSnapshot(ctx, before, snapshotError(ctx, err))
	}
	progress(0.85, "catalog and comments")
	res, err := e.finishSnapshot(ctx, tmp, plan)
	if err != nil {
		return nil, snapshotError(ctx, err)
	}
	progress(1, "complete")
	return res, nil
}

// deletedDuringSnapshot explains an unexpected failure of a snapshot whose
// datasets were deleted while it copied them: their run files are read
// outside its transaction, and DuckDB reports the vanished file ("No files
// found that match the pattern"), which was a 500.
func (e *Engine) deletedDuringSnapshot(ctx context.Context, before []string, err error) error {
	if ErrorCode(err) != Internal {
		return err
	}
	now, nerr := datasetNames(context.WithoutCancel(ctx), e.db)
	for _, name := range before {
		if nerr == nil && !slices.Contains(now, name) {
			return Wrap(Conflict, err, "Dataset %s was deleted while the snapshot was being written, so nothing was kept. Take the snapshot again.", name)
		}
	}
	return err
}

// snapshotError explains a failure: a cancelled context is a Timeout.
func snapshotError(ctx context.Context, err error) error {
	if ctx.Err() != nil && ErrorCode(err) == Internal {
		return Wrap(Timeout, err, "The snapshot was cancelled before it was complete.")
	}
	return err
}

// finiteColumns returns, for each column of schema.name that holds FLOAT or
// DOUBLE values (at any depth), its value with NaN and ±Inf made NULL.
func finiteColumns(ctx context.Context, tx *sql.Tx, schema, name string) ([]sqltmpl.ExportColumn, error) {
	rows, err := tx.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = ? AND table_name = ?
		ORDER BY column_index`, schema, name)
	if err != nil {
		return nil, fmt.Errorf("columns of %s.%s: %w", schema, name, err)
	}
	defer rows.Close()
	var out []sqltmpl.ExportColumn
	for rows.Next() {
		var c, typ string
		if err := rows.Scan(&c, &typ); err != nil {
			return nil, err
		}
		if e, ok := sqltmpl.FiniteSQL(sqltmpl.Ident(c).String(), typ); ok {
			out = append(out, sqltmpl.ExportColumn{Expr: sqltmpl.Expr(e), Name: sqltmpl.Ident(c)})
		}
	}
	return out, rows.Err()
}

// datasetStages are the schemas of a dataset's views, raw first.
var datasetStages = []string{sqltmpl.SchemaRaw, sqltmpl.SchemaNormalized, sqltmpl.SchemaMetrics, sqltmpl.SchemaClassified}

// snapshotCopyError explains a failed copy. A dataset whose file does not
// parse with the types found at ingest (its run fails the same way) stops
// every snapshot that includes its stages: the message names it and how
// to get past it.
func snapshotCopyError(err error, c sqltmpl.SnapshotCopy) error {
	if slices.Contains(datasetStages, c.Schema) && isFileReadError(err) {
		return Wrap(Conflict, err, "Dataset %s could not be read to the end (%s), so the snapshot, which copies %s.%s, stopped; nothing was written. Delete the dataset (DELETE /api/datasets/%s) or ingest a corrected file under another name; its runs fail the same way.",
			c.Name, firstLine(err.Error()), c.Schema, c.Name, c.Name)
	}
	return fmt.Errorf("snapshot %s.%s: %w", c.Schema, c.Name, err)
}

// lateCopy is a dataset stage's copy that met a value its column's
// sniffed type cannot hold (see retypeLateValue).
type lateCopy struct {
	copy sqltmpl.SnapshotCopy
	err  error
}

func (l *lateCopy) Error() string { return l.err.Error() }
func (l *lateCopy) Unwrap() error { return l.err }

// copySnapshotData attaches tmp, copies every included relation inside one
// transaction on the server's database, and detaches.
func (e *Engine) copySnapshotData(ctx context.Context, tmp, alias string, opts SnapshotOptions, progress func(float64, string)) (_ *snapshotPlan, err error) {
	attach, err := sqltmpl.SnapshotAttach(tmp, alias, SnapshotStorageVersion)
	if err != nil {
		return nil, err
	}
	detach, err := sqltmpl.SnapshotDetach(alias)
	if err != nil {
		return nil, err
	}
	if _, err := e.db.ExecContext(ctx, attach); err != nil {
		return nil, fmt.Errorf("attach snapshot: %w", err)
	}
	attached := true
	defer func() {
		if attached {
			// note: a fresh context; the request's may be why we stop.
			dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, derr := e.db.ExecContext(dctx, detach); derr != nil {
				e.log.Warn("cannot detach a failed snapshot", "alias", alias, "err", derr)
			}
		}
	}()
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	plan, copies, err := e.planSnapshot(ctx, tx, opts, filepath.Dir(tmp))
	if err != nil {
		return nil, err
	}
	for _, schema := range catalogSchemas {
		q, err := sqltmpl.SnapshotSchema(alias, schema)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("snapshot schema %s: %w", schema, err)
		}
	}
	for i, c := range copies {
		progress(0.05+0.8*float64(i)/float64(len(copies)), "copying "+c.Schema+"."+c.Name)
		q, err := sqltmpl.SnapshotCopyTable(alias, c)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			if _, ok := parseLateValue(err); ok && slices.Contains(datasetStages, c.Schema) {
				return nil, &lateCopy{copy: c, err: err}
			}
			return nil, snapshotCopyError(err, c)
		}
	}
	if err := e.writeSnapshotMeta(ctx, tx, alias, plan, opts); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit snapshot: %w", err)
	}
	attached = false
	if _, err := e.db.ExecContext(ctx, detach); err != nil {
		return nil, fmt.Errorf("detach snapshot: %w", err)
	}
	return plan, nil
}

// planSnapshot pins the transaction's view of the database (DuckDB starts
// a transaction's snapshot at its first read of a database, so this read
// comes first) and lists the tables to copy, in order, once it has checked
// that they can fit in dir.
func (e *Engine) planSnapshot(ctx context.Context, tx *sql.Tx, opts SnapshotOptions, dir string) (*snapshotPlan, []sqltmpl.SnapshotCopy, error) {
	plan := &snapshotPlan{include: opts.include(), source: filepath.Base(e.dbPath), explicitRuns: explicitRuns(opts.Runs)}
	var datasets int
	if err := tx.QueryRowContext(ctx, `SELECT (now() AT TIME ZONE 'UTC')::TIMESTAMP, library_version, (SELECT count(*) FROM meta.datasets)
		FROM pragma_version()`).Scan(&plan.createdAt, &plan.duckdb, &datasets); err != nil {
		return nil, nil, fmt.Errorf("begin snapshot: %w", err)
	}
	plan.createdAt = plan.createdAt.UTC()
	rels, err := snapshotRelations(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	if plan.runs, err = e.snapshotRuns(ctx, tx, opts.Runs); err != nil {
		return nil, nil, err
	}
	ids := make([]string, len(plan.runs))
	paths := make([]string, len(plan.runs))
	for i, r := range plan.runs {
		ids[i], paths[i] = r.id, e.abs(r.path)
	}
	copies := []sqltmpl.SnapshotCopy{
		{Schema: "meta", Name: "datasets"},
		{Schema: "meta", Name: "runs", Filter: true, Column: "run_id", Values: ids},
	}
	stages := datasetStages[1:] // raw only when asked for
	if slices.Contains(plan.include, SnapshotRaw) {
		stages = datasetStages
	}
	names, err := snapshotDatasets(ctx, tx, opts, plan.runs)
	if err != nil {
		return nil, nil, err
	}
	if explicitRuns(opts.Runs) {
		copies[0] = sqltmpl.SnapshotCopy{Schema: "meta", Name: "datasets", Filter: true, Column: "name", Values: names}
	}
	for _, ds := range names {
		for _, s := range stages {
			if rels[s+"."+ds] == "" {
				continue
			}
			c := sqltmpl.SnapshotCopy{Schema: s, Name: ds}
			if s == "raw" {
				// note: the stored file keeps its NaN and ±Inf; the later
				// stages null them, and so does this copy of the file.
				if c.Replace, err = finiteColumns(ctx, tx, s, ds); err != nil {
					return nil, nil, err
				}
			}
			copies = append(copies, c)
		}
	}
	if err := e.snapshotDiskRoom(ctx, tx, names, len(stages), paths, dir); err != nil {
		return nil, nil, err
	}
	copies = append(copies, sqltmpl.SnapshotCopy{Schema: "runs", Name: "results", RunFiles: paths})
	if rels["meta.scores"] != "" && len(ids) > 0 {
		// note: model probabilities and anomaly scores are columns of the
		// results (runs.scored, exports); without them a notebook could
		// not see what a model said about the included runs.
		copies = append(copies, sqltmpl.SnapshotCopy{Schema: "meta", Name: "scores", Filter: true, Column: "run_id", Values: ids})
		plan.scored = true
	}
	for _, key := range sortedRelKeys(rels) {
		schema, name := splitRelKey(key)
		switch {
		case schema == "labels" && name != "claims" && slices.Contains(plan.include, SnapshotLabels),
			schema == "features" && slices.Contains(plan.include, SnapshotFeatures),
			key == "meta.feature_sets" && slices.Contains(plan.include, SnapshotFeatures),
			key == "catalog.dictionary":
			copies = append(copies, sqltmpl.SnapshotCopy{Schema: schema, Name: name})
		}
	}
	if plan.latest, err = e.latestRunColumns(ctx, tx, plan.runs); err != nil {
		return nil, nil, err
	}
	if slices.Contains(plan.include, SnapshotFeatures) && rels["meta.feature_sets"] != "" {
		if plan.features, err = e.snapshotFeatureDocs(ctx, tx, rels); err != nil {
			return nil, nil, err
		}
	}
	return plan, copies, nil
}

// snapshotFeatureDocs describes the feature sets the snapshot copies, from
// the manifests meta.feature_sets holds.
func (e *Engine) snapshotFeatureDocs(ctx context.Context, tx *sql.Tx, rels map[string]string) ([]sqltmpl.RelationComment, error) {
	rows, err := tx.QueryContext(ctx, `SELECT CAST(manifest AS VARCHAR) FROM meta.feature_sets ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("read feature manifests: %w", err)
	}
	defer rows.Close()
	var out []sqltmpl.RelationComment
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var m FeatureManifest
		if err := json.Unmarshal([]byte(raw), &m); err != nil || rels["features."+m.Version] == "" {
			continue
		}
		r := e.featureComments(&m)
		r.View = false // copied as a table
		out = append(out, r)
	}
	return out, rows.Err()
}

// snapshotRelations lists the catalog schemas' tables and views as the
// transaction sees them: {"schema.name": "table"|"view"}.
func snapshotRelations(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT schema_name || '.' || table_name, 'table' FROM duckdb_tables()
		WHERE database_name = current_database() AND NOT temporary
		UNION ALL
		SELECT schema_name || '.' || view_name, 'view' FROM duckdb_views()
		WHERE database_name = current_database() AND NOT internal AND NOT temporary`)
	if err != nil {
		return nil, fmt.Errorf("list relations: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, kind string
		if err := rows.Scan(&k, &kind); err != nil {
			return nil, err
		}
		out[k] = kind
	}
	return out, rows.Err()
}

// sortedRelKeys returns the keys in order.
func sortedRelKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// splitRelKey splits "schema.name" at the first dot (schemas have none).
func splitRelKey(k string) (schema, name string) {
	for i := 0; i < len(k); i++ {
		if k[i] == '.' {
			return k[:i], k[i+1:]
		}
	}
	return "", k
}

// explicitRuns reports whether a run selection names runs by id.
func explicitRuns(runs []string) bool {
	return len(runs) > 0 && !slices.Contains(runs, SnapshotLatestRuns) && !slices.Contains(runs, SnapshotAllRuns)
}

// snapshotDatasets names the datasets whose stages a snapshot copies:
// every dataset, or with runs chosen by id only theirs.
func snapshotDatasets(ctx context.Context, tx *sql.Tx, opts SnapshotOptions, runs []snapshotRun) ([]string, error) {
	names, err := datasetNames(ctx, tx)
	if err != nil || !explicitRuns(opts.Runs) {
		return names, err
	}
	// note: runs chosen by id bring their own datasets only; a 6-row
	// run's snapshot held 2M-row stages of every other dataset (1.3 GB).
	return slices.DeleteFunc(names, func(ds string) bool {
		return !slices.ContainsFunc(runs, func(r snapshotRun) bool { return r.dataset == ds })
	}), nil
}

// snapshotRows is the row count of the largest relation a snapshot with
// opts copies (a dataset's stages, a run, a feature set, the labels), read in a
// transaction of its own before the snapshot's, for the bulk turn.
func (e *Engine) snapshotRows(ctx context.Context, opts SnapshotOptions) (int64, error) {
	tx, err := e.db.BeginTx(ctx, nil) // note: the driver has no read-only transactions; it only reads
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	runs, err := e.snapshotRuns(ctx, tx, opts.Runs)
	if err != nil {
		return 0, err
	}
	names, err := snapshotDatasets(ctx, tx, opts, runs)
	if err != nil {
		return 0, err
	}
	features := slices.Contains(opts.include(), SnapshotFeatures)
	labels := slices.Contains(opts.include(), SnapshotLabels)
	var most int64
	for _, q := range []struct {
		sql  string
		want func(string) bool
	}{
		{`SELECT name, rows FROM meta.datasets`, func(k string) bool { return slices.Contains(names, k) }},
		{`SELECT run_id, rows FROM meta.runs`, func(k string) bool {
			return slices.ContainsFunc(runs, func(r snapshotRun) bool { return r.id == k })
		}},
		{`SELECT version, rows FROM meta.feature_sets`, func(string) bool { return features }},
		// note: every label of every dataset, and labels.current windows
		// over them (labels import-run of a 10M run writes 10M).
		{`SELECT 'labels', count(*) FROM labels.labels`, func(string) bool { return labels }},
	} {
		rows, err := tx.QueryContext(ctx, q.sql)
		if err != nil {
			return 0, fmt.Errorf("snapshot size: %w", err)
		}
		for rows.Next() {
			var k string
			var n sql.NullInt64
			if err := rows.Scan(&k, &n); err != nil {
				rows.Close()
				return 0, err
			}
			if q.want(k) {
				most = max(most, n.Int64)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	return most, nil
}

// datasetNames lists the datasets, as the transaction (or pool) sees them.
func datasetNames(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM meta.datasets ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// snapshotRuns selects the runs to include: the latest complete run of
// each dataset, every complete run, or the listed ones (each must exist
// and be complete). A complete run whose file is gone is skipped with a
// warning, unless it was asked for by id.
func (e *Engine) snapshotRuns(ctx context.Context, tx *sql.Tx, sel []string) ([]snapshotRun, error) {
	rows, err := tx.QueryContext(ctx, `SELECT run_id, dataset, coalesce(path, ''), status FROM meta.runs
		ORDER BY dataset, finished_at DESC NULLS LAST, run_id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	byID := map[string]string{}
	var complete []snapshotRun
	for rows.Next() {
		var r snapshotRun
		var status string
		if err := rows.Scan(&r.id, &r.dataset, &r.path, &status); err != nil {
			return nil, err
		}
		byID[r.id] = status
		if status == RunComplete {
			complete = append(complete, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	mode := SnapshotLatestRuns
	if len(sel) == 1 && sel[0] == SnapshotAllRuns {
		mode = SnapshotAllRuns
	} else if len(sel) > 0 && sel[0] != SnapshotLatestRuns {
		mode = ""
	}
	for _, id := range sel {
		if mode == "" && byID[id] == "" {
			return nil, Errorf(NotFound, "There is no run %q.", id)
		}
		if mode == "" && byID[id] != RunComplete {
			return nil, Errorf(Conflict, "Run %s is %s; only complete runs can go into a snapshot.", id, byID[id])
		}
	}
	var out []snapshotRun
	seen := map[string]bool{}
	for _, r := range complete {
		want := mode == SnapshotAllRuns || (mode == SnapshotLatestRuns && !seen[r.dataset]) || (mode == "" && slices.Contains(sel, r.id))
		if !want {
			continue
		}
		if _, err := os.Stat(e.abs(r.path)); err != nil {
			if mode == "" {
				return nil, Errorf(Conflict, "The result file of run %s is missing; it cannot go into a snapshot.", r.id)
			}
			e.log.Warn("snapshot skips a run whose file is missing", "run", r.id)
			continue
		}
		seen[r.dataset] = true
		out = append(out, r)
	}
	return out, nil
}

// latestRunColumns returns each dataset's newest included run (runs are in
// dataset order, newest first) with its own columns, for runs.latest_D.
func (e *Engine) latestRunColumns(ctx context.Context, tx *sql.Tx, runs []snapshotRun) ([]snapshotRun, error) {
	var out []snapshotRun
	for _, r := range runs {
		if len(out) > 0 && out[len(out)-1].dataset == r.dataset {
			continue
		}
		rows, err := tx.QueryContext(ctx, `SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(`+sqltmpl.Lit(e.abs(r.path)).String()+`))`)
		if err != nil {
			return nil, fmt.Errorf("columns of run %s: %w", r.id, err)
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return nil, err
			}
			r.columns = append(r.columns, c)
		}
		err = errors.Join(rows.Err(), rows.Close())
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// writeSnapshotMeta creates the snapshot's schemas' last piece: the
// meta.snapshot row saying when and how it was taken.
func (e *Engine) writeSnapshotMeta(ctx context.Context, tx *sql.Tx, alias string, plan *snapshotPlan, opts SnapshotOptions) error {
	runs := SnapshotLatestRuns
	if len(opts.Runs) == 1 && opts.Runs[0] == SnapshotAllRuns {
		runs = SnapshotAllRuns
	} else if len(opts.Runs) > 0 && opts.Runs[0] != SnapshotLatestRuns {
		runs = "ids"
	}
	ids := make([]string, len(plan.runs))
	for i, r := range plan.runs {
		ids[i] = r.id
	}
	q, err := sqltmpl.SnapshotInfoTable(alias, sqltmpl.SnapshotInfo{CreatedAt: plan.createdAt.Format("2006-01-02 15:04:05.999999"),
		Source: plan.source, DuckDB: plan.duckdb, StorageVersion: SnapshotStorageVersion, Runs: runs, RunIDs: ids, Include: plan.include})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("snapshot meta: %w", err)
	}
	return nil
}

// snapshotDiskRoom refuses a snapshot that cannot fit in dir before it
// copies anything. The estimate is a floor: the run files, plus for each
// dataset and copied stage the size of its newest complete run's file (the
// stages hold the same rows and about as many columns), or its stored file
// without a run. A 1M-row snapshot estimated so at 1.24 GB took 1.05 GB.
func (e *Engine) snapshotDiskRoom(ctx context.Context, tx *sql.Tx, datasets []string, stages int, runFiles []string, dir string) error {
	var need int64
	for _, p := range runFiles {
		if st, err := os.Stat(p); err == nil {
			need += st.Size()
		}
	}
	for _, ds := range datasets {
		var path string
		err := tx.QueryRowContext(ctx, `SELECT coalesce(
			(SELECT path FROM meta.runs WHERE dataset = ? AND status = 'complete' ORDER BY created_at DESC, run_id DESC LIMIT 1),
			(SELECT path FROM meta.datasets WHERE name = ?))`, ds, ds).Scan(&path)
		if err != nil {
			return fmt.Errorf("size of dataset %s: %w", ds, err)
		}
		if st, err := os.Stat(e.abs(path)); err == nil {
			need += int64(stages) * st.Size()
		}
	}
	need, free, ok, err := diskShortfall(diskNeed{dir, need})
	if err != nil || ok {
		return err
	}
	return Errorf(Storage, "Not enough free disk for this snapshot: it needs at least about %s and %s is free where it is written. Leave out stages or runs (--runs, --include), or free disk space.",
		humanBytes(need), humanBytes(free))
}
