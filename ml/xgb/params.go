package xgb

import (
	"cmp"
	"fmt"
	"sort"
	"strconv"
)

// Objective names an XGBoost learning task this package supports.
type Objective string

// The supported objectives: both predict probabilities.
const (
	// BinaryLogistic predicts P(label = 1) for labels 0 and 1.
	BinaryLogistic Objective = "binary:logistic"
	// MultiSoftprob predicts one probability per class for labels
	// 0..NumClass-1.
	MultiSoftprob Objective = "multi:softprob"
)

// Params are the training settings. The zero value is not usable; start from
// DefaultParams. Field meanings are XGBoost's (see its parameter docs).
type Params struct {
	Objective Objective
	// NumClass is the number of classes for MultiSoftprob; ignored otherwise.
	NumClass int
	// NumBoostRound is the maximum number of boosting rounds.
	NumBoostRound int
	// EarlyStoppingRounds, when > 0, stops training once the validation
	// log loss has not improved for that many rounds and keeps the trees up
	// to the best round. It requires a validation set.
	EarlyStoppingRounds int

	Eta             float64
	MaxDepth        int
	Subsample       float64
	ColsampleByTree float64
	MinChildWeight  float64
	Lambda          float64
	// NThread fixes XGBoost's OpenMP thread count. Results are reproducible
	// for a given Seed and NThread; a different NThread may change float
	// summation order and hence the last digits.
	NThread int
	Seed    int64
	// TreeMethod is "hist" by default: fast, and deterministic per thread count.
	TreeMethod string
	// Verbosity is XGBoost's log level (0 silent, 1 warnings); XGBoost writes
	// its messages to stderr, which machine-facing commands keep for logs.
	Verbosity int
	// Extra holds further XGBoost parameters verbatim (e.g.
	// "scale_pos_weight"). They are applied after the fields above, in key
	// order, so they can override them.
	Extra map[string]string
}

// DefaultParams returns settings suited to a catalog of about 10k rows:
// binary logistic, 500 rounds at eta 0.05, depth 6, row and column
// subsampling at 0.8, 2 threads and the project's seed 1337.
func DefaultParams() Params {
	return Params{
		Objective:       BinaryLogistic,
		NumBoostRound:   500,
		Eta:             0.05,
		MaxDepth:        6,
		Subsample:       0.8,
		ColsampleByTree: 0.8,
		MinChildWeight:  1,
		Lambda:          1,
		NThread:         2,
		Seed:            1337,
		TreeMethod:      "hist",
		Verbosity:       1,
	}
}

// classes returns the number of probability columns a prediction has.
func (p Params) classes() int {
	if p.Objective == MultiSoftprob {
		return p.NumClass
	}
	return 1
}

func (p Params) validate() error {
	switch p.Objective {
	case BinaryLogistic:
	case MultiSoftprob:
		if p.NumClass < 2 {
			return fmt.Errorf("xgb: %s needs NumClass >= 2, got %d", p.Objective, p.NumClass)
		}
	default:
		return fmt.Errorf("xgb: unsupported objective %q (want %s or %s)", p.Objective, BinaryLogistic, MultiSoftprob)
	}
	switch {
	case p.NumBoostRound < 1:
		return fmt.Errorf("xgb: NumBoostRound %d: need at least 1", p.NumBoostRound)
	case p.EarlyStoppingRounds < 0:
		return fmt.Errorf("xgb: EarlyStoppingRounds %d is negative", p.EarlyStoppingRounds)
	case p.Eta <= 0 || p.Subsample <= 0 || p.Subsample > 1 || p.ColsampleByTree <= 0 || p.ColsampleByTree > 1:
		return fmt.Errorf("xgb: need eta > 0 and subsample, colsample_bytree in (0, 1]")
	case p.MaxDepth < 0 || p.MinChildWeight < 0 || p.Lambda < 0 || p.NThread < 0:
		return fmt.Errorf("xgb: max_depth, min_child_weight, lambda and nthread must not be negative")
	}
	return nil
}

// pairs renders the parameters as XGBoost name/value strings in a fixed
// order, so that two runs configure the booster identically.
func (p Params) pairs() [][2]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	out := [][2]string{
		{"objective", string(p.Objective)},
		{"eta", f(p.Eta)},
		{"max_depth", strconv.Itoa(p.MaxDepth)},
		{"subsample", f(p.Subsample)},
		{"colsample_bytree", f(p.ColsampleByTree)},
		{"min_child_weight", f(p.MinChildWeight)},
		{"lambda", f(p.Lambda)},
		{"nthread", strconv.Itoa(p.NThread)},
		{"seed", strconv.FormatInt(p.Seed, 10)},
		{"tree_method", cmp.Or(p.TreeMethod, "hist")},
		{"verbosity", strconv.Itoa(p.Verbosity)},
	}
	if p.Objective == MultiSoftprob {
		out = append(out, [2]string{"num_class", strconv.Itoa(p.NumClass)})
	}
	keys := make([]string, 0, len(p.Extra))
	for k := range p.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, [2]string{k, p.Extra[k]})
	}
	return out
}
