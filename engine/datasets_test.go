package engine

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEngine_Datasets lists, gets and deletes datasets.
func TestEngine_Datasets(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	ctx := context.Background()
	a := MustIngest(t, e, IngestInput{Path: filepath.Join("testdata", "koi_small_commented.csv"), Name: "a"})
	b := MustIngest(t, e, IngestInput{Path: filepath.Join(sharedData, "toi_2025.csv"), Name: "b"})

	list, err := e.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*Dataset{a, b}, list); diff != "" {
		t.Errorf("Datasets (-want +got):\n%s", diff)
	}
	if _, err := e.Dataset(ctx, "nope"); ErrorCode(err) != NotFound {
		t.Errorf("Dataset(nope) = %v, want NotFound", err)
	}

	// note: a finished run of a, with its result file, goes with a; a running
	// run blocks the delete.
	runFile := MustWriteFile(t, e.path(DirRuns), "r1.parquet", []byte("x"))
	if _, err := e.db.ExecContext(ctx, `INSERT INTO meta.runs (run_id, dataset, status, path) VALUES ('r1', 'a', 'complete', 'runs/r1.parquet'), ('r2', 'b', 'running', NULL)`); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteDataset(ctx, "b"); ErrorCode(err) != Conflict {
		t.Errorf("DeleteDataset(b) with a running run = %v, want Conflict", err)
	}
	if err := e.DeleteDataset(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{runFile, e.path(DirRaw, "a")} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s survived the delete (%v)", p, err)
		}
	}
	got := map[string]int64{
		"meta.datasets": mustQueryInt(t, e, "SELECT count(*) FROM meta.datasets"),
		"meta.runs a":   mustQueryInt(t, e, "SELECT count(*) FROM meta.runs WHERE dataset = 'a'"),
		"views of a":    mustQueryInt(t, e, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'a' AND NOT internal"),
		"rows of b":     mustQueryInt(t, e, `SELECT count(*) FROM classified."b"`),
	}
	want := map[string]int64{"meta.datasets": 1, "meta.runs a": 0, "views of a": 0, "rows of b": b.Rows}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
	if err := e.DeleteDataset(ctx, "a"); ErrorCode(err) != NotFound {
		t.Errorf("second DeleteDataset(a) = %v, want NotFound", err)
	}
	// note: the name is free again.
	MustIngest(t, e, IngestInput{Path: filepath.Join("testdata", "koi_small_commented.csv"), Name: "a"})
}

// TestEngine_Dataset_notFoundHint: an unknown name says what was likely
// meant: no datasets yet, the name ingest derives from what was typed, a
// file path to ingest first, or the names there are.
func TestEngine_Dataset_notFoundHint(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	ctx := context.Background()
	check := func(name, want string) {
		t.Helper()
		_, err := e.Dataset(ctx, name)
		if ErrorCode(err) != NotFound || !strings.Contains(ErrorMessage(err), want) {
			t.Errorf("Dataset(%q) = %v, want NotFound with %q", name, err, want)
		}
	}
	check("koi", "There are no datasets yet: ingest a file first")
	MustIngest(t, e, IngestInput{Path: filepath.Join("testdata", "koi_small_commented.csv"), Name: "koi_2025_09_29"})
	MustIngest(t, e, IngestInput{Path: filepath.Join(sharedData, "toi_2025.csv")})
	check("koi_2025-09-29", `There is no dataset named "koi_2025-09-29". Did you mean koi_2025_09_29?`)
	check("koi", "The datasets are koi_2025_09_29, toi_2025.")
	check("../shared/data/toi_2025.csv", "A file must be ingested first (exohunter ingest ../shared/data/toi_2025.csv, or POST /api/datasets); its dataset is then named toi_2025")
	check("toi_2025.csv", "A file must be ingested first")
}
