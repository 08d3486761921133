package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exohunter/exohunter/engine"
)

// smallKOI is a NASA-style fixture with a # header (12 rows).
const smallKOI = "engine/testdata/koi_small_commented.csv"

// runMain runs the program in-process and returns stdout, stderr and err.
func runMain(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	err := m.Run(context.Background(), args)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return out.String(), errOut.String(), err
}

// mustSnapshotJSON decodes the one JSON line snapshot prints.
func mustSnapshotJSON(t *testing.T, stdout string) engine.SnapshotResult {
	t.Helper()
	var res engine.SnapshotResult
	if strings.Count(stdout, "\n") != 1 || json.Unmarshal([]byte(stdout), &res) != nil {
		t.Fatalf("stdout is not one JSON line: %q", stdout)
	}
	return res
}

// TestSnapshotCommand writes a snapshot from the command line, with flags
// before and after the positional argument.
func TestSnapshotCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, stderr, err := runMain(t, "ingest", smallKOI, "--name", "koi", "--data-dir", data, "--config-dir", "."); err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	if _, stderr, err := runMain(t, "--data-dir", data, "process", "koi", "--config-dir", "."); err != nil {
		t.Fatalf("process: %v\n%s", err, stderr)
	}
	tests := []struct {
		name string
		args []string
		want []string // tables that must be there
	}{
		{"flags_after", []string{"snapshot", filepath.Join(dir, "a.duckdb"), "--data-dir", data, "--config-dir", ".", "--include", "raw"},
			[]string{"raw.koi", "classified.koi", "runs.latest_koi"}},
		{"flags_before", []string{"--data-dir", data, "snapshot", "--runs", "all", "--config-dir", ".", filepath.Join(dir, "b.duckdb")},
			[]string{"labels.labels", "runs.results", "catalog.columns"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runMain(t, tc.args...)
			if err != nil {
				t.Fatalf("snapshot: %v\n%s", err, stderr)
			}
			res := mustSnapshotJSON(t, stdout)
			have := map[string]bool{}
			for _, tb := range res.Tables {
				have[tb.Schema+"."+tb.Name] = true
			}
			for _, w := range tc.want {
				if !have[w] {
					t.Errorf("%s missing from %v", w, res.Tables)
				}
			}
			if st, err := os.Stat(res.Path); err != nil || st.Size() != res.Bytes {
				t.Errorf("file %s: %v", res.Path, err)
			}
		})
	}
	if _, _, err := runMain(t, "snapshot", "--data-dir", data); err == nil {
		t.Error("snapshot without OUT succeeded")
	}
	// The database and its write-ahead log are never replaced.
	for _, out := range []string{filepath.Join(data, "exohunter.duckdb"), filepath.Join(data, "exohunter.duckdb.wal")} {
		if _, _, err := runMain(t, "snapshot", out, "--data-dir", data, "--config-dir", "."); engine.ErrorCode(err) != engine.BadRequest {
			t.Errorf("snapshot onto %s: %v, want a refusal", out, err)
		}
	}
	if _, stderr, err := runMain(t, "--data-dir", data, "query", "SELECT count(*) FROM runs.results"); err != nil {
		t.Errorf("the data dir after the refused snapshots: %v\n%s", err, stderr)
	}
}

// serveEnv starts `exohunter serve` in TestHelperServe.
const serveEnv = "EXOHUNTER_TEST_SERVE_DATA"

