package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// TestErrorCode_Storage: a full disk or a read-only data dir is the
// server's condition (Storage, 507) with a sentence, whatever the error
// was wrapped as, and whether Go (an errno) or DuckDB (text) reported it.
func TestErrorCode_Storage(t *testing.T) {
	t.Parallel()
	duckFull := errors.New(`TransactionContext Error: Failed to commit: Could not write file "/d/exohunter.duckdb.wal": No space left on device`)
	duckRO := errors.New(`IO Error: Cannot open file "/d/outputs/.export-1.csv": Read-only file system`)
	for _, tc := range []struct {
		name     string
		err      error
		wantCode Code
		wantMsg  string
	}{
		{"errno ENOSPC", &fs.PathError{Op: "write", Path: "/d/x", Err: syscall.ENOSPC}, Storage, "disk is full"},
		{"errno EDQUOT wrapped", fmt.Errorf("store: %w", &os.PathError{Op: "write", Path: "/d/x", Err: syscall.EDQUOT}), Storage, "disk is full"},
		{"errno EROFS in BadRequest keeps its message", Wrap(BadRequest, &fs.PathError{Op: "mkdir", Path: "/fs/.build", Err: syscall.EROFS}, "Cannot write to the feature store /fs."), Storage, "feature store"},
		{"DuckDB full, foreign", fmt.Errorf("store label: %w", duckFull), Storage, "disk is full"},
		{"DuckDB full in BadRequest keeps its message", Wrap(BadRequest, duckFull, "The export to x.csv failed: %s", duckFull), Storage, "No space left"},
		{"DuckDB read-only in Internal", Wrap(Internal, duckRO, "export"), Storage, "read-only"},
		{"DuckDB permission denied, foreign", fmt.Errorf("run koi: %w", errors.New(`IO Error: Cannot open file "/d/runs/koi-1.parquet.tmp": Permission denied`)), Storage, "may not write in its data dir"},
		{"Go permission denied is not the data dir's", &fs.PathError{Op: "open", Path: "/home/u/koi.csv", Err: syscall.EACCES}, Internal, "internal error"},
		{"Storage keeps its own sentence", Wrap(Storage, syscall.ENOSPC, "There is not enough free disk space in the data dir to store this file; nothing was stored"), Storage, "not enough free disk space"},
		{"user text is not a fault", Errorf(BadRequest, "Binder Error: column No space left on device not found"), BadRequest, "Binder Error"},
		{"other IO errors stay internal", errors.New(`IO Error: Could not read file "/d/x": Input/output error`), Internal, "internal error"},
		{"timeouts stay timeouts", Wrap(Timeout, context.DeadlineExceeded, "The query took too long."), Timeout, "took too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(tc.err); got != tc.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tc.wantCode)
			}
			if got := ErrorMessage(tc.err); !strings.Contains(got, tc.wantMsg) {
				t.Errorf("ErrorMessage = %q, want it to say %q", got, tc.wantMsg)
			}
		})
	}
}

// TestErrorCode_Memory: DuckDB's memory limit is the server's condition
// (TooLarge, 413) with a sentence naming the limit, not an internal
// error; a real pipeline run under a tiny limit gets it.
func TestErrorCode_Memory(t *testing.T) {
	t.Parallel()
	oom := errors.New("run koi: Out of Memory Error: failed to allocate data of size 16.0 KiB (152.6 MiB/152.5 MiB used)\n\nPossible solutions:\n* Reducing the number of threads")
	for _, err := range []error{oom, Wrap(Internal, oom, "run")} {
		if ErrorCode(err) != TooLarge || !strings.Contains(ErrorMessage(err), "memory limit of 152.5 MiB") {
			t.Errorf("%v: code %q, message %q", err, ErrorCode(err), ErrorMessage(err))
		}
	}
	if ErrorCode(Errorf(BadRequest, "Out of Memory Error: (1 MiB/1 MiB used)")) != BadRequest {
		t.Error("a request's own error keeps its code")
	}
	// A full spill folder reads as an out-of-memory error whose sizes are
	// the folder's free space: it is a storage fault, not the memory limit.
	spill := errors.New("Out of Memory Error: failed to offload data block of size 256.0 KiB (18.0 MiB/18.0 MiB used).\nThis limit was set by the 'max_temp_directory_size' setting.")
	if ErrorCode(spill) != Storage || !strings.Contains(ErrorMessage(spill), "spill folder (--temp-dir") {
		t.Errorf("full spill folder: code %q, message %q", ErrorCode(spill), ErrorMessage(spill))
	}
	// The console says it as the other routes do, without DuckDB's path.
	full := &duckdb.Error{Type: duckdb.ErrorTypeIO, Msg: `IO Error: Could not write file "/srv/data/outputs/tmp_.console-1.csv": No space left on device`}
	if err := consoleError(context.Background(), full, consoleQuery{id: "q1", timeout: time.Second, maxTimeout: time.Minute}, "SELECT 1"); ErrorCode(err) != Storage || strings.Contains(ErrorMessage(err), "/srv") {
		t.Errorf("console on a full disk: %s %q", ErrorCode(err), ErrorMessage(err))
	}
	e := MustOpenEngine(t, func(o *Options) { o.MemoryLimit = "64MB" })
	ds := MustIngest(t, e, IngestInput{Path: sharedData + "/koi_cumulative_2025.csv"})
	_, err := e.Process(context.Background(), ProcessInput{Dataset: ds.Name})
	if ErrorCode(err) != TooLarge || !strings.Contains(ErrorMessage(err), "--memory-limit") {
		t.Errorf("Process under 64MB = %v (%s), want TooLarge naming --memory-limit", err, ErrorCode(err))
	}
}
