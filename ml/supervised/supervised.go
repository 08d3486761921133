// Package supervised trains and evaluates the disposition classifier the
// way issue 7 asks: grouped, stratified k-fold cross-validation over the
// whole labeled set (its out-of-fold predictions are the headline figures),
// a separate grouped train/valid/test holdout (valid stops boosting early,
// test is reported), and a final model fitted on every row for scoring.
//
// It works on plain slices: the engine reads the feature matrix out of
// DuckDB and writes the artifacts. Everything is deterministic for a given
// data order, configuration and seed (XGBoost with a fixed thread count).
package supervised

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/exohunter/exohunter/ml/metrics"
	"github.com/exohunter/exohunter/ml/split"
	"github.com/exohunter/exohunter/ml/xgb"
)

// ErrInput is wrapped by errors about the data or the configuration.
var ErrInput = errors.New("supervised: invalid input")

// Data is a labeled feature matrix: row i has features X.Row(i), class
// Y[i] (0..len(Classes)-1) and group Groups[i] (the star; rows of one group
// never straddle a split).
type Data struct {
	Features []string
	X        xgb.Matrix
	Y        []int
	Groups   []string
	// Classes names the classes; two classes make a binary task whose
	// positive class is 1.
	Classes []string
}

// Config configures Run. Start from DefaultConfig.
type Config struct {
	// Folds is k of the grouped k-fold cross-validation.
	Folds int
	// Train, Valid and Test are the holdout fractions (they sum to 1).
	Train, Valid, Test float64
	// Seed seeds the splits; Params.Seed seeds XGBoost.
	Seed uint64
	// Stratify keeps class ratios per part; false splits by group only.
	Stratify bool
	// Params are XGBoost's settings. The cross-validation and the final
	// model train Params.NumBoostRound rounds; the holdout model stops
	// early on its validation part after EarlyStoppingRounds.
	Params              xgb.Params
	EarlyStoppingRounds int
	// Threshold is the positive-class cut of binary accuracy, F1 and the
	// confusion matrix.
	Threshold float64
	// CalibrationBins is the number of reliability-diagram bins.
	CalibrationBins int
	// Progress, when set, hears each step with the share of work done.
	Progress func(done float64, message string)
}

// DefaultConfig returns 5 folds, 70/15/15, seed 1337, stratified, XGBoost's
// DefaultParams (500 rounds at eta 0.05, depth 6, 2 threads) with early
// stopping after 50 rounds on the holdout, threshold 0.5 and 10 bins.
func DefaultConfig() Config {
	p := xgb.DefaultParams()
	p.Verbosity = 0
	return Config{
		Folds: 5, Train: 0.70, Valid: 0.15, Test: 0.15, Seed: split.DefaultSeed, Stratify: true,
		Params: p, EarlyStoppingRounds: 50, Threshold: 0.5, CalibrationBins: 10,
	}
}

// Result is everything Run measured, plus the final model.
type Result struct {
	// Folds are the per-fold test reports; CV their mean and spread.
	Folds []FoldReport        `json:"folds"`
	CV    metrics.FoldSummary `json:"cv"`
	// OOF pools every fold's held-out predictions into one report.
	OOF metrics.Report `json:"oof"`
	// Holdout is the train/valid/test result.
	Holdout Holdout `json:"holdout"`
	// Calibration bins the out-of-fold positive-class probabilities of a
	// binary task (empty for more classes).
	Calibration []metrics.Bin `json:"calibration"`
	// Importance ranks the final model's features by total gain.
	Importance []Importance `json:"importance"`
	// Seconds is the wall time of Run.
	Seconds float64 `json:"seconds"`

	// FoldOf[i] is the fold in which row i was held out; Proba holds the
	// out-of-fold probabilities, NumClass() values per row (one, the
	// positive class, for binary tasks).
	FoldOf []int     `json:"-"`
	Proba  []float64 `json:"-"`
	// Model is fitted on every row; the caller closes it.
	Model *xgb.Booster `json:"-"`
}

// FoldReport is one fold's held-out evaluation.
type FoldReport struct {
	Fold      int            `json:"fold"`
	TrainRows int            `json:"train_rows"`
	Report    metrics.Report `json:"report"`
}

