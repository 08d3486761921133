package lof

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gonum.org/v1/gonum/mat"
)

// locations returns the distinct rows of x, as Compute passes them on.
func locations(tb testing.TB, x mat.Matrix) [][]float64 {
	tb.Helper()
	rows, err := prepare(x, false)
	if err != nil {
		tb.Fatal(err)
	}
	locs, _ := dedupe(rows)
	return locs
}

// grid is n points with integer coordinates in [0, side): every distance
// recurs many times, so neighbourhoods are full of ties.
func grid(n, d, side int, seed uint64) *mat.Dense {
	r := rand.New(rand.NewPCG(seed, 9))
	x := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			x.Set(i, j, float64(r.IntN(side)))
		}
	}
	return x
}

// skewed has a dense core, a long tail and one coordinate that takes a
// single value for most rows, like an imputed catalog column.
func skewed(n int, seed uint64) *mat.Dense {
	r := rand.New(rand.NewPCG(seed, 11))
	x := mat.NewDense(n, 4, nil)
	for i := range n {
		x.Set(i, 0, r.NormFloat64())
		x.Set(i, 1, r.ExpFloat64()*r.ExpFloat64())
		x.Set(i, 2, 0.5)
		if r.IntN(5) == 0 {
			x.Set(i, 2, r.Float64())
		}
		x.Set(i, 3, float64(r.IntN(1000))/1000)
	}
	return x
}

func TestSearch_treeMatchesScan(t *testing.T) {
	tests := []struct {
		name string
		x    mat.Matrix
		k    int
	}{
		{name: "gaussian_4d", x: gaussian(3000, 4, 21), k: 50},
		{name: "gaussian_1d", x: gaussian(2000, 1, 22), k: 20},
		{name: "gaussian_8d_k1", x: gaussian(1500, 8, 23), k: 1},
		{name: "grid_ties_2d", x: grid(3000, 2, 40, 24), k: 10},
		{name: "grid_ties_4d", x: grid(3000, 4, 6, 25), k: 30},
		{name: "skewed_4d", x: skewed(4000, 26), k: 50},
		{name: "below_one_leaf", x: gaussian(kdLeaf, 3, 27), k: 5},
		{name: "k_all_but_one", x: gaussian(200, 2, 28), k: 199},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			locs := locations(t, tc.x)
			scan, err := search(context.Background(), locs, tc.k, 2, false)
			if err != nil {
				t.Fatal(err)
			}
			tree, err := search(context.Background(), locs, tc.k, 2, true)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(scan, tree, cmp.AllowUnexported(hood{})); diff != "" {
				t.Errorf("tree neighbourhoods differ from the scan's (-scan +tree):\n%s", diff)
			}
			ties := 0
			for _, h := range scan {
				ties += len(h.idx) - tc.k
			}
			t.Logf("%d locations, %d neighbours beyond k through ties", len(locs), ties)
		})
	}
}

func TestSelectNth(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for trial := range 200 {
		n := 1 + r.IntN(60)
		flat := make([]float64, n)
		for i := range flat {
			flat[i] = float64(r.IntN(1 + trial%7)) // many equal values
		}
		tr := &kdtree{flat: flat, cols: 1}
		locs := make([]int32, n)
		for i := range locs {
			locs[i] = int32(i)
		}
		nth := r.IntN(n)
		tr.selectNth(locs, nth, 0)
		pivot := flat[locs[nth]]
		for i, l := range locs {
			if (i < nth && flat[l] > pivot) || (i > nth && flat[l] < pivot) {
				t.Fatalf("trial %d: position %d holds %v around the %d-th value %v: %v", trial, i, flat[l], nth, pivot, locs)
			}
		}
	}
}

func BenchmarkNeighbours(b *testing.B) {
	for _, d := range []int{4, 6, 8} {
		locs := locations(b, gaussian(20000, d, 31))
		for _, tree := range []bool{true, false} {
			b.Run(fmt.Sprintf("dims=%d/tree=%v", d, tree), func(b *testing.B) {
				for b.Loop() {
					if _, err := search(context.Background(), locs, 50, 2, tree); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func TestComputeContext_cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ComputeContext(ctx, gaussian(20000, 4, 41), DefaultParams()); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
