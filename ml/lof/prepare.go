package lof

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// prepare copies x into rows, imputes NaN with column medians and, when
// asked, standardises each column (population standard deviation, as
// scikit-learn's StandardScaler; a constant column is only centred).
func prepare(x mat.Matrix, standardize bool) ([][]float64, error) {
	n, cols := x.Dims()
	rows := make([][]float64, n)
	for i := range rows {
		rows[i] = mat.Row(nil, i, x)
		for j, v := range rows[i] {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w: row %d column %d is infinite", ErrInput, i, j)
			}
		}
	}
	col := make([]float64, 0, n)
	for j := 0; j < cols; j++ {
		col = col[:0]
		for _, r := range rows {
			if !math.IsNaN(r[j]) {
				col = append(col, r[j])
			}
		}
		med := median(col)
		for _, r := range rows {
			if math.IsNaN(r[j]) {
				r[j] = med
			}
		}
		if !standardize {
			continue
		}
		col = col[:0]
		for _, r := range rows {
			col = append(col, r[j])
		}
		mean, std := stat.PopMeanStdDev(col, nil)
		if std == 0 || math.IsNaN(std) {
			std = 1
		}
		for _, r := range rows {
			r[j] = (r[j] - mean) / std
		}
	}
	return rows, nil
}

// median returns the median of v (sorting it), or 0 for an empty column.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}

// dedupe merges identical rows. It returns the distinct locations in order
// of first appearance and, for each row, the index of its location.
func dedupe(rows [][]float64) (locs [][]float64, of []int) {
	seen := make(map[string]int, len(rows))
	of = make([]int, len(rows))
	key := make([]byte, 0, 8*len(rows[0]))
	for i, r := range rows {
		key = key[:0]
		for _, v := range r {
			// NB: +0 and −0 are the same location; normalise before hashing.
			if v == 0 {
				v = 0
			}
			b := math.Float64bits(v)
			key = append(key, byte(b), byte(b>>8), byte(b>>16), byte(b>>24), byte(b>>32), byte(b>>40), byte(b>>48), byte(b>>56))
		}
		l, ok := seen[string(key)]
		if !ok {
			l = len(locs)
			seen[string(key)] = l
			locs = append(locs, r)
		}
		of[i] = l
	}
	return locs, of
}
