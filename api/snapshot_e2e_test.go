package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/exohunter/exohunter/engine"
)

// TestSnapshot_SecondClient is the notebook path end to end: a real server
// (locked engine on its database file, HTTP on loopback) with the KOI
// catalog processed and a label written; GET /api/snapshot downloads the
// snapshot; then, while the server still runs, e2e/snapshot_test.mjs opens
// it with npm @duckdb/node-api (a DuckDB client that is not the Go driver)
// and checks tables, row counts, column comments and a query result, and
// that the server's own file cannot be opened. Needs node and e2e's
// node_modules (scripts/install-deps.sh).
func TestSnapshot_SecondClient(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed; run scripts/install-deps.sh")
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "e2e", "node_modules", "@duckdb", "node-api")); err != nil {
		t.Fatal("e2e/node_modules lacks @duckdb/node-api; run scripts/install-deps.sh")
	}
	ctx := context.Background()
	env := MustEnv(t)
	ds := env.MustIngest(t, filepath.Join(sharedData, "koi_cumulative_2025-09-29_commented.csv"), "koi")
	run := env.MustProcess(t, "koi")
	if _, err := env.eng.AddLabel(ctx, engine.LabelInput{ObjectID: "K00001.01", Dataset: "koi", Label: "confirmed_planet",
		Annotator: "e2e"}); err != nil {
		t.Fatalf("AddLabel: %v", err)
	}
	base := env.MustListen(t)

	snap := filepath.Join(t.TempDir(), "snapshot.duckdb")
	res, err := http.Get(base + "/api/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/octet-stream" {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET /api/snapshot: %d %s: %.500s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	f, err := os.Create(snap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		t.Fatal(err)
	}
	f.Close()

	expect, _ := json.Marshal(map[string]any{
		"dataset":    "koi",
		"categories": run.Counts,
		"labels":     1,
		"tables": map[string]int64{"classified.koi": ds.Rows, "runs.results": run.Rows, "runs.latest_koi": run.Rows,
			"meta.datasets": 1, "meta.runs": 1, "labels.labels": 1},
	})
	cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, node, filepath.Join("e2e", "snapshot_test.mjs"))
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "SNAPSHOT="+snap, "SNAPSHOT_EXPECT="+string(expect), "MAIN_DB="+env.eng.DBPath())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node e2e/snapshot_test.mjs: %v\n%s", err, out)
	}
	t.Logf("node e2e/snapshot_test.mjs:\n%s", out)
	// note: the server is still up; it answers after the second client ran.
	if r, err := http.Get(base + "/api/health"); err != nil || r.StatusCode != 200 {
		t.Errorf("server after the node check: %v", err)
	}
}
