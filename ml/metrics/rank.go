package metrics

import (
	"fmt"
	"math"
	"sort"
)

// ROCAUC returns the area under the ROC curve of scores against binary labels
// (1 positive, 0 negative). It is computed as the Mann–Whitney U statistic
// over average ranks, so tied scores count one half per positive/negative
// pair, which equals the trapezoidal area under the ROC curve.
func ROCAUC(yTrue []int, score []float64) (float64, error) {
	nPos, nNeg, err := checkBinary(yTrue, score)
	if err != nil {
		return 0, err
	}
	idx := order(score, false)
	// Average 1-based ranks over runs of equal scores.
	rankSumPos := 0.0
	for lo := 0; lo < len(idx); {
		hi := lo
		for hi+1 < len(idx) && score[idx[hi+1]] == score[idx[lo]] {
			hi++
		}
		avg := float64(lo+hi)/2 + 1
		for _, j := range idx[lo : hi+1] {
			if yTrue[j] == 1 {
				rankSumPos += avg
			}
		}
		lo = hi + 1
	}
	u := rankSumPos - float64(nPos)*float64(nPos+1)/2
	return u / (float64(nPos) * float64(nNeg)), nil
}

// AveragePrecision returns the area under the precision–recall curve as
// scikit-learn's average_precision_score computes it:
// AP = Σ_n (R_n − R_{n−1}) P_n over the distinct score thresholds in
// decreasing order (no interpolation; tied scores form one threshold).
func AveragePrecision(yTrue []int, score []float64) (float64, error) {
	nPos, _, err := checkBinary(yTrue, score)
	if err != nil {
		return 0, err
	}
	idx := order(score, true)
	ap, tp, fp, prevRecall := 0.0, 0, 0, 0.0
	for lo := 0; lo < len(idx); {
		hi := lo
		for hi+1 < len(idx) && score[idx[hi+1]] == score[idx[lo]] {
			hi++
		}
		for _, j := range idx[lo : hi+1] {
			if yTrue[j] == 1 {
				tp++
			} else {
				fp++
			}
		}
		recall := float64(tp) / float64(nPos)
		precision := float64(tp) / float64(tp+fp)
		ap += (recall - prevRecall) * precision
		prevRecall = recall
		lo = hi + 1
	}
	return ap, nil
}

// OneVsRest applies a binary ranking metric (ROCAUC or AveragePrecision) to
// each class k of a multi-class problem, scoring column k of the row-major
// probabilities against "class k or not", and returns the unweighted (macro)
// mean with the per-class values. Every class must occur in yTrue and not be
// the only one, as in scikit-learn's roc_auc_score(multi_class="ovr").
func OneVsRest(metric func([]int, []float64) (float64, error), yTrue []int, proba []float64, nClasses int) (macro float64, perClass []float64, err error) {
	if nClasses < 2 || len(proba) != len(yTrue)*nClasses {
		return 0, nil, fmt.Errorf("%w: %d labels, %d probabilities, %d classes", ErrLength, len(yTrue), len(proba), nClasses)
	}
	bin := make([]int, len(yTrue))
	col := make([]float64, len(yTrue))
	perClass = make([]float64, nClasses)
	for k := 0; k < nClasses; k++ {
		for i, t := range yTrue {
			if t < 0 || t >= nClasses {
				return 0, nil, fmt.Errorf("%w: row %d has class %d of %d", ErrLabel, i, t, nClasses)
			}
			bin[i] = 0
			if t == k {
				bin[i] = 1
			}
			col[i] = proba[i*nClasses+k]
		}
		v, err := metric(bin, col)
		if err != nil {
			return 0, nil, fmt.Errorf("class %d: %w", k, err)
		}
		perClass[k] = v
		macro += v
	}
	return macro / float64(nClasses), perClass, nil
}

// checkBinary validates labels and scores for a ranking metric and counts
// the two classes.
func checkBinary(yTrue []int, score []float64) (nPos, nNeg int, err error) {
	if err := checkPair(len(yTrue), len(score)); err != nil {
		return 0, 0, err
	}
	for i, t := range yTrue {
		switch t {
		case 1:
			nPos++
		case 0:
			nNeg++
		default:
			return 0, 0, fmt.Errorf("%w: row %d has label %d, want 0 or 1", ErrLabel, i, t)
		}
		if math.IsNaN(score[i]) {
			return 0, 0, fmt.Errorf("metrics: row %d has a NaN score", i)
		}
	}
	if nPos == 0 || nNeg == 0 {
		return 0, 0, ErrOneClass
	}
	return nPos, nNeg, nil
}

// order returns row indices sorted by score; stable so results never depend
// on the sort's treatment of ties.
func order(score []float64, desc bool) []int {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		if desc {
			return score[idx[a]] > score[idx[b]]
		}
		return score[idx[a]] < score[idx[b]]
	})
	return idx
}
