package anomaly

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gonum.org/v1/gonum/mat"
)

// TestDetect: a Gaussian cloud of 500 points with five planted far
// outliers; both detectors and the combination put the five on top.
func TestDetect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, cols = 505, 4
	x := mat.NewDense(n, cols, nil)
	known := make([]bool, n)
	for i := range n {
		for j := range cols {
			v := rng.NormFloat64()
			if i >= 500 {
				v = 8 + float64(i-500)
				known[i] = true
			}
			x.Set(i, j, v)
		}
	}
	x.Set(3, 1, math.NaN()) // imputed, not an error
	s, err := Detect(context.Background(), x, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	for name, sc := range map[string][]float64{"iforest": s.IForest, "lof": s.LOF, "combined": s.Combined} {
		r, err := RecallAtK(sc, known, 5)
		if err != nil || r != 1 {
			t.Errorf("%s: recall@5 = %v, %v", name, r, err)
		}
	}
	for i, c := range s.Combined {
		if c < 0 || c > 1 {
			t.Fatalf("combined[%d] = %v", i, c)
		}
	}
}

// TestRobustScale: (x − median) / IQR, compressed by sign·ln(1+|z|); NaN
// is kept and left out of the statistics.
func TestRobustScale(t *testing.T) {
	x := mat.NewDense(6, 1, []float64{0, math.NaN(), 1, 2, 3, 4})
	got := RobustScale(x)
	want := []float64{-math.Ln2, math.NaN(), -math.Log(1.5), 0, math.Log(1.5), math.Ln2}
	for i, w := range want {
		if g := got.At(i, 0); !(math.Abs(g-w) < 1e-12 || (math.IsNaN(g) && math.IsNaN(w))) {
			t.Errorf("row %d: %v, want %v", i, g, w)
		}
	}
}

func TestCombine(t *testing.T) {
	tests := []struct {
		name      string
		iforest   float64
		lof, want float64
	}{
		{"both normal", 0.4, 0.9, 0.4},
		{"lof at 2", 0.3, 2, 0.5},
		{"iforest wins", 0.7, 1.5, 0.7},
		{"infinite lof", 0.3, math.Inf(1), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Combine(tc.iforest, tc.lof); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("Combine(%v, %v) = %v, want %v", tc.iforest, tc.lof, got, tc.want)
			}
		})
	}
}

func TestRecallAtK(t *testing.T) {
	scores := []float64{0.9, 0.1, math.NaN(), 0.8, 0.8}
	known := []bool{false, true, false, true, true}
	if diff := cmp.Diff([]int{0, 3, 4, 1, 2}, Ranking(scores)); diff != "" {
		t.Errorf("ranking (-want +got):\n%s", diff)
	}
	for k, want := range map[int]float64{1: 0, 2: 1.0 / 3, 3: 2.0 / 3, 4: 1, 10: 1} {
		if got, err := RecallAtK(scores, known, k); err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("recall@%d = %v, %v; want %v", k, got, err, want)
		}
	}
	// Ties count against the detector: a constant score finds nothing.
	if got, _ := RecallAtK([]float64{1, 1, 1, 1}, []bool{true, false, false, false}, 3); got != 0 {
		t.Errorf("constant scores: recall@3 = %v, want 0", got)
	}
	if _, err := RecallAtK(scores, make([]bool, 5), 2); !errors.Is(err, ErrInput) {
		t.Errorf("no known anomaly: err = %v", err)
	}
}

func TestRankingAgainst(t *testing.T) {
	// A known row tied with an unknown one ranks after it; NaN stays last.
	scores := []float64{0.5, 0.5, 0.4, math.NaN(), 0.9}
	known := []bool{true, false, false, true, false}
	if got, want := RankingAgainst(scores, known), []int{4, 1, 0, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("RankingAgainst = %v, want %v", got, want)
	}
	if got, want := Ranking(scores), []int{4, 0, 1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("Ranking = %v, want %v (stable: ties keep row order)", got, want)
	}
}
