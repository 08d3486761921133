package engine

import (
	"context"
	"fmt"
	"sync"
)

// bulkRows is the run size from which the work over a whole run takes
// turns (bulkTurn): the results index build, scoring, anomaly detection
// and training. At ten million rows each of them fills DuckDB's memory
// limit alone (1 GB by default); a score job started while serve built
// the index of the same run failed both of them out of memory. Smaller
// runs never waited for each other, and do not now.
const bulkRows = 1_000_000

// bulk is the engine's turn for bulk work.
type bulk struct {
	rows int64         // bulkRows; tests lower it
	turn chan struct{} // holds one token while a turn is taken
	mu   sync.Mutex
	what string // what holds the turn, for the waiting ones' message
}

func newBulk() *bulk { return &bulk{rows: bulkRows, turn: make(chan struct{}, 1)} }

// bulkTurn waits for the engine's bulk turn when the run has bulkRows rows
// or more, telling progress what it waits for, and returns the release.
// It gives up when ctx ends. Smaller runs go at once.
func (e *Engine) bulkTurn(ctx context.Context, rows int64, what string, progress func(float64, string)) (release func(), err error) {
	b := e.bulk
	if rows < b.rows {
		return func() {}, nil
	}
	select {
	case b.turn <- struct{}{}:
	default:
		b.mu.Lock()
		holder := b.what
		b.mu.Unlock()
		if progress != nil {
			progress(0, fmt.Sprintf("waiting for %s to finish", holder))
		}
		select {
		case b.turn <- struct{}{}:
		case <-ctx.Done():
			return nil, Wrap(Timeout, ctx.Err(), "Cancelled or out of time while %s waited for %s to finish; nothing was written.", what, holder)
		}
	}
	b.mu.Lock()
	b.what = what
	b.mu.Unlock()
	return func() { <-b.turn }, nil
}

// sourceRows is the size of the run a training or detection would read
// (0 when it cannot tell: the call itself then reports why).
func (e *Engine) sourceRows(ctx context.Context, run, dataset, features string) int64 {
	if features != "" {
		m, _, err := e.featureSet(ctx, features)
		if err != nil {
			return 0
		}
		run = m.Source.RunID
	}
	r, err := e.ResolveRun(ctx, run, dataset)
	if err != nil {
		return 0
	}
	return r.Rows
}
