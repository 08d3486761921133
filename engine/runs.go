package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/exohunter/exohunter/engine/mapping"
	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Run statuses (Contracts: POST /api/datasets/{name}/runs).
const (
	RunQueued   = "queued"
	RunRunning  = "running"
	RunComplete = "complete"
	RunFailed   = "failed"
)

// Run is one materialized pipeline result, as GET /api/runs/{id} and
// `exohunter process` show it.
type Run struct {
	RunID      string             `json:"run_id"`
	Dataset    string             `json:"dataset"`
	Status     string             `json:"status"`
	Rows       int64              `json:"rows"`
	Counts     map[string]int64   `json:"counts"`
	ConfigHash string             `json:"config_hash"`
	Thresholds map[string]float64 `json:"thresholds"`
	Albedo     float64            `json:"albedo"`
	// Timings are milliseconds per stage: materialize, count, export.
	Timings   map[string]float64 `json:"timings"`
	CreatedAt time.Time          `json:"created_at"`
	// FinishedAt is nil until the run completes or fails.
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Error says why a failed run failed.
	Error string `json:"error,omitempty"`
	// Out is the extra export written by ProcessInput.Out.
	Out string `json:"out,omitempty"`
	// Path is the run's Parquet file relative to the data dir.
	Path string `json:"path,omitempty"`
	// ResultsIndex is the state of a complete run's results index in serve
	// mode (ready, building, pending, failed, or not_needed under
	// Options.IndexMinRows rows; engine/results_index.go).
	// Results are correct in every state; only their speed differs.
	ResultsIndex string `json:"results_index,omitempty"`
	// ResultsIndexError says why the index is failed: not enough disk for
	// its build, or see the server log.
	ResultsIndexError string `json:"results_index_error,omitempty"`
}

// ProcessInput is one run request.
type ProcessInput struct {
	Dataset string
	// Overrides are threshold overrides with dotted keys, values as text
	// (from --set or the API); unknown keys and non-numbers are refused.
	Overrides map[string]string
	// Albedo overrides the configured Bond albedo when not nil.
	Albedo *float64
	// Out, when set, also writes the result to this file; the format
	// follows the extension (.csv .json .ndjson .parquet).
	Out string
	// RunID, when set, is used instead of a generated id (the API creates
	// the id before the job starts).
	RunID string
	// Progress, when set, is told each stage as it starts, with the share
	// of the work done so far.
	Progress func(stage string, done float64)
}

// runIDPattern accepts NewRunID's ids and any other id that is safe in a
// URL, a file name and a quoted SQL identifier.
var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

// msSince returns the milliseconds since t, with microsecond precision.
func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// NewRunID returns a fresh run id: the dataset, the UTC time and a random
// suffix, safe in URLs, file names and SQL identifiers.
func NewRunID(dataset string) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%s-%s", dataset, time.Now().UTC().Format("20060102T150405"), hex.EncodeToString(b[:]))
}

