package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// protectStdout moves the process's file descriptor 1 to stderr and returns
// a private handle on the original stdout. Go code writes JSON to the
// returned file; anything C code (libduckdb) prints on stdout lands on
// stderr instead. On failure stdout is returned unchanged.
func protectStdout() *os.File {
	fd, err := unix.Dup(1)
	if err != nil {
		return os.Stdout
	}
	if err := unix.Dup2(2, 1); err != nil {
		unix.Close(fd)
		return os.Stdout
	}
	return os.NewFile(uintptr(fd), "stdout")
}
