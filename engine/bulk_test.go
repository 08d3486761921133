package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBulkTurn: work over large runs takes turns, says what it waits for,
// and gives up when its context ends; small runs never wait.
func TestBulkTurn(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	ctx := context.Background()
	release, err := e.bulkTurn(ctx, bulkRows, "the results index of run A", nil)
	if err != nil {
		t.Fatal(err)
	}
	small, err := e.bulkTurn(ctx, bulkRows-1, "scoring a small run", nil)
	if err != nil {
		t.Fatalf("a small run waited: %v", err)
	}
	small()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := e.bulkTurn(short, bulkRows, "scoring run B", nil); ErrorCode(err) != Timeout || !strings.Contains(ErrorMessage(err), "the results index of run A") {
		t.Errorf("out of time while waiting: %s %v", ErrorCode(err), err)
	}
	var steps progressLog
	got := make(chan error, 1)
	go func() {
		r, err := e.bulkTurn(ctx, 2*bulkRows, "scoring run B", steps.report)
		if err == nil {
			r()
		}
		got <- err
	}()
	mustWaitForTurn(t, e, got, "a second call")
	release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	steps.check(t, "waiting for the results index of run A to finish")
}

// TestBulkTurn_scoringWaits: scoring and anomaly detection of a run at
// the bulk size wait for the turn (here held as the results index build
// would hold it) and report it as their progress.
func TestBulkTurn_scoringWaits(t *testing.T) {
	t.Parallel()
	mustXGBoost(t)
	e := MustOpenEngine(t)
	run := mustKOIRun(t, e, mustKOISubset(t, 40))
	ctx := context.Background()
	res, err := e.Train(ctx, TrainInput{})
	if err != nil {
		t.Fatal(err)
	}
	e.bulk.rows = run.Rows
	release, err := e.bulkTurn(ctx, run.Rows, "the results index of run "+run.RunID, nil)
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		what  string
		err   error
		steps *progressLog
	}
	done := make(chan outcome, 2)
	waiting := make(chan string, 2)
	watch := func(what string, steps *progressLog) func(float64, string) {
		return func(p float64, msg string) {
			steps.report(p, msg)
			if strings.HasPrefix(msg, "waiting for ") {
				waiting <- what
			}
		}
	}
	go func() {
		var steps progressLog
		_, err := e.ScoreRun(ctx, ScoreInput{Run: run.RunID, Model: res.Model, Progress: watch("score", &steps)})
		done <- outcome{"score", err, &steps}
	}()
	go func() {
		var steps progressLog
		_, err := e.DetectAnomalies(ctx, AnomalyInput{Run: run.RunID, Progress: watch("anomalies", &steps)})
		done <- outcome{"anomalies", err, &steps}
	}()
	for range 2 {
		select {
		case o := <-done:
			t.Fatalf("%s finished while the turn was held: %v", o.what, o.err)
		case <-waiting:
		case <-time.After(time.Minute):
			t.Fatal("score and anomalies did not both wait for the turn within a minute")
		}
	}
	if n := mustQueryInt(t, e, `SELECT count(*) FROM meta.scores WHERE run_id = ?`, run.RunID); n != 0 {
		t.Errorf("%d scores written while the turn was held", n)
	}
	release()
	for range 2 {
		o := <-done
		if o.err != nil {
			t.Fatalf("%s: %v", o.what, o.err)
		}
		o.steps.check(t, "waiting for the results index of run "+run.RunID+" to finish")
	}
}

// TestBulkTurn_indexWaits: serve's results index build of a run at the
// bulk size is left for later while another holds the turn, then built.
func TestBulkTurn_indexWaits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := MustOpenEngineWith(t, indexOptions(MustTempDir(t), true))
	ds := MustIngest(t, e, IngestInput{Path: resultsKOI})
	run, err := e.Process(ctx, ProcessInput{Dataset: ds.Name})
	if err != nil {
		t.Fatal(err)
	}
	waitIndex(t, e, run.RunID, IndexReady)
	// The run is now "large"; its index must be rebuilt (as after new
	// scores) while the turn is held.
	e.bulk.rows = 1
	release, err := e.bulkTurn(ctx, 1, "a test", nil)
	if err != nil {
		t.Fatal(err)
	}
	x := e.index()
	// note: invalidate pokes the builder, so a pass begins after it: the
	// one after any pass under way now (counted before, or the poke's
	// pass could be counted already).
	x.mu.Lock()
	after := x.started + 1
	x.mu.Unlock()
	x.invalidate(run.RunID)
	// The builder skips the run rather than build it or wait (it would
	// hold up the smaller runs' indexes): after that pass, not ready, not
	// building.
	var building string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		x.mu.Lock()
		finished := x.finished
		building = x.building
		x.mu.Unlock()
		if finished >= after {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pass of the index builder ended in a minute")
		}
	}
	if st, _ := x.state(run.RunID, run.Rows); st == IndexReady || building != "" {
		t.Fatalf("while the turn was held the index of %s is %q (building %q)", run.RunID, st, building)
	}
	release()
	waitIndex(t, e, run.RunID, IndexReady)
}

