package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// koiSubset writes the header and every step-th row of the shared KOI
// table to a temporary file.
func koiSubset(t *testing.T, step int) string {
	t.Helper()
	in, err := os.Open("../shared/data/koi_cumulative_2025.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var b strings.Builder
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for i := 0; sc.Scan(); i++ {
		if i == 0 || i%step == 0 {
			b.WriteString(sc.Text() + "\n")
		}
	}
	path := filepath.Join(t.TempDir(), "koi.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// oneJSONLine decodes stdout, which must be exactly one JSON line.
func oneJSONLine(t *testing.T, stdout string, v any) {
	t.Helper()
	if strings.Count(stdout, "\n") != 1 || json.Unmarshal([]byte(stdout), v) != nil {
		t.Fatalf("stdout is not one JSON line: %q", stdout)
	}
}

// TestTrainScoreAnomaliesCommands runs train, score and anomalies from the
// command line, flags before and after positional arguments: each prints
// one JSON line (the Contracts' train line), progress goes to stderr, and
// a usage mistake fails with a sentence.
func TestTrainScoreAnomaliesCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	g := []string{"--data-dir", filepath.Join(dir, "data"), "--feature-store", filepath.Join(dir, "fs"), "--threads", "2"}
	cmd := func(args ...string) (string, string, error) { return runMain(t, append(args, g...)...) }
	if _, stderr, err := cmd("ingest", koiSubset(t, 12), "--name", "koi"); err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	out, stderr, err := cmd("process", "koi")
	if err != nil {
		t.Fatalf("process: %v\n%s", err, stderr)
	}
	var run struct {
		RunID string `json:"run_id"`
	}
	oneJSONLine(t, out, &run)

	out, stderr, err = cmd("train", "--target", "planet_vs_fp", "--version", "v1")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, stderr)
	}
	var line map[string]json.RawMessage
	oneJSONLine(t, out, &line)
	for _, k := range []string{"artifact_dir", "model", "version", "target", "features", "metrics"} {
		if _, ok := line[k]; !ok {
			t.Errorf("train line lacks %q: %s", k, out)
		}
	}
	if !strings.Contains(stderr, "train:") || !strings.Contains(stderr, "fold 5 of 5") {
		t.Errorf("no progress on stderr: %q", stderr)
	}

	scored := filepath.Join(t.TempDir(), "scored.parquet")
	out, stderr, err = runMain(t, append(append([]string{"score", "--model", "xgb_planet_vs_fp/v1", "--out", scored}, g...), run.RunID)...)
	if err != nil {
		t.Fatalf("score: %v\n%s", err, stderr)
	}
	var score struct {
		Rows   int    `json:"rows"`
		Column string `json:"column"`
		Out    string `json:"out"`
	}
	oneJSONLine(t, out, &score)
	if st, err := os.Stat(scored); err != nil || st.Size() == 0 || score.Out != scored {
		t.Errorf("score --out %s: %v, the line names %q", scored, err, score.Out)
	}
	if score.Rows == 0 || score.Column != "p_model" {
		t.Errorf("score line %s", out)
	}

	csv := filepath.Join(dir, "scored.csv")
	out, stderr, err = cmd("anomalies", run.RunID, "--out", csv)
	if err != nil {
		t.Fatalf("anomalies: %v\n%s", err, stderr)
	}
	var anomalies struct {
		Rows int    `json:"rows"`
		Out  string `json:"out"`
	}
	oneJSONLine(t, out, &anomalies)
	if anomalies.Out != csv {
		t.Errorf("anomalies --out: the line names %q, want %q", anomalies.Out, csv)
	}
	head, err := os.ReadFile(csv)
	if err != nil || !strings.Contains(strings.SplitN(string(head), "\n", 2)[0], ",p_model,p_model_model,anomaly_score,") {
		t.Errorf("scored export header: %.200s (%v)", head, err)
	}

	// models lists the version, and prints its card by name.
	out, stderr, err = cmd("models")
	if err != nil || !strings.Contains(out, `"name":"xgb_planet_vs_fp","version":"v1"`) {
		t.Errorf("models: %v\n%s%s", err, out, stderr)
	}
	out, stderr, err = cmd("models", "xgb_planet_vs_fp")
	var detail struct {
		Version string `json:"version"`
		Card    string `json:"card"`
	}
	if err != nil {
		t.Fatalf("models NAME: %v\n%s", err, stderr)
	}
	if oneJSONLine(t, out, &detail); detail.Version != "v1" || !strings.Contains(detail.Card, "# Model card") {
		t.Errorf("models NAME printed version %q, card %.80q", detail.Version, detail.Card)
	}
	// A version that exists is refused before any fold is trained.
	if _, stderr, err := cmd("train", "--target", "planet_vs_fp", "--version", "v1"); err == nil || strings.Contains(stderr, "fold 1") {
		t.Errorf("train --version v1 again: %v\n%s", err, stderr)
	}

	// --run names the run as RUN does (the "name the run" errors suggest it).
	if out, stderr, err := cmd("score", "--run", run.RunID, "--model", "xgb_planet_vs_fp/v1"); err != nil || !strings.Contains(out, run.RunID) {
		t.Errorf("score --run: %v\n%s%s", err, out, stderr)
	}
	if _, _, err := cmd("anomalies", "--run", "koi-no-such-run"); err == nil || !strings.Contains(err.Error(), "koi-no-such-run") {
		t.Errorf("anomalies --run of a missing run: %v", err)
	}
	if _, _, err := cmd("score", run.RunID, "--run", "koi-other", "--model", "xgb_planet_vs_fp/v1"); err == nil || !strings.Contains(err.Error(), "different runs") {
		t.Errorf("score RUN --run OTHER: %v", err)
	}
	if _, _, err := cmd("score", run.RunID); err == nil || !strings.Contains(err.Error(), "--model") {
		t.Errorf("score without --model: %v", err)
	}
	if _, _, err := cmd("train", "extra"); err == nil {
		t.Error("train with a positional argument must fail")
	}
}