// Process runs the pipeline over a dataset with the run's thresholds and
// albedo and writes the result once, as Parquet under DATA/runs/. The run
// is recorded as running first and marked complete only after its file is
// in place, so a crash leaves a failed run (see recoverRuns), never a
// complete one with partial rows.
func (e *Engine) Process(ctx context.Context, in ProcessInput) (*Run, error) {
	prep, err := e.prepareRun(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := e.insertRun(ctx, prep.run); err != nil {
		return nil, err
	}
	// note: after insertRun, so that a run waiting for the bulk turn shows
	// as running (its job says what it waits for).
	release, err := e.bulkTurn(ctx, prep.rows, "run "+prep.run.RunID, func(_ float64, msg string) {
		if in.Progress != nil {
			in.Progress(msg, 0)
		}
	})
	if err != nil {
		e.failRun(prep.run, err)
		return nil, err
	}
	err = e.materialize(ctx, prep, in)
	release()
	if err != nil {
		e.failRun(prep.run, err)
		return nil, err
	}
	run, err := e.Run(ctx, prep.run.RunID)
	if err != nil || in.Out == "" {
		return run, err
	}
	// note: once the run is complete, so that a failed or interrupted --out
	// leaves a complete run (and the user's old file) behind, not a failed
	// run whose finished file nobody removes.
	if err := e.exportRunFile(ctx, e.abs(run.Path), in.Out); err != nil {
		return nil, &Error{Code: ErrorCode(err), Msg: fmt.Sprintf("Run %s is complete, but %s", run.RunID, lowerFirst(ErrorMessage(err))), Err: err}
	}
	run.Out = in.Out
	return run, nil
}

// preparedRun is a validated run request with its rendered SQL.
type preparedRun struct {
	run *Run
	sql string
	// passed are the columns that reach the run unchanged (passedColumns),
	// whose FLOAT and DOUBLE values the run's COPY guards.
	passed []sqltmpl.RunColumn
	// rows is the dataset's row count (the bulk turn's measure).
	rows int64
	// bundle is the configuration with the run's overrides, kept to render
	// the SELECT again when a column is retyped (retypeLateValue).
	bundle *spec.Bundle
}

// prepareRun validates the request and renders the run's SELECT. Nothing
// is written yet, so bad requests leave no trace.
func (e *Engine) prepareRun(ctx context.Context, in ProcessInput) (*preparedRun, error) {
	if e.bundle == nil {
		return nil, Errorf(Internal, "the engine was opened without a configuration")
	}
	if in.Out != "" {
		if _, err := exportFormatOf(in.Out); err != nil {
			return nil, err
		}
	}
	ds, err := e.Dataset(ctx, in.Dataset)
	if err != nil {
		return nil, err
	}
	if in.Albedo != nil && *in.Albedo >= 1 {
		// note: whatever a --config-dir's metrics.yaml allows: at 1 or
		// above every derived Teq would be NULL without a word.
		return nil, Errorf(BadRequest, "The albedo must be below 1 (a body reflecting all light has no equilibrium temperature); got %g.", *in.Albedo)
	}
	b, err := e.bundle.WithRun(in.Overrides, in.Albedo)
	if err != nil {
		return nil, overrideError(err)
	}
	q, passed, err := e.renderRun(ds, b)
	if err != nil {
		return nil, err
	}
	id := in.RunID
	if id == "" {
		id = NewRunID(ds.Name)
	} else if !runIDPattern.MatchString(id) {
		return nil, Errorf(BadRequest, "Run id %q is not a safe identifier: use letters, digits, '_' and '-', at most 128 characters.", id)
	}
	albedo, _ := b.Param("albedo")
	sum := sha256.Sum256([]byte(q))
	run := &Run{
		RunID: id, Dataset: ds.Name, Status: RunRunning, Counts: map[string]int64{},
		ConfigHash: hex.EncodeToString(sum[:]), Thresholds: b.Thresholds.Map(), Albedo: albedo,
		Timings: map[string]float64{}, CreatedAt: time.Now().UTC(),
		Path: e.rel(e.path(DirRuns, id+".parquet")),
	}
	return &preparedRun{run: run, sql: q, passed: passed, rows: ds.Rows, bundle: b}, nil
}

// renderRun renders a dataset's run SELECT and the passed-through float
// columns it must guard.
func (e *Engine) renderRun(ds *Dataset, b *spec.Bundle) (string, []sqltmpl.RunColumn, error) {
	m, err := e.mapColumns(ds.Columns, IngestInput{Mission: ds.Mission, Units: ds.Units})
	if errors.Is(err, mapping.ErrUnknownMission) {
		// note: the mission was known at ingest; the config changed since.
		names := make([]string, len(e.bundle.Columns.Missions))
		for i, ms := range e.bundle.Columns.Missions {
			names[i] = ms.Name
		}
		return "", nil, Wrap(Invalid, err, "Dataset %s was ingested as mission %q, which %s no longer defines: restore that mission, or ingest the file again as one of %s.",
			ds.Name, ds.Mission, spec.ColumnsFile, strings.Join(names, ", "))
	}
	if err != nil {
		return "", nil, err
	}
	q, err := sqltmpl.RunSelect(sqltmpl.PipelineInput{Dataset: ds.Name, Bundle: b, Mapping: m})
	if err != nil {
		return "", nil, fmt.Errorf("render run of %s: %w", ds.Name, err)
	}
	return q, passedColumns(ds, m), nil
}

// overrideError turns threshold/albedo problems into a 400 listing each;
// the ranges are the configs' (an albedo of 1 would make every derived
// Teq 0 K, so metrics.yaml allows at most 0.99).
func overrideError(err error) error {
	list := spec.AsErrors(err)
	out := &Error{Code: BadRequest, Err: err, Details: make([]Detail, 0, len(list))}
	for _, p := range list {
		msg := ""
		if p.Err != nil {
			msg = p.Err.Error()
		}
		out.Details = append(out.Details, Detail{Field: p.Path, Message: msg})
	}
	out.Msg = "The run's settings were refused: " + list[0].Error()
	return out
}

// materialize writes the run's Parquet file, counts the categories, writes
// the optional extra export and marks the run complete.
func (e *Engine) materialize(ctx context.Context, p *preparedRun, in ProcessInput) error {
	run := p.run
	progress := in.Progress
	if progress == nil {
		progress = func(string, float64) {}
	}
	final := e.abs(run.Path)
	tmp := final + ".tmp"
	defer os.Remove(tmp)

	progress("materialize", 0.05)
	t0 := time.Now()
	if err := e.copyRun(ctx, p, tmp, progress); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("place run file: %w", err)
	}
	run.Timings["materialize"] = msSince(t0)

	progress("count", 0.8)
	t0 = time.Now()
	if err := e.countRun(ctx, run, final); err != nil {
		return err
	}
	run.Timings["count"] = msSince(t0)

	// note: the views take the run in before it is marked complete, so a
	// client that sees "complete" finds its rows in runs.results at once;
	// until then it is "finishing", and a concurrent refresh keeps it too.
	e.setFinishing(run, true)
	if err := e.refreshRunViews(ctx); err != nil {
		e.setFinishing(run, false)
		return err
	}
	run.Status = RunComplete
	err := e.finishRun(ctx, run)
	e.setFinishing(run, false)
	if err != nil {
		// The views must not keep a run that is not complete.
		if rerr := e.refreshRunViews(context.WithoutCancel(ctx)); rerr != nil {
			e.log.Error("cannot drop a failed run from the views", "run", run.RunID, "err", rerr)
		}
		return err
	}
	e.index().poke()
	progress("complete", 1)
	return nil
}

