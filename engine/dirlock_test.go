package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestOpen_SharedFoldersKeepOthersWork: a second process that shares the
// data dir and the feature store with another --db must not remove the
// first one's work in progress at Open (an upload's .part file, a feature
// build, a spooled export, a label export's temporary file, a scoring's
// features, matrix and staged values); once no
// other process uses them, the next Open removes them as leftovers.
func TestOpen_SharedFoldersKeepOthersWork(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	opts := func(db string) Options {
		return Options{DBPath: filepath.Join(dir, db), DataDir: filepath.Join(dir, "data"),
			FeatureStore: filepath.Join(dir, "features"), Config: os.DirFS(repoRoot), MemoryLimit: "512MB", Threads: 2}
	}
	// note: the store exists, as after a first feature build (an engine
	// that creates it later takes its hold then: holdFeatureStore).
	if err := os.MkdirAll(filepath.Join(dir, "features"), 0o755); err != nil {
		t.Fatal(err)
	}
	first, err := Open(context.Background(), opts("first.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	inProgress := []string{
		filepath.Join(dir, "data", DirRaw, dirIncoming, "upload.part"),
		filepath.Join(dir, "features", featureBuildPrefix+"v1-123", "features.parquet"),
		filepath.Join(dir, "data", DirOutputs, exportTempPrefix+"1.csv"),
		filepath.Join(dir, "data", DirLabeled, "labels-1.csv.tmp"),
		filepath.Join(dir, "data", DirModels, "xgb", ".train-123", ModelMetricsFile),
		filepath.Join(dir, "data", DirTmp, ".score-1.parquet"),
		filepath.Join(dir, "data", DirTmp, ".matrix-1.parquet"),
		filepath.Join(dir, "data", DirTmp, ".scores-1.csv"),
		filepath.Join(dir, "data", DirTmp, anomalyEvalPrefix+"123", "engine", "data", DirRuns, "injected-1.parquet"),
	}
	for _, p := range inProgress {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("work in progress"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	second, err := Open(context.Background(), opts("second.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range inProgress {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("opening a second engine on the shared folders removed %s", p)
		}
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	third, err := Open(context.Background(), opts("first.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	for _, p := range inProgress {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was left after an Open with the folders to itself", p)
		}
	}
}

// TestOpen_NoFeatureStoreLeftBehind: opening an engine (a CLI query) does
// not create the feature store folder; the first build does, and holds it.
func TestOpen_NoFeatureStoreLeftBehind(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	e := MustOpenEngineWith(t, Options{DBPath: InMemory, DataDir: filepath.Join(dir, "data"), FeatureStore: filepath.Join(dir, "features"),
		Config: os.DirFS(repoRoot), MemoryLimit: "512MB", Threads: 2})
	if _, err := os.Stat(filepath.Join(dir, "features")); err == nil {
		t.Error("Open created the feature store")
	}
	if err := os.MkdirAll(filepath.Join(dir, "features"), 0o755); err != nil { // as BuildFeatures does
		t.Fatal(err)
	}
	e.holdFeatureStore()
	if e.storeLock == nil || e.storeLock.f == nil || e.aloneInFeatureStore() {
		t.Errorf("no shared hold on a feature store created after Open: %+v", e.storeLock)
	}
}

// TestOpen_OwnSpillDir: engines sharing a data dir spill into folders of
// their own (DuckDB names its spill files the same in every instance, and
// two processes in one folder corrupted each other's blocks); Close
// removes the folder, and Open removes those of processes that are gone.
func TestOpen_OwnSpillDir(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	tmp := filepath.Join(dir, "data", DirTmp)
	dead := filepath.Join(tmp, spillPrefix+"1073741823-abc")
	if err := os.MkdirAll(dead, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := func(db string) Options {
		return Options{DBPath: filepath.Join(dir, db), DataDir: filepath.Join(dir, "data"), Config: os.DirFS(repoRoot),
			FeatureStore: filepath.Join(dir, "fs"), MemoryLimit: "512MB", Threads: 2}
	}
	a, err := Open(context.Background(), opts("a.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(context.Background(), opts("b.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); err == nil {
		t.Error("the spill folder of a process that is gone was kept")
	}
	var got [2]string
	for i, e := range []*Engine{a, b} {
		if err := e.db.QueryRow(`SELECT current_setting('temp_directory')`).Scan(&got[i]); err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(got[i]) != tmp {
			t.Errorf("engine %d spills to %s, want a folder in %s", i, got[i], tmp)
		}
	}
	if got[0] == got[1] {
		t.Errorf("both engines spill to %s", got[0])
	}
	for i, e := range []*Engine{a, b} {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(got[i]); err == nil {
			t.Errorf("engine %d's spill folder %s is left after Close", i, got[i])
		}
	}
}

// TestOpen_SharedTempDirKept: a --temp-dir outside the data dir may be
// shared with other data dirs' processes, which the data dir's lock says
// nothing about, so a scoring's files there survive another engine's
// Open (a second process once deleted a matrix mid-read).
func TestOpen_SharedTempDirKept(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	shared := filepath.Join(dir, "shared-tmp")
	files := []string{filepath.Join(shared, ".matrix-1.parquet"), filepath.Join(shared, ".scores-1.csv")}
	if err := os.MkdirAll(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		if err := os.WriteFile(p, []byte("another data dir's scoring"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := MustOpenEngineWith(t, Options{DBPath: InMemory, DataDir: filepath.Join(dir, "data"), TempDir: shared,
		Config: os.DirFS(repoRoot), MemoryLimit: "512MB", Threads: 2})
	if e.tempDir != shared {
		t.Fatalf("tempDir = %s, want %s", e.tempDir, shared)
	}
	for _, p := range files {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("opening an engine with a shared --temp-dir removed %s", p)
		}
	}
}
