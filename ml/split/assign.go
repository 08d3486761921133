package split

// assigner tracks per-part class counts while groups are placed.
type assigner struct {
	fractions []float64
	total     []float64 // rows per class over the whole data
	counts    [][]float64
	rows      []float64
	fill      []float64 // scratch: one class's fill across parts
}

func newAssigner(classes int, fractions []float64, y []int) *assigner {
	a := &assigner{
		fractions: fractions,
		total:     make([]float64, classes),
		counts:    make([][]float64, len(fractions)),
		rows:      make([]float64, len(fractions)),
		fill:      make([]float64, len(fractions)),
	}
	for _, c := range y {
		a.total[c]++
	}
	for b := range a.counts {
		a.counts[b] = make([]float64, classes)
	}
	return a
}

// best returns the part that keeps class fill most even if the group with
// these class counts joins it.
func (a *assigner) best(counts []int) int {
	best, bestCost, bestLoad := -1, 0.0, 0.0
	for b := range a.fractions {
		cost := a.cost(b, counts)
		load := a.rows[b] / a.fractions[b]
		// NB: costs are compared exactly; equal costs arise whenever parts
		// are equally filled, and then the load decides.
		if best < 0 || cost < bestCost || (cost == bestCost && load < bestLoad) {
			best, bestCost, bestLoad = b, cost, load
		}
	}
	return best
}

// cost is the mean over classes of the spread of fill across parts, with
// the group tentatively in part to.
func (a *assigner) cost(to int, counts []int) float64 {
	sum, n := 0.0, 0
	for c, total := range a.total {
		if total == 0 {
			continue // a class index with no rows (labels need not be dense)
		}
		for b, f := range a.fractions {
			v := a.counts[b][c]
			if b == to {
				v += float64(counts[c])
			}
			a.fill[b] = v / (total * f)
		}
		sum += popStd(a.fill)
		n++
	}
	return sum / float64(n)
}

func (a *assigner) add(b int, counts []int) {
	for c, v := range counts {
		a.counts[b][c] += float64(v)
		a.rows[b] += float64(v)
	}
}
