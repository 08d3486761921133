package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestOpen_afterInterruptedDelete: a run file that is gone (a crash in the
// middle of a dataset delete) no longer stops Open, and files no meta row
// refers to are removed, while every referenced one stays.
func TestOpen_afterInterruptedDelete(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	data := filepath.Join(dir, "data")
	opts := func(o *Options) { o.DataDir, o.DBPath = data, filepath.Join(data, DefaultDBName) }
	e := MustOpenEngine(t, opts)
	ctx := context.Background()
	first := mustKOISmallRun(t, e)
	second, err := e.Process(ctx, ProcessInput{Dataset: "koi"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// The state an interrupted delete leaves: a complete run without its
	// file, and files without their rows.
	if err := os.Remove(e.abs(first.Path)); err != nil {
		t.Fatal(err)
	}
	ghostRun := filepath.Join(data, DirRuns, "gone-20261127T000000-000000.parquet")
	ghostRaw := filepath.Join(data, DirRaw, "gone")
	if err := os.MkdirAll(ghostRaw, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{ghostRun, filepath.Join(ghostRaw, "gone.csv")} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e = MustOpenEngine(t, opts)
	// note: a row that names its file by an absolute path from before the
	// data dir moved still protects the folder (compared by name).
	if _, err := e.db.ExecContext(ctx, `UPDATE meta.datasets SET path = '/old/place/data/' || path WHERE name = 'koi'`); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = MustOpenEngine(t, opts)
	if n := mustQueryInt(t, e, `SELECT count(DISTINCT run_id) FROM runs.results`); n != 1 {
		t.Errorf("runs.results holds %d runs, want the one whose file exists", n)
	}
	if n := mustQueryInt(t, e, `SELECT count(*) FROM runs.scored WHERE run_id = ?`, second.RunID); n != second.Rows {
		t.Errorf("runs.scored holds %d rows of %s, want %d", n, second.RunID, second.Rows)
	}
	for _, p := range []string{ghostRun, ghostRaw} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived Open: %v", p, err)
		}
	}
	for _, p := range []string{e.abs(second.Path), filepath.Join(data, DirRaw, "koi")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a referenced file was removed: %v", err)
		}
	}
}