// lowerFirst lowers the first letter of a sentence that continues another.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// setFinishing adds a run whose file is in place but whose completion is
// not yet recorded to the runs refreshRunViews includes, or removes it.
func (e *Engine) setFinishing(r *Run, on bool) {
	e.runViewsMu.Lock()
	defer e.runViewsMu.Unlock()
	if !on {
		delete(e.finishing, r.RunID)
		return
	}
	if e.finishing == nil {
		e.finishing = map[string]*Run{}
	}
	e.finishing[r.RunID] = r
}

// passedColumns lists the source columns that reach the run unchanged
// (unmapped or shadowed), with their types. The pipeline guards every
// column it computes; the run's COPY guards these, nested values included
// (sqltmpl.RunCopy). Taking them from the dataset's recorded schema avoids
// planning the pipeline twice.
func passedColumns(ds *Dataset, m *mapping.Mapping) []sqltmpl.RunColumn {
	types := make(map[string]string, len(ds.Columns))
	for _, c := range ds.Columns {
		types[c.Name] = c.Type
	}
	var out []sqltmpl.RunColumn
	for _, r := range m.Report {
		if r.Status == mapping.StatusUnmapped || r.Status == mapping.StatusShadowed {
			out = append(out, sqltmpl.RunColumn{Name: r.Source, Type: types[r.Source]})
		}
	}
	return out
}

// countRun fills rows and counts per category from the run file.
func (e *Engine) countRun(ctx context.Context, run *Run, path string) error {
	q, err := sqltmpl.RunCounts(path)
	if err != nil {
		return err
	}
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("count run %s: %w", run.RunID, err)
	}
	defer rows.Close()
	run.Rows = 0
	for rows.Next() {
		var cat sql.NullString
		var n int64
		if err := rows.Scan(&cat, &n); err != nil {
			return err
		}
		run.Counts[cat.String] = n
		run.Rows += n
	}
	return rows.Err()
}

// maxRetypes bounds the reads again of one run or snapshot: each retypes a
// column, or finds it retyped by another reader since it began.
const maxRetypes = 64

// copyRun writes the run's rows to tmp. A text value that the dataset's
// sniffed types did not foresee makes its column text (retypeLateValue)
// and the run reads the file again, at most once per column.
func (e *Engine) copyRun(ctx context.Context, p *preparedRun, tmp string, progress func(string, float64)) error {
	run := p.run
	for tries := 0; ; tries++ {
		stmt, err := sqltmpl.RunCopy(run.RunID, p.sql, p.passed, tmp)
		if err != nil {
			return err
		}
		_, err = e.db.ExecContext(ctx, stmt)
		if err == nil {
			return nil
		}
		r, rerr := e.retypeLateValue(ctx, run.Dataset, err)
		if rerr != nil {
			return rerr
		}
		if r == nil || tries > maxRetypes {
			return e.runSQLError(ctx, err, p)
		}
		progress(fmt.Sprintf("materialize again: %s", r.Sentence()), 0.05)
		ds, derr := e.Dataset(ctx, run.Dataset)
		if derr != nil {
			return derr
		}
		if p.sql, p.passed, err = e.renderRun(ds, p.bundle); err != nil {
			return err
		}
	}
}

