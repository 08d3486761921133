package split

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// catalog imitates a KOI table: stars with one to seven objects (most with
// one), and labels correlated within a star (multi-planet systems are
// mostly confirmed), which is what makes grouped stratification hard.
func catalog(stars, classes int, seed uint64) (y []int, groups []string) {
	r := rand.New(rand.NewPCG(seed, 5))
	for s := range stars {
		n := 1
		for n < 7 && r.Float64() < 0.25 {
			n++
		}
		base := r.IntN(classes)
		for range n {
			c := base
			if r.Float64() < 0.3 {
				c = r.IntN(classes)
			}
			y = append(y, c)
			groups = append(groups, fmt.Sprintf("star-%05d", s))
		}
	}
	return y, groups
}

// mustAssign is used as mustAssign(t)(Assign(...)), since Go cannot pass a
// multi-value call alongside another argument.
func mustAssign(tb testing.TB) func([]int, error) []int {
	return func(a []int, err error) []int {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return a
	}
}

// checkGrouped fails if any group has rows in two parts.
func checkGrouped(tb testing.TB, assign []int, groups []string) {
	tb.Helper()
	part := map[string]int{}
	for i, g := range groups {
		if p, ok := part[g]; ok && p != assign[i] {
			tb.Fatalf("group %s is in parts %d and %d", g, p, assign[i])
		}
		part[g] = assign[i]
	}
}

// checkStratified fails if a part's class shares or its size stray from the
// targets by more than tol (absolute, as a share).
func checkStratified(tb testing.TB, assign, y []int, fractions []float64, classes int, tol float64) {
	tb.Helper()
	total := make([]float64, classes)
	for _, c := range y {
		total[c]++
	}
	for b, f := range fractions {
		rows := Rows(assign, b)
		if share := float64(len(rows)) / float64(len(y)); math.Abs(share-f) > tol {
			tb.Errorf("part %d holds %.3f of the rows, want %.3f ± %.3f", b, share, f, tol)
		}
		for c := range classes {
			n := 0
			for _, r := range rows {
				if y[r] == c {
					n++
				}
			}
			got, want := float64(n)/float64(len(rows)), total[c]/float64(len(y))
			if math.Abs(got-want) > tol {
				tb.Errorf("part %d: class %d share %.3f, overall %.3f (tol %.3f)", b, c, got, want, tol)
			}
		}
	}
}

func TestStratifiedGroupKFold(t *testing.T) {
	tests := []struct {
		name    string
		stars   int
		classes int
		k       int
	}{
		{name: "binary_5fold", stars: 3000, classes: 2, k: 5},
		{name: "three_class_5fold", stars: 3000, classes: 3, k: 5},
		{name: "binary_10fold", stars: 2000, classes: 2, k: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y, groups := catalog(tc.stars, tc.classes, 1)
			assign := mustAssign(t)(StratifiedGroupKFold(y, groups, tc.k, DefaultSeed))
			checkGrouped(t, assign, groups)
			fr := make([]float64, tc.k)
			for i := range fr {
				fr[i] = 1 / float64(tc.k)
			}
			checkStratified(t, assign, y, fr, tc.classes, 0.01)

			// Every row is tested exactly once and trained on k−1 times.
			tested, trained := make([]int, len(y)), make([]int, len(y))
			for _, f := range Folds(assign, tc.k) {
				for _, r := range f.Test {
					tested[r]++
				}
				for _, r := range f.Train {
					trained[r]++
				}
			}
			for r := range y {
				if tested[r] != 1 || trained[r] != tc.k-1 {
					t.Fatalf("row %d: tested %d times, trained %d times", r, tested[r], trained[r])
				}
			}
		})
	}
}

func TestTrainValidTest(t *testing.T) {
	y, groups := catalog(3000, 2, 2)
	assign := mustAssign(t)(TrainValidTest(y, groups, 0.70, 0.15, 0.15, DefaultSeed))
	checkGrouped(t, assign, groups)
	checkStratified(t, assign, y, []float64{0.70, 0.15, 0.15}, 2, 0.01)
}

func TestAssign_smallByHand(t *testing.T) {
	// Four single-row groups, two of each class, two folds: each fold must
	// get one row of each class.
	assign := mustAssign(t)(StratifiedGroupKFold([]int{0, 0, 1, 1}, []string{"a", "b", "c", "d"}, 2, DefaultSeed))
	if assign[0] == assign[1] || assign[2] == assign[3] {
		t.Errorf("assign %v: a class sits in one fold", assign)
	}
}

func TestAssign_deterministic(t *testing.T) {
	y, groups := catalog(1000, 2, 3)
	a := mustAssign(t)(StratifiedGroupKFold(y, groups, 5, DefaultSeed))
	b := mustAssign(t)(StratifiedGroupKFold(y, groups, 5, DefaultSeed))
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different folds (-first +second):\n%s", diff)
	}
	if c := mustAssign(t)(StratifiedGroupKFold(y, groups, 5, 7)); cmp.Equal(a, c) {
		t.Error("seed 7 gave the same folds as seed 1337")
	}

	// Reversing the rows must not move any group to another fold.
	n := len(y)
	ry, rg := make([]int, n), make([]string, n)
	for i := range n {
		ry[n-1-i], rg[n-1-i] = y[i], groups[i]
	}
	rev := mustAssign(t)(StratifiedGroupKFold(ry, rg, 5, DefaultSeed))
	for i := range n {
		if rev[n-1-i] != a[i] {
			t.Fatalf("row %d (group %s) is in fold %d, reversed in fold %d", i, groups[i], a[i], rev[n-1-i])
		}
	}
}

func TestAssign_ungroupedRowsStandAlone(t *testing.T) {
	// With no group ids every row is its own group, so the two "" rows may
	// be split and the folds are perfectly balanced.
	y := []int{0, 0, 0, 0, 1, 1, 1, 1}
	groups := make([]string, len(y))
	assign := mustAssign(t)(StratifiedGroupKFold(y, groups, 2, DefaultSeed))
	checkStratified(t, assign, y, []float64{0.5, 0.5}, 2, 0)
}

func TestAssign_errors(t *testing.T) {
	tests := []struct {
		name      string
		y         []int
		groups    []string
		fractions []float64
	}{
		{name: "no_rows", fractions: []float64{0.5, 0.5}},
		{name: "length", y: []int{0, 1}, groups: []string{"a"}, fractions: []float64{0.5, 0.5}},
		{name: "negative_class", y: []int{0, -1}, groups: []string{"a", "b"}, fractions: []float64{0.5, 0.5}},
		{name: "too_few_groups", y: []int{0, 1, 1}, groups: []string{"a", "a", "b"}, fractions: []float64{0.3, 0.3, 0.4}},
		{name: "fractions_sum", y: []int{0, 1}, groups: []string{"a", "b"}, fractions: []float64{0.5, 0.6}},
		{name: "zero_fraction", y: []int{0, 1}, groups: []string{"a", "b"}, fractions: []float64{1, 0}},
		{name: "one_part", y: []int{0, 1}, groups: []string{"a", "b"}, fractions: []float64{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Assign(tc.y, tc.groups, tc.fractions, DefaultSeed); !errors.Is(err, ErrInput) {
				t.Errorf("err = %v, want ErrInput", err)
			}
		})
	}
	if _, err := StratifiedGroupKFold([]int{0, 1}, []string{"a", "b"}, 1, DefaultSeed); !errors.Is(err, ErrInput) {
		t.Errorf("k = 1: err = %v, want ErrInput", err)
	}
}