// TestHelperServe is not a test: started by TestSnapshotCommand_Server as
// a child process, it runs the real server on a data dir with the small
// KOI sample until interrupted.
func TestHelperServe(t *testing.T) {
	data := os.Getenv(serveEnv)
	if data == "" {
		t.Skip("helper process only")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	m := NewMain()
	err := m.Run(ctx, []string{"serve", "--data-dir", data, "--config-dir", ".", "--addr", "127.0.0.1:0", "--sample", smallKOI,
		"--threads", "2", "--memory-limit", "512MB"})
	m.Close()
	if err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// TestSnapshotCommand_Server runs the real server in another process:
// snapshot fails at once naming it and the command to use, and with
// --server downloads the snapshot while the server keeps running.
func TestSnapshotCommand_Server(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, url := startServer(t, dir)

	out := filepath.Join(dir, "nb.duckdb")
	_, stderr, err := runMain(t, "snapshot", out, "--data-dir", data, "--config-dir", ".", "--runs", "all", "--include", "raw,labels")
	if engine.ErrorCode(err) != engine.Conflict {
		t.Fatalf("snapshot while the server runs: err = %v, want a Conflict\n%s", err, stderr)
	}
	msg := engine.ErrorMessage(err)
	// note: the command keeps the runs and parts asked for; its program
	// name is how this process was started (the test binary here).
	for _, want := range []string{"in use by the ExoHunter server at " + url, " snapshot " + out + " --runs all --include raw,labels --server " + url} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	stdout, stderr, err := runMain(t, "snapshot", out, "--server", url, "--include", "labels")
	if err != nil {
		t.Fatalf("snapshot --server: %v\n%s", err, stderr)
	}
	res := mustSnapshotJSON(t, stdout)
	if res.Server != url || res.Path != out || len(res.Runs) != 1 || res.StorageVersion != engine.SnapshotStorageVersion {
		t.Errorf("result = %+v", res)
	}
	// The server's refusal keeps its code, as the command without the server would fail.
	if _, _, err := runMain(t, "snapshot", out, "--server", url, "--runs", "nope"); engine.ErrorCode(err) != engine.NotFound ||
		!strings.Contains(engine.ErrorMessage(err), `There is no run "nope"`) {
		t.Errorf("unknown run through the server: %v", err)
	}
	// The server's own database, by its path (the server holds its lock)
	// or as the data dir's default, is never replaced: the server would
	// go on writing to a deleted file.
	db := filepath.Join(data, engine.DefaultDBName)
	before, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"snapshot", db, "--server", url, "--data-dir", filepath.Join(dir, "elsewhere")},
		{"snapshot", db, "--server", url, "--data-dir", data},
		{"snapshot", db + ".wal", "--server", url, "--data-dir", data},
	} {
		_, _, err := runMain(t, args...)
		if code := engine.ErrorCode(err); code != engine.Conflict && code != engine.BadRequest || !strings.Contains(engine.ErrorMessage(err), db) {
			t.Errorf("%q: err = %v, want a refusal naming %s", args, err, db)
		}
	}
	if after, err := os.Stat(db); err != nil || !os.SameFile(before, after) {
		t.Errorf("the server's database was replaced: %v", err)
	}
	if r, err := http.Get(url + "/api/health"); err != nil || r.StatusCode != 200 {
		t.Errorf("server after the snapshot: %v", err)
	}
}

// startServer runs the real server (TestHelperServe, with the small KOI
// sample) in another process on a data dir under dir, stops it when the
// test ends, and returns the data dir and the server's URL.
func startServer(t *testing.T, dir string) (data, url string) {
	t.Helper()
	data = filepath.Join(dir, "data")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	cmd.Env = append(os.Environ(), serveEnv+"="+data)
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	return data, waitServer(t, data, logPath)
}

// waitServer waits until the helper's server answers and returns its URL.
func waitServer(t *testing.T, data, logPath string) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if info, err := engine.ReadServerInfo(data); err == nil && info.Addr != "" {
			url := "http://" + info.Addr
			if r, err := http.Get(url + "/api/health"); err == nil && r.StatusCode == 200 {
				return url
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	log, _ := os.ReadFile(logPath)
	t.Fatalf("the server did not start:\n%s", log)
	return ""
}

// TestShellWord: the retry command a user pastes keeps odd paths whole.
func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/nb.duckdb":     "/tmp/nb.duckdb",
		"my notebook.db":     "'my notebook.db'",
		"it's.duckdb":        `'it'\''s.duckdb'`,
		"":                   "''",
		"raw,labels":         "raw,labels",
		"$(rm -rf x).duckdb": "'$(rm -rf x).duckdb'",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}