// runSQLError explains a DuckDB failure while evaluating a run: a metric
// or rule whose SQL cannot take the dataset's values (blameRunError), or,
// most often, bad bytes in the file (a value that does not fit its column).
func (e *Engine) runSQLError(ctx context.Context, err error, p *preparedRun) error {
	dataset := p.run.Dataset
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Wrap(Timeout, err, "The run of %s was cancelled before it finished.", dataset)
	}
	if isValueError(err) {
		if se := e.blameRun(ctx, p); se != nil {
			return Wrap(Invalid, err, "The run of %s failed on the dataset's values in %s. Guard the expression (e.g. CASE WHEN x > 0 THEN ln(x) END), or restore the shipped file.", dataset, se.Error())
		}
		if ctx.Err() != nil {
			return Wrap(Timeout, err, "The run of %s was cancelled before it finished.", dataset)
		}
	}
	if isFileReadError(err) {
		return Wrap(BadRequest, err, "Dataset %s could not be read to the end: %s", dataset, firstLine(err.Error()))
	}
	if isValueError(err) {
		// note: no single element was found to blame (or the search ran
		// out of time); the message still says what DuckDB met.
		return Wrap(BadRequest, err, "The run of %s met a value it cannot compute: %s. Check the metrics and rules you changed in the configuration, or the file's values.", dataset, firstLine(err.Error()))
	}
	return fmt.Errorf("run %s: %w", dataset, err)
}

// blameRun is blameRunError for a failed run; nil when no config element
// is to blame or the search itself failed (the run's error stands).
func (e *Engine) blameRun(ctx context.Context, p *preparedRun) *spec.Error {
	ds, err := e.Dataset(ctx, p.run.Dataset)
	if err != nil {
		return nil
	}
	m, err := e.mapColumns(ds.Columns, IngestInput{Mission: ds.Mission, Units: ds.Units})
	if err != nil {
		return nil
	}
	se, err := blameRunError(ctx, e.db, p.bundle, ds.Name, m)
	if err != nil {
		e.log.Warn("finding the config element behind a failed run", "run", p.run.RunID, "err", err)
		return nil
	}
	return se
}

// isValueError reports DuckDB errors that an expression raises on a value
// it cannot take; a config's SQL as well as the file's bytes can raise them.
func isValueError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Out of Range Error") || strings.Contains(msg, "Conversion Error") || strings.Contains(msg, "Invalid Input Error")
}

// isFileReadError reports whether DuckDB failed on a dataset's bytes: a
// value that does not fit the type its column was given at ingest.
func isFileReadError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Conversion Error") || strings.Contains(msg, "CSV Error") || strings.Contains(msg, "Invalid Input Error")
}

// runDeletedDuring returns a NotFound naming the run when err (an
// unexpected failure) came from the run's dataset, and so its file, being
// deleted while doing ran; any other error is returned as it is. Delete
// waits for no reader, so every step that reads a run file can meet this.
func (e *Engine) runDeletedDuring(ctx context.Context, runID string, err error, doing string) error {
	if err == nil || ErrorCode(err) != Internal {
		return err
	}
	if _, rerr := e.Run(context.WithoutCancel(ctx), runID); ErrorCode(rerr) == NotFound {
		return Wrap(NotFound, err, "Run %s was deleted (with its dataset) while %s.", runID, doing)
	}
	return err
}

