package engine

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/exohunter/exohunter/engine/spec"
)

// TestRun_blamesConfigValue: a metric whose SQL passes the config check but
// fails on real values (the square root of a negative) names its YAML line
// and entry as a config error (422), not an internal one; a rule likewise.
// The datasets stay.
func TestRun_blamesConfigValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name, file, old, new, want string
	}{
		{"metric", spec.MetricsFile,
			"THEN koi_prad / (109.076 * koi_srad) END", "THEN sqrt(koi_prad - 5) / (109.076 * koi_srad) END",
			fmt.Sprintf("%s:%d:", spec.MetricsFile, ConfigLine(t, spec.MetricsFile, "THEN koi_prad / (109.076 * koi_srad) END"))},
		{"metric cast", spec.MetricsFile,
			"THEN koi_prad / (109.076 * koi_srad) END", "THEN CAST(koi_disposition AS DOUBLE) END",
			fmt.Sprintf("%s:%d:", spec.MetricsFile, ConfigLine(t, spec.MetricsFile, "THEN koi_prad / (109.076 * koi_srad) END"))},
		{"rule", spec.RulesFile,
			"when: koi_prad <= 0", "when: ln(koi_period - 10) > 1",
			fmt.Sprintf("%s:%d:", spec.RulesFile, ConfigLine(t, spec.RulesFile, "when: koi_prad <= 0"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fsys := configFS(t)
			f := fsys[tc.file]
			if !strings.Contains(string(f.Data), tc.old) {
				t.Fatalf("%s has no %q", tc.file, tc.old)
			}
			f.Data = []byte(strings.Replace(string(f.Data), tc.old, tc.new, 1))
			e := MustOpenEngine(t, func(o *Options) { o.Config = fsys })
			MustIngest(t, e, IngestInput{Path: koiSmall, Name: "koi"})
			_, err := e.Process(ctx, ProcessInput{Dataset: "koi"})
			if ErrorCode(err) != Invalid {
				t.Fatalf("Process = %v (%s), want an invalid_config error", err, ErrorCode(err))
			}
			msg := ErrorMessage(err)
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "Error: ") {
				t.Errorf("message %q does not name %s and DuckDB's reason", msg, tc.want)
			}
			if _, err := e.Dataset(ctx, "koi"); err != nil {
				t.Errorf("the dataset is gone after the failed run: %v", err)
			}
		})
	}
}

// TestBuildFeatures_blamesFeature: a derived feature that fails on the
// run's values is named in a config error (422), and no version is written.
func TestBuildFeatures_blamesFeature(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := "sql: CASE WHEN koi_period > 0 THEN (abs(koi_period_err1) + abs(koi_period_err2)) / 2 / koi_period END"
	fsys := configFS(t)
	f := fsys[spec.FeaturesFile]
	if !strings.Contains(string(f.Data), old) {
		t.Fatalf("%s has no %q", spec.FeaturesFile, old)
	}
	f.Data = []byte(strings.Replace(string(f.Data), old, "sql: ln(koi_period - 10)", 1))
	e := MustOpenEngine(t, func(o *Options) { o.Config = fsys })
	MustIngest(t, e, IngestInput{Path: koiSmall, Name: "koi"})
	if _, err := e.Process(ctx, ProcessInput{Dataset: "koi"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.BuildFeatures(ctx, FeatureBuildInput{Version: "v1"})
	if ErrorCode(err) != Invalid {
		t.Fatalf("BuildFeatures = %v (%s), want an invalid_config error", err, ErrorCode(err))
	}
	if msg := ErrorMessage(err); !strings.Contains(msg, "Feature rel_err_period of "+spec.FeaturesFile) || !strings.Contains(msg, "logarithm") {
		t.Errorf("message %q does not name the feature and DuckDB's reason", msg)
	}
	if _, err := e.FeatureSet(ctx, "v1"); ErrorCode(err) != NotFound {
		t.Errorf("FeatureSet(v1) after the failed build = %v, want not found", err)
	}
}

// TestRun_missionRenamed: a dataset ingested under a mission that the
// config no longer defines gets a config error that says so, not ingest's
// advice to leave the mission out.
func TestRun_missionRenamed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := MustTempDir(t)
	e := MustOpenEngineWith(t, Options{DataDir: dir, Config: os.DirFS(repoRoot)})
	MustIngest(t, e, IngestInput{Path: koiSmall, Name: "koi"})
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	fsys := configFS(t)
	f := fsys[spec.ColumnsFile]
	text := strings.Replace(string(f.Data), "  - name: koi\n", "  - name: kepler\n", 1)
	f.Data = []byte(strings.ReplaceAll(text, "      koi: [", "      kepler: ["))
	e = MustOpenEngineWith(t, Options{DataDir: dir, Config: fsys})
	_, err := e.Process(ctx, ProcessInput{Dataset: "koi"})
	if ErrorCode(err) != Invalid || !strings.Contains(ErrorMessage(err), `ingested as mission "koi", which schemas/columns.yaml no longer defines`) {
		t.Errorf("Process = %v (%s), want a config error about the mission", err, ErrorCode(err))
	}
	if _, err := e.Dataset(ctx, "koi"); err != nil {
		t.Errorf("the dataset is gone: %v", err)
	}
}

// TestBlameRunError_cancelled: a search cut short by its context blames
// nothing; each of its probes would fail with "context canceled", which a
// bisection reads as the SQL failing and pins on an innocent element.
// Not parallel: it sets blameProbeHook.
func TestBlameRunError_cancelled(t *testing.T) {
	fsys := configFS(t)
	f := fsys[spec.MetricsFile]
	old := "THEN koi_prad / (109.076 * koi_srad) END"
	f.Data = []byte(strings.Replace(string(f.Data), old, "THEN sqrt(koi_prad - 5) / (109.076 * koi_srad) END", 1))
	e := MustOpenEngine(t, func(o *Options) { o.Config = fsys })
	MustIngest(t, e, IngestInput{Path: koiSmall, Name: "koi"})
	ds, err := e.Dataset(context.Background(), "koi")
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.mapColumns(ds.Columns, IngestInput{Mission: ds.Mission, Units: ds.Units})
	if err != nil {
		t.Fatal(err)
	}
	if se, err := blameRunError(context.Background(), e.db, e.bundle, ds.Name, m); se == nil || err != nil {
		t.Fatalf("blameRunError = %v, %v; want the radius_ratio metric", se, err)
	}
	// note: cancelled after the first probe (the file alone, which
	// passes), so that the bisection's probes all fail.
	for _, after := range []int{1, 2, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		probes := 0
		blameProbeHook = func() {
			if probes++; probes > after {
				cancel()
			}
		}
		se, err := blameRunError(ctx, e.db, e.bundle, ds.Name, m)
		blameProbeHook = nil
		cancel()
		if se != nil {
			t.Errorf("a search cancelled after %d probes blamed %v (err %v); want nothing", after, se, err)
		}
	}
}
