package metrics

import "math"

// Summary describes one metric over cross-validation folds.
type Summary struct {
	Mean float64 `json:"mean"`
	// Std is the sample standard deviation (n − 1 in the denominator), the
	// spread a reader expects of "mean ± std over 5 folds"; 0 for one fold.
	Std    float64   `json:"std"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Values []float64 `json:"values"`
}

// Describe summarises per-fold values. An empty input gives a zero Summary
// with a non-nil Values slice, so JSON shows [].
func Describe(values []float64) Summary {
	s := Summary{Values: append([]float64{}, values...)}
	if len(values) == 0 {
		return s
	}
	s.Min, s.Max = values[0], values[0]
	for _, v := range values {
		s.Mean += v
		s.Min = math.Min(s.Min, v)
		s.Max = math.Max(s.Max, v)
	}
	s.Mean /= float64(len(values))
	if len(values) > 1 {
		ss := 0.0
		for _, v := range values {
			ss += (v - s.Mean) * (v - s.Mean)
		}
		s.Std = math.Sqrt(ss / float64(len(values)-1))
	}
	return s
}

// FoldSummary is the mean and spread of the headline metrics over folds.
type FoldSummary struct {
	Folds    int     `json:"folds"`
	Accuracy Summary `json:"accuracy"`
	MacroF1  Summary `json:"macro_f1"`
	ROCAUC   Summary `json:"roc_auc"`
	PRAUC    Summary `json:"pr_auc"`
}

// Summarize aggregates per-fold reports into means and standard deviations.
func Summarize(folds []Report) FoldSummary {
	pick := func(f func(Report) float64) Summary {
		v := make([]float64, len(folds))
		for i, r := range folds {
			v[i] = f(r)
		}
		return Describe(v)
	}
	return FoldSummary{
		Folds:    len(folds),
		Accuracy: pick(func(r Report) float64 { return r.Accuracy }),
		MacroF1:  pick(func(r Report) float64 { return r.MacroF1 }),
		ROCAUC:   pick(func(r Report) float64 { return r.ROCAUC }),
		PRAUC:    pick(func(r Report) float64 { return r.PRAUC }),
	}
}
