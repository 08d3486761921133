//go:build !linux || !cgo

package memtrim

// Trim does nothing where the C library is not glibc.
func Trim() bool { return false }
