package xgb

import (
	"math"
	"math/rand/v2"
	"testing"
)

// blobs returns n rows of cols features in `classes` Gaussian blobs whose
// centres sit `gap` apart along every feature, with about 5% of the values
// missing (NaN) so that XGBoost's missing-value path is exercised too.
func blobs(n, cols, classes int, gap float64, seed uint64) Data {
	r := rand.New(rand.NewPCG(seed, 7))
	d := Data{X: NewMatrix(n, cols), Y: make([]float32, n)}
	for i := range n {
		c := i % classes
		d.Y[i] = float32(c)
		for j, row := 0, d.X.Row(i); j < cols; j++ {
			row[j] = float32(r.NormFloat64() + gap*float64(c))
			if r.Float64() < 0.05 {
				row[j] = float32(math.NaN())
			}
		}
	}
	return d
}

// mustTrain trains or fails the test. When libxgboost is missing the error
// says what to install: the test fails rather than skips, so CI cannot
// silently stop testing the model.
func mustTrain(tb testing.TB, train Data, valid *Data, p Params) *Booster {
	tb.Helper()
	b, err := Train(train, valid, p)
	if err != nil {
		tb.Fatalf("Train: %v", err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

func mustPredict(tb testing.TB, b *Booster, x Matrix) []float64 {
	tb.Helper()
	p, err := b.Predict(x)
	if err != nil {
		tb.Fatalf("Predict: %v", err)
	}
	return p
}

// labels converts float labels for the metrics package.
func labels(y []float32) []int {
	out := make([]int, len(y))
	for i, v := range y {
		out[i] = int(v)
	}
	return out
}

// fastParams keeps every test well under a second. One thread keeps the
// timings steady when CI runs other packages' tests on the same cores;
// TestTrain_deterministic covers nthread 2.
func fastParams() Params {
	p := DefaultParams()
	p.NThread = 1
	p.NumBoostRound = 60
	p.Eta = 0.2
	p.MaxDepth = 4
	p.Verbosity = 0
	return p
}
