package engine

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// bulkRows is the run size from which the work over a whole run takes
// turns (bulkTurn): pipeline runs, the results index build, scoring,
// anomaly detection, training, feature-set builds and snapshots. At ten million rows
// each of them fills DuckDB's memory limit alone (1 GB by default); a
// score job started while serve built the index of the same run failed
// both of them out of memory. Work on smaller runs does not take the turn.
const bulkRows = 1_000_000

// bulk is the engine's turn for bulk work.
type bulk struct {
	rows int64         // bulkRows; tests lower it
	turn chan struct{} // holds one token while a turn is taken
	mu   sync.Mutex
	what string // what holds the turn, for the waiting ones' message
	// waiting counts the calls waiting for the turn (tests read it).
	waiting atomic.Int32
}

func newBulk() *bulk { return &bulk{rows: bulkRows, turn: make(chan struct{}, 1)} }

// bulkTurn waits for the engine's bulk turn when the run has bulkRows rows
// or more, telling progress what it waits for, and returns the release.
// It gives up when ctx ends. Smaller runs go at once.
func (e *Engine) bulkTurn(ctx context.Context, rows int64, what string, progress func(float64, string)) (release func(), err error) {
	if release, ok := e.tryBulkTurn(rows, what); ok {
		return release, nil
	}
	b := e.bulk
	b.mu.Lock()
	holder := cmp.Or(b.what, "another large job")
	b.mu.Unlock()
	if progress != nil {
		progress(0, fmt.Sprintf("waiting for %s to finish", holder))
	}
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	select {
	case b.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, Wrap(Timeout, ctx.Err(), "Cancelled or out of time while %s waited for %s to finish; nothing was written.", what, holder)
	}
	b.mu.Lock()
	b.what = what
	b.mu.Unlock()
	return e.releaseBulk, nil
}

// tryBulkTurn takes the bulk turn if it is free (or not needed).
func (e *Engine) tryBulkTurn(rows int64, what string) (release func(), ok bool) {
	b := e.bulk
	if rows < b.rows {
		return func() {}, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.turn <- struct{}{}:
		b.what = what
		return e.releaseBulk, true
	default:
		return nil, false
	}
}

// releaseBulk ends a turn and wakes the results index builder, which
// skips a large run while the turn is taken rather than wait.
func (e *Engine) releaseBulk() {
	b := e.bulk
	b.mu.Lock()
	b.what = ""
	<-b.turn
	b.mu.Unlock()
	e.index().poke()
}

// sourceRun is the run a training or detection would read, or nil when it
// cannot tell (the call itself then reports why).
func (e *Engine) sourceRun(ctx context.Context, run, dataset, features string) *Run {
	if features != "" {
		m, _, err := e.featureSetRow(ctx, features)
		if err != nil {
			return nil
		}
		run = m.Source.RunID
	}
	r, err := e.ResolveRun(ctx, run, dataset)
	if err != nil {
		return nil
	}
	return r
}

// runRows is the run's rows, 0 for none.
func runRows(r *Run) int64 {
	if r == nil {
		return 0
	}
	return r.Rows
}
