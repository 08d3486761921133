//go:build linux && cgo

package memtrim

/*
#include <malloc.h>
*/
import "C"

// Trim returns the free pages of every malloc arena to the system
// (glibc's malloc_trim(0)) and reports whether any were returned.
func Trim() bool { return C.malloc_trim(0) == 1 }
