package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// The results index: in serve mode, every complete run gets a native
// DuckDB copy of its rows sorted by (category, row_id), in
// DATA/runs/results_index.duckdb. The run's Parquet file stays the truth
// (runs.results, exports, the console read it); the index is a cache that
// is built in the background after a run completes, dropped with its run,
// and rebuilt from scratch if its file is lost or damaged.
//
// Why (measured on a 10M-row run, 2 cores, DuckDB 1.5.6, `make bench`):
// the Parquet file is written in 16,384-row groups so that a page's
// rows decode cheaply, but a new filter must also be counted, and counting
// category = X AND koi_period < P over the file took 162 ms (about 300 ms
// of CPU): 32 clients opening new filters at once waited 5 s. On the sorted
// native copy the same count takes 7 ms (a category's rows are contiguous,
// so the other row groups are skipped by their statistics), and a page of
// every column 23 ms instead of 175 ms (1-client p99 52 ms instead of
// 469 ms). A copy of only the dashboard's 25 columns built in 35 s instead
// of 166 s, but left every other request on the Parquet file, so the copy
// holds every column. Building it sorts the run: at 10M rows DuckDB spilled
// 11 GB to DATA/tmp for a 2.6 GB index, so a build needs free disk (see
// indexDiskFactor); a real catalog takes milliseconds.
//
// A query uses the index only when every column it reads is in it, so
// results never depend on the index, only their speed does.

// resultsIndexFile is the index database, beside the run files.
const resultsIndexFile = "results_index.duckdb"

// indexCluster orders the index (then row_id): a category filter then
// reads only its own part of the index. Clustering by koi_disposition
// first was tried and was slower on every bench scenario (e.g. the 32-client
// default-sort page p99 168 -> 216 ms; pages sorted by radius no faster).
var indexCluster = []string{"category"}

// DefaultIndexMinRows is the smallest run serve indexes. The index pays
// for large runs (above); a small run's page is cheap from its Parquet
// file, while its index table, once a page has read it, stays in DuckDB's
// buffer pool (tag BASE_TABLE) until memory_limit presses: about 1.1 MB
// per 3,000-row run. Measured 2026-11-26 on a page of every column (limit
// 51): 3,000 rows 28-33 ms from Parquet, 16-19 ms from an index table;
// 9,564 rows (the KOI table) 46-54 ms against 20 ms. Under make soak
// DURATION=5m, which adds a 3,000-row run every 10 s and reads its pages,
// indexing those runs grew BASE_TABLE from 14 to 45 MB and server RSS by
// 29-31% between minute 1 and the end (medians of 1 s samples 24-26%);
// without them BASE_TABLE stayed at 8-11 MB and RSS grew 11-16% (medians
// 15-16%) in three runs, with results pages about as fast (p50 244-287
// against 231-286 ms, p99 1.07-1.50 s against 1.07-1.19 s).
// The KOI table and anything larger is indexed.
const DefaultIndexMinRows = 5000

// indexDiskFactor is the free disk a build needs, as a multiple of the run
// file: the sort's spill files (about 4x at 10M rows) plus the index (1x).
const indexDiskFactor = 6

// retireAfter is how long a replaced index table is kept before it is
// dropped, so that requests that started on it finish first.
const retireAfter = 30 * time.Second

// indexedRun is one built index: its table and the columns it covers.
type indexedRun struct {
	table string // qualified table name
	name  string // bare table name
	cols  map[string]bool
}

// covers reports whether the index holds every one of cols.
func (ix *indexedRun) covers(cols []string) bool {
	for _, c := range cols {
		if !ix.cols[c] {
			return false
		}
	}
	return true
}

