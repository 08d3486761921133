//go:build linux && cgo

package memtrim

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/exohunter/exohunter/memtrim/internal/cmem"
)

// TestTrim fragments the C heap the way a burst of queries does (many
// small blocks, most freed, a few kept to the end, so the heap's top cannot
// shrink by itself) and checks that Trim gives the freed pages back.
func TestTrim(t *testing.T) {
	const n, size = 200_000, 1024
	blocks := make([]unsafe.Pointer, n)
	for i := range blocks {
		blocks[i] = cmem.Alloc(size)
	}
	before := rssKB(t)
	for i := range blocks {
		if i%1000 != 999 {
			cmem.Free(blocks[i])
		}
	}
	freed := rssKB(t)
	start := time.Now()
	released := Trim()
	took := time.Since(start)
	after := rssKB(t)
	t.Logf("RSS with %d MB allocated %d kB, after freeing most %d kB, after Trim %d kB (%v, released %v)",
		n*size>>20, before, freed, after, took, released)
	for i := range blocks {
		if i%1000 == 999 {
			cmem.Free(blocks[i])
		}
	}
	if freed-after < (n*size/1024)/2 {
		t.Errorf("Trim released %d kB of the %d kB freed, want at least half", freed-after, n*size/1024)
	}
	if !released {
		t.Errorf("Trim reported nothing released")
	}
}

// rssKB is the resident set of this process.
func rssKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := bytes.Fields(b)
	pages, err := strconv.Atoi(string(f[1]))
	if err != nil {
		t.Fatal(err)
	}
	return pages * os.Getpagesize() / 1024
}
