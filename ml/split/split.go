// Package split assigns labelled rows to cross-validation folds and to
// train/validation/test parts, grouped and stratified: all rows of one
// group (the planets of one star) land in the same part, so a model is never
// tested on a star it was trained on, and each part keeps the overall class
// ratios as closely as whole groups allow.
//
// The algorithm generalises scikit-learn's StratifiedGroupKFold to parts of
// unequal size. Groups are shuffled with the seed, then ordered by the spread
// of their class counts (largest first, so the hardest groups are placed
// while there is still room), and each group goes to the part that keeps the
// per-class fill most even: for class c and part b, fill = count(b, c) /
// (total(c) · fraction(b)); the chosen part minimises the standard deviation
// of fill across parts, averaged over classes. Ties go to the part that is
// least full relative to its fraction, then to the lowest index.
//
// The result depends only on the labels, the group ids, the fractions and
// the seed: not on map order or scheduling.
package split

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// DefaultSeed is the project's split seed (configs/splits.yaml).
const DefaultSeed = 1337

// The parts of TrainValidTest.
const (
	Train = 0
	Valid = 1
	Test  = 2
)

// ErrInput is wrapped by errors about the labels, groups or parameters.
var ErrInput = errors.New("split: invalid input")

// StratifiedGroupKFold assigns every row to one of k folds (0..k-1): row i
// is in the test side of fold assign[i] and in the training side of every
// other fold. y holds class indices 0..C-1; groups holds one group id per
// row, where an empty id means the row has no group and stands alone.
func StratifiedGroupKFold(y []int, groups []string, k int, seed uint64) ([]int, error) {
	if k < 2 {
		return nil, fmt.Errorf("%w: k = %d folds, need at least 2", ErrInput, k)
	}
	fr := make([]float64, k)
	for i := range fr {
		fr[i] = 1 / float64(k)
	}
	return Assign(y, groups, fr, seed)
}

// TrainValidTest assigns every row to Train, Valid or Test, with the given
// fractions (e.g. 0.70, 0.15, 0.15), grouped and stratified.
func TrainValidTest(y []int, groups []string, train, valid, test float64, seed uint64) ([]int, error) {
	return Assign(y, groups, []float64{train, valid, test}, seed)
}

// Assign is the general form: it assigns every row to a part 0..len(fractions)-1
// whose expected share of each class is its fraction. Fractions must be
// positive and sum to 1.
func Assign(y []int, groups []string, fractions []float64, seed uint64) ([]int, error) {
	gs, classes, err := collect(y, groups)
	if err != nil {
		return nil, err
	}
	if err := checkFractions(fractions); err != nil {
		return nil, err
	}
	if len(gs) < len(fractions) {
		return nil, fmt.Errorf("%w: %d groups cannot fill %d parts", ErrInput, len(gs), len(fractions))
	}
	order(gs, seed)
	a := newAssigner(classes, fractions, y)
	out := make([]int, len(y))
	for _, g := range gs {
		b := a.best(g.counts)
		a.add(b, g.counts)
		for _, r := range g.rows {
			out[r] = b
		}
	}
	return out, nil
}

// Fold is one cross-validation fold as row indices, ascending.
type Fold struct {
	Train []int
	Test  []int
}

// Folds turns a fold assignment into k train/test index lists.
func Folds(assign []int, k int) []Fold {
	folds := make([]Fold, k)
	for i, f := range assign {
		for j := range folds {
			if j == f {
				folds[j].Test = append(folds[j].Test, i)
			} else {
				folds[j].Train = append(folds[j].Train, i)
			}
		}
	}
	return folds
}

// Rows returns the indices of the rows assigned to part, ascending.
func Rows(assign []int, part int) []int {
	var out []int
	for i, p := range assign {
		if p == part {
			out = append(out, i)
		}
	}
	return out
}

// group is the rows of one group and their class counts.
type group struct {
	id     string
	rows   []int
	counts []int
	spread float64
}

// collect groups the rows; named groups are sorted by id so that the
// outcome does not depend on row order, and ungrouped rows follow in row
// order, one group each.
func collect(y []int, groups []string) ([]*group, int, error) {
	if len(y) != len(groups) {
		return nil, 0, fmt.Errorf("%w: %d labels, %d group ids", ErrInput, len(y), len(groups))
	}
	if len(y) == 0 {
		return nil, 0, fmt.Errorf("%w: no rows", ErrInput)
	}
	classes := 0
	for i, c := range y {
		if c < 0 {
			return nil, 0, fmt.Errorf("%w: row %d has class %d", ErrInput, i, c)
		}
		classes = max(classes, c+1)
	}
	byID := map[string]*group{}
	var named, alone []*group
	for i, id := range groups {
		g := byID[id]
		if g == nil || id == "" {
			g = &group{id: id, counts: make([]int, classes)}
			if id == "" {
				alone = append(alone, g)
			} else {
				byID[id] = g
				named = append(named, g)
			}
		}
		g.rows = append(g.rows, i)
		g.counts[y[i]]++
	}
	slices.SortFunc(named, func(a, b *group) int { return cmp.Compare(a.id, b.id) })
	return append(named, alone...), classes, nil
}

// order shuffles the groups with the seed, then stably sorts them by the
// standard deviation of their class counts, largest first.
func order(gs []*group, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed5911))
	rng.Shuffle(len(gs), func(i, j int) { gs[i], gs[j] = gs[j], gs[i] })
	for _, g := range gs {
		g.spread = popStd(intsToFloats(g.counts))
	}
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].spread > gs[j].spread })
}

func checkFractions(fr []float64) error {
	if len(fr) < 2 {
		return fmt.Errorf("%w: %d parts, need at least 2", ErrInput, len(fr))
	}
	sum := 0.0
	for _, f := range fr {
		if !(f > 0) {
			return fmt.Errorf("%w: fraction %v, need > 0", ErrInput, f)
		}
		sum += f
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("%w: fractions sum to %v, need 1", ErrInput, sum)
	}
	return nil
}

func intsToFloats(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// popStd is the population standard deviation (numpy's np.std default).
func popStd(v []float64) float64 {
	mean := 0.0
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	ss := 0.0
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss / float64(len(v)))
}
