package iforest

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// gaussian returns n rows of d standard-normal features.
func gaussian(n, d int, seed uint64) *mat.Dense {
	r := rand.New(rand.NewPCG(seed, 1))
	x := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			x.Set(i, j, r.NormFloat64())
		}
	}
	return x
}

func mustFitScore(tb testing.TB, x mat.Matrix, p Params) []float64 {
	tb.Helper()
	s, err := FitScore(x, p)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestScore_clearOutlierHighest(t *testing.T) {
	x := gaussian(500, 3, 1)
	x.SetRow(137, []float64{7, -7, 7})
	s := mustFitScore(t, x, DefaultParams())
	if top := floats.MaxIdx(s); top != 137 {
		t.Fatalf("highest score at row %d (%.3f), want the outlier at 137 (%.3f)", top, s[top], s[137])
	}
	if s[137] < 0.7 {
		t.Errorf("outlier score %.3f, want > 0.7", s[137])
	}
	inliers := slices.Delete(slices.Clone(s), 137, 138)
	if m := stat.Mean(inliers, nil); m > 0.5 {
		t.Errorf("mean inlier score %.3f, want < 0.5", m)
	}
}

func TestScore_uniformNearHalf(t *testing.T) {
	// Uniform data has no distinct anomaly: scores cluster around 0.5
	// (measured: mean 0.50–0.51, sd about 0.03, max below 0.68).
	r := rand.New(rand.NewPCG(2, 1))
	x := mat.NewDense(1000, 2, nil)
	for i := range 1000 {
		x.SetRow(i, []float64{r.Float64(), r.Float64()})
	}
	s := mustFitScore(t, x, DefaultParams())
	if m := stat.Mean(s, nil); math.Abs(m-0.5) > 0.03 {
		t.Errorf("mean score %.3f, want 0.5 ± 0.03", m)
	}
	if mx := floats.Max(s); mx > 0.7 {
		t.Errorf("max score %.3f, want < 0.7 for uniform data", mx)
	}
}

func TestScore_identicalRowsExactlyHalf(t *testing.T) {
	// No split can separate identical rows, so every tree is one leaf of ψ
	// points: h = c(ψ) and s = 2^-1 exactly.
	x := mat.NewDense(300, 2, nil)
	x.Apply(func(_, _ int, _ float64) float64 { return 4.2 }, x)
	for i, v := range mustFitScore(t, x, DefaultParams()) {
		if math.Abs(v-0.5) > 1e-12 {
			t.Fatalf("row %d: score %v, want 0.5", i, v)
		}
	}
}

func TestScore_deterministic(t *testing.T) {
	x := gaussian(400, 4, 3)
	a := mustFitScore(t, x, DefaultParams())
	b := mustFitScore(t, x, DefaultParams())
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different scores (-first +second):\n%s", diff)
	}
	p := DefaultParams()
	p.Seed = 7
	if c := mustFitScore(t, x, p); cmp.Equal(a, c) {
		t.Error("seed 7 gave the same scores as seed 1337")
	}
}

func TestScore_missingIsMedian(t *testing.T) {
	x := gaussian(300, 2, 4)
	x.Set(10, 1, math.NaN())
	f, err := Fit(x, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	med := f.medians[1]
	got := f.ScoreRow([]float64{0.3, math.NaN()})
	if want := f.ScoreRow([]float64{0.3, med}); got != want {
		t.Errorf("NaN scored %v, the median %v scored %v", got, med, want)
	}
	s, err := f.Score(x)
	if err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(s[10]) {
		t.Error("row with NaN scored NaN")
	}
}

func TestFit_smallData(t *testing.T) {
	// Fewer rows than ψ: the forest uses every row and c(n) for ψ = n.
	f, err := Fit(gaussian(20, 2, 5), DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if f.SampleSize() != 20 {
		t.Errorf("ψ = %d, want 20", f.SampleSize())
	}
}

func TestFit_errors(t *testing.T) {
	inf := gaussian(10, 2, 6)
	inf.Set(3, 0, math.Inf(1))
	tests := []struct {
		name string
		x    mat.Matrix
		p    Params
	}{
		{name: "one_row", x: mat.NewDense(1, 2, nil), p: DefaultParams()},
		{name: "infinite", x: inf, p: DefaultParams()},
		{name: "no_trees", x: gaussian(10, 2, 6), p: Params{SampleSize: 256}},
		{name: "sample_one", x: gaussian(10, 2, 6), p: Params{NTrees: 10, SampleSize: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Fit(tc.x, tc.p); !errors.Is(err, ErrInput) {
				t.Errorf("err = %v, want ErrInput", err)
			}
		})
	}
	f, err := Fit(gaussian(10, 2, 6), DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Score(mat.NewDense(2, 3, nil)); !errors.Is(err, ErrInput) {
		t.Errorf("Score with 3 columns: err = %v, want ErrInput", err)
	}
}

func TestFitScoreContext_cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := FitScoreContext(ctx, gaussian(10000, 4, 8), DefaultParams()); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