// resultsIndex builds and tracks the indexes of one engine.
type resultsIndex struct {
	e *Engine

	mu       sync.Mutex
	ready    map[string]*indexedRun // run id → built index
	building string                 // run id being built, "" when idle
	stale    map[string]bool        // runs whose index must be rebuilt (scores changed) once built
	failed   map[string]string      // runs whose build failed, with why; tried again after a restart or new scores
	retired  []retiredTable
	// started and finished count the builder's passes over the runs, so
	// that a test can wait for a pass that began after a change instead
	// of sleeping.
	started, finished int

	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

type retiredTable struct {
	name string
	at   time.Time
}

var resultsIndexes sync.Map // *Engine → *resultsIndex

// index returns the engine's results index, or nil when it is off.
func (e *Engine) index() *resultsIndex {
	if x, ok := resultsIndexes.Load(e); ok {
		return x.(*resultsIndex)
	}
	return nil
}

// openResultsIndex attaches the index database and starts its builder, in
// serve mode only (Options.ResultsIndex). A damaged index file is deleted
// and started again: it holds nothing that the run files do not.
func openResultsIndex(ctx context.Context, e *Engine) error {
	if !e.opts.ResultsIndex {
		return nil
	}
	path := e.path(DirRuns, resultsIndexFile)
	if err := e.attachResultsIndex(ctx, path); err != nil {
		e.log.Warn("results index damaged: starting a new one", "path", path, "err", err)
		for _, p := range []string{path, path + ".wal"} {
			if rerr := os.Remove(p); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				e.log.Warn("results index off: cannot remove the damaged file", "err", rerr)
				return nil
			}
		}
		if err := e.attachResultsIndex(ctx, path); err != nil {
			e.log.Warn("results index off", "err", err)
			return nil
		}
	}
	x := &resultsIndex{
		e: e, ready: map[string]*indexedRun{}, stale: map[string]bool{}, failed: map[string]string{},
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	if err := x.load(ctx); err != nil {
		e.log.Warn("results index off", "err", err)
		return nil
	}
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	x.cancel = cancel
	resultsIndexes.Store(e, x)
	go x.loop(bctx)
	x.poke()
	return nil
}

func (e *Engine) attachResultsIndex(ctx context.Context, path string) error {
	attach, err := sqltmpl.ResultsIndexAttach(path)
	if err != nil {
		return err
	}
	schema, err := sqltmpl.ResultsIndexSchema()
	if err != nil {
		return err
	}
	for _, s := range []string{attach, schema} {
		if _, err := e.db.ExecContext(ctx, s); err != nil {
			if s == schema {
				_, _ = e.db.ExecContext(ctx, "DETACH DATABASE IF EXISTS "+sqltmpl.Ident(sqltmpl.ResultsIndexDB).String())
			}
			return err
		}
	}
	return nil
}

// closeResultsIndex stops the builder (a build in progress is rolled back)
// before the engine closes its pools.
func closeResultsIndex(e *Engine) {
	x := e.index()
	if x == nil {
		return
	}
	x.cancel()
	<-x.done
	resultsIndexes.Delete(e)
}

func init() {
	openHooks = append(openHooks, openResultsIndex)
	closeHooks = append(closeHooks, closeResultsIndex)
}

// load reads the list of built indexes. A run listed twice (the process
// stopped before a replaced table was dropped) keeps its newest table; the
// builder drops the others.
func (x *resultsIndex) load(ctx context.Context) error {
	rows, err := x.e.db.QueryContext(ctx, "SELECT run_id, tbl, columns FROM "+sqltmpl.ResultsIndexTable("indexed")+" ORDER BY built_at, tbl")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, tbl string
		var cols []any
		if err := rows.Scan(&id, &tbl, &cols); err != nil {
			return err
		}
		if old := x.ready[id]; old != nil {
			x.retired = append(x.retired, retiredTable{name: old.name})
		}
		x.ready[id] = newIndexedRun(tbl, cols)
	}
	return rows.Err()
}

func newIndexedRun(name string, cols []any) *indexedRun {
	ix := &indexedRun{table: sqltmpl.ResultsIndexTable(name), name: name, cols: map[string]bool{}}
	for _, c := range cols {
		if s, ok := c.(string); ok {
			ix.cols[s] = true
		}
	}
	return ix
}

