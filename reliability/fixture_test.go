package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixture is a data dir prepared once per test binary with the CLI: the
// synthetic table "big" (bigRows rows) and "small" (smallRows rows), each
// ingested and processed once. Tests copy it (data dirs may move: the
// engine stores paths relative to the data dir).
type fixture struct {
	dir                 string // holds data/ and fs/
	bigRun, smallRun    string
	bigRows, smallRows  int64
	bigSHA, smallSHA    string
	bigTable, smallFile string // the tables' files
}

// smallRows is the size of the fixture's small table.
const smallRows = 500

// fixtureDirs collects folders made outside t.TempDir, removed by TestMain.
var fixtureDirs struct {
	mu   sync.Mutex
	dirs []string
}

// removeFixtureDirs removes them (called by TestMain).
func removeFixtureDirs() {
	fixtureDirs.mu.Lock()
	defer fixtureDirs.mu.Unlock()
	for _, d := range fixtureDirs.dirs {
		os.RemoveAll(d)
	}
}

// tempDirOnce makes a folder removed when the test binary ends.
func tempDirOnce(pattern string) (string, error) {
	d, err := os.MkdirTemp("", pattern)
	if err == nil {
		fixtureDirs.mu.Lock()
		fixtureDirs.dirs = append(fixtureDirs.dirs, d)
		fixtureDirs.mu.Unlock()
	}
	return d, err
}

var theFixture = sync.OnceValues(func() (*fixture, error) {
	big, err := bigKOI()
	if err != nil {
		return nil, err
	}
	dir, err := tempDirOnce("exohunter-reliability-fixture-")
	if err != nil {
		return nil, err
	}
	f := &fixture{dir: dir, bigTable: big, smallFile: filepath.Join(dir, "koi_small.csv")}
	if err := os.WriteFile(f.smallFile, []byte(KOIString(smallRows, 2)), 0o644); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cli := func(args ...string) (map[string]any, error) {
		out, err := RunCLI(ctx, binPath, append(args, "--data-dir", filepath.Join(dir, "data"),
			"--feature-store", filepath.Join(dir, "fs"), "--threads", "2", "--memory-limit", "512MB")...)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		return m, json.Unmarshal([]byte(out), &m)
	}
	for _, d := range []struct {
		name, path string
		run, sha   *string
		rows       *int64
	}{{"big", big, &f.bigRun, &f.bigSHA, &f.bigRows}, {"small", f.smallFile, &f.smallRun, &f.smallSHA, &f.smallRows}} {
		ds, err := cli("ingest", d.path, "--name", d.name)
		if err != nil {
			return nil, err
		}
		*d.sha = fmt.Sprint(ds["sha256"])
		run, err := cli("process", d.name)
		if err != nil {
			return nil, err
		}
		if run["status"] != "complete" {
			return nil, fmt.Errorf("process %s: %v", d.name, run)
		}
		*d.run = fmt.Sprint(run["run_id"])
		*d.rows = int64(run["rows"].(float64))
	}
	return f, nil
})

// useFixture copies the fixture into the env's folders.
func (e *env) useFixture() *fixture {
	e.t.Helper()
	f, err := theFixture()
	if err != nil {
		e.t.Fatalf("fixture: %v", err)
	}
	for _, p := range [][2]string{{"data", e.opts.DataDir}, {"fs", e.opts.FeatureStore}} {
		if err := os.MkdirAll(filepath.Dir(p[1]), 0o755); err != nil {
			e.t.Fatal(err)
		}
		src := filepath.Join(f.dir, p[0])
		if _, err := os.Stat(src); os.IsNotExist(err) {
			continue
		}
		if out, err := exec.Command("cp", "-a", src, p[1]).CombinedOutput(); err != nil {
			e.t.Fatalf("copy fixture: %v %s", err, out)
		}
	}
	return f
}

// glob lists the names matching pattern under dir (relative names).
func glob(t *testing.T, dir, pattern string) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	var m []string
	for _, p := range all {
		// note: every server holds .exohunter.lock in its data dir and
		// feature store for its lifetime (engine/dirlock.go).
		if filepath.Base(p) == ".exohunter.lock" {
			continue
		}
		rel, _ := filepath.Rel(dir, p)
		m = append(m, rel)
	}
	return m
}

// snapshotState is what must not change under faults and hostile input:
// the answers of the read endpoints for the existing data, byte for byte.
type snapshotState map[string]string

// indexState matches the results_index field of a run: the state of a
// cache the server builds in the background (pending, building, ready),
// which moves on its own while a test runs and holds no data.
var indexState = regexp.MustCompile(`"results_index":"[a-z_]*",?`)

// readState reads the given GET paths, without the results index state.
func readState(t *testing.T, c *Client, paths ...string) snapshotState {
	t.Helper()
	ctx := ctxFor(t, 2*time.Minute)
	s := snapshotState{}
	for _, p := range paths {
		res, err := c.Get(ctx, p)
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		if res.Status != 200 {
			t.Fatalf("GET %s: %s", p, res)
		}
		s[p] = indexState.ReplaceAllString(string(res.Body), "")
	}
	return s
}

// assertSameState checks that every path answers exactly as before.
func assertSameState(t *testing.T, c *Client, before snapshotState) {
	t.Helper()
	paths := make([]string, 0, len(before))
	for p := range before {
		paths = append(paths, p)
	}
	after := readState(t, c, paths...)
	for _, p := range paths {
		if after[p] != before[p] {
			t.Errorf("GET %s changed:\nbefore %s\nafter  %s", p, clip(before[p]), clip(after[p]))
		}
	}
}

// clip shortens s for messages.
func clip(s string) string {
	if len(s) > 400 {
		return s[:400] + "..."
	}
	return s
}

// stateOf names the read answers that stand for a dataset and its run.
func stateOf(dataset, run string) []string {
	return []string{"/api/datasets/" + dataset, "/api/runs/" + run + "/results?limit=50&sort=object_id",
		"/api/runs/" + run + "/results/" + firstObject(dataset)}
}

// firstObject is the object id of row 0 of the fixture tables (WriteKOI).
func firstObject(dataset string) string {
	switch dataset {
	case "big":
		return "K100000000.01"
	case "small":
		return "K200000000.01"
	}
	return ""
}

// countRunRows counts a run's rows in runs.results through the console.
func countRunRows(t *testing.T, c *Client, run string) int64 {
	t.Helper()
	rows, res, err := c.Query(ctxFor(t, time.Minute), "SELECT count(*) FROM runs.results WHERE run_id = '"+strings.ReplaceAll(run, "'", "''")+"'")
	if err != nil || res.Status != 200 || len(rows) != 1 {
		t.Fatalf("count rows of %s: %v %v", run, res, err)
	}
	switch v := rows[0][0].(type) {
	case float64:
		return int64(v)
	case string:
		var n int64
		fmt.Sscan(v, &n)
		return n
	}
	t.Fatalf("count rows of %s: %v", run, rows)
	return 0
}
