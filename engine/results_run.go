package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// resultRun is what the results endpoints need to know about one complete
// run: its file and its columns (the allow-list of every request-shaped
// query). A complete run never changes, so it is cached per engine.
type resultRun struct {
	// flags are the flag names of the rules (configs/rules.yaml), which
	// the flag filter accepts in any case and without FLAG_.
	flags []string
	id    string
	path  string // absolute Parquet file
	// sel is the SELECT the run's rows come from: the Parquet file, with
	// the score columns joined once something scored the run.
	sel    string
	scored bool
	// index is the run's results index when it is built (nil otherwise):
	// queries whose columns it covers read it instead (source).
	index *indexedRun
	rows  int64
	cols  []Column
	idx   map[string]int
	// gen tells this description apart from a later one of the same run
	// (after forgetResultRun), so cached page windows never outlive it.
	gen uint64
}

// resultRunGen numbers the descriptions of runs.
var resultRunGen atomic.Uint64

// from is the relation the queries read: every column of the run.
func (r *resultRun) from() string {
	if !r.scored {
		return "read_parquet(" + sqltmpl.Lit(r.path).String() + ")"
	}
	return "(" + r.sel + ") AS r"
}

// source is the relation a query that reads only cols uses: the results
// index when it holds them all, else from().
func (r *resultRun) source(cols ...string) string {
	if r.index != nil && r.index.covers(cols) {
		return r.index.table
	}
	return r.from()
}

// col returns a column of the run, or a BadRequest naming the parameter.
func (r *resultRun) col(param, name string) (Column, error) {
	if i, ok := r.idx[name]; ok {
		return r.cols[i], nil
	}
	msg := fmt.Sprintf("Unknown column %q in %s: run %s has no such column.", name, param, r.id)
	if s := r.closest(name); s != "" {
		msg = fmt.Sprintf("Unknown column %q in %s: did you mean %q?", name, param, s)
	}
	return Column{}, &Error{Code: BadRequest, Msg: msg, Details: []Detail{{Field: param, Message: msg}}}
}

// has reports whether the run has a column.
func (r *resultRun) has(name string) bool { _, ok := r.idx[name]; return ok }

// closest suggests a column name for a typo (prefix match or edit distance
// of at most 2).
func (r *resultRun) closest(name string) string {
	best, bestD := "", 3
	for _, c := range r.cols {
		if d := spec.EditDistance(strings.ToLower(name), strings.ToLower(c.Name)); d < bestD {
			best, bestD = c.Name, d
		}
	}
	return best
}

// Column type classes for filters, sorting and cursors.
func isNumericType(t string) bool {
	switch strings.ToUpper(t) {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
		"UHUGEINT", "FLOAT", "DOUBLE":
		return true
	}
	return strings.HasPrefix(strings.ToUpper(t), "DECIMAL")
}

func isIntegerType(t string) bool {
	return isNumericType(t) && !strings.HasPrefix(strings.ToUpper(t), "DECIMAL") && t != "FLOAT" && t != "DOUBLE"
}

func isListType(t string) bool { return strings.HasSuffix(t, "]") }

// resultsState is the per-engine cache of the results endpoints. It lives
// outside the Engine struct (engine.go is shared), keyed by engine.
type resultsState struct {
	mu     sync.Mutex
	runs   map[string]*resultRun
	counts *countCache
	// windows holds the first keys of each (run, filter, sort), so that
	// cursor pages after a first page do not scan the run again.
	windows *onceCache[*keyWindow]
	// inOrder remembers, per run file, whether its rows lie in row_id
	// order (exports then need no sort; see fileInRowIDOrder).
	inOrder *onceCache[bool]
	// reads bounds the results queries running at once (see
	// maxResultsReads); exports bounds the exports being written.
	reads, exports chan struct{}
}

// maxResultsReads bounds concurrent results queries. Each Parquet scan of a
// whole row (about 90 columns) holds a buffer per column chunk, and 32
// concurrent page reads ran DuckDB out of its 1 GB memory limit (measured);
// beyond a few queries, more concurrency only shares the same CPUs anyway,
// so requests queue here instead (they still honour their context).
const maxResultsReads = 4

// maxExportWrites bounds concurrent export COPYs, which are long and
// memory-hungry; streaming the written files is not limited.
const maxExportWrites = 2

// slot takes one place in sem until release is called, or fails with a
// Timeout when ctx ends first.
func slot(ctx context.Context, sem chan struct{}) (release func(), err error) {
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, Wrap(Timeout, ctx.Err(), "The server is busy: the request timed out waiting for its turn.")
	}
}

