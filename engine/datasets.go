package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/exohunter/exohunter/engine/mapping"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Dataset is one ingested file, as the API and the CLI show it (Contracts:
// JSON shapes). Extra fields beyond the contract are documented here.
type Dataset struct {
	Name         string                `json:"name"`
	OriginalName string                `json:"original_name"`
	Format       string                `json:"format"` // csv or parquet
	Bytes        int64                 `json:"bytes"`
	SHA256       string                `json:"sha256"`
	Rows         int64                 `json:"rows"`
	Mission      string                `json:"mission"`
	Columns      []Column              `json:"columns"`
	Mapping      []mapping.ReportEntry `json:"mapping"`
	CreatedAt    time.Time             `json:"created_at"`
	// DuplicateOf names the existing dataset when Ingest received bytes it
	// already holds; this Dataset is then that existing one.
	DuplicateOf string `json:"duplicate_of,omitempty"`
	// Note says, for a duplicate asked for under another name, that the
	// name was not created.
	Note string `json:"note,omitempty"`

	// Compression is none or gzip (the stored bytes stay compressed).
	Compression string `json:"compression"`
	// NASAHeader is the parsed leading # block, nil when the file has none.
	NASAHeader *NASAHeader `json:"nasa_header,omitempty"`
	// CSV is the dialect pinned in the raw view, nil for Parquet.
	CSV *CSVOptions `json:"csv,omitempty"`
	// Units are the user's unit overrides, {canonical: unit}.
	Units map[string]string `json:"units,omitempty"`
	// Path is the stored file relative to the data dir.
	Path string `json:"path"`
	// Source is where the bytes were fetched from, with secrets redacted:
	// the URL of an s3://, gs:// or https:// ingest, or the NASA
	// archive's TAP query; empty for a local file or an upload.
	Source string `json:"source,omitempty"`
}

// datasetColumns is the SELECT list that scanDataset reads.
const datasetColumns = `name, original_name, format, compression, bytes, sha256, rows, mission,
	columns::VARCHAR, mapping::VARCHAR, coalesce(nasa_header::VARCHAR, ''), coalesce(csv_options::VARCHAR, ''),
	coalesce(units::VARCHAR, ''), path, created_at, coalesce(source, '')`