// TestBulkTurn_features: an explicit feature-set build of a run at the
// bulk size waits for the turn; a training, which holds the turn, builds
// its automatic feature set inside it rather than wait for itself.
func TestBulkTurn_features(t *testing.T) {
	t.Parallel()
	mustXGBoost(t)
	e := MustOpenEngine(t)
	run := mustKOIRun(t, e, mustKOISubset(t, 40))
	e.bulk.rows = run.Rows
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	release, err := e.bulkTurn(ctx, run.Rows, "a test", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.BuildFeatures(ctx, FeatureBuildInput{Version: "v1"})
		done <- err
	}()
	mustWaitForTurn(t, e, done, "the feature set build")
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A new run has no feature set: the training builds auto-<run>.
	other, err := e.Process(ctx, ProcessInput{Dataset: run.Dataset})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Train(ctx, TrainInput{Run: other.RunID})
	if err != nil {
		t.Fatalf("training that builds its feature set inside its turn: %v", err)
	}
	if want := "auto-" + other.RunID; !strings.Contains(mustReadString(t, filepath.Join(res.ArtifactDir, ModelMetricsFile)), want) {
		t.Errorf("the model was not trained on %s", want)
	}
}

// TestBulkTurn_process: a pipeline run of a dataset at the bulk size
// shows as running while it waits for the turn, fails cleanly when its
// context ends there, and completes once the turn is free.
func TestBulkTurn_process(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	ds := MustIngest(t, e, IngestInput{Path: mustKOISubset(t, 40)})
	e.bulk.rows = ds.Rows
	ctx := context.Background()
	release, err := e.bulkTurn(ctx, ds.Rows, "a test", nil)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := e.Process(short, ProcessInput{Dataset: ds.Name, RunID: "waited-out"}); ErrorCode(err) != Timeout {
		t.Errorf("a run out of time while waiting: %s %v", ErrorCode(err), err)
	}
	if r, err := e.Run(ctx, "waited-out"); err != nil || r.Status != RunFailed {
		t.Errorf("the run that waited out: %+v, %v; want failed", r, err)
	}
	var stages []string
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() {
		_, err := e.Process(ctx, ProcessInput{Dataset: ds.Name, RunID: "waits", Progress: func(stage string, _ float64) {
			mu.Lock()
			stages = append(stages, stage)
			mu.Unlock()
		}})
		done <- err
	}()
	mustWaitForTurn(t, e, done, "the run")
	if r, err := e.Run(ctx, "waits"); err != nil || r.Status != RunRunning {
		t.Errorf("the waiting run: %+v, %v; want running", r, err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stages) == 0 || stages[0] != "waiting for a test to finish" {
		t.Errorf("stages %q: want the wait first", stages)
	}
}

// mustWaitForTurn returns once a call is waiting for the engine's bulk
// turn, failing if the call in done ends first.
func mustWaitForTurn(tb testing.TB, e *Engine, done <-chan error, what string) {
	tb.Helper()
	for e.bulk.waiting.Load() == 0 {
		select {
		case err := <-done:
			tb.Fatalf("%s finished while the turn was held: %v", what, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestBulkTurn_snapshot: a snapshot that copies a dataset or run at the
// bulk size waits for the turn, saying so, and writes nothing meanwhile;
// one of a small dataset's run alone does not wait.
func TestBulkTurn_snapshot(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	ctx := context.Background()
	big := mustKOIRun(t, e, mustKOISubset(t, 40))
	MustIngest(t, e, IngestInput{Path: "testdata/koi_small_commented.csv", Name: "small"})
	small, err := e.Process(ctx, ProcessInput{Dataset: "small"})
	if err != nil {
		t.Fatal(err)
	}
	e.bulk.rows = big.Rows
	release, err := e.bulkTurn(ctx, big.Rows, "a test", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := MustTempDir(t)
	if _, err := e.Snapshot(ctx, filepath.Join(dir, "small.duckdb"), SnapshotOptions{Runs: []string{small.RunID}}); err != nil {
		t.Fatalf("a snapshot of the small run alone: %v", err)
	}
	var steps progressLog
	done := make(chan error, 1)
	out := filepath.Join(dir, "all.duckdb")
	go func() {
		_, err := e.Snapshot(ctx, out, SnapshotOptions{Progress: steps.report})
		done <- err
	}()
	mustWaitForTurn(t, e, done, "the snapshot")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the waiting snapshot wrote %s: %v", out, err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	steps.check(t, "waiting for a test to finish", "complete")
}