// Holdout is the grouped train/valid/test evaluation.
type Holdout struct {
	TrainRows int `json:"train_rows"`
	ValidRows int `json:"valid_rows"`
	TestRows  int `json:"test_rows"`
	// Rounds is the number of trees kept after early stopping on valid.
	Rounds int            `json:"rounds"`
	Valid  metrics.Report `json:"valid"`
	Test   metrics.Report `json:"test"`
}

// Importance is one feature's share of the model's total gain.
type Importance struct {
	Feature string  `json:"feature"`
	Gain    float64 `json:"gain"`
	Share   float64 `json:"share"`
}

// Run cross-validates, evaluates the holdout and fits the final model. It
// stops between two boosting rounds once ctx ends, with ctx's error.
func Run(ctx context.Context, d Data, cfg Config) (*Result, error) {
	start := time.Now()
	if err := d.validate(); err != nil {
		return nil, err
	}
	cfg.Params = paramsFor(cfg.Params, len(d.Classes))
	progress := cfg.Progress
	if progress == nil {
		progress = func(float64, string) {}
	}
	strata := d.Y
	if !cfg.Stratify {
		strata = make([]int, len(d.Y))
	}
	assign, err := split.StratifiedGroupKFold(strata, d.Groups, cfg.Folds, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	// note: k folds, the holdout and the final fit are k+2 trainings.
	steps := float64(cfg.Folds + 2)
	r := &Result{FoldOf: assign, Proba: make([]float64, len(d.Y)*d.Width())}
	for k, f := range split.Folds(assign, cfg.Folds) {
		progress(float64(k)/steps, fmt.Sprintf("fold %d of %d", k+1, cfg.Folds))
		rep, err := r.fold(ctx, d, cfg, k, f)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", k+1, err)
		}
		r.Folds = append(r.Folds, rep)
	}
	reps := make([]metrics.Report, len(r.Folds))
	for i, f := range r.Folds {
		reps[i] = f.Report
	}
	r.CV = metrics.Summarize(reps)
	if r.OOF, err = d.report(d.Y, r.Proba, cfg.Threshold); err != nil {
		return nil, fmt.Errorf("out-of-fold: %w", err)
	}
	if len(d.Classes) == 2 {
		if r.Calibration, err = metrics.CalibrationBins(d.Y, r.Proba, cfg.CalibrationBins); err != nil {
			return nil, err
		}
	}
	progress(float64(cfg.Folds)/steps, "holdout train/valid/test")
	if r.Holdout, err = holdout(ctx, d, cfg, strata); err != nil {
		return nil, fmt.Errorf("holdout: %w", err)
	}
	progress(float64(cfg.Folds+1)/steps, "final model on every row")
	if err := r.fit(ctx, d, cfg); err != nil {
		return nil, err
	}
	r.Seconds = math.Round(time.Since(start).Seconds()*1000) / 1000
	progress(1, "trained")
	return r, nil
}

// fold trains on one fold's training rows and records its held-out
// probabilities in r.Proba.
func (r *Result) fold(ctx context.Context, d Data, cfg Config, k int, f split.Fold) (FoldReport, error) {
	m, err := xgb.TrainContext(ctx, d.subset(f.Train), nil, cfg.Params)
	if err != nil {
		return FoldReport{}, err
	}
	defer m.Close()
	test := d.subset(f.Test)
	p, err := m.Predict(test.X)
	if err != nil {
		return FoldReport{}, err
	}
	w := d.Width()
	y := make([]int, len(f.Test))
	for i, row := range f.Test {
		copy(r.Proba[row*w:(row+1)*w], p[i*w:(i+1)*w])
		y[i] = d.Y[row]
	}
	rep, err := d.report(y, p, cfg.Threshold)
	return FoldReport{Fold: k, TrainRows: len(f.Train), Report: rep}, err
}