// insertRun records a run as running. It runs under ingestMu, as
// DeleteDataset does, so that a dataset deleted since the run was prepared
// is a NotFound here, and a delete that comes after sees the run in
// progress and waits; without it a run could be recorded between the
// delete's check and its commit and fail with the dataset's tables gone.
func (e *Engine) insertRun(ctx context.Context, r *Run) error {
	e.ingestMu.Lock()
	defer e.ingestMu.Unlock()
	if _, err := e.Dataset(ctx, r.Dataset); err != nil {
		return err
	}
	th, _ := json.Marshal(r.Thresholds)
	_, err := e.db.ExecContext(ctx, `INSERT INTO meta.runs (run_id, dataset, status, config_hash, thresholds, albedo, path, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.RunID, r.Dataset, r.Status, r.ConfigHash, string(th), r.Albedo, r.Path, r.CreatedAt)
	if err != nil && strings.Contains(err.Error(), "Duplicate key") {
		return Errorf(Conflict, "Run %s already exists.", r.RunID)
	}
	return err
}

// finishRun stores a run's final state.
func (e *Engine) finishRun(ctx context.Context, r *Run) error {
	counts, _ := json.Marshal(r.Counts)
	timings, _ := json.Marshal(r.Timings)
	now := time.Now().UTC()
	r.FinishedAt = &now
	_, err := e.db.ExecContext(ctx, `UPDATE meta.runs SET status = ?, rows = ?, counts = ?, timings = ?, error = ?, finished_at = ?
		WHERE run_id = ?`, r.Status, r.Rows, string(counts), string(timings), nullIfEmpty(r.Error), now, r.RunID)
	return err
}

// failRun marks a run failed with the user-facing reason. It uses a fresh
// context: the run's own may be the reason it failed.
func (e *Engine) failRun(r *Run, cause error) {
	r.Status = RunFailed
	r.Error = ErrorMessage(cause)
	if ErrorCode(cause) == Internal {
		e.log.Error("run failed", "run", r.RunID, "err", cause)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.finishRun(ctx, r); err != nil {
		e.log.Error("cannot mark run failed yet; it is answered failed and written later", "run", r.RunID, "err", err)
		failed := *r
		e.unrecorded.Store(r.RunID, &failed)
	}
}

// withUnrecorded answers a run whose failure could not be written as failed,
// and tries again to write it (space may have come back); recoverRuns
// writes it at the next start otherwise.
func (e *Engine) withUnrecorded(ctx context.Context, r *Run) *Run {
	v, ok := e.unrecorded.Load(r.RunID)
	if !ok || r.Status != RunRunning {
		return r
	}
	failed := v.(*Run)
	if err := e.finishRun(ctx, failed); err == nil {
		e.unrecorded.Delete(r.RunID)
	}
	r.Status, r.Error, r.FinishedAt = failed.Status, failed.Error, failed.FinishedAt
	return r
}

// nullIfEmpty maps "" to SQL NULL.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Runs lists runs, newest first; dataset filters when not empty.
func (e *Engine) Runs(ctx context.Context, dataset string) ([]*Run, error) {
	q := `SELECT ` + runColumns + ` FROM meta.runs`
	var args []any
	if dataset != "" {
		q += ` WHERE dataset = ?`
		args = append(args, dataset)
	}
	rows, err := e.db.QueryContext(ctx, q+` ORDER BY created_at DESC, run_id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	out := []*Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for i, r := range out {
		out[i] = e.withIndexState(e.withUnrecorded(ctx, r))
	}
	return out, nil
}

// Run returns one run, or NotFound.
func (e *Engine) Run(ctx context.Context, id string) (*Run, error) {
	r, err := scanRun(e.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM meta.runs WHERE run_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(NotFound, "There is no run %q.", id)
	}
	if err != nil {
		return nil, err
	}
	return e.withIndexState(e.withUnrecorded(ctx, r)), nil
}

// withIndexState fills in the results index state of a complete run.
func (e *Engine) withIndexState(r *Run) *Run {
	if r.Status == RunComplete {
		r.ResultsIndex, r.ResultsIndexError = e.index().state(r.RunID, r.Rows)
	}
	return r
}

// LatestRun returns the latest complete run of a dataset, or NotFound.
func (e *Engine) LatestRun(ctx context.Context, dataset string) (*Run, error) {
	r, err := scanRun(e.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM meta.runs
		WHERE dataset = ? AND status = 'complete' ORDER BY finished_at DESC, run_id DESC LIMIT 1`, dataset))
	if errors.Is(err, sql.ErrNoRows) {
		if _, derr := e.Dataset(ctx, dataset); derr != nil {
			return nil, derr // note: "process it first" is no help for a name that is no dataset
		}
		return nil, Errorf(NotFound, "Dataset %q has no complete run yet; process it first.", dataset)
	}
	return r, err
}

// runColumns is the SELECT list scanRun reads.
const runColumns = `run_id, dataset, status, coalesce(rows, 0), coalesce(counts::VARCHAR, '{}'), coalesce(config_hash, ''),
	coalesce(thresholds::VARCHAR, '{}'), coalesce(albedo, 0), coalesce(timings::VARCHAR, '{}'), coalesce(path, ''),
	coalesce(error, ''), created_at, finished_at`

// scanRun reads one meta.runs row.
func scanRun(s scanner) (*Run, error) {
	var r Run
	var counts, th, timings string
	var finished sql.NullTime
	if err := s.Scan(&r.RunID, &r.Dataset, &r.Status, &r.Rows, &counts, &r.ConfigHash, &th, &r.Albedo,
		&timings, &r.Path, &r.Error, &r.CreatedAt, &finished); err != nil {
		return nil, err
	}
	r.Counts, r.Thresholds, r.Timings = map[string]int64{}, map[string]float64{}, map[string]float64{}
	for _, p := range []struct {
		src string
		dst any
	}{{counts, &r.Counts}, {th, &r.Thresholds}, {timings, &r.Timings}} {
		if err := json.Unmarshal([]byte(p.src), p.dst); err != nil {
			return nil, fmt.Errorf("run %s: decode: %w", r.RunID, err)
		}
	}
	if finished.Valid {
		t := finished.Time
		r.FinishedAt = &t
	}
	return &r, nil
}

// refreshRunViews re-creates runs.results over every complete or finishing
// run file and runs."latest_D" for every dataset with one. It holds
// runViewsMu throughout, so a refresh never undoes a newer one.
func (e *Engine) refreshRunViews(ctx context.Context) error {
	e.runViewsMu.Lock()
	defer e.runViewsMu.Unlock()
	rows, err := e.db.QueryContext(ctx, `SELECT dataset, run_id, path FROM meta.runs
		WHERE status = 'complete' ORDER BY finished_at, run_id`)
	if err != nil {
		return fmt.Errorf("list complete runs: %w", err)
	}
	latest := map[string]string{}
	var paths []string
	for rows.Next() {
		var ds, id, p string
		if err := rows.Scan(&ds, &id, &p); err != nil {
			rows.Close()
			return err
		}
		abs := e.abs(p)
		if _, err := os.Stat(abs); err != nil {
			e.log.Warn("a complete run lost its file", "run", id, "path", abs)
			continue
		}
		paths = append(paths, abs)
		latest[ds] = abs
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(e.finishing)) {
		r := e.finishing[id]
		abs := e.abs(r.Path)
		paths = append(paths, abs)
		latest[r.Dataset] = abs
	}
	stmts := []string{}
	s, err := sqltmpl.RunsResultsView(paths)
	if err != nil {
		return err
	}
	stmts = append(stmts, s)
	names := make([]string, 0, len(latest))
	for ds := range latest {
		names = append(names, ds)
	}
	sort.Strings(names)
	for _, ds := range names {
		s, err := sqltmpl.LatestRunView(ds, latest[ds])
		if err != nil {
			return err
		}
		stmts = append(stmts, s)
	}
	for _, s := range stmts {
		if _, err := e.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("refresh run views: %w", err)
		}
	}
	return nil
}

// recoverRuns runs at Open: a run still queued or running belongs to a
// process that died, so it is marked failed and its partial file removed.
func recoverRuns(ctx context.Context, e *Engine) error {
	rows, err := e.db.QueryContext(ctx, `SELECT run_id, coalesce(path, '') FROM meta.runs WHERE status IN ('queued', 'running')`)
	if err != nil {
		return fmt.Errorf("find interrupted runs: %w", err)
	}
	var ids, paths []string
	for rows.Next() {
		var id, p string
		if err := rows.Scan(&id, &p); err != nil {
			rows.Close()
			return err
		}
		ids, paths = append(ids, id), append(paths, p)
	}
	rows.Close()
	for i, id := range ids {
		if paths[i] != "" {
			os.Remove(e.abs(paths[i]) + ".tmp")
			os.Remove(e.abs(paths[i]))
		}
		if _, err := e.db.ExecContext(ctx, `UPDATE meta.runs SET status = 'failed',
			error = 'interrupted: the process stopped before the run finished', finished_at = now() AT TIME ZONE 'UTC'
			WHERE run_id = ?`, id); err != nil {
			return err
		}
		e.log.Warn("marked an interrupted run as failed", "run", id)
	}
	return e.refreshRunViews(ctx)
}