var resultsStates sync.Map // *Engine -> *resultsState

// note: a closed engine's cache goes with it; tests and the in-process
// end-to-end runs open many engines in one process.
func init() { closeHooks = append(closeHooks, func(e *Engine) { resultsStates.Delete(e) }) }

// results returns the engine's results cache, creating it on first use.
func (e *Engine) results() *resultsState {
	if s, ok := resultsStates.Load(e); ok {
		return s.(*resultsState)
	}
	s, _ := resultsStates.LoadOrStore(e, &resultsState{
		runs: map[string]*resultRun{}, counts: newCountCache(countCacheSize), windows: newOnceCache[*keyWindow](windowCacheSize),
		inOrder: newOnceCache[bool](windowCacheSize),
		reads:   make(chan struct{}, maxResultsReads), exports: make(chan struct{}, maxExportWrites),
	})
	return s.(*resultsState)
}

// enableParquetMetadataCache keeps parsed Parquet footers in memory between
// queries (DuckDB invalidates an entry when its file changes). A run file
// of 10M rows has ~7,300 column chunks in its footer: parsing it took about
// 15 ms per query, a results page runs two or three queries, and the keys
// query of a filtered page dropped from 46 ms to 11 ms with the cache
// (measured on DuckDB 1.5.6, see the bench). The setting is global, so it is
// set at Open, before serve mode locks the configuration.
func enableParquetMetadataCache(ctx context.Context, e *Engine) error {
	if _, err := e.db.ExecContext(ctx, "SET parquet_metadata_cache = true"); err != nil {
		return fmt.Errorf("enable the parquet metadata cache: %w", err)
	}
	return nil
}

func init() { openHooks = append(openHooks, enableParquetMetadataCache) }

// resultRun returns a complete run's file and columns. A run that is not
// complete is a Conflict (still running) or NotFound (failed, unknown, or
// its file is gone).
func (e *Engine) resultRun(ctx context.Context, id string) (*resultRun, error) {
	st := e.results()
	st.mu.Lock()
	r := st.runs[id]
	st.mu.Unlock()
	if r != nil {
		if _, err := os.Stat(r.path); err == nil {
			return r, nil
		}
		st.mu.Lock()
		delete(st.runs, id)
		st.mu.Unlock()
		st.counts.dropRun(id)
	}
	run, err := e.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	switch run.Status {
	case RunComplete:
	case RunFailed:
		return nil, Errorf(NotFound, "Run %s failed and has no results: %s", id, run.Error)
	default:
		return nil, Errorf(Conflict, "Run %s is still %s; its results appear when it completes.", id, run.Status)
	}
	path := e.abs(run.Path)
	if _, err := os.Stat(path); err != nil {
		return nil, Wrap(NotFound, err, "The results file of run %s is missing.", id)
	}
	sel, scored, err := e.runSelect(ctx, id, path)
	if err != nil {
		return nil, err
	}
	index := e.index().lookup(id)
	cols, err := e.describe(ctx, sqltmpl.Expr(sel))
	if err != nil {
		return nil, fmt.Errorf("describe run %s: %w", id, err)
	}
	r = &resultRun{id: id, path: path, sel: sel, scored: scored, index: index, rows: run.Rows, cols: cols,
		idx: make(map[string]int, len(cols)), gen: resultRunGen.Add(1), flags: e.flagNames()}
	for i, c := range cols {
		r.idx[c.Name] = i
	}
	if !r.has("row_id") {
		return nil, errors.New("run file without row_id: " + path)
	}
	// note: an index built or dropped while this description was made
	// forgets descriptions after the change; this one is only cached when
	// it still names the current index, so the next request picks it up.
	st.mu.Lock()
	if e.index().lookup(id) == index {
		st.runs[id] = r
	}
	st.mu.Unlock()
	return r, nil
}

// runSelect is the SELECT over every column of a run: its Parquet file,
// with the score columns joined once something scored the run.
func (e *Engine) runSelect(ctx context.Context, runID, path string) (sel string, scored bool, err error) {
	if scored, err = e.RunScored(ctx, runID); err != nil {
		return "", false, fmt.Errorf("run %s scores: %w", runID, err)
	}
	if !scored {
		return sqltmpl.RunParquetSelect(path), false, nil
	}
	sel, err = sqltmpl.ScoredRun(runID, path)
	return sel, true, err
}
