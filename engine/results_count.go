package engine

import (
	"context"
	"strings"
	"sync"
	"time"
)

// countCacheSize bounds the remembered totals (one per run and filter).
const countCacheSize = 4096

// countTimeout bounds one count, which runs detached from its requests.
const countTimeout = 5 * time.Minute

// countCache remembers the total of each (run, filter) so that paging
// through a filtered result counts once, not once per page. Concurrent
// requests for the same key share one count (a 32-client burst on a new
// filter runs one scan, not 32). Runs never change, so entries never go
// stale; the oldest are dropped beyond the size.
type countCache struct {
	mu    sync.Mutex
	max   int
	items map[string]*countEntry
	order []string // insertion order, for eviction
}

type countEntry struct {
	done chan struct{}
	n    int64
	err  error
}

func newCountCache(max int) *countCache {
	return &countCache{max: max, items: map[string]*countEntry{}}
}

// get returns the cached count for key, or runs count once for all waiting
// callers. A failed count is not remembered.
func (c *countCache) get(ctx context.Context, key string, count func(context.Context) (int64, error)) (int64, error) {
	c.mu.Lock()
	e, ok := c.items[key]
	if !ok {
		e = &countEntry{done: make(chan struct{})}
		c.items[key] = e
		c.order = append(c.order, key)
		c.evictLocked()
		// note: the count runs detached from the first caller, so that
		// one client going away does not fail the others waiting for the
		// same total; countTimeout bounds it instead.
		go func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), countTimeout)
			defer cancel()
			e.n, e.err = count(cctx)
			if e.err != nil {
				c.mu.Lock()
				if c.items[key] == e {
					delete(c.items, key)
				}
				c.mu.Unlock()
			}
			close(e.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.n, e.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (c *countCache) evictLocked() {
	for len(c.items) > c.max && len(c.order) > 0 {
		k := c.order[0]
		c.order = c.order[1:]
		delete(c.items, k)
	}
	if cap(c.order) > 4*c.max {
		c.order = append([]string(nil), c.order...)
	}
}

// dropRun forgets every count of a run (its file went away).
func (c *countCache) dropRun(runID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	prefix := runID + "\x00"
	for k := range c.items {
		if strings.HasPrefix(k, prefix) {
			delete(c.items, k)
		}
	}
}
