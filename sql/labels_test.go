package sqltmpl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// storeGoldens is where the labels, queue and feature-store goldens live
// (testdata/ holds one pipeline case per folder, read by TestRender).
const storeGoldens = "testdata_store"

// TestRenderStore renders the label, queue and feature-store statements
// and compares each with testdata_store/<case>/want.sql (-update rewrites
// them). The engine tests run the same SQL on DuckDB.
func TestRenderStore(t *testing.T) {
	t.Parallel()
	b := MustLoadBundle(t)
	now := time.Date(2025, 11, 26, 12, 0, 0, 0, time.UTC)
	classes := []sqltmpl.LabelClass{{Label: "confirmed_planet", Class: spec.Confirmed}, {Label: "candidate", Class: spec.Candidate}}
	imp := sqltmpl.LabelImport{Dataset: "koi", From: sqltmpl.QualifiedIdent{Schema: "normalized", Name: "koi"},
		RunID: "koi-run", RunPath: "/data/runs/koi-run.parquet", Annotator: "importer", Note: "it's a note", Now: now}
	queue := sqltmpl.QueueInput{Dataset: "koi", RunID: "koi-run", RunPath: "/data/runs/koi-run.parquet",
		Config: b.LabelingConfig(), Strategy: spec.StrategyPriority, Limit: 50, Annotator: "alice", Now: now}
	scored := queue
	scored.Strategy, scored.Seed, scored.Annotator, scored.RunAnomaly = spec.StrategyRandom, "s1", "", true
	scored.Scores = &sqltmpl.ScoresRelation{Name: sqltmpl.QualifiedIdent{Schema: "meta", Name: "scores"}, PModel: true, CreatedAt: true}
	params := map[string]sqltmpl.FeatureParams{}
	one := 1.5
	for _, f := range b.FeaturesConfig().All() {
		params[f.Name] = sqltmpl.FeatureParams{Impute: &one, Mean: 2, Std: 4}
	}
	feat := sqltmpl.FeatureInput{RunPath: "/data/runs/koi-run.parquet", Spec: b.FeaturesConfig(), Params: params, Path: "/fs/.build-v1/features.parquet"}
	tests := []struct {
		name   string
		render func() (string, error)
	}{
		{"label_views", func() (string, error) {
			s, err := sqltmpl.LabelViews(classes)
			return strings.Join(s, "\n"), err
		}},
		{"label_import_nasa", func() (string, error) { return sqltmpl.ImportNASALabels(imp) }},
		{"label_import_run", func() (string, error) { return sqltmpl.ImportRunLabels(imp) }},
		{"label_pairs", func() (string, error) {
			return sqltmpl.LabelPairs("koi", []sqltmpl.SourcePair{{A: "human", B: "nasa"}, {A: "heuristic", B: "nasa"}})
		}},
		{"label_disagreements", func() (string, error) { return sqltmpl.LabelDisagreements("", 100) }},
		{"label_queue_claim", func() (string, error) { return sqltmpl.LabelQueue(queue) }},
		{"label_queue_scores_random", func() (string, error) { return sqltmpl.LabelQueue(scored) }},
		{"features_stats", func() (string, error) { return sqltmpl.FeatureStats(feat) }},
		{"features_stats_batched", func() (string, error) {
			f := feat
			f.Medians = []string{b.FeaturesConfig().All()[1].Name}
			return sqltmpl.FeatureStats(f)
		}},
		{"features_medians", func() (string, error) {
			all := b.FeaturesConfig().All()
			return sqltmpl.FeatureMedians(feat, []string{all[2].Name, all[3].Name})
		}},
		{"features_copy", func() (string, error) { return sqltmpl.FeatureCopy(feat) }},
		{"features_all_missing", func() (string, error) {
			return sqltmpl.FeatureAllMissing(feat, []string{"depth_consistency", "koi_impact"})
		}},
		{"unreadable_numbers", func() (string, error) { return sqltmpl.UnreadableNumbers("koi", []string{"koi_prad", "koi_teq"}) }},
		{"features_hash", func() (string, error) { return sqltmpl.FeatureHash("/fs/.build-v1/features.parquet") }},
		{"matrix_copy_unordered", func() (string, error) {
			mm := sqltmpl.ModelMatrix{Dataset: "koi", RunPath: "/data/runs/koi-run.parquet", FeaturesPath: "/fs/v1/features.parquet",
				RunColumns: []string{"row_id", "object_id", "star_id", "koi_period", "koi_time0bk", "koi_duration", "koi_depth", "ra", "dec"},
				FeatureSet: []string{"koi_period", "duration_ratio"}, SkipEphemeris: true, Scoring: true, CopyTo: "/data/tmp/.matrix-1.parquet"}
			return mm.Render()
		}},
		{"scores_write", func() (string, error) {
			w := sqltmpl.ScoresWrite{RunID: "koi-run", RunPath: "/data/runs/koi-run.parquet", Values: "/data/tmp/.scores-1.csv",
				Names: []string{"anomaly_score_iforest", "anomaly_score"}, Constants: map[string]string{"anomaly_features": "v1"}, Now: now}
			s, err := w.Render()
			return strings.Join(s, "\n"), err
		}},
		{"matrix_batch", func() (string, error) { return sqltmpl.MatrixBatch("/data/tmp/.matrix-1.parquet", 50000, 99999) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.render()
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(storeGoldens, tc.name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join(dir, "want.sql"), got)
		})
	}
}

// MustLoadBundle loads the repository's configs and schemas.
func MustLoadBundle(tb testing.TB) *spec.Bundle {
	tb.Helper()
	b, err := spec.Load(os.DirFS(".."))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
