package lof

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

var approx = cmpopts.EquateApprox(0, 1e-12)

func mustCompute(tb testing.TB, x mat.Matrix, p Params) *Result {
	tb.Helper()
	r, err := Compute(x, p)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestCompute_textbook(t *testing.T) {
	// a(0,0) b(0,1) c(1,1) d(3,0), k = 2, raw Euclidean distances.
	// Pairwise: ab 1, ac √2, ad 3, bc 1, bd √10, cd √5.
	// k-distance: a √2 (b, c), b 1 (a, c), c √2 (b, a), d 3 (c, a).
	// reach sums: a 1+√2, b 2√2, c 1+√2, d √5+3
	//   → lrd a = c = 2/(1+√2) = 2(√2−1), b = 1/√2, d = 2/(3+√5) = (3−√5)/2.
	// LOF a = c = (lrd b + lrd c)/2 / lrd a, b = lrd a / lrd b = 4 − 2√2,
	//     d = lrd a / lrd d = 4(√2−1)/(3−√5) ≈ 2.169.
	x := mat.NewDense(4, 2, []float64{0, 0, 0, 1, 1, 1, 3, 0})
	r := mustCompute(t, x, Params{K: 2})
	s2, s5 := math.Sqrt2, math.Sqrt(5)
	lrdA, lrdB, lrdD := 2*(s2-1), 1/s2, (3-s5)/2
	lofA := (lrdB + lrdA) / 2 / lrdA
	want := &Result{
		K:         2,
		KDistance: []float64{s2, 1, s2, 3},
		LRD:       []float64{lrdA, lrdB, lrdA, lrdD},
		LOF:       []float64{lofA, 4 - 2*s2, lofA, 4 * (s2 - 1) / (3 - s5)},
	}
	if diff := cmp.Diff(want, r, approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCompute_tiesWidenNeighbourhood(t *testing.T) {
	// The corners of a unit square with k = 1: each corner has two
	// neighbours at distance 1, and both belong to N_1 (the paper's
	// definition). Everything is symmetric, so every LOF is exactly 1.
	x := mat.NewDense(4, 2, []float64{0, 0, 0, 1, 1, 0, 1, 1})
	r := mustCompute(t, x, Params{K: 1})
	want := &Result{K: 1, KDistance: []float64{1, 1, 1, 1}, LRD: []float64{1, 1, 1, 1}, LOF: []float64{1, 1, 1, 1}}
	if diff := cmp.Diff(want, r, approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func gaussian(n, d int, seed uint64) *mat.Dense {
	r := rand.New(rand.NewPCG(seed, 3))
	x := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			x.Set(i, j, r.NormFloat64())
		}
	}
	return x
}

func TestCompute_outlier(t *testing.T) {
	x := gaussian(400, 2, 1)
	x.SetRow(250, []float64{8, 8})
	lof := mustCompute(t, x, DefaultParams()).LOF
	if top := floats.MaxIdx(lof); top != 250 || lof[250] < 3 {
		t.Fatalf("max LOF %.2f at row %d; outlier at 250 has %.2f, want the max and > 3", lof[top], top, lof[250])
	}
	inliers := slices.Delete(slices.Clone(lof), 250, 251)
	sort.Float64s(inliers)
	if med := stat.Quantile(0.5, stat.Empirical, inliers, nil); math.Abs(med-1) > 0.1 {
		t.Errorf("median inlier LOF %.3f, want ≈ 1", med)
	}
}

func TestCompute_duplicates(t *testing.T) {
	// 60 copies of the origin inside a Gaussian cloud: more than k
	// duplicates would make lrd infinite without merging them.
	x := gaussian(300, 2, 2)
	for i := range 60 {
		x.SetRow(i, []float64{0, 0})
	}
	r := mustCompute(t, x, Params{K: 10, Standardize: true})
	for i, v := range r.LOF {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.IsInf(r.LRD[i], 0) {
			t.Fatalf("row %d: LOF %v, LRD %v", i, v, r.LRD[i])
		}
	}
	for i := 1; i < 60; i++ {
		if r.LOF[i] != r.LOF[0] {
			t.Fatalf("copy %d has LOF %v, copy 0 %v", i, r.LOF[i], r.LOF[0])
		}
	}
	// The cloud around the duplicates stays unremarkable.
	if mx := floats.Max(r.LOF[60:]); mx > 5 {
		t.Errorf("max LOF of the cloud %.2f: duplicates inflated their neighbours", mx)
	}
}

func TestCompute_allIdentical(t *testing.T) {
	x := mat.NewDense(5, 2, []float64{1, 2, 1, 2, 1, 2, 1, 2, 1, 2})
	r := mustCompute(t, x, DefaultParams())
	if diff := cmp.Diff([]float64{1, 1, 1, 1, 1}, r.LOF); diff != "" {
		t.Errorf("LOF (-want +got):\n%s", diff)
	}
}

func TestCompute_matchesDefinition(t *testing.T) {
	// Integer coordinates make many exact ties and duplicates; the fast
	// path must agree with a direct transcription of the definitions.
	tests := []struct {
		name string
		k    int
		seed uint64
	}{
		{name: "k1", k: 1, seed: 1},
		{name: "k3", k: 3, seed: 2},
		{name: "k7", k: 7, seed: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(tc.seed, 9))
			x := mat.NewDense(80, 3, nil)
			x.Apply(func(_, _ int, _ float64) float64 { return float64(r.IntN(5)) }, x)
			got := mustCompute(t, x, Params{K: tc.k, Workers: 3}).LOF
			if diff := cmp.Diff(naiveLOF(x, tc.k), got, approx); diff != "" {
				t.Errorf("(-definition +fast):\n%s", diff)
			}
		})
	}
}

// naiveLOF transcribes the definitions over distinct locations, sorting all
// distances for every point.
func naiveLOF(x *mat.Dense, k int) []float64 {
	n, _ := x.Dims()
	var locs [][]float64
	of := make([]int, n)
	for i := range n {
		row := mat.Row(nil, i, x)
		of[i] = slices.IndexFunc(locs, func(l []float64) bool { return slices.Equal(l, row) })
		if of[i] < 0 {
			of[i] = len(locs)
			locs = append(locs, row)
		}
	}
	d := func(p, q int) float64 { return floats.Distance(locs[p], locs[q], 2) }
	m := len(locs)
	kdist := make([]float64, m)
	hoods := make([][]int, m)
	for p := range m {
		var ds []float64
		for q := range m {
			if q != p {
				ds = append(ds, d(p, q))
			}
		}
		sort.Float64s(ds)
		kdist[p] = ds[k-1]
		for q := range m {
			if q != p && d(p, q) <= kdist[p] {
				hoods[p] = append(hoods[p], q)
			}
		}
	}
	lrd := make([]float64, m)
	for p := range m {
		sum := 0.0
		for _, o := range hoods[p] {
			sum += math.Max(kdist[o], d(p, o))
		}
		lrd[p] = float64(len(hoods[p])) / sum
	}
	out := make([]float64, n)
	for i := range n {
		p, sum := of[i], 0.0
		for _, o := range hoods[p] {
			sum += lrd[o]
		}
		out[i] = sum / float64(len(hoods[p])) / lrd[p]
	}
	return out
}

func TestCompute_standardizeIgnoresUnits(t *testing.T) {
	// The same data with one column in units 1000× smaller must score
	// the same once standardised.
	x := gaussian(200, 2, 4)
	y := mat.DenseCopyOf(x)
	for i := range 200 {
		y.Set(i, 1, y.At(i, 1)*1000)
	}
	a := mustCompute(t, x, DefaultParams()).LOF
	b := mustCompute(t, y, DefaultParams()).LOF
	if diff := cmp.Diff(a, b, cmpopts.EquateApprox(1e-9, 0)); diff != "" {
		t.Errorf("(-original +rescaled):\n%s", diff)
	}
}

func TestCompute_missingAndWorkers(t *testing.T) {
	x := gaussian(150, 3, 5)
	x.Set(7, 2, math.NaN())
	one := mustCompute(t, x, Params{K: 5, Standardize: true, Workers: 1})
	four := mustCompute(t, x, Params{K: 5, Standardize: true, Workers: 4})
	if diff := cmp.Diff(one, four); diff != "" {
		t.Errorf("Workers changed the result (-1 +4):\n%s", diff)
	}
	if math.IsNaN(one.LOF[7]) {
		t.Error("row with NaN scored NaN")
	}
}

func TestCompute_errors(t *testing.T) {
	inf := gaussian(10, 2, 6)
	inf.Set(1, 1, math.Inf(-1))
	tests := []struct {
		name string
		x    mat.Matrix
		k    int
	}{
		{name: "k_zero", x: gaussian(10, 2, 6), k: 0},
		{name: "one_row", x: mat.NewDense(1, 2, nil), k: 1},
		{name: "infinite", x: inf, k: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Compute(tc.x, Params{K: tc.k}); !errors.Is(err, ErrInput) {
				t.Errorf("err = %v, want ErrInput", err)
			}
		})
	}
}

func BenchmarkScore10k(b *testing.B) {
	x := gaussian(10000, 12, 7)
	for b.Loop() {
		if _, err := Score(x, DefaultParams()); err != nil {
			b.Fatal(err)
		}
	}
}
