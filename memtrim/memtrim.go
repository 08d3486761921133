// Package memtrim gives the C heap's free memory back to the system.
//
// DuckDB takes its buffer blocks from its own jemalloc, but everything
// else its C++ code allocates (query plans, catalog entries, Parquet
// footers, CSV sniffing, result chunks) comes from glibc malloc, which
// keeps freed memory in its arenas and returns only the top of each heap.
// Under `make soak` (50 clients, an upload and run every 10 s) the glibc
// arenas grew from 31 to 424 MB of address space while 14 to 35 MB of it
// was in use, and the server's RSS grew 31% in 3 minutes while DuckDB's own
// accounting (duckdb_memory()) went down. malloc_trim(0) every 10 s gave
// back 17 to 72 MB each time, and the same soak grew 9.7%.
// Capping the arenas (MALLOC_ARENA_MAX=2) and a low mmap threshold were
// tried first and did not stop the growth.
package memtrim

import (
	"context"
	"time"
)

// Interval is how often a serving process trims: often enough that freed
// memory does not pile up between trims (tens of MB per 10 s under the
// soak), rarely enough that its cost stays small: a trim walks the arenas
// and gives back what is free, 39 ms for 195 MB in the test, a few ms for
// the tens of MB that pile up between trims under load.
const Interval = 5 * time.Second

// Every trims every interval until ctx ends.
func Every(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			Trim()
		}
	}
}