// holdout trains on the train part with early stopping on valid and
// reports valid and test.
func holdout(ctx context.Context, d Data, cfg Config, strata []int) (Holdout, error) {
	assign, err := split.TrainValidTest(strata, d.Groups, cfg.Train, cfg.Valid, cfg.Test, cfg.Seed)
	if err != nil {
		return Holdout{}, fmt.Errorf("%w: %v", ErrInput, err)
	}
	tr, va, te := split.Rows(assign, split.Train), split.Rows(assign, split.Valid), split.Rows(assign, split.Test)
	h := Holdout{TrainRows: len(tr), ValidRows: len(va), TestRows: len(te)}
	p := cfg.Params
	p.EarlyStoppingRounds = cfg.EarlyStoppingRounds
	valid := d.subset(va)
	m, err := xgb.TrainContext(ctx, d.subset(tr), &valid, p)
	if err != nil {
		return h, err
	}
	defer m.Close()
	h.Rounds = m.Info().Rounds
	for _, part := range []struct {
		rows []int
		out  *metrics.Report
	}{{va, &h.Valid}, {te, &h.Test}} {
		sub := d.subset(part.rows)
		pr, err := m.Predict(sub.X)
		if err != nil {
			return h, err
		}
		if *part.out, err = d.report(intLabels(sub.Y), pr, cfg.Threshold); err != nil {
			return h, err
		}
	}
	return h, nil
}

// fit trains the final model on every row and ranks its features.
func (r *Result) fit(ctx context.Context, d Data, cfg Config) error {
	all := make([]int, len(d.Y))
	for i := range all {
		all[i] = i
	}
	m, err := xgb.TrainContext(ctx, d.subset(all), nil, cfg.Params)
	if err != nil {
		return fmt.Errorf("final model: %w", err)
	}
	gain, err := m.FeatureImportance(xgb.ImportanceTotalGain)
	if err != nil {
		m.Close()
		return fmt.Errorf("feature importance: %w", err)
	}
	total := 0.0
	for _, g := range gain {
		total += g
	}
	for j, g := range gain {
		imp := Importance{Feature: d.Features[j], Gain: g}
		if total > 0 {
			imp.Share = g / total
		}
		r.Importance = append(r.Importance, imp)
	}
	sort.SliceStable(r.Importance, func(a, b int) bool { return r.Importance[a].Gain > r.Importance[b].Gain })
	r.Model = m
	return nil
}

// paramsFor sets the objective for the number of classes.
func paramsFor(p xgb.Params, classes int) xgb.Params {
	if classes > 2 {
		p.Objective, p.NumClass = xgb.MultiSoftprob, classes
	} else {
		p.Objective, p.NumClass = xgb.BinaryLogistic, 0
	}
	p.EarlyStoppingRounds = 0
	return p
}

// Width is the number of probabilities per row: 1 (the positive class)
// for binary tasks, else one per class.
func (d Data) Width() int {
	if len(d.Classes) > 2 {
		return len(d.Classes)
	}
	return 1
}

// report evaluates probabilities against labels.
func (d Data) report(y []int, p []float64, threshold float64) (metrics.Report, error) {
	if len(d.Classes) > 2 {
		return metrics.Multiclass(y, p, len(d.Classes))
	}
	return metrics.Binary(y, p, threshold)
}

// subset copies the given rows into a training set.
func (d Data) subset(rows []int) xgb.Data {
	c := d.X.Cols
	m := xgb.NewMatrix(len(rows), c)
	y := make([]float32, len(rows))
	for i, r := range rows {
		copy(m.Data[i*c:(i+1)*c], d.X.Data[r*c:(r+1)*c])
		y[i] = float32(d.Y[r])
	}
	return xgb.Data{X: m, Y: y}
}

func intLabels(y []float32) []int {
	out := make([]int, len(y))
	for i, v := range y {
		out[i] = int(v)
	}
	return out
}

// validate checks shapes and labels.
func (d Data) validate() error {
	switch {
	case len(d.Classes) < 2:
		return fmt.Errorf("%w: %d classes, need at least 2", ErrInput, len(d.Classes))
	case d.X.Cols != len(d.Features) || d.X.Rows != len(d.Y) || len(d.Groups) != len(d.Y) || len(d.X.Data) != d.X.Rows*d.X.Cols:
		return fmt.Errorf("%w: %d×%d matrix, %d features, %d labels, %d groups", ErrInput, d.X.Rows, d.X.Cols, len(d.Features), len(d.Y), len(d.Groups))
	}
	seen := make([]int, len(d.Classes))
	for i, y := range d.Y {
		if y < 0 || y >= len(d.Classes) {
			return fmt.Errorf("%w: row %d has class %d", ErrInput, i, y)
		}
		seen[y]++
	}
	for k, n := range seen {
		if n == 0 {
			return fmt.Errorf("%w: no row of class %s", ErrInput, d.Classes[k])
		}
	}
	return nil
}
