package engine

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEngine_ephemerisBudget checks the count of ephemeris candidate
// pairs against a brute force over the run's periods, and what happens
// either side of the budget: the five ephemeris-match features are
// computed up to it and NULL above it, training records the skip in
// metrics.json and the model card, and scoring a run the model cannot
// match warns.
func TestEngine_ephemerisBudget(t *testing.T) {
	t.Parallel()
	mustXGBoost(t)
	e := MustOpenEngine(t)
	run := mustKOIRun(t, e, mustKOISubset(t, 10))
	ctx := context.Background()
	src, err := e.trainSource(ctx, TrainInput{})
	if err != nil {
		t.Fatal(err)
	}
	mm, err := e.modelMatrix(ctx, src.run, src.path, src.manifest, false)
	if err != nil {
		t.Fatal(err)
	}

	// Brute force: every (a, b, k) whose ln-periods differ by at most the
	// window is a candidate; no candidate differs by two buckets or more.
	var lnp []float64
	rows, err := e.db.QueryContext(ctx, "SELECT ln(koi_period) FROM read_parquet(?) WHERE koi_period > 0 AND coalesce(is_default, true)", e.abs(run.Path))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var x float64
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		lnp = append(lnp, x)
	}
	rows.Close()
	window, bucket := math.Log(1+1e-3), -1.01*math.Log1p(-1e-3)
	var inWindow, within2 int64
	for _, a := range lnp {
		for _, k := range []float64{1, 2, 0.5, 3, 1.0 / 3} {
			for _, b := range lnp {
				d := math.Abs(b - a - math.Log(k))
				if d <= window {
					inWindow++
				}
				if d < 2*bucket+1e-12 {
					within2++
				}
			}
		}
	}
	plan, err := e.planEphemeris(ctx, &mm)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Computed || mm.SkipEphemeris || plan.CandidatePairs < inWindow || plan.CandidatePairs > within2 || inWindow < int64(len(lnp)) {
		t.Fatalf("plan %+v over %d periods: want computed, %d <= pairs <= %d", plan, len(lnp), inWindow, within2)
	}

	ephem := []string{"ephem_match_score", "ephem_match_score_harmonic", "ephem_match_depth_ratio", "ephem_match_sep_arcsec", "ephem_matches"}
	present := func(mx *matrix, col string) int {
		j := slices.Index(mx.data.Features, col)
		if j < 0 {
			t.Fatalf("no feature %s", col)
		}
		n := 0
		for i := range mx.data.X.Rows {
			if !math.IsNaN(float64(mx.data.X.Data[i*mx.data.X.Cols+j])) {
				n++
			}
		}
		return n
	}
	// At the budget: matched.
	e.ephemerisBudget = plan.CandidatePairs
	mx, err := e.queryMatrix(ctx, mm, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !mx.ephemeris.Computed || present(mx, "ephem_match_score") == 0 || present(mx, "ephem_matches") != mx.data.X.Rows {
		t.Errorf("at the budget: %+v, %d scores, %d match counts of %d rows", mx.ephemeris, present(mx, "ephem_match_score"), present(mx, "ephem_matches"), mx.data.X.Rows)
	}
	// tce_excess is never missing: where the TCE number is (exactly where
	// the banned koi_tce_delivname is empty) it is 0, so its missing values
	// cannot pass that column on.
	noTCE := mustQueryInt(t, e, "SELECT count(*) FROM read_parquet(?) WHERE koi_tce_plnt_num IS NULL AND koi_disposition IN ('CONFIRMED', 'FALSE POSITIVE') AND coalesce(is_default, true)", e.abs(run.Path))
	if noTCE == 0 || present(mx, "tce_excess") != mx.data.X.Rows {
		t.Errorf("tce_excess present in %d of %d rows (%d of them without a TCE number; the subset must hold some)", present(mx, "tce_excess"), mx.data.X.Rows, noTCE)
	}
	withPairs, err := e.Train(ctx, TrainInput{Target: TargetConfirmedVsFP})
	if err != nil {
		t.Fatal(err)
	}

	// One pair over it: every ephemeris feature missing, the others not.
	e.ephemerisBudget = plan.CandidatePairs - 1
	mx, err = e.queryMatrix(ctx, mm, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ephem {
		if n := present(mx, c); n != 0 {
			t.Errorf("over the budget, %s is present in %d rows", c, n)
		}
	}
	if mx.ephemeris.Computed || mx.ephemeris.CandidatePairs != plan.CandidatePairs || present(mx, "tce_excess") == 0 {
		t.Errorf("over the budget: %+v, tce_excess in %d rows", mx.ephemeris, present(mx, "tce_excess"))
	}
	var steps []string
	without, err := e.Train(ctx, TrainInput{Target: TargetConfirmedVsFP, Progress: func(_ float64, msg string) { steps = append(steps, msg) }})
	if err != nil {
		t.Fatal(err)
	}
	var m ModelMetrics
	mustReadJSON(t, filepath.Join(without.ArtifactDir, ModelMetricsFile), &m)
	if m.Ephemeris == nil || m.Ephemeris.Computed || m.Ephemeris.CandidatePairs != plan.CandidatePairs || m.Ephemeris.Budget != plan.CandidatePairs-1 {
		t.Errorf("metrics.json ephemeris_matching = %+v", m.Ephemeris)
	}
	if card := mustReadString(t, filepath.Join(without.ArtifactDir, ModelCardFile)); !strings.Contains(card, "Ephemeris matching was skipped") {
		t.Errorf("the model card does not say the matching was skipped")
	}
	if !slices.ContainsFunc(steps, func(s string) bool { return strings.HasPrefix(s, "ephemeris matching skipped") }) {
		t.Errorf("progress steps = %q", steps)
	}
	// Scoring with the model trained on the matches warns; with the
	// model trained without them it does not.
	res, err := e.ScoreRun(ctx, ScoreInput{Run: run.RunID, Model: withPairs.Model + "/" + withPairs.Version})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Warning, "Ephemeris matching was skipped") {
		t.Errorf("score warning = %q", res.Warning)
	}
	if res, err = e.ScoreRun(ctx, ScoreInput{Run: run.RunID, Model: without.Model + "/" + without.Version}); err != nil || res.Warning != "" {
		t.Errorf("score without pairs: %+v, %v", res, err)
	}
	mustReadJSON(t, filepath.Join(withPairs.ArtifactDir, ModelMetricsFile), &m)
	if m.Ephemeris == nil || !m.Ephemeris.Computed || m.Ephemeris.Budget != plan.CandidatePairs {
		t.Errorf("with pairs: ephemeris_matching = %+v", m.Ephemeris)
	}
}