// poke asks the builder to look for work (a nil index ignores it).
func (x *resultsIndex) poke() {
	if x == nil {
		return
	}
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// lookup returns the built index of a run, or nil.
func (x *resultsIndex) lookup(runID string) *indexedRun {
	if x == nil {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stale[runID] {
		return nil
	}
	return x.ready[runID]
}

// Results index states, as GET /api/runs/{id} reports them.
const (
	IndexReady    = "ready"
	IndexBuilding = "building"
	IndexPending  = "pending"
	IndexFailed   = "failed"
	// IndexNotNeeded: the run is under Options.IndexMinRows rows and its
	// pages are read from its Parquet file.
	IndexNotNeeded = "not_needed"
)

// state reports the index state of a complete run of rows rows, "" when
// the index is off, and why a failed build failed.
func (x *resultsIndex) state(runID string, rows int64) (state, why string) {
	if x == nil {
		return "", ""
	}
	if rows < x.e.opts.IndexMinRows {
		return IndexNotNeeded, ""
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case x.building == runID:
		return IndexBuilding, ""
	case x.ready[runID] != nil && !x.stale[runID]:
		return IndexReady, ""
	case x.failed[runID] != "":
		return IndexFailed, x.failed[runID]
	}
	return IndexPending, ""
}

// invalidate forgets a run's index (its scores changed, or it is gone):
// queries stop using it at once, and its table is dropped a little later.
// The builder then builds it again if the run is still complete.
func (x *resultsIndex) invalidate(runID string) {
	if x == nil {
		return
	}
	x.mu.Lock()
	if x.building == runID {
		x.stale[runID] = true
	}
	if ix := x.ready[runID]; ix != nil {
		delete(x.ready, runID)
		x.retired = append(x.retired, retiredTable{name: ix.name, at: time.Now()})
	}
	delete(x.failed, runID)
	x.mu.Unlock()
	x.e.forgetResultRun(runID)
	x.poke()
}

// loop builds missing indexes, newest run first, one at a time, until the
// engine closes.
func (x *resultsIndex) loop(ctx context.Context) {
	defer close(x.done)
	for {
		x.mu.Lock()
		x.started++
		x.mu.Unlock()
		x.sync(ctx)
		var later <-chan time.Time
		x.mu.Lock()
		x.finished++
		if len(x.retired) > 0 {
			later = time.After(retireAfter)
		}
		x.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-x.wake:
		case <-later:
		}
	}
}

// sync drops the indexes of runs that are gone and builds the missing ones.
func (x *resultsIndex) sync(ctx context.Context) {
	runs, err := x.completeRuns(ctx)
	if err != nil {
		if ctx.Err() == nil {
			x.e.log.Warn("results index: list runs", "err", err)
		}
		return
	}
	complete := map[string]bool{}
	for _, r := range runs {
		complete[r.RunID] = true
	}
	var gone []string
	x.mu.Lock()
	for id := range x.ready {
		if !complete[id] {
			x.retired = append(x.retired, retiredTable{name: x.ready[id].name, at: time.Now()})
			delete(x.ready, id)
			gone = append(gone, id)
		}
	}
	x.mu.Unlock()
	// note: outside x.mu: resultRun holds the results cache lock while it
	// looks up the index, so taking them in the other order could deadlock.
	for _, id := range gone {
		x.e.forgetResultRun(id)
	}
	x.dropRetired(ctx)
	for _, r := range runs {
		if ctx.Err() != nil {
			return
		}
		x.mu.Lock()
		skip := x.ready[r.RunID] != nil || x.failed[r.RunID] != ""
		x.mu.Unlock()
		if skip {
			continue
		}
		// note: a large run whose turn is taken waits for the next pass
		// (the turn's release pokes the builder); the others go on.
		release, ok := x.e.tryBulkTurn(r.Rows, "the results index of run "+r.RunID)
		if !ok {
			continue
		}
		x.mu.Lock()
		x.building = r.RunID
		x.mu.Unlock()
		x.build(ctx, r)
		release()
	}
}

// completeRuns lists the complete runs the index keeps (at least
// Options.IndexMinRows rows), newest first.
func (x *resultsIndex) completeRuns(ctx context.Context) ([]*Run, error) {
	rows, err := x.e.db.QueryContext(ctx, `SELECT run_id, path, coalesce(rows, 0) FROM meta.runs
		WHERE status = 'complete' AND path IS NOT NULL AND coalesce(rows, 0) >= ?
		ORDER BY finished_at DESC, run_id`, x.e.opts.IndexMinRows)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Run
	for rows.Next() {
		r := &Run{}
		if err := rows.Scan(&r.RunID, &r.Path, &r.Rows); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// dropRetired drops replaced index tables once no request can still be
// reading them.
func (x *resultsIndex) dropRetired(ctx context.Context) {
	x.mu.Lock()
	var due []string
	keep := x.retired[:0]
	for _, t := range x.retired {
		if time.Since(t.at) >= retireAfter {
			due = append(due, t.name)
		} else {
			keep = append(keep, t)
		}
	}
	x.retired = keep
	x.mu.Unlock()
	for _, name := range due {
		err := x.e.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+sqltmpl.ResultsIndexTable("indexed")+" WHERE tbl = ?", name); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+sqltmpl.ResultsIndexTable(name))
			return err
		})
		if err != nil && ctx.Err() == nil {
			x.e.log.Warn("results index: drop a replaced table", "table", name, "err", err)
		}
	}
}

