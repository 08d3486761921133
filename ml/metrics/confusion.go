// Package metrics scores classifiers the way the model reports need it:
// accuracy at a threshold, confusion matrices, per-class precision and
// recall, macro F1, ROC AUC (Mann–Whitney, ties counted as one half), PR AUC
// as average precision, one-vs-rest multi-class AUC, fold summaries and
// calibration bins.
//
// Labels are class indices 0..n-1; for binary tasks 1 is the positive class.
// Definitions follow scikit-learn so that numbers can be compared with the
// literature: a precision, recall or F1 whose denominator is zero counts as 0.
// Functions return an error for inputs on which a metric is undefined (no
// rows, one class only, mismatched lengths) rather than NaN, because NaN
// cannot be written to metrics.json.
package metrics

import (
	"errors"
	"fmt"
)

// ErrEmpty is returned when a metric is asked of zero rows.
var ErrEmpty = errors.New("metrics: no rows")

// ErrLength is returned when labels and predictions differ in length.
var ErrLength = errors.New("metrics: length mismatch")

// ErrLabel is returned for a class index outside 0..n-1.
var ErrLabel = errors.New("metrics: class index out of range")

// ErrOneClass is returned by ranking metrics when the true labels hold only
// one class, where ROC AUC and average precision are undefined.
var ErrOneClass = errors.New("metrics: only one class present in y_true")

// Confusion is a confusion matrix: Confusion[t][p] counts rows whose true
// class is t and whose predicted class is p (scikit-learn's orientation).
type Confusion [][]int

// ConfusionMatrix counts true against predicted classes for nClasses classes.
func ConfusionMatrix(yTrue, yPred []int, nClasses int) (Confusion, error) {
	if err := checkPair(len(yTrue), len(yPred)); err != nil {
		return nil, err
	}
	if nClasses < 1 {
		return nil, fmt.Errorf("metrics: %d classes: need at least 1", nClasses)
	}
	cm := make(Confusion, nClasses)
	for i := range cm {
		cm[i] = make([]int, nClasses)
	}
	for i, t := range yTrue {
		p := yPred[i]
		if t < 0 || t >= nClasses || p < 0 || p >= nClasses {
			return nil, fmt.Errorf("%w: row %d has true %d, predicted %d, classes %d", ErrLabel, i, t, p, nClasses)
		}
		cm[t][p]++
	}
	return cm, nil
}

// Total returns the number of rows counted.
func (c Confusion) Total() int {
	n := 0
	for _, row := range c {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// Accuracy returns the share of rows on the diagonal (0 for an empty matrix).
func (c Confusion) Accuracy() float64 {
	diag := 0
	for i := range c {
		diag += c[i][i]
	}
	return ratio(diag, c.Total())
}

// Precision returns tp / (tp + fp) for class k, or 0 when k was never
// predicted.
func (c Confusion) Precision(k int) float64 {
	predicted := 0
	for t := range c {
		predicted += c[t][k]
	}
	return ratio(c[k][k], predicted)
}

// Recall returns tp / (tp + fn) for class k, or 0 when k never occurs.
func (c Confusion) Recall(k int) float64 {
	actual := 0
	for _, v := range c[k] {
		actual += v
	}
	return ratio(c[k][k], actual)
}

// F1 returns the harmonic mean of precision and recall for class k, or 0 when
// both are 0.
func (c Confusion) F1(k int) float64 {
	p, r := c.Precision(k), c.Recall(k)
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// MacroF1 returns the unweighted mean of the per-class F1 scores, so that a
// rare class weighs as much as a common one.
func (c Confusion) MacroF1() float64 {
	if len(c) == 0 {
		return 0
	}
	sum := 0.0
	for k := range c {
		sum += c.F1(k)
	}
	return sum / float64(len(c))
}

// Accuracy returns the share of rows where yPred equals yTrue.
func Accuracy(yTrue, yPred []int) (float64, error) {
	if err := checkPair(len(yTrue), len(yPred)); err != nil {
		return 0, err
	}
	hit := 0
	for i := range yTrue {
		if yTrue[i] == yPred[i] {
			hit++
		}
	}
	return ratio(hit, len(yTrue)), nil
}

// Threshold turns positive-class probabilities into 0/1 predictions: 1 when
// p >= t. The issue fixes t at 0.5 for the reported accuracy.
func Threshold(p []float64, t float64) []int {
	out := make([]int, len(p))
	for i, v := range p {
		if v >= t {
			out[i] = 1
		}
	}
	return out
}

// Argmax turns row-major class probabilities (len(proba) == rows*nClasses)
// into the most probable class per row; the lowest index wins a tie.
func Argmax(proba []float64, nClasses int) ([]int, error) {
	if nClasses < 1 || len(proba)%nClasses != 0 {
		return nil, fmt.Errorf("%w: %d probabilities for %d classes", ErrLength, len(proba), nClasses)
	}
	out := make([]int, len(proba)/nClasses)
	for i := range out {
		row := proba[i*nClasses : (i+1)*nClasses]
		best := 0
		for k, v := range row {
			if v > row[best] {
				best = k
			}
		}
		out[i] = best
	}
	return out, nil
}

func checkPair(a, b int) error {
	if a != b {
		return fmt.Errorf("%w: %d labels, %d predictions", ErrLength, a, b)
	}
	if a == 0 {
		return ErrEmpty
	}
	return nil
}

func ratio(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}
