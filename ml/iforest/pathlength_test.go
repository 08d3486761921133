package iforest

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestAveragePathLength(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want float64
	}{
		{name: "zero", n: 0, want: 0},
		{name: "one", n: 1, want: 0},
		{name: "two", n: 2, want: 1},
		// 2·H(2) − 2·2/3 = 2·1.5 − 4/3.
		{name: "three", n: 3, want: 3 - 4.0/3},
		// 2·H(3) − 2·3/4 = 2·11/6 − 1.5.
		{name: "four", n: 4, want: 11.0/3 - 1.5},
		// 2·H(9) − 2·9/10 with H(9) = 7129/2520.
		{name: "ten", n: 10, want: 2*7129.0/2520 - 1.8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, AveragePathLength(tc.n), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("c(%d) (-want +got):\n%s", tc.n, diff)
			}
		})
	}
}

func TestAveragePathLength_paperFormula(t *testing.T) {
	// Liu et al. write H(i) ≈ ln(i) + γ, which falls short of the exact H(i)
	// by about 1/(2i); so the exact c(n) must exceed the paper's value by
	// about 2·1/(2(n−1)) = 1/(n−1), and no more.
	paper := func(n int) float64 {
		return 2*(math.Log(float64(n-1))+eulerGamma) - 2*float64(n-1)/float64(n)
	}
	tests := []struct {
		name string
		n    int
	}{
		{name: "psi_64", n: 64},
		{name: "psi_256", n: 256},
		{name: "n_10000", n: 10000},
		{name: "n_1e6", n: 1000000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, want := AveragePathLength(tc.n), paper(tc.n)
			gap, bound := got-want, 1/float64(tc.n-1)
			if gap < 0.9*bound || gap > bound {
				t.Errorf("c(%d) = %.9f, paper formula %.9f: gap %.3g, want just under 1/(n−1) = %.3g", tc.n, got, want, gap, bound)
			}
		})
	}
	// c(256) ≈ 10.2448 with the paper's approximation (the sklearn value).
	if got := paper(256); math.Abs(got-10.2448) > 1e-4 {
		t.Errorf("paper c(256) = %v", got)
	}
}

func TestHarmonic_expansionMatchesSum(t *testing.T) {
	// Just above the switch-over, the asymptotic expansion must agree with
	// the summed series.
	k := harmonicSumLimit + 1
	sum := 0.0
	for i := k; i >= 1; i-- {
		sum += 1 / float64(i)
	}
	if got := Harmonic(k); math.Abs(got-sum) > 1e-12 {
		t.Errorf("H(%d) = %.15f, series %.15f", k, got, sum)
	}
}