// build writes one run's index in a transaction (a build that is cut off
// leaves nothing), then lets the results endpoints use it.
func (x *resultsIndex) build(ctx context.Context, r *Run) {
	t0 := time.Now()
	name, cols, err := x.write(ctx, r)
	x.mu.Lock()
	x.building = ""
	stale := x.stale[r.RunID]
	delete(x.stale, r.RunID)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			x.failed[r.RunID] = "the build failed (the server log says why)"
			if errors.Is(err, errIndexDisk) {
				x.failed[r.RunID] = err.Error()
			}
		}
	case stale:
		x.retired = append(x.retired, retiredTable{name: name, at: time.Now()})
	default:
		x.ready[r.RunID] = newIndexedRun(name, cols)
	}
	x.mu.Unlock()
	switch {
	case err != nil && ctx.Err() == nil:
		x.e.log.Warn("results index: build failed; results of this run read its Parquet file", "run", r.RunID, "err", err)
	case err == nil && stale:
		x.poke()
	case err == nil:
		x.e.forgetResultRun(r.RunID)
		x.e.log.Info("results index built", "run", r.RunID, "columns", len(cols), "ms", msSince(t0))
	}
}

// write creates and records the index table of a run.
func (x *resultsIndex) write(ctx context.Context, r *Run) (string, []any, error) {
	e := x.e
	path := e.abs(r.Path)
	if err := e.indexDiskRoom(path); err != nil {
		return "", nil, err
	}
	selectSQL, _, err := e.runSelect(ctx, r.RunID, path)
	if err != nil {
		return "", nil, err
	}
	all, err := e.describe(ctx, sqltmpl.Expr(selectSQL))
	if err != nil {
		return "", nil, fmt.Errorf("describe run %s: %w", r.RunID, err)
	}
	var cols []string
	var colsAny []any
	for _, c := range all {
		cols = append(cols, c.Name)
		colsAny = append(colsAny, c.Name)
	}
	var cluster []string
	for _, c := range indexCluster {
		if slices.Contains(cols, c) {
			cluster = append(cluster, c)
		}
	}
	if !slices.Contains(cols, "row_id") {
		return "", nil, errors.New("run file without row_id")
	}
	name := "run_" + r.RunID + "_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	create, err := sqltmpl.ResultsIndexBuild(name, selectSQL, cols, cluster)
	if err != nil {
		return "", nil, err
	}
	record, err := sqltmpl.ResultsIndexRecord(r.RunID, name, cols)
	if err != nil {
		return "", nil, err
	}
	err = e.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, create); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, record)
		return err
	})
	return name, colsAny, err
}

// errIndexDisk marks a build refused for disk space, the one failure whose
// reason the API shows (others are logged).
var errIndexDisk = errors.New("not enough free disk for the results index")

// indexDiskRoom refuses a build that could fill the disk: the sort spills
// to DATA/tmp, and a full disk would fail uploads and label writes while it
// lasts.
func (e *Engine) indexDiskRoom(runFile string) error {
	st, err := os.Stat(runFile)
	if err != nil {
		return err
	}
	factor := int64(indexDiskFactor)
	if e.opts.indexDiskFactor > 0 {
		factor = e.opts.indexDiskFactor
	}
	need, free, ok, err := diskShortfall(diskNeed{e.tempDir, factor * st.Size()})
	if err != nil || ok {
		return err
	}
	return fmt.Errorf("%w: %d MB free in the temp dir, %d MB needed (its sort spills several times the run's size)", errIndexDisk, free>>20, need>>20)
}
