package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// mustSnapshotEngine opens a file-backed engine in serve mode (locked, as
// the server runs) with the small KOI fixture ingested and processed.
func mustSnapshotEngine(t *testing.T) (*Engine, *Run) {
	t.Helper()
	dir := MustTempDir(t)
	e := MustOpenEngine(t, func(o *Options) {
		o.DBPath = filepath.Join(dir, "data", DefaultDBName)
		o.Lock = true
	})
	MustIngest(t, e, IngestInput{Path: filepath.Join("testdata", "koi_small_commented.csv"), Name: "koi"})
	run, err := e.Process(context.Background(), ProcessInput{Dataset: "koi"})
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	return e, run
}

// mustOpenSnapshot opens a snapshot file read-only in a DuckDB instance of
// its own, as a notebook would.
func mustOpenSnapshot(t *testing.T, e *Engine, path string) *sql.DB {
	t.Helper()
	db, closeDB, err := openSnapshotDB(path, e.opts.MemoryLimit, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeDB)
	return db
}

// TestSnapshot_SelfContained writes a snapshot while the engine holds its
// database and checks it from a separate DuckDB instance: tables, row
// counts, views that read no server files, comments and storage version.
func TestSnapshot_SelfContained(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, run := mustSnapshotEngine(t)
	if _, err := e.BuildFeatures(ctx, FeatureBuildInput{Version: "v1", Run: run.RunID}); err != nil {
		t.Fatalf("BuildFeatures: %v", err)
	}
	// A folder that does not exist yet is created, as process --out does.
	dst := e.path(DirSnapshots, "team", "2026", "notebook.duckdb")
	res, err := e.Snapshot(ctx, dst, SnapshotOptions{})
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if res.Path != dst || res.Bytes == 0 || !slices.Equal(res.Runs, []string{run.RunID}) || res.StorageVersion != SnapshotStorageVersion {
		t.Errorf("result = %+v", res)
	}
	leftovers, _ := filepath.Glob(e.path(DirSnapshots, snapshotTempPrefix+"*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	rows := map[string]int64{}
	for _, tb := range res.Tables {
		rows[tb.Schema+"."+tb.Name] = tb.Rows
	}
	want := map[string]int64{"meta.datasets": 1, "meta.runs": 1, "meta.snapshot": 1, "normalized.koi": 12, "metrics.koi": 12,
		"classified.koi": 12, "runs.results": 12, "runs.latest_koi": 12, "features.v1": 12, "meta.feature_sets": 1}
	for k, n := range want {
		if rows[k] != n {
			t.Errorf("%s has %d rows, want %d", k, rows[k], n)
		}
	}
	for _, k := range []string{"raw.koi", "labels.claims"} {
		if _, ok := rows[k]; ok {
			t.Errorf("%s should not be in a default snapshot", k)
		}
	}
	for _, k := range []string{"labels.labels", "labels.reviews", "catalog.tables", "catalog.columns", "catalog.dictionary"} {
		if _, ok := rows[k]; !ok {
			t.Errorf("%s is missing", k)
		}
	}

	db := mustOpenSnapshot(t, e, dst)
	var views string
	if err := db.QueryRow(`SELECT coalesce(string_agg(sql, ' '), '') FROM duckdb_views() WHERE NOT internal`).Scan(&views); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"read_csv", "read_parquet", e.dataDir, "exohunter_snapshot_"} {
		if strings.Contains(views, bad) {
			t.Errorf("a view of the snapshot refers to %q: %s", bad, views)
		}
	}
	for _, tc := range []struct{ q, want string }{
		{`SELECT comment FROM duckdb_columns() WHERE schema_name = 'classified' AND table_name = 'koi' AND column_name = 'koi_prad'`, "Planet radius [R_earth]"},
		{`SELECT comment FROM duckdb_columns() WHERE schema_name = 'runs' AND table_name = 'latest_koi' AND column_name = 'category'`, "The one primary category, by precedence"},
		{`SELECT comment FROM duckdb_tables() WHERE schema_name = 'classified' AND table_name = 'koi'`, "metrics.koi plus flags, tags, category, score and disposition_compare at the default thresholds"},
		{`SELECT unit FROM catalog.columns WHERE schema_name = 'runs' AND table_name = 'results' AND column_name = 'koi_insol'`, "S_earth"},
		{`SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()`, SnapshotStorageVersion + "+"},
		{`SELECT string_agg(category || ':' || n, ',' ORDER BY category) FROM (SELECT category, count(*) AS n FROM runs.latest_koi GROUP BY ALL)`, countsText(run.Counts)},
	} {
		var got string
		if err := db.QueryRow(tc.q).Scan(&got); err != nil {
			t.Errorf("%s: %v", tc.q, err)
		} else if got != tc.want {
			t.Errorf("%s = %q, want %q", tc.q, got, tc.want)
		}
	}
	// runs.latest_koi has exactly the run file's columns.
	var n, m int64
	db.QueryRow(`SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'runs' AND table_name = 'latest_koi'`).Scan(&n)
	e.db.QueryRow(`SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'runs' AND table_name = 'latest_koi'`).Scan(&m)
	if n != m || n == 0 {
		t.Errorf("runs.latest_koi has %d columns in the snapshot, %d on the server", n, m)
	}
	info, err := InspectSnapshot(ctx, dst)
	if err != nil || !info.CreatedAt.Equal(res.CreatedAt) || !slices.Equal(info.Runs, res.Runs) {
		t.Errorf("InspectSnapshot = %+v, %v", info, err)
	}
}

// countsText prints category counts as "a:1,b:2" in category order.
func countsText(c map[string]int64) string {
	var parts []string
	for k, v := range c {
		parts = append(parts, k+":"+strconvI(v))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// strconvI formats an int64.
func strconvI(v int64) string { return strconv.FormatInt(v, 10) }

// TestSnapshot_Options covers run selection, optional parts and errors.
func TestSnapshot_Options(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, first := mustSnapshotEngine(t)
	second, err := e.Process(ctx, ProcessInput{Dataset: "koi", Overrides: map[string]string{"planet_radius.rocky_max": "2.2"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, runs, include string
		wantRuns            []string
		wantTables          []string
		wantAbsent          []string
		wantCode            Code
	}{
		{name: "latest_is_default", wantRuns: []string{second.RunID}, wantTables: []string{"labels.labels", "labels.reviews"}, wantAbsent: []string{"raw.koi"}},
		{name: "all_runs", runs: "all", wantRuns: []string{second.RunID, first.RunID}},
		{name: "by_id", runs: first.RunID, wantRuns: []string{first.RunID}},
		{name: "raw_only", include: "raw", wantRuns: []string{second.RunID}, wantTables: []string{"raw.koi"}, wantAbsent: []string{"labels.labels"}},
		{name: "none", include: "none", wantRuns: []string{second.RunID}, wantAbsent: []string{"raw.koi", "labels.labels"}},
		{name: "unknown_run", runs: "nope", wantCode: NotFound},
		{name: "mixed_runs", runs: "all," + first.RunID, wantCode: BadRequest},
		{name: "unknown_part", include: "models", wantCode: BadRequest},
		{name: "none_with_others", include: "none,labels", wantCode: BadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := ParseSnapshotOptions(tc.runs, tc.include)
			var res *SnapshotResult
			if err == nil {
				res, err = e.Snapshot(ctx, e.path(DirSnapshots, tc.name+".duckdb"), opts)
			}
			if tc.wantCode != "" {
				if ErrorCode(err) != tc.wantCode {
					t.Fatalf("err = %v (code %s), want %s", err, ErrorCode(err), tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantRuns, res.Runs); diff != "" {
				t.Errorf("runs (-want +got):\n%s", diff)
			}
			var names []string
			for _, tb := range res.Tables {
				names = append(names, tb.Schema+"."+tb.Name)
			}
			for _, w := range tc.wantTables {
				if !slices.Contains(names, w) {
					t.Errorf("missing %s in %v", w, names)
				}
			}
			for _, w := range tc.wantAbsent {
				if slices.Contains(names, w) {
					t.Errorf("%s should be absent", w)
				}
			}
		})
	}
	for _, bad := range []string{e.dbPath, filepath.Join(e.dataDir, "outside.duckdb")} {
		if _, err := e.Snapshot(ctx, bad, SnapshotOptions{}); ErrorCode(err) != BadRequest {
			t.Errorf("Snapshot(%s) in serve mode: err = %v, want BadRequest", bad, err)
		}
	}
}

// TestSnapshot_RunsByIDBringTheirDatasets: runs chosen by id bring the
// pipeline stages of their own datasets only; the default (latest) brings
// every dataset's.
func TestSnapshot_RunsByIDBringTheirDatasets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, first := mustSnapshotEngine(t)
	MustIngest(t, e, IngestInput{Reader: strings.NewReader("kepoi_name,koi_period,koi_prad\nX1,3.5,1.2\nX2,4.5,2.2\n"), OriginalName: "other.csv", Name: "other"})
	if _, err := e.Process(ctx, ProcessInput{Dataset: "other"}); err != nil {
		t.Fatal(err)
	}
	tables := func(runs string) ([]string, int64) {
		opts, err := ParseSnapshotOptions(runs, "none")
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Snapshot(ctx, e.path(DirSnapshots, "s-"+strings.ReplaceAll(runs, ",", "_")+".duckdb"), opts)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		var datasets int64
		for _, tb := range res.Tables {
			names = append(names, tb.Schema+"."+tb.Name)
			if tb.Schema == "meta" && tb.Name == "datasets" {
				datasets = tb.Rows
			}
		}
		return names, datasets
	}
	if got, n := tables(first.RunID); !slices.Contains(got, "classified.koi") || slices.Contains(got, "classified.other") || slices.Contains(got, "normalized.other") || n != 1 {
		t.Errorf("snapshot of run %s holds %v and %d datasets; want koi's stages and not other's, 1 dataset", first.RunID, got, n)
	}
	if got, n := tables("latest"); !slices.Contains(got, "classified.koi") || !slices.Contains(got, "classified.other") || n != 2 {
		t.Errorf("default snapshot holds %v and %d datasets; want every dataset's stages, 2 datasets", got, n)
	}
	// runs.latest_koi says which run it is; asked for by id, that the
	// server may hold a newer one (here it does).
	albedo := 0.1
	if _, err := e.Process(ctx, ProcessInput{Dataset: "koi", Albedo: &albedo}); err != nil {
		t.Fatal(err)
	}
	for runs, want := range map[string]string{
		first.RunID: "The newest run of dataset koi among the runs this snapshot was asked for (run " + first.RunID + "); the server may hold newer runs",
		"latest":    "The latest complete run of dataset koi (run ",
	} {
		tables(runs)
		db := mustOpenSnapshot(t, e, e.path(DirSnapshots, "s-"+runs+".duckdb"))
		var comment, desc string
		if err := db.QueryRowContext(ctx, `SELECT v.comment, t.description FROM duckdb_views() AS v JOIN catalog.tables AS t
			ON t.schema_name = v.schema_name AND t.table_name = v.view_name WHERE v.schema_name = 'runs' AND v.view_name = 'latest_koi'`).Scan(&comment, &desc); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(comment, want) || desc != comment {
			t.Errorf("--runs %s: runs.latest_koi comment %q, catalog %q; want %q...", runs, comment, desc, want)
		}
	}
}

// TestSnapshot_ConcurrentLabels writes labels while snapshots are taken:
// every label acknowledged before a snapshot began is in it, a label and
// its review written in one transaction are both in it or both absent,
// and label writes keep going while the snapshot is written.
func TestSnapshot_ConcurrentLabels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, run := mustSnapshotEngine(t)
	var objects []string
	r, err := e.db.Query(`SELECT object_id FROM runs.results`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var o string
		r.Scan(&o)
		objects = append(objects, o)
	}
	r.Close()

	var mu sync.Mutex
	var acked []int64         // labels acknowledged by AddLabel, in order
	var ackedAt []time.Time   // when each was acknowledged
	var slowest time.Duration // longest single write
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // writer 1: the engine's label API
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			l, err := e.AddLabel(ctx, LabelInput{ObjectID: objects[i%len(objects)], Dataset: "koi", RunID: run.RunID,
				Label: "candidate", Annotator: "snapshot-test", Note: "n" + strconvI(int64(i))})
			if err != nil {
				t.Errorf("AddLabel: %v", err)
				return
			}
			mu.Lock()
			acked, ackedAt = append(acked, l.ID), append(ackedAt, time.Now())
			slowest = max(slowest, time.Since(t0))
			mu.Unlock()
		}
	}()
	go func() { // writer 2: a label and its review in one transaction
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			err := e.inTx(ctx, func(tx *sql.Tx) error {
				var id int64
				if err := tx.QueryRow(`INSERT INTO labels.labels (object_id, dataset, label, source, annotator)
					VALUES (?, 'koi', 'rocky_candidate', 'human', 'pair') RETURNING id`, objects[i%len(objects)]).Scan(&id); err != nil {
					return err
				}
				time.Sleep(time.Millisecond) // widen the window between the two writes
				_, err := tx.Exec(`INSERT INTO labels.reviews (label_id, status, reviewer) VALUES (?, 'accepted', 'pair')`, id)
				return err
			})
			if err != nil && !strings.Contains(err.Error(), "onflict") {
				t.Errorf("pair write: %v", err)
				return
			}
		}
	}()

	for i := 0; i < 3; i++ {
		time.Sleep(150 * time.Millisecond)
		began := time.Now()
		mu.Lock()
		before := slices.Clone(acked)
		mu.Unlock()
		dst := e.path(DirSnapshots, "concurrent"+strconvI(int64(i))+".duckdb")
		if _, err := e.Snapshot(ctx, dst, SnapshotOptions{}); err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
		ended := time.Now()
		db := mustOpenSnapshot(t, e, dst)
		have := map[int64]bool{}
		rows, err := db.Query(`SELECT id FROM labels.labels`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			have[id] = true
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		for _, id := range before {
			if !have[id] {
				t.Errorf("snapshot %d: label %d was acknowledged before the snapshot began but is missing", i, id)
			}
		}
		var pairs, orphans, dangling int64
		if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE r.id IS NULL) FROM labels.labels l
			LEFT JOIN labels.reviews r ON r.label_id = l.id WHERE l.annotator = 'pair'`).Scan(&pairs, &orphans); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT count(*) FROM labels.reviews r LEFT JOIN labels.labels l ON l.id = r.label_id WHERE l.id IS NULL`).Scan(&dangling); err != nil {
			t.Fatal(err)
		}
		if orphans != 0 || dangling != 0 {
			t.Errorf("snapshot %d is torn: %d labels without their review, %d reviews without their label", i, orphans, dangling)
		}
		if i == 2 && pairs == 0 {
			// note: without a pair in the last snapshot there was nothing
			// that could tear.
			t.Errorf("snapshot %d holds no label-and-review pair: the check saw nothing", i)
		}
		mu.Lock()
		var during int
		for _, at := range ackedAt {
			if at.After(began) && at.Before(ended) {
				during++
			}
		}
		mu.Unlock()
		if during == 0 {
			t.Errorf("snapshot %d (%v): no label was acknowledged while it was written; writers were blocked", i, ended.Sub(began))
		}
		t.Logf("snapshot %d: %v, %d labels before, %d in it, %d acknowledged meanwhile", i, ended.Sub(began), len(before), len(have), during)
	}
	close(stop)
	wg.Wait()
	t.Logf("slowest label write: %v", slowest)
}

