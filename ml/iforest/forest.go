// Package iforest implements Isolation Forest (Liu, Ting and Zhou, "Isolation
// Forest", ICDM 2008): anomalies are few and different, so random
// axis-parallel splits isolate them in fewer steps than normal points.
//
// Each of NTrees trees is grown on a subsample of SampleSize rows drawn
// without replacement, up to the height limit ceil(log2(SampleSize)). A row's
// anomaly score is s = 2^(−E[h(x)]/c(ψ)), where h is its path length, E the
// mean over trees and c(ψ) the average path length for the subsample size ψ.
// Scores near 1 mark anomalies, scores well below 0.5 normal points, and
// scores near 0.5 everywhere mean the data holds no distinct anomaly.
//
// Missing values (NaN) are replaced by the training median of their column,
// both when fitting and when scoring, so that a missing value neither
// isolates a row nor hides it. A column with no values at all gets 0, which
// makes it constant and therefore never split on.
//
// Everything random comes from one seeded PCG generator, drawn in a fixed
// order, so the same data, parameters and seed give the same scores.
package iforest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// DefaultSeed is the project's seed (configs/splits.yaml uses it too).
const DefaultSeed = 1337

// Params configure a forest.
type Params struct {
	// NTrees is the number of isolation trees (the paper's t; 100).
	NTrees int
	// SampleSize is the subsample size ψ per tree (256). Data with fewer
	// rows uses all of them.
	SampleSize int
	// Seed seeds the generator for subsampling, features and split values.
	Seed uint64
}

// DefaultParams returns the paper's recommended t = 100, ψ = 256 and the
// project's seed.
func DefaultParams() Params {
	return Params{NTrees: 100, SampleSize: 256, Seed: DefaultSeed}
}

// ErrInput is wrapped by errors about the data or parameters.
var ErrInput = errors.New("iforest: invalid input")

// Forest is a fitted Isolation Forest. It is read-only after Fit and safe
// for concurrent scoring.
type Forest struct {
	trees   []tree
	psi     int
	cPsi    float64
	medians []float64
}

// Fit grows a forest on the rows of x.
func Fit(x mat.Matrix, p Params) (*Forest, error) {
	n, cols := x.Dims()
	if p.NTrees < 1 || p.SampleSize < 2 {
		return nil, fmt.Errorf("%w: need NTrees >= 1 and SampleSize >= 2, got %d and %d", ErrInput, p.NTrees, p.SampleSize)
	}
	if n < 2 || cols < 1 {
		return nil, fmt.Errorf("%w: need at least 2 rows and 1 column, got %d×%d", ErrInput, n, cols)
	}
	f := &Forest{psi: min(p.SampleSize, n), medians: make([]float64, cols)}
	f.cPsi = AveragePathLength(f.psi)
	rows := make([][]float64, n)
	for i := range rows {
		rows[i] = mat.Row(nil, i, x)
		for j, v := range rows[i] {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w: row %d column %d is infinite", ErrInput, i, j)
			}
		}
	}
	for j := range f.medians {
		f.medians[j] = columnMedian(rows, j)
	}
	for _, r := range rows {
		f.impute(r)
	}
	b := &builder{
		rows:  rows,
		rng:   rand.New(rand.NewPCG(p.Seed, 0x1f0e57)),
		limit: bits.Len(uint(f.psi - 1)), // ceil(log2 ψ)
		lo:    make([]float64, cols),
		hi:    make([]float64, cols),
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	f.trees = make([]tree, p.NTrees)
	for t := range f.trees {
		// Partial Fisher–Yates: the first ψ entries become a uniform
		// sample without replacement.
		for i := 0; i < f.psi; i++ {
			j := i + b.rng.IntN(n-i)
			all[i], all[j] = all[j], all[i]
		}
		sample := slices.Clone(all[:f.psi])
		b.t = &f.trees[t]
		b.grow(sample, 0)
	}
	return f, nil
}

// FitScore fits a forest on x and scores the same rows, the usual way to
// rank a whole catalog.
func FitScore(x mat.Matrix, p Params) ([]float64, error) {
	return FitScoreContext(context.Background(), x, p)
}

// FitScoreContext is FitScore, given up with ctx's error when ctx ends.
func FitScoreContext(ctx context.Context, x mat.Matrix, p Params) ([]float64, error) {
	f, err := Fit(x, p)
	if err != nil {
		return nil, err
	}
	return f.ScoreContext(ctx, x)
}

// Score returns the anomaly score of every row of x.
func (f *Forest) Score(x mat.Matrix) ([]float64, error) {
	return f.ScoreContext(context.Background(), x)
}

// ScoreContext is Score, given up with ctx's error when ctx ends: scoring
// ten million rows takes about a minute.
func (f *Forest) ScoreContext(ctx context.Context, x mat.Matrix) ([]float64, error) {
	n, cols := x.Dims()
	if cols != len(f.medians) {
		return nil, fmt.Errorf("%w: %d columns, forest was fitted on %d", ErrInput, cols, len(f.medians))
	}
	out := make([]float64, n)
	row := make([]float64, cols)
	for i := range out {
		if i%cancelCheck == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		mat.Row(row, i, x)
		out[i] = f.ScoreRow(row)
	}
	return out, nil
}

// cancelCheck is how many rows pass between looks at the context: a few
// milliseconds of scoring.
const cancelCheck = 4096

// ScoreRow returns the anomaly score s = 2^(−E[h(x)]/c(ψ)) of one row.
// NaN values are imputed with the training medians (row is not modified).
func (f *Forest) ScoreRow(row []float64) float64 {
	return math.Exp2(-f.PathLength(row) / f.cPsi)
}

// PathLength returns E[h(x)], the row's mean path length over the trees.
func (f *Forest) PathLength(row []float64) float64 {
	x := row
	if slices.ContainsFunc(row, math.IsNaN) {
		x = slices.Clone(row)
		f.impute(x)
	}
	sum := 0.0
	for i := range f.trees {
		sum += f.trees[i].pathLength(x)
	}
	return sum / float64(len(f.trees))
}

// SampleSize returns ψ, the subsample size actually used.
func (f *Forest) SampleSize() int { return f.psi }

func (f *Forest) impute(row []float64) {
	for j, v := range row {
		if math.IsNaN(v) {
			row[j] = f.medians[j]
		}
	}
}

// columnMedian returns the median of the non-NaN values of column j, or 0
// when there are none.
func columnMedian(rows [][]float64, j int) float64 {
	v := make([]float64, 0, len(rows))
	for _, r := range rows {
		if !math.IsNaN(r[j]) {
			v = append(v, r[j])
		}
	}
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
