package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Temporary files written next to a user's output (process --out, a CLI
// snapshot) carry their writer's PID: "<prefix><pid>-<random>...". A
// writer killed with SIGKILL cannot remove its own, and outside the data
// dir no Open sweep sees them, so the next writer of the same kind in the
// same folder removes those of writers that are no longer running.

// ownedTempPrefix is prefix followed by this process's PID and a dash.
func ownedTempPrefix(prefix string) string {
	return prefix + strconv.Itoa(os.Getpid()) + "-"
}

// removeDeadWriters removes the files of dir named prefix+"<pid>-..."
// whose process is gone.
func removeDeadWriters(dir, prefix string) {
	matches, _ := filepath.Glob(filepath.Join(dir, globQuote(prefix)+"*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), prefix)
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		os.RemoveAll(m)
	}
}

// processAlive reports whether a process with this PID exists (one owned
// by another user counts).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// globQuote escapes the characters filepath.Match treats specially.
func globQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}
