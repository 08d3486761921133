// Package lof implements the Local Outlier Factor (Breunig, Kriegel, Ng and
// Sander, "LOF: Identifying Density-Based Local Outliers", SIGMOD 2000).
//
// With MinPts = k, for every point p:
//
//   - k-distance(p) is the distance to its k-th nearest neighbour;
//   - N_k(p) holds every other point within k-distance(p), so ties make it
//     larger than k (the paper's definition; scikit-learn keeps exactly k);
//   - reach-dist_k(p, o) = max(k-distance(o), d(p, o));
//   - lrd(p) = 1 / mean over o in N_k(p) of reach-dist_k(p, o);
//   - LOF(p) = mean over o in N_k(p) of lrd(o) / lrd(p).
//
// LOF ≈ 1 inside a cluster and grows well above 1 for points less dense
// than their neighbours. Distances are Euclidean and neighbourhoods exact:
// found through a k-d tree in up to six dimensions (about n log n), by a
// scan over all pairs (n²) in more. They are taken over columns
// standardised to zero mean and unit variance unless Params.Standardize is
// false.
//
// Duplicates: with more than k identical points, k-distance is 0 and lrd
// would be infinite (the paper's own caveat). The paper's remedy is the
// k-distinct-distance, with every copy still counted in the neighbourhood;
// this package uses a variant: identical rows are merged into one location
// before neighbours are counted, so k-distance is always positive, every
// copy gets its location's scores, and how many copies a location has no
// longer weighs. LOF differs from the paper's remedy by about 1 % in the
// cases a review compared (2.066 against 2.087, 1.016 against 1.004).
// Merging also keeps rows that became identical through median imputation
// from inflating their neighbours' LOF.
//
// Missing values (NaN) are replaced by their column's median before
// standardising; infinite values are an error.
package lof

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"

	"gonum.org/v1/gonum/mat"
)

// Params configure the computation.
type Params struct {
	// K is MinPts, the neighbourhood size. When the data has at most K
	// distinct rows, K distinct rows minus one is used instead.
	K int
	// Standardize scales every column to zero mean and unit variance first,
	// so that a feature in large units does not dominate the distance.
	Standardize bool
	// Workers bounds the goroutines of the neighbour search (0: GOMAXPROCS).
	// Results do not depend on it.
	Workers int
}

// DefaultParams returns k = 20 (scikit-learn's default, within the 10–50
// range Breunig et al. suggest) with standardisation.
func DefaultParams() Params {
	return Params{K: 20, Standardize: true}
}

// ErrInput is wrapped by errors about the data or parameters.
var ErrInput = errors.New("lof: invalid input")

// Result holds per-row outputs, in the input's row order.
type Result struct {
	// K is the neighbourhood size actually used.
	K int
	// LOF is the local outlier factor of each row.
	LOF []float64
	// LRD is the local reachability density of each row (0 when all rows
	// are identical and it is undefined; never Inf, which JSON cannot hold).
	LRD []float64
	// KDistance is the distance to each row's k-th nearest distinct row,
	// in the (standardised) feature space.
	KDistance []float64
}

// Score returns the LOF of every row of x.
func Score(x mat.Matrix, p Params) ([]float64, error) {
	r, err := Compute(x, p)
	if err != nil {
		return nil, err
	}
	return r.LOF, nil
}

// Compute runs LOF over the rows of x and returns every intermediate value.
func Compute(x mat.Matrix, p Params) (*Result, error) {
	return ComputeContext(context.Background(), x, p)
}

// ComputeContext is Compute, given up with ctx's error when ctx ends: the
// neighbour search of ten million rows takes minutes.
func ComputeContext(ctx context.Context, x mat.Matrix, p Params) (*Result, error) {
	n, cols := x.Dims()
	if p.K < 1 {
		return nil, fmt.Errorf("%w: K = %d, need at least 1", ErrInput, p.K)
	}
	if n < 2 || cols < 1 {
		return nil, fmt.Errorf("%w: need at least 2 rows and 1 column, got %d×%d", ErrInput, n, cols)
	}
	rows, err := prepare(x, p.Standardize)
	if err != nil {
		return nil, err
	}
	locs, of := dedupe(rows)
	res := &Result{
		K:         min(p.K, len(locs)-1),
		LOF:       make([]float64, n),
		LRD:       make([]float64, n),
		KDistance: make([]float64, n),
	}
	if res.K < 1 {
		// Every row is the same point: nothing is an outlier.
		for i := range res.LOF {
			res.LOF[i] = 1
		}
		return res, nil
	}
	workers := p.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	nb, err := neighbours(ctx, locs, res.K, workers)
	if err != nil {
		return nil, err
	}
	lrd, lof, err := factors(ctx, locs, nb)
	if err != nil {
		return nil, err
	}
	for i, l := range of {
		res.LOF[i], res.LRD[i], res.KDistance[i] = lof[l], lrd[l], nb[l].kdist
	}
	return res, nil
}

// factors computes lrd and LOF per location from the neighbourhoods. It
// gives up with ctx's error when ctx ends.
func factors(ctx context.Context, locs [][]float64, nb []hood) (lrd, lof []float64, err error) {
	lrd = make([]float64, len(nb))
	for p, h := range nb {
		if p%cancelCheck == 0 && ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		sum := 0.0
		for _, o := range h.idx {
			sum += max(nb[o].kdist, math.Sqrt(dist2(locs[p], locs[o])))
		}
		// NB: distinct locations make sum > 0; the floor only guards against
		// distances that underflow to 0 for absurdly close coordinates.
		lrd[p] = float64(len(h.idx)) / max(sum, minReachSum)
	}
	lof = make([]float64, len(nb))
	for p, h := range nb {
		sum := 0.0
		for _, o := range h.idx {
			sum += lrd[o]
		}
		lof[p] = sum / (float64(len(h.idx)) * lrd[p])
	}
	return lrd, lof, ctx.Err()
}

// minReachSum floors a reachability sum; see factors.
const minReachSum = 1e-300
