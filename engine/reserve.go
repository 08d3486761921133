package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// The disk reserve is a file of allocated space, DATA/.reserve, that
// DeleteDataset gives back when the disk is nearly full. Deleting a dataset
// is how a user frees space, but the delete itself writes: DuckDB's WAL
// records and the runs' views. On a completely full disk that write failed
// ("Could not write file exohunter.duckdb.wal: No space left on device", a
// 507), so the first delete could not free anything (measured, before the
// reserve, in TestStorage_DeleteOnFullDisk). CockroachDB's "emergency
// ballast" is the same idea.
const reserveName = ".reserve"

// reserveBounds: the reserve is 1/32 of the filesystem, at least
// reserveMin and at most reserveMax. A 48 MiB tmpfs gets 1.5 MiB, any disk
// above 2 GiB 64 MiB.
const (
	reserveMin = 1 << 20
	reserveMax = 64 << 20
)

// reserveSize is the reserve wanted on dir's filesystem.
func reserveSize(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return min(max(int64(st.Blocks)*st.Bsize/32, reserveMin), reserveMax), nil
}

// keepsReserve: only a data dir with its own database file keeps one. An
// in-memory database writes no WAL, and a --db elsewhere writes its WAL on
// another filesystem, maybe.
func (e *Engine) keepsReserve() bool {
	return e.dbPath == filepath.Join(e.dataDir, DefaultDBName)
}

// takeReserve allocates the reserve if it is missing or short, and only
// when the disk keeps at least as much free beside it: the reserve must not
// be what fills the disk. It never fails Open: a read-only or nearly full
// data dir simply goes without, and says so.
func (e *Engine) takeReserve() { e.takeReserveWith(2) }

// retakeReserve takes back, after a delete, the reserve the delete gave
// up, as soon as it fits: demanding twice its size, as Open does, would
// leave the next full disk without one when the delete freed less.
func (e *Engine) retakeReserve() { e.takeReserveWith(1) }

// takeReserveWith takes the reserve when factor times its size is free.
func (e *Engine) takeReserveWith(factor int64) {
	if !e.keepsReserve() {
		return
	}
	size, err := reserveSize(e.dataDir)
	if err != nil {
		return
	}
	p := e.path(reserveName)
	if fi, err := os.Stat(p); err == nil && fi.Size() >= size {
		return
	}
	free, _, err := diskFree(e.dataDir)
	if err != nil || free < factor*size {
		e.log.Warn("no disk reserve: the data dir's disk is nearly full; deleting a dataset may fail until space is freed", "free_bytes", free)
		return
	}
	if err := allocate(p, size); err != nil {
		os.Remove(p)
		e.log.Warn("no disk reserve", "path", p, "err", err)
	}
}

// allocate makes p a file of size bytes whose blocks are allocated, not a
// sparse file: fallocate where the filesystem has it, zeros otherwise.
func allocate(p string, size int64) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	err = syscall.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		err = writeZeros(f, size)
	}
	if err != nil {
		return err
	}
	return f.Sync()
}

// writeZeros fills f with size zero bytes.
func writeZeros(f *os.File, size int64) error {
	chunk := make([]byte, 1<<20)
	for n := int64(0); n < size; n += int64(len(chunk)) {
		if _, err := f.Write(chunk[:min(int64(len(chunk)), size-n)]); err != nil {
			return err
		}
	}
	return nil
}

// releaseReserveIfLow removes the reserve when less than its size is free,
// so that a delete's own writes fit.
func (e *Engine) releaseReserveIfLow() {
	if !e.keepsReserve() {
		return
	}
	size, err := reserveSize(e.dataDir)
	if err != nil {
		return
	}
	if free, _, err := diskFree(e.dataDir); err != nil || free >= size {
		return
	}
	if err := os.Remove(e.path(reserveName)); err == nil {
		e.log.Warn("disk nearly full: released the disk reserve for a delete", "bytes", size)
	}
}

func init() {
	openHooks = append(openHooks, func(_ context.Context, e *Engine) error {
		e.takeReserve()
		return nil
	})
}
