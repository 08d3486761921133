package engine

import (
	"os"
	"syscall"
)

// CheckSnapshotTarget refuses a snapshot path that is a folder, or a file
// that another process holds a DuckDB write lock on: replacing a database
// in use (a server's own, named to `snapshot --server`) leaves that
// process writing to a deleted file, so everything it acknowledges
// afterwards is lost. The caller must not hold DuckDB's lock on dst
// itself: closing any descriptor of a file drops the process's fcntl
// locks on it (Snapshot compares dst with its own database first).
func CheckSnapshotTarget(dst string) error {
	st, err := os.Stat(dst)
	if err != nil {
		return nil
	}
	if st.IsDir() {
		return Errorf(BadRequest, "%s is a folder; name the snapshot file, e.g. %s/snapshot.duckdb.", dst, dst)
	}
	f, err := os.Open(dst)
	if err != nil {
		return nil
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err == nil && lk.Type != syscall.F_UNLCK {
		return Errorf(Conflict, "%s is a database that a running process (PID %d) has open, perhaps the server's own: a snapshot there would replace it and lose what that process writes. Name another file.", dst, lk.Pid)
	}
	return nil
}

// ReplacesDatabase reports whether writing dst would replace the database
// file db or its write-ahead log (which the next open would replay).
func ReplacesDatabase(db, dst string) bool {
	return dst == db || dst == db+".wal"
}
