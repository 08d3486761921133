package engine

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// indexOptions are the options of an engine on a file database in dir,
// with or without the results index.
func indexOptions(dir string, index bool) Options {
	return Options{
		DataDir: filepath.Join(dir, "data"), FeatureStore: filepath.Join(dir, "feature_store"),
		Config: os.DirFS(repoRoot), MemoryLimit: "512MB", Threads: 2, ResultsIndex: index,
	}
}

// waitIndex waits until a run's results index is in state want.
func waitIndex(tb testing.TB, e *Engine, runID, want string) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		run, err := e.Run(context.Background(), runID)
		if err != nil {
			tb.Fatal(err)
		}
		if run.ResultsIndex == want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("results index of run %s is %q after a minute, want %q", runID, run.ResultsIndex, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readyRun waits for a run's index and returns the run's description.
func readyRun(tb testing.TB, e *Engine, runID string) *resultRun {
	tb.Helper()
	waitIndex(tb, e, runID, IndexReady)
	r, err := e.resultRun(context.Background(), runID)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// indexQueries cover every filter kind, sorts on indexed and other
// columns, projections inside and outside the index, cursors and offsets.
var indexQueries = []string{
	"limit=100",
	"category=rocky_candidate&koi_period__lt=50&limit=50",
	"disposition=CONFIRMED&koi_period__gte=10&sort=koi_prad&order=desc&limit=50",
	"disposition=MISSING,FALSE_POSITIVE&sort=score&limit=40",
	"flag=FLAG_DERIVED_SMASS&tag=confirmed_planet&limit=30",
	"q=K0001&sort=koi_period&limit=25",
	"min_score=0.5&max_score=0.9&columns=object_id,score,koi_prad&limit=60",
	"koi_kepmag__lt=12&limit=50",
	"category=hot_jupiter_candidate&columns=object_id,koi_kepmag&limit=20",
	"sort=koi_kepmag&order=desc&limit=50",
	"sort=object_id&limit=50",
	"category=likely_false_positive&offset=100&limit=20",
	"koi_disposition__ne=CONFIRMED&koi_prad__gte=2&sort=koi_insol&limit=50",
}

// indexPages reads up to three pages of each query, following cursors.
func indexPages(tb testing.TB, e *Engine, runID string) map[string][]string {
	tb.Helper()
	out := map[string][]string{}
	for _, q := range indexQueries {
		cursor := ""
		for i := 0; i < 3; i++ {
			query := q
			if cursor != "" {
				query += "&cursor=" + cursor
			}
			page := mustResults(tb, e, runID, query)
			b, err := json.Marshal(page)
			if err != nil {
				tb.Fatal(err)
			}
			out[q] = append(out[q], string(b))
			if page.NextCursor == nil || strings.Contains(q, "offset=") {
				break
			}
			cursor = *page.NextCursor
		}
	}
	for _, id := range []string{"K00001.01", "K00752.01", "K07016.01"} {
		obj, err := e.ResultRow(context.Background(), runID, id)
		if err != nil {
			tb.Fatal(err)
		}
		b, err := json.Marshal(obj)
		if err != nil {
			tb.Fatal(err)
		}
		out["object "+id] = []string{string(b)}
	}
	return out
}

// TestResultsIndex_SameAnswers: every results page read through the index
// equals the page read from the run's Parquet file, on the real KOI table.
func TestResultsIndex_SameAnswers(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	ctx := context.Background()

	e, err := Open(ctx, indexOptions(dir, true))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := e.Ingest(ctx, IngestInput{Path: filepath.Join(sharedData, "koi_cumulative_2025.csv")})
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.Process(ctx, ProcessInput{Dataset: ds.Name})
	if err != nil {
		t.Fatal(err)
	}
	r := readyRun(t, e, run.RunID)
	if r.index == nil {
		t.Fatal("the run's description has no index once it is ready")
	}
	all := make([]string, len(r.cols))
	for i, c := range r.cols {
		all[i] = c.Name
	}
	if got := r.source(all...); got != r.index.table {
		t.Errorf("a query on every column reads %s, want the index %s", got, r.index.table)
	}
	if got := r.source("koi_period", "no_such_column"); got == r.index.table {
		t.Error("a query on a column the index lacks reads the index")
	}
	if n := mustQueryInt(t, e, "SELECT count(*) FROM "+r.index.table); n != run.Rows {
		t.Errorf("index holds %d rows, run %d", n, run.Rows)
	}
	withIndex := indexPages(t, e, run.RunID)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	plain, err := Open(ctx, indexOptions(dir, false))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if r, err := plain.resultRun(ctx, run.RunID); err != nil || r.index != nil {
		t.Fatalf("without the index: %v, index %v", err, r.index)
	}
	without := indexPages(t, plain, run.RunID)
	for q := range without {
		if d := cmp.Diff(without[q], withIndex[q]); d != "" {
			t.Errorf("%s: pages differ with the index (-parquet +index)\n%s", q, d)
		}
		if len(withIndex[q]) == 0 || withIndex[q][0] == `{"rows":[],"total":0,"next_cursor":null}` {
			t.Errorf("%s: no rows; the query tests nothing", q)
		}
	}
}

// TestResultsIndex_Lifecycle: an index survives a restart, a damaged index
// file is replaced, scores rebuild the index with their columns (and show
// in results and exports), and deleting the dataset drops it.
func TestResultsIndex_Lifecycle(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	ctx := context.Background()
	e := MustOpenEngineWith(t, indexOptions(dir, true))
	ds := MustIngest(t, e, IngestInput{Path: resultsKOI})
	run, err := e.Process(ctx, ProcessInput{Dataset: ds.Name})
	if err != nil {
		t.Fatal(err)
	}
	waitIndex(t, e, run.RunID, IndexReady)
	before := mustResults(t, e, run.RunID, "sort=koi_prad&order=desc")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("restart keeps it", func(t *testing.T) {
		e := MustOpenEngineWith(t, indexOptions(dir, true))
		if x := e.index(); x.lookup(run.RunID) == nil {
			st, _ := x.state(run.RunID, run.Rows)
			t.Fatalf("after a restart the index of %s is %q", run.RunID, st)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("damaged file is replaced", func(t *testing.T) {
		path := filepath.Join(dir, "data", DirRuns, resultsIndexFile)
		if err := os.WriteFile(path, []byte("not a database, not at all, just some bytes"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(path + ".wal")
		e := MustOpenEngineWith(t, indexOptions(dir, true))
		waitIndex(t, e, run.RunID, IndexReady)
		if d := cmp.Diff(before, mustResults(t, e, run.RunID, "sort=koi_prad&order=desc")); d != "" {
			t.Errorf("results after rebuilding a damaged index differ (-before +after)\n%s", d)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	})

	e = MustOpenEngineWith(t, indexOptions(dir, true))
	waitIndex(t, e, run.RunID, IndexReady)
	t.Run("scores rebuild it with their columns", func(t *testing.T) {
		res, err := e.DetectAnomalies(ctx, AnomalyInput{Run: run.RunID})
		if err != nil {
			t.Fatal(err)
		}
		r := readyRun(t, e, run.RunID)
		if r.index == nil || !r.index.covers([]string{"anomaly_score", "anomaly_score_lof"}) {
			t.Fatalf("rebuilt index %+v lacks the score columns", r.index)
		}
		page := mustResults(t, e, run.RunID, "sort=anomaly_score&order=desc&columns=object_id,anomaly_score&limit=1")
		top, _ := page.Rows[0].Get("object_id")
		score, _ := page.Rows[0].Get("anomaly_score")
		if f, ok := score.(float64); top != res.Top[0].ObjectID || !ok || math.Abs(f-res.Top[0].Score) > 1e-4 {
			t.Errorf("top of the results by anomaly_score is %v (%v), the detector's %s (%v)", top, score, res.Top[0].ObjectID, res.Top[0].Score)
		}
		x, err := e.OpenRunExport(ctx, run.RunID, CSV, ResultsQuery{})
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 64<<10)
		n, _ := x.Read(head)
		x.Close()
		if !containsField(string(head[:n]), "anomaly_score") {
			t.Errorf("the CSV export of a scored run has no anomaly_score column")
		}
	})

	t.Run("deleting the dataset drops it", func(t *testing.T) {
		if err := e.DeleteDataset(ctx, ds.Name); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Minute)
		for e.index().lookup(run.RunID) != nil {
			if time.Now().After(deadline) {
				t.Fatal("the index of a deleted run is still listed")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func containsField(csvHead, field string) bool {
	header, _, _ := strings.Cut(csvHead, "\n")
	return slices.Contains(strings.Split(header, ","), field)
}

// TestResultsIndex_DiskRoom: a build that could fill the disk is refused
// (its sort spills several times the run's size). A refused build marks the
// index failed, and results then read the run's file like any run without
// an index (TestResultsIndex_SameAnswers compares the two paths).
func TestResultsIndex_DiskRoom(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	small := filepath.Join(MustTempDir(t), "small.parquet")
	if err := os.WriteFile(small, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.indexDiskRoom(small); err != nil {
		t.Errorf("a 1-byte run: %v", err)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(e.tempDir, &fs); err != nil {
		t.Fatal(err)
	}
	// note: a sparse file as large as the free disk takes no space itself.
	huge := mustSparseFile(t, int64(fs.Bavail)*int64(fs.Bsize))
	err := e.indexDiskRoom(huge)
	if !errors.Is(err, errIndexDisk) || !strings.Contains(err.Error(), "MB needed") {
		t.Errorf("a run as large as the free disk: %v, want a refusal", err)
	}
}

// TestResultsIndex_DiskRoomReported: a build refused for disk leaves the
// run's index failed, and the run says why (the API shows results_index
// and results_index_error).
func TestResultsIndex_DiskRoomReported(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	ctx := context.Background()
	e := MustOpenEngineWith(t, indexOptions(dir, false))
	ds := MustIngest(t, e, IngestInput{Path: resultsKOI})
	run, err := e.Process(ctx, ProcessInput{Dataset: ds.Name})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// note: as if the run were as large as the free disk.
	free, _, err := diskFree(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "data", run.Path))
	if err != nil {
		t.Fatal(err)
	}
	opts := indexOptions(dir, true)
	opts.indexDiskFactor = 2*free/st.Size() + 1 // twice the free disk: no test frees that much meanwhile
	e = MustOpenEngineWith(t, opts)
	waitIndex(t, e, run.RunID, IndexFailed)
	got, err := e.Run(ctx, run.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.ResultsIndexError, "not enough free disk for the results index") {
		t.Errorf("results_index_error = %q", got.ResultsIndexError)
	}
}

// TestResultsIndex_MinRows: a run under Options.IndexMinRows rows gets no
// index table (state not_needed, pages from its Parquet file, the same
// answers), one at the threshold gets one, and an index built for a small
// run before the threshold existed is retired at the next start.
func TestResultsIndex_MinRows(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	ctx := context.Background()
	// First without a threshold, as before it existed: the run is indexed.
	e := MustOpenEngineWith(t, indexOptions(dir, true))
	small := MustIngest(t, e, IngestInput{Path: resultsKOI, Name: "small"})
	run, err := e.Process(ctx, ProcessInput{Dataset: small.Name})
	if err != nil {
		t.Fatal(err)
	}
	waitIndex(t, e, run.RunID, IndexReady)
	want := mustResults(t, e, run.RunID, "sort=koi_prad&order=desc")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	opts := indexOptions(dir, true)
	opts.IndexMinRows = run.Rows + 1
	e = MustOpenEngineWith(t, opts)
	waitIndex(t, e, run.RunID, IndexNotNeeded)
	// The old table is retired (and dropped once no request can still
	// be reading it) by the builder's first pass, which runs in the
	// background after Open.
	for deadline := time.Now().Add(time.Minute); e.index().lookup(run.RunID) != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("run of %d rows under a threshold of %d still answers from its index after a minute", run.Rows, opts.IndexMinRows)
		}
	}
	if d := cmp.Diff(want, mustResults(t, e, run.RunID, "sort=koi_prad&order=desc")); d != "" {
		t.Errorf("results differ without the index (-with +without):\n%s", d)
	}

	// A run of exactly IndexMinRows rows is indexed.
	big := MustIngest(t, e, IngestInput{Path: resultsKOI, Name: "big"})
	opts.IndexMinRows = run.Rows
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = MustOpenEngineWith(t, opts)
	run2, err := e.Process(ctx, ProcessInput{Dataset: big.Name})
	if err != nil {
		t.Fatal(err)
	}
	waitIndex(t, e, run2.RunID, IndexReady)
	if x := e.index(); x.lookup(run2.RunID) == nil {
		t.Errorf("run of %d rows at a threshold of %d has no index", run2.Rows, opts.IndexMinRows)
	}
}
