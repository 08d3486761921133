//go:build linux && cgo

// Package cmem allocates and frees C heap blocks, for the memtrim test
// (cgo cannot be used in _test.go files).
package cmem

/*
#include <stdlib.h>
#include <string.h>
static void *alloc_touched(size_t n) { void *p = malloc(n); if (p) memset(p, 1, n); return p; }
*/
import "C"

import "unsafe"

// Alloc returns n bytes of C heap, written to so that they are resident.
func Alloc(n int) unsafe.Pointer { return C.alloc_touched(C.size_t(n)) }

// Free frees a block from Alloc.
func Free(p unsafe.Pointer) { C.free(p) }
