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
// build, a spooled export, a label export's temporary file); once no
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