// Datasets lists every dataset, oldest first.
func (e *Engine) Datasets(ctx context.Context) ([]*Dataset, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT `+datasetColumns+` FROM meta.datasets ORDER BY created_at, name`)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	defer rows.Close()
	out := []*Dataset{}
	for rows.Next() {
		ds, err := scanDataset(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ds)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	return out, nil
}

// Dataset returns one dataset by name, or a NotFound error.
func (e *Engine) Dataset(ctx context.Context, name string) (*Dataset, error) {
	return e.datasetWhere(ctx, e.db, "name = ?", name)
}

// datasetWhere returns the one dataset matching cond, or NotFound.
func (e *Engine) datasetWhere(ctx context.Context, q queryer, cond string, arg any) (*Dataset, error) {
	row := q.QueryRowContext(ctx, `SELECT `+datasetColumns+` FROM meta.datasets WHERE `+cond+` ORDER BY created_at LIMIT 1`, arg)
	ds, err := scanDataset(row)
	if errors.Is(err, sql.ErrNoRows) {
		if s, ok := arg.(string); ok && cond == "name = ?" {
			return nil, noDataset(ctx, q, s)
		}
		return nil, Errorf(NotFound, "There is no such dataset.")
	}
	return ds, err
}

// noDataset is the NotFound for a dataset name, with what the user most
// likely meant: a file path given where its dataset's name goes (ingest
// it first), the name ingest would derive from what was typed
// (toi_2025-09-29 for toi_2025_09_29), or the names there are.
func noDataset(ctx context.Context, q queryer, name string) error {
	msg := fmt.Sprintf("There is no dataset named %q.", name)
	derived := deriveDatasetName(name)
	if strings.ContainsAny(name, `/\`) || derived != strings.ToLower(name) && slices.ContainsFunc(knownExtensions, func(ext string) bool {
		return strings.HasSuffix(strings.ToLower(name), ext)
	}) {
		return Errorf(NotFound, "%s A file must be ingested first (exohunter ingest %s, or POST /api/datasets); its dataset is then named %s unless --name says otherwise.", msg, name, derived)
	}
	var names []string
	if lq, ok := q.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}); ok {
		if rows, err := lq.QueryContext(ctx, `SELECT name FROM meta.datasets ORDER BY name LIMIT 21`); err == nil {
			defer rows.Close()
			for rows.Next() {
				var n string
				if rows.Scan(&n) == nil {
					names = append(names, n)
				}
			}
		}
	}
	switch {
	case len(names) == 0:
		return Errorf(NotFound, "%s There are no datasets yet: ingest a file first (exohunter ingest PATH, or POST /api/datasets).", msg)
	case derived != name && slices.Contains(names, derived):
		return Errorf(NotFound, "%s Did you mean %s?", msg, derived)
	case len(names) > 20:
		return Errorf(NotFound, "%s The datasets include %s, ...", msg, strings.Join(names[:20], ", "))
	}
	return Errorf(NotFound, "%s The datasets are %s.", msg, strings.Join(names, ", "))
}

// queryer is what *sql.DB, *sql.Tx and *sql.Conn have in common.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanDataset reads one row selected with datasetColumns.
func scanDataset(s scanner) (*Dataset, error) {
	ds := &Dataset{}
	var cols, mp, nasa, csvOpts, units string
	err := s.Scan(&ds.Name, &ds.OriginalName, &ds.Format, &ds.Compression, &ds.Bytes, &ds.SHA256, &ds.Rows,
		&ds.Mission, &cols, &mp, &nasa, &csvOpts, &units, &ds.Path, &ds.CreatedAt, &ds.Source)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("scan dataset: %w", err)
	}
	ds.CreatedAt = ds.CreatedAt.UTC()
	for _, f := range []struct {
		text string
		dst  any
	}{{cols, &ds.Columns}, {mp, &ds.Mapping}, {nasa, &ds.NASAHeader}, {csvOpts, &ds.CSV}, {units, &ds.Units}} {
		if f.text == "" {
			continue
		}
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return nil, fmt.Errorf("dataset %s: decode: %w", ds.Name, err)
		}
	}
	if ds.Columns == nil {
		ds.Columns = []Column{}
	}
	if ds.Mapping == nil {
		ds.Mapping = []mapping.ReportEntry{}
	}
	return ds, nil
}

// insertDataset writes the meta row of a new dataset.
func insertDataset(ctx context.Context, q queryer, ds *Dataset) error {
	enc := func(v any) (any, error) {
		b, err := json.Marshal(v)
		if err != nil || string(b) == "null" {
			return nil, err
		}
		return string(b), nil
	}
	vals := []any{ds.Name, ds.OriginalName, ds.Format, ds.Compression, ds.Bytes, ds.SHA256, ds.Rows, ds.Mission}
	for _, v := range []any{ds.Columns, ds.Mapping, ds.NASAHeader, ds.CSV, ds.Units} {
		j, err := enc(v)
		if err != nil {
			return fmt.Errorf("encode dataset: %w", err)
		}
		vals = append(vals, j)
	}
	var source any // note: NULL, not '', for a file or an upload
	if ds.Source != "" {
		source = ds.Source
	}
	vals = append(vals, ds.Path, ds.CreatedAt, source)
	_, err := q.ExecContext(ctx, `INSERT INTO meta.datasets (name, original_name, format, compression, bytes, sha256, rows, mission,
	columns, mapping, nasa_header, csv_options, units, path, created_at, source)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::JSON, ?::JSON, ?::JSON, ?::JSON, ?::JSON, ?, ?, ?)`, vals...)
	if err != nil {
		return fmt.Errorf("insert dataset %s: %w", ds.Name, err)
	}
	return nil
}

// datasetSchemas are the schemas holding one view per dataset, in the order
// they depend on each other (raw first).
var datasetSchemas = []string{"raw", "normalized", "metrics", "classified"}

// DeleteDataset removes a dataset: its views, its meta row, its stored file,
// and its finished runs (meta rows and result files; runs.results is then
// re-created without them), then runs datasetDeleteHooks. It refuses
// with a Conflict while a run of the dataset is queued or running. Labels
// are kept: they are human work and name objects, not files.
func (e *Engine) DeleteDataset(ctx context.Context, name string) error {
	e.ingestMu.Lock()
	defer e.ingestMu.Unlock()
	ds, err := e.Dataset(ctx, name)
	if err != nil {
		return err
	}
	var active int
	if err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM meta.runs WHERE dataset = ? AND status IN ('queued', 'running')`, name).Scan(&active); err != nil {
		return fmt.Errorf("delete dataset: %w", err)
	}
	if active > 0 {
		return Errorf(Conflict, "Dataset %q has %d run(s) in progress; wait for them to finish before deleting it.", name, active)
	}
	runFiles, err := e.runPaths(ctx, name)
	if err != nil {
		return err
	}
	// note: on a full disk the delete's own writes need the reserve
	// (engine/reserve.go); it is taken again once the files are gone.
	e.releaseReserveIfLow()
	defer e.retakeReserve()
	err = e.inTx(ctx, func(tx *sql.Tx) error {
		if err := dropDatasetViews(ctx, tx, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM meta.runs WHERE dataset = ?`, name); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM meta.datasets WHERE name = ?`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete dataset %s: %w", name, err)
	}
	// note: files go after the commit, and run files after runs.results
	// stops listing them; a crash in between leaves unreferenced files
	// (removed at the next Open, sweepOrphanFiles), never a meta row or a
	// view without its file. The raw files, whose views the commit
	// dropped, go first: on a full disk the space they free lets the
	// views' refresh be written.
	if err := os.RemoveAll(e.path(DirRaw, ds.Name)); err != nil {
		e.log.Warn("delete dataset files", "dataset", name, "err", err)
	}
	if len(runFiles) > 0 {
		if err := e.refreshRunViews(ctx); err != nil {
			return err
		}
	}
	for _, p := range runFiles {
		if err := os.RemoveAll(e.abs(p)); err != nil {
			e.log.Warn("delete run file", "dataset", name, "path", p, "err", err)
		}
	}
	e.index().poke() // note: drops the deleted runs' indexes
	for _, hook := range datasetDeleteHooks {
		if err := hook(ctx, e, name); err != nil {
			return err
		}
	}
	e.log.Info("dataset deleted", "dataset", name, "runs", len(runFiles))
	return nil
}

// datasetDeleteHooks run after a dataset and its runs are deleted, in
// order, for code that keeps its own per-dataset state (catalog, labels
// queue). Register from init().
var datasetDeleteHooks []func(ctx context.Context, e *Engine, dataset string) error

// datasetIngestHooks run after a new dataset and its views are committed,
// in order. An error is logged, not returned: the dataset exists.
var datasetIngestHooks []func(ctx context.Context, e *Engine, ds *Dataset) error

// runPaths returns the stored result paths of a dataset's runs.
func (e *Engine) runPaths(ctx context.Context, dataset string) ([]string, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT path FROM meta.runs WHERE dataset = ? AND path IS NOT NULL AND path <> ''`, dataset)
	if err != nil {
		return nil, fmt.Errorf("run paths: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// dropDatasetViews drops a dataset's views, dependents first, plus
// runs.latest_<name>.
func dropDatasetViews(ctx context.Context, q queryer, name string) error {
	stmts := []string{"DROP VIEW IF EXISTS " + sqltmpl.QualifiedIdent{Schema: "runs", Name: sqltmpl.Ident("latest_" + name)}.String()}
	for i := len(datasetSchemas) - 1; i >= 0; i-- {
		stmts = append(stmts, "DROP VIEW IF EXISTS "+sqltmpl.QualifiedIdent{Schema: sqltmpl.Ident(datasetSchemas[i]), Name: sqltmpl.Ident(name)}.String())
	}
	for _, s := range stmts {
		if _, err := q.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// inTx runs fn in a transaction on e.db and commits, or rolls back when fn
// fails.
func (e *Engine) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