// TestSnapshot_Cancelled leaves no files and keeps the engine usable.
func TestSnapshot_Cancelled(t *testing.T) {
	t.Parallel()
	e, _ := mustSnapshotEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.Snapshot(ctx, e.path(DirSnapshots, "cancelled.duckdb"), SnapshotOptions{})
	if err == nil {
		t.Fatal("a cancelled snapshot succeeded")
	}
	files, _ := os.ReadDir(e.path(DirSnapshots))
	if len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
	if _, err := e.Snapshot(context.Background(), e.path(DirSnapshots, "after.duckdb"), SnapshotOptions{}); err != nil {
		t.Errorf("snapshot after a cancelled one: %v", err)
	}
	if !errors.Is(err, context.Canceled) && ErrorCode(err) != Timeout {
		t.Logf("cancelled snapshot error: %v (code %s)", err, ErrorCode(err))
	}
}

// TestSnapshot_Concurrent: snapshots asked for at the same time all
// complete (they take turns); the second of two used to fail with DuckDB's
// "Unique file handle conflict" when its phase 2 opened its file.
func TestSnapshot_Concurrent(t *testing.T) {
	t.Parallel()
	e, _ := mustSnapshotEngine(t)
	const n = 3
	errs := make(chan error, n)
	for i := range n {
		go func() {
			res, err := e.Snapshot(context.Background(), e.path(DirSnapshots, fmt.Sprintf("c%d.duckdb", i)), SnapshotOptions{Include: []string{}})
			if err == nil && len(res.Tables) == 0 {
				err = fmt.Errorf("snapshot %d holds no table", i)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestSnapshot_Scores: model probabilities and anomaly scores of the
// included runs come along (meta.scores, runs.scored), as in exports;
// another run's scores do not.
func TestSnapshot_Scores(t *testing.T) {
	t.Parallel()
	e, run := mustSnapshotEngine(t)
	ctx := context.Background()
	if _, err := e.db.ExecContext(ctx, `INSERT INTO meta.scores (run_id, row_id, object_id, model, p_model, anomaly_score, created_at)
		VALUES (?, 1, 'K00752.01', 'm/1', 0.75, 0.25, now()), ('other-run', 1, 'x', 'm/1', 0.5, 0.5, now())`, run.RunID); err != nil {
		t.Fatal(err)
	}
	out := e.path(DirSnapshots, "scored.duckdb")
	if _, err := e.Snapshot(ctx, out, SnapshotOptions{Include: []string{}}); err != nil {
		t.Fatal(err)
	}
	db := mustOpenSnapshot(t, e, out)
	var p, a float64
	var model string
	if err := db.QueryRowContext(ctx, `SELECT p_model, anomaly_score, p_model_model FROM runs.scored WHERE row_id = 1`).Scan(&p, &a, &model); err != nil || p != 0.75 || a != 0.25 || model != "m/1" {
		t.Errorf("runs.scored row 1 = %v, %v, %q (%v); want 0.75, 0.25, m/1", p, a, model, err)
	}
	var n, unscored int64
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (p_model IS NULL) FROM runs.scored`).Scan(&n, &unscored); err != nil || n != run.Rows || unscored != run.Rows-1 {
		t.Errorf("runs.scored has %d rows, %d unscored (%v); want %d and %d", n, unscored, err, run.Rows, run.Rows-1)
	}
	var scores int64
	var comment string
	if err := db.QueryRowContext(ctx, `SELECT count(*), (SELECT comment FROM duckdb_views() WHERE schema_name = 'runs' AND view_name = 'scored') FROM meta.scores`).Scan(&scores, &comment); err != nil || scores != 1 || !strings.Contains(comment, "p_model") {
		t.Errorf("meta.scores has %d rows, runs.scored comment %q (%v); want 1 and a description", scores, comment, err)
	}
}

// TestSnapshot_FeatureDocs: a feature set copied into a snapshot keeps the
// description of what each column holds (a copied view loses its comments).
func TestSnapshot_FeatureDocs(t *testing.T) {
	t.Parallel()
	e, _ := mustSnapshotEngine(t)
	ctx := context.Background()
	if _, err := e.BuildFeatures(ctx, FeatureBuildInput{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	out := e.path(DirSnapshots, "features.duckdb")
	if _, err := e.Snapshot(ctx, out, SnapshotOptions{Include: []string{SnapshotFeatures}}); err != nil {
		t.Fatal(err)
	}
	db := mustOpenSnapshot(t, e, out)
	var comment, desc string
	if err := db.QueryRowContext(ctx, `SELECT c.comment, k.description FROM duckdb_columns() AS c
		JOIN catalog.columns AS k ON k.schema_name = c.schema_name AND k.table_name = c.table_name AND k.column_name = c.column_name
		WHERE c.schema_name = 'features' AND c.table_name = 'v1' AND c.column_name = 'koi_period'`).Scan(&comment, &desc); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{comment, desc} {
		if !strings.Contains(s, "stored as sign(x)·ln(1+|x|)") {
			t.Errorf("features.v1.koi_period is described as %q", s)
		}
	}
}

// TestSnapshot_DatasetDeletedDuring: a dataset deleted while its run file
// is being copied stops the snapshot with a 409 that names it (it was a
// 500, "No files found"), and nothing is left behind.
func TestSnapshot_DatasetDeletedDuring(t *testing.T) {
	t.Parallel()
	e, _ := mustSnapshotEngine(t)
	ctx := context.Background()
	var derr error
	opts := SnapshotOptions{Include: []string{}, Progress: func(_ float64, msg string) {
		if msg == "copying runs.results" && derr == nil {
			derr = e.DeleteDataset(ctx, "koi")
		}
	}}
	_, err := e.Snapshot(ctx, e.path(DirSnapshots, "deleted.duckdb"), opts)
	if derr != nil {
		t.Fatalf("delete during the snapshot: %v", derr)
	}
	if ErrorCode(err) != Conflict || !strings.Contains(ErrorMessage(err), "Dataset koi was deleted while the snapshot was being written") {
		t.Errorf("snapshot = %v (%s), want a Conflict naming koi", err, ErrorCode(err))
	}
	if files, _ := os.ReadDir(e.path(DirSnapshots)); len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
}

// TestSnapshot_UnreadableDataset: a value that does not fit the type
// sniffed from the first rows ('inf', sniffed as a DATE) retypes its
// column and the snapshot completes; a stored file that no longer parses
// (changed on disk after ingest) stops the snapshot with a 409 that names
// the dataset and the way out, and leaves no file.
func TestSnapshot_UnreadableDataset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := MustOpenEngine(t)
	path := filepath.Join(t.TempDir(), "teq_inf.csv")
	if err := os.WriteFile(path, []byte("kepoi_name,koi_period,koi_prad,koi_teq\nK1.01,10,1,\nK2.01,5,2,inf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Ingest(ctx, IngestInput{Path: path}); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "s.duckdb")
	if _, err := e.Snapshot(ctx, dst, SnapshotOptions{}); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if ds, _ := e.Dataset(ctx, "teq_inf"); ds == nil || len(ds.CSV.Retyped) != 1 || ds.CSV.Retyped[0].Column != "koi_teq" || ds.CSV.Retyped[0].Value != "inf" {
		t.Errorf("retyped: %+v", ds)
	}

	other := filepath.Join(t.TempDir(), "ragged.csv")
	if err := os.WriteFile(other, []byte("kepoi_name,koi_period,koi_prad\nK1.01,10,1\nK2.01,5,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := e.Ingest(ctx, IngestInput{Path: other})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.abs(ds.Path), []byte("kepoi_name,koi_period,koi_prad\nK1.01,10,1,7,8\nK2.01,5,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst = filepath.Join(t.TempDir(), "s2.duckdb")
	_, err = e.Snapshot(ctx, dst, SnapshotOptions{})
	if ErrorCode(err) != Conflict || !strings.Contains(ErrorMessage(err), "Dataset ragged could not be read to the end") ||
		!strings.Contains(ErrorMessage(err), "DELETE /api/datasets/ragged") {
		t.Errorf("got %s %v", ErrorCode(err), err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("snapshot file left behind: %v", err)
	}
}

// TestSnapshot_RawIsFinite: the copy of a stored Parquet file in a
// snapshot (include raw) nulls NaN and ±Inf like every other export; the
// stored file itself keeps them.
func TestSnapshot_RawIsFinite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := MustOpenEngine(t)
	src := filepath.Join(t.TempDir(), "nan.parquet")
	if _, err := e.db.ExecContext(ctx, "COPY (SELECT 'K1.01' AS kepoi_name, 'nan'::DOUBLE AS koi_period, 'inf'::FLOAT AS koi_prad, 7 AS n, "+
		"['-inf'::DOUBLE, 1] AS l, {'a': 'nan'::DOUBLE} AS s, MAP {'k': 'inf'::DOUBLE} AS m) TO "+
		sqltmpl.Lit(src).String()+" (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Ingest(ctx, IngestInput{Path: src, Name: "nanpq"}); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "s.duckdb")
	if _, err := e.Snapshot(ctx, dst, SnapshotOptions{Include: []string{SnapshotRaw}}); err != nil {
		t.Fatal(err)
	}
	db := mustOpenSnapshot(t, e, dst)
	var got string
	if err := db.QueryRowContext(ctx, `SELECT concat_ws(' ', coalesce(koi_period::VARCHAR, 'null'), coalesce(koi_prad::VARCHAR, 'null'), n, typeof(koi_prad),
		l[1] IS NULL AND l[2] = 1, s.a IS NULL, m['k'] IS NULL) FROM raw.nanpq`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "null null 7 FLOAT true true true"; got != want {
		t.Errorf("raw.nanpq in the snapshot = %q, want %q", got, want)
	}
}

// TestEngine_snapshotDiskRoom: a snapshot whose runs alone would not fit
// in the free disk is refused before anything is copied, with a Storage
// error that gives the sizes; a small one passes, stages counted.
func TestEngine_snapshotDiskRoom(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	ctx := context.Background()
	dir := e.path(DirSnapshots)
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := e.snapshotDiskRoom(ctx, tx, []string{run.Dataset}, 3, []string{e.abs(run.Path)}, dir); err != nil {
		t.Errorf("a small snapshot: %v", err)
	}
	free, _, err := diskFree(dir)
	if err != nil {
		t.Fatal(err)
	}
	huge := mustSparseFile(t, free+1<<30)
	err = e.snapshotDiskRoom(ctx, tx, []string{run.Dataset}, 3, []string{huge}, dir)
	if ErrorCode(err) != Storage || !strings.Contains(ErrorMessage(err), "Not enough free disk for this snapshot") {
		t.Errorf("a snapshot larger than the free disk: %v", err)
	}
	tx.Rollback()
	// Through Snapshot itself, the run file grown (sparse) past the free
	// disk: refused before anything is copied, nothing left behind.
	if err := os.Truncate(e.abs(run.Path), free+1<<30); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Snapshot(ctx, filepath.Join(dir, "big.duckdb"), SnapshotOptions{}); ErrorCode(err) != Storage {
		t.Errorf("Snapshot of a run larger than the free disk: %v, want a Storage refusal", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused snapshot left %d files", len(entries))
	}
}

// TestSnapshot_waitingLimit: while one snapshot is written, at most
// maxWaitingSnapshots wait for their turn; the next is refused as Busy,
// and a waiter that gives up leaves its place.
func TestSnapshot_waitingLimit(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	mustKOISmallRun(t, e)
	e.snapshotTurn <- struct{}{} // another snapshot is being written
	defer func() { <-e.snapshotTurn }()
	e.snapshotWaiting.Store(maxWaitingSnapshots)
	out := filepath.Join(t.TempDir(), "nb.duckdb")
	if _, err := e.Snapshot(context.Background(), out, SnapshotOptions{}); ErrorCode(err) != Busy {
		t.Errorf("a snapshot beyond the waiting limit: %v, want Busy", err)
	}
	e.snapshotWaiting.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := e.Snapshot(ctx, out, SnapshotOptions{}); err == nil {
		t.Error("a snapshot finished while another held the turn")
	}
	if n := e.snapshotWaiting.Load(); n != 0 {
		t.Errorf("%d waiting after the waiter gave up, want 0", n)
	}
}
