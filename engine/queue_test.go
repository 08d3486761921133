package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/exohunter/exohunter/engine/spec"
)

// queueFixtureRun is the run id the queue tests register.
const queueFixtureRun = "fixture-run"

// mustQueueFixture turns testdata/labels/queue_run.csv into a complete run
// of dataset "fixture" and adds, around it: a current NASA label FALSE
// POSITIVE for F02 (whose catalog disposition is empty), a human label for
// R02, a rejected human label for C02, and model probabilities for U01
// (0.5) and U02 (0.99) in meta.scores.
func mustQueueFixture(t *testing.T) *Engine {
	t.Helper()
	e := MustOpenEngine(t)
	ctx := context.Background()
	csv, err := filepath.Abs("testdata/labels/queue_run.csv")
	if err != nil {
		t.Fatal(err)
	}
	path := e.path(DirRuns, queueFixtureRun+".parquet")
	stmts := []string{
		`COPY (SELECT '` + queueFixtureRun + `' AS run_id, row_id, object_id, star_id, is_default, koi_disposition, category,
			CASE WHEN flags IS NULL THEN []::VARCHAR[] ELSE string_split(flags, ';') END AS flags, score
			FROM read_csv(` + litPath(csv) + `, header = true, all_varchar = false,
				types = {'object_id': 'VARCHAR', 'koi_disposition': 'VARCHAR', 'flags': 'VARCHAR'})) TO ` + litPath(path) + ` (FORMAT parquet)`,
		`INSERT INTO meta.runs (run_id, dataset, status, path, finished_at) VALUES ('` + queueFixtureRun + `', 'fixture', 'complete', 'runs/` + queueFixtureRun + `.parquet', now())`,
		`INSERT INTO labels.labels (object_id, dataset, label, source, annotator) VALUES
			('F02', 'fixture', 'CANDIDATE', 'nasa', 'old import'),
			('F02', 'fixture', 'FALSE POSITIVE', 'nasa', 'new import'),
			('R02', 'fixture', 'rocky_candidate', 'human', 'alice'),
			('C02', 'fixture', 'candidate', 'human', 'bob')`,
		`INSERT INTO labels.reviews (label_id, status, reviewer) SELECT id, 'rejected', 'carol' FROM labels.labels WHERE object_id = 'C02'`,
		`CREATE OR REPLACE TABLE meta.scores (run_id VARCHAR, object_id VARCHAR, p_model DOUBLE, anomaly_score DOUBLE, created_at TIMESTAMP)`,
		`INSERT INTO meta.scores VALUES
			('` + queueFixtureRun + `', 'U01', 0.1, NULL, TIMESTAMP '2025-01-01'),
			('` + queueFixtureRun + `', 'U01', 0.5, NULL, TIMESTAMP '2025-06-01'),
			('` + queueFixtureRun + `', 'U02', 0.99, NULL, TIMESTAMP '2025-06-01'),
			('other-run', 'C01', 0.5, NULL, TIMESTAMP '2025-06-01')`,
	}
	for _, q := range stmts {
		if _, err := e.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	return e
}

// queueRow is the part of a queue item the order tests compare.
type queueRow struct {
	Object   string
	Priority float64
	Reason   string
}

func rowsOf(q *Queue) []queueRow {
	out := make([]queueRow, len(q.Items))
	for i, it := range q.Items {
		out[i] = queueRow{it.ObjectID, it.Priority, fmt.Sprintf("c=%g f=%g u=%g %v", it.Reason.CategoryWeight,
			it.Reason.FlagWeight, it.Reason.Uncertainty, it.Reason.Flags)}
	}
	return out
}

func objectsOf(q *Queue) []string {
	out := make([]string, len(q.Items))
	for i, it := range q.Items {
		out[i] = it.ObjectID
	}
	return out
}

// TestEngine_LabelQueue checks that the order follows configs/labeling.yaml:
// category weights, interesting flags (0.5 each), uncertainty (2·(1 −
// 2|p − 0.5|), p the model probability when meta.scores has one, else the
// score), the priority list as tie-break, and the exclusions (catalog or
// NASA-label disposition CONFIRMED / FALSE POSITIVE, a non-rejected human
// label).
func TestEngine_LabelQueue(t *testing.T) {
	t.Parallel()
	e := mustQueueFixture(t)
	ctx := context.Background()
	got, err := e.LabelQueue(ctx, QueueRequest{Run: queueFixtureRun, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	want := []queueRow{
		{"A01", 7.2, "c=5 f=1 u=1.2 [FLAG_DEPTH_TOO_DEEP FLAG_RADIUS_TOO_LARGE]"},
		{"A04", 7, "c=5 f=0 u=2 []"}, // FLAG_MISSING_PRAD is not interesting; no disposition is not excluded
		{"A02", 6.7, "c=5 f=0.5 u=1.2 [FLAG_RADIUS_TOO_LARGE]"},
		{"U01", 5, "c=3 f=0 u=2 []"}, // the latest model probability, 0.5, beats the score 0.6
		{"C01", 4.6, "c=3 f=0 u=1.6 []"},
		{"C02", 4.6, "c=3 f=0 u=1.6 []"},                         // its human label was rejected
		{"H01", 4.6, "c=2.5 f=0.5 u=1.6 [FLAG_HZ_CONSERVATIVE]"}, // tie: candidate comes first in the priority list
		{"R01", 3.6, "c=2 f=0 u=1.6 []"},
		{"J01", 3.1, "c=1.5 f=0 u=1.6 []"},
		{"U02", 3.04, "c=3 f=0 u=0.04 []"}, // p_model 0.99; its non-default anomalous row is ignored
		{"S01", 1.6, "c=0 f=0 u=1.6 []"},
		{"N01", 0, "c=-2 f=0 u=2 []"},
	}
	if diff := cmp.Diff(want, rowsOf(got)); diff != "" {
		t.Errorf("priority order (-want +got):\n%s", diff)
	}
	if p := got.Items[3].Reason.PModel; p == nil || *p != 0.5 {
		t.Errorf("U01 reason.p_model = %v, want 0.5", p)
	}
	if got.Items[0].Dataset != "fixture" || got.Items[0].RunID != queueFixtureRun || got.Items[0].Category != "anomalous_signal" {
		t.Errorf("item identity = %+v", got.Items[0])
	}
}

func TestEngine_LabelQueue_strategies(t *testing.T) {
	t.Parallel()
	e := mustQueueFixture(t)
	ctx := context.Background()
	tests := []struct {
		name string
		req  QueueRequest
		want []string
	}{
		{"uncertainty", QueueRequest{Strategy: "uncertainty", Limit: 12},
			[]string{"A04", "U01", "N01", "C01", "C02", "H01", "R01", "J01", "S01", "A01", "A02", "U02"}},
		{"limit", QueueRequest{Limit: 2}, []string{"A01", "A04"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Run = queueFixtureRun
			got, err := e.LabelQueue(ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, objectsOf(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("random", func(t *testing.T) {
		a, err := e.LabelQueue(ctx, QueueRequest{Run: queueFixtureRun, Strategy: "random", Seed: "s1", Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.LabelQueue(ctx, QueueRequest{Run: queueFixtureRun, Strategy: "random", Seed: "s1", Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(objectsOf(a), objectsOf(b)); diff != "" {
			t.Errorf("same seed, different order:\n%s", diff)
		}
		got := objectsOf(a)
		sort.Strings(got)
		want := []string{"A01", "A02", "A04", "C01", "C02", "H01", "J01", "N01", "R01", "S01", "U01", "U02"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("random must keep the exclusions (-want +got):\n%s", diff)
		}
	})
}

// TestEngine_LabelQueue_config changes the config: the order follows it.
func TestEngine_LabelQueue_config(t *testing.T) {
	t.Parallel()
	e := mustQueueFixture(t)
	cfg := *e.bundle.LabelingConfig()
	cfg.CategoryWeights = map[string]float64{"super_earth_or_mini_neptune": 10}
	cfg.InterestingFlags = map[string]float64{}
	cfg.Uncertainty.Factor = 0
	cfg.Priority = []string{"rocky_candidate", "hot_jupiter_candidate"}
	cfg.Exclude.NASADispositions = []string{spec.Confirmed}
	b := *e.bundle
	b.Labeling = &cfg
	e.bundle = &b
	got, err := e.LabelQueue(context.Background(), QueueRequest{Run: queueFixtureRun, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	// S01 weighs 10; then everything weighs 0 and ties break by the list
	// (rocky, hot Jupiter), then by object id. F01 and F02 are no longer
	// excluded (FALSE POSITIVE is not in the list).
	want := []string{"S01", "R01", "J01", "A01", "A02"}
	if diff := cmp.Diff(want, objectsOf(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEngine_LabelQueue_claims(t *testing.T) {
	t.Parallel()
	e := mustQueueFixture(t)
	ctx := context.Background()
	get := func(annotator string, limit int) []string {
		t.Helper()
		q, err := e.LabelQueue(ctx, QueueRequest{Run: queueFixtureRun, Annotator: annotator, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		return objectsOf(q)
	}
	steps := []struct {
		name      string
		annotator string
		want      []string
	}{
		{"peek claims nothing", "", []string{"A01", "A04", "A02"}},
		{"alice claims", "alice", []string{"A01", "A04", "A02"}},
		{"bob gets other items", "bob", []string{"U01", "C01", "C02"}},
		{"peek skips live claims", "", []string{"H01", "R01", "J01"}},
		{"alice keeps hers", "alice", []string{"A01", "A04", "A02"}},
	}
	for _, s := range steps {
		if diff := cmp.Diff(s.want, get(s.annotator, 3)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.name, diff)
		}
	}
	// Expired claims free their items.
	if _, err := e.db.ExecContext(ctx, `UPDATE labels.claims SET expires_at = ? WHERE annotator = 'alice'`,
		time.Now().UTC().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"A01", "A04", "A02"}, get("carol", 3)); diff != "" {
		t.Errorf("after expiry (-want +got):\n%s", diff)
	}
}

// TestEngine_LabelQueue_concurrentClaims: annotators asking at the same
// time never get the same item.
func TestEngine_LabelQueue_concurrentClaims(t *testing.T) {
	t.Parallel()
	e := mustQueueFixture(t)
	const annotators = 6
	var wg sync.WaitGroup
	got := make([][]string, annotators)
	errs := make([]error, annotators)
	for i := range annotators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q, err := e.LabelQueue(context.Background(), QueueRequest{Run: queueFixtureRun, Annotator: fmt.Sprintf("a%d", i), Limit: 2})
			if err == nil {
				got[i] = objectsOf(q)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for i, items := range got {
		if errs[i] != nil {
			t.Fatalf("annotator %d: %v", i, errs[i])
		}
		if len(items) != 2 {
			t.Errorf("annotator %d got %v, want 2 items", i, items)
		}
		for _, o := range items {
			seen[o]++
			if seen[o] > 1 {
				t.Errorf("%s handed out twice", o)
			}
		}
	}
	if len(seen) != 12 {
		t.Errorf("%d distinct items handed out, want all 12", len(seen))
	}
}

func TestEngine_LabelQueue_errors(t *testing.T) {
	t.Parallel()
	e := mustQueueFixture(t)
	tests := []struct {
		name string
		req  QueueRequest
		want Code
	}{
		{"strategy", QueueRequest{Run: queueFixtureRun, Strategy: "loudest"}, BadRequest},
		{"limit", QueueRequest{Run: queueFixtureRun, Limit: 5000}, BadRequest},
		{"unknown run", QueueRequest{Run: "nope"}, NotFound},
		{"no dataset", QueueRequest{}, BadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.LabelQueue(context.Background(), tc.req)
			if got := ErrorCode(err); got != tc.want {
				t.Errorf("code = %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}
