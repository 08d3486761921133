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

// onceCache remembers one computed value per key, and concurrent requests
// for the same key share one computation (a 32-client burst on a new
// filter runs one scan, not 32). Runs never change, so entries never go
// stale; the oldest are dropped beyond the size.
type onceCache[V any] struct {
	mu    sync.Mutex
	max   int
	items map[string]*onceEntry[V]
	order []string // insertion order, for eviction
}

type onceEntry[V any] struct {
	done chan struct{}
	v    V
	err  error
}

func newOnceCache[V any](max int) *onceCache[V] {
	return &onceCache[V]{max: max, items: map[string]*onceEntry[V]{}}
}

// countCache remembers the total of each (run, filter) so that paging
// through a filtered result counts once, not once per page.
type countCache = onceCache[int64]

func newCountCache(max int) *countCache { return newOnceCache[int64](max) }

// get returns the cached value for key, or runs compute once for all
// waiting callers. A failed computation is not remembered.
func (c *onceCache[V]) get(ctx context.Context, key string, compute func(context.Context) (V, error)) (V, error) {
	c.mu.Lock()
	e, ok := c.items[key]
	if !ok {
		e = &onceEntry[V]{done: make(chan struct{})}
		c.items[key] = e
		c.order = append(c.order, key)
		c.evictLocked()
		// note: the computation runs detached from the first caller, so
		// that one client going away does not fail the others waiting for
		// the same value; countTimeout bounds it instead.
		go func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), countTimeout)
			defer cancel()
			e.v, e.err = compute(cctx)
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
		return e.v, e.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// peek returns the value of key if it is computed, without waiting or
// computing.
func (c *onceCache[V]) peek(key string) (V, bool) {
	c.mu.Lock()
	e, ok := c.items[key]
	c.mu.Unlock()
	var zero V
	if !ok {
		return zero, false
	}
	select {
	case <-e.done:
		if e.err != nil {
			return zero, false
		}
		return e.v, true
	default:
		return zero, false
	}
}

func (c *onceCache[V]) evictLocked() {
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
func (c *onceCache[V]) dropRun(runID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	prefix := runID + "\x00"
	for k := range c.items {
		if strings.HasPrefix(k, prefix) {
			delete(c.items, k)
		}
	}
}
