// Package anomaly runs the two unsupervised detectors over one catalog,
// Isolation Forest (ml/iforest) and the Local Outlier Factor (ml/lof), and
// combines them into one score in [0, 1] for the labeling queue. It also
// measures detectors the way issue 7 asks: the share of known (injected)
// anomalies found among the top k scores.
package anomaly

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/exohunter/exohunter/ml/iforest"
	"github.com/exohunter/exohunter/ml/lof"
)

// ErrInput is wrapped by errors about the data.
var ErrInput = errors.New("anomaly: invalid input")

// Params configure both detectors.
type Params struct {
	// Robust rescales every column before both detectors (see
	// RobustScale).
	Robust  bool
	IForest iforest.Params
	LOF     lof.Params
	// Stage, when set, is told which detector starts ("isolation forest",
	// "local outlier factor"), for a job's progress.
	Stage func(name string)
}

// DefaultParams returns robust scaling, Isolation Forest's defaults (100
// trees of 256 rows, the project's seed) and LOF with k = 50, the top of
// Breunig et al.'s suggested 10–50: a group of similar anomalies smaller
// than k cannot hide in its own neighbourhood.
func DefaultParams() Params {
	return Params{Robust: true, IForest: iforest.DefaultParams(), LOF: lof.Params{K: 50}}
}

// RobustScale returns a copy of x with every column centred on its median,
// divided by its interquartile range and compressed as sign(z)·ln(1+|z|).
// Catalog columns have long natural tails (false positives with radii of
// thousands of R⊕); without this, a detector spends its splits and
// distances on those tails and misses an object that is extreme in a
// column whose natural range is narrow. NaN stays NaN; a column with no
// spread is only centred.
func RobustScale(x mat.Matrix) *mat.Dense {
	n, cols := x.Dims()
	out := mat.NewDense(n, cols, nil)
	v := make([]float64, 0, n)
	for j := range cols {
		v = v[:0]
		for i := range n {
			if a := x.At(i, j); !math.IsNaN(a) && !math.IsInf(a, 0) {
				v = append(v, a)
			}
		}
		sort.Float64s(v)
		med, iqr := quantile(v, 0.5), quantile(v, 0.75)-quantile(v, 0.25)
		if !(iqr > 0) {
			iqr = 1
		}
		for i := range n {
			z := (x.At(i, j) - med) / iqr
			out.Set(i, j, math.Copysign(math.Log1p(math.Abs(z)), z))
		}
	}
	return out
}

// quantile interpolates the q-quantile of sorted values (0 when empty).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}

// Scores holds one value per row from each detector and their
// combination.
type Scores struct {
	// IForest is the Isolation Forest score in (0, 1]: above 0.5 is
	// anomalous, well below 0.5 normal.
	IForest []float64
	// LOF is the local outlier factor: about 1 inside a cluster, larger
	// for points less dense than their neighbours.
	LOF []float64
	// Combined is the score for the labeling queue, in [0, 1]: 1 − 1/LOF
	// (0 for LOF <= 1, 0.5 at LOF = 2). LOF is the detector that finds the
	// injected anomalies on the KOI table (engine's evaluation); Isolation
	// Forest spends its splits on the long natural tails of the catalog's
	// false positives. Combine is kept for a queue that wants either.
	Combined []float64
}

// Detect fits both detectors on the rows of x and scores the same rows.
// Missing values (NaN) are imputed by each detector with column medians.
// It gives up with ctx's error when ctx ends.
func Detect(ctx context.Context, x mat.Matrix, p Params) (*Scores, error) {
	n, _ := x.Dims()
	if n < 3 {
		return nil, fmt.Errorf("%w: %d rows, need at least 3", ErrInput, n)
	}
	if p.Robust {
		x = RobustScale(x)
	}
	stage := p.Stage
	if stage == nil {
		stage = func(string) {}
	}
	s := &Scores{}
	var err error
	stage("isolation forest")
	if s.IForest, err = iforest.FitScoreContext(ctx, x, p.IForest); err != nil {
		return nil, fmt.Errorf("isolation forest: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stage("local outlier factor")
	r, err := lof.ComputeContext(ctx, x, p.LOF)
	if err != nil {
		return nil, fmt.Errorf("local outlier factor: %w", err)
	}
	s.LOF = r.LOF
	s.Combined = make([]float64, n)
	for i := range s.Combined {
		s.Combined[i] = LOFScore(s.LOF[i])
	}
	return s, nil
}

// LOFScore maps a local outlier factor to [0, 1]: 1 − 1/LOF, 0 for LOF
// <= 1 (inside a cluster), 0.5 at LOF = 2, 1 for an infinite LOF.
func LOFScore(lofValue float64) float64 {
	switch {
	case math.IsInf(lofValue, 1):
		return 1
	case lofValue > 1:
		return 1 - 1/lofValue
	}
	return 0
}

// Combine maps an Isolation Forest score and a LOF to one score in [0, 1],
// max(s, LOFScore(LOF)): both parts read 0.5 at the usual thresholds
// (s = 0.5, LOF = 2), so it flags what either detector flags.
func Combine(iforestScore, lofValue float64) float64 {
	return math.Min(1, math.Max(0, math.Max(iforestScore, LOFScore(lofValue))))
}

// Ranking returns row indices by descending score; ties (and NaN, which
// ranks last) keep row order, so the ranking is deterministic.
func Ranking(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := scores[idx[a]], scores[idx[b]]
		if math.IsNaN(y) {
			return !math.IsNaN(x)
		}
		return x > y
	})
	return idx
}

// RankingAgainst is Ranking with ties broken against the rows marked in
// known: among equal scores, unmarked rows rank first, so that a detector
// gets no credit for a tie.
func RankingAgainst(scores []float64, known []bool) []int {
	adj := make([]float64, len(scores))
	for i, v := range scores {
		adj[i] = v
		if known[i] && !math.IsNaN(v) {
			adj[i] = math.Nextafter(v, math.Inf(-1))
		}
	}
	return Ranking(adj)
}

// RecallAtK is the share of the rows marked in known that rank among the
// k highest scores. Ties are counted against the detector: among equal
// scores, unmarked rows rank first.
func RecallAtK(scores []float64, known []bool, k int) (float64, error) {
	if len(scores) != len(known) {
		return 0, fmt.Errorf("%w: %d scores, %d marks", ErrInput, len(scores), len(known))
	}
	total := 0
	for _, m := range known {
		if m {
			total++
		}
	}
	if total == 0 {
		return 0, fmt.Errorf("%w: no known anomaly", ErrInput)
	}
	found := 0
	for _, i := range RankingAgainst(scores, known)[:min(k, len(scores))] {
		if known[i] {
			found++
		}
	}
	return float64(found) / float64(total), nil
}
