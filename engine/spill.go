package engine

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// DuckDB names its spill files the same in every instance
// (duckdb_temp_storage_DEFAULT-0.tmp, ...), so two processes spilling into
// one folder overwrite each other's blocks: the reader fails with "Corrupt
// temporary file" and the other process can crash. Two processes share the
// temp dir whenever they share a data dir (a CLI command with another --db
// beside a server), so each engine spills into a folder of its own,
// DATA/tmp/duckdb-<pid>-<random>, removed at Close; Open removes the
// folders of processes that no longer run.

// spillPrefix starts the name of an engine's spill folder.
const spillPrefix = "duckdb-"

// makeSpillDir removes the spill folders of dead processes and creates
// this engine's own. When the temp dir is not writable, DuckDB is pointed
// at the temp dir itself: opening the database then fails with the
// sentence about the read-only data dir, which says more than this would.
func (e *Engine) makeSpillDir() {
	removeDeadSpillDirs(e.tempDir)
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	e.spillDir = filepath.Join(e.tempDir, fmt.Sprintf("%s%d-%s", spillPrefix, os.Getpid(), hex.EncodeToString(rnd[:])))
	if err := os.Mkdir(e.spillDir, 0o755); err != nil {
		e.log.Warn("cannot create a spill folder of this process; DuckDB spills to the temp dir itself", "dir", e.spillDir, "err", err)
		e.spillDir = e.tempDir
	}
}

// removeDeadSpillDirs removes spill folders whose process is gone (a
// killed process leaves its spill files behind).
func removeDeadSpillDirs(tempDir string) {
	entries, _ := os.ReadDir(tempDir)
	for _, d := range entries {
		rest, ok := strings.CutPrefix(d.Name(), spillPrefix)
		if !d.IsDir() || !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(filepath.Join(tempDir, d.Name()))
		}
	}
}
