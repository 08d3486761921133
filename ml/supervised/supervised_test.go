package supervised

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exohunter/exohunter/ml/xgb"
)

// synthetic returns n rows in groups of three: the class is a noisy
// threshold on the first feature, the second feature is noise.
func synthetic(n, classes int, seed uint64) Data {
	rng := rand.New(rand.NewPCG(seed, 7))
	d := Data{Features: []string{"signal", "noise"}, X: xgb.NewMatrix(n, 2)}
	for k := range classes {
		d.Classes = append(d.Classes, fmt.Sprintf("c%d", k))
	}
	for i := range n {
		y := i % classes
		d.X.Data[2*i] = float32(float64(y) + rng.NormFloat64()*0.6)
		d.X.Data[2*i+1] = float32(rng.NormFloat64())
		d.Y = append(d.Y, y)
		d.Groups = append(d.Groups, fmt.Sprintf("star%d", i/3))
	}
	return d
}

func fastConfig() Config {
	c := DefaultConfig()
	c.Params.NumBoostRound = 40
	c.Params.Eta = 0.3
	c.EarlyStoppingRounds = 5
	return c
}

func TestRun_binary(t *testing.T) {
	d := synthetic(600, 2, 1)
	r, err := Run(context.Background(), d, fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Model.Close()
	if len(r.Folds) != 5 || r.CV.Folds != 5 || r.OOF.Rows != 600 {
		t.Fatalf("folds %d, cv %d, oof rows %d", len(r.Folds), r.CV.Folds, r.OOF.Rows)
	}
	// A threshold at 0.5 on N(0, .6) vs N(1, .6) is right about 80% of
	// the time; the model should be close to that, not perfect.
	if r.OOF.Accuracy < 0.7 || r.OOF.Accuracy > 0.95 || r.OOF.ROCAUC < 0.8 {
		t.Errorf("oof accuracy %.3f, auc %.3f", r.OOF.Accuracy, r.OOF.ROCAUC)
	}
	// Grouped: the three rows of a star share a fold.
	for i := 0; i+2 < len(d.Y); i += 3 {
		if r.FoldOf[i] != r.FoldOf[i+1] || r.FoldOf[i] != r.FoldOf[i+2] {
			t.Fatalf("star%d straddles folds %v", i/3, r.FoldOf[i:i+3])
		}
	}
	h := r.Holdout
	if h.TrainRows+h.ValidRows+h.TestRows != 600 || h.TestRows < 60 || h.Rounds < 1 || h.Rounds > 40 {
		t.Errorf("holdout %+v", h)
	}
	if len(r.Calibration) != 10 || r.Importance[0].Feature != "signal" {
		t.Errorf("calibration %d bins, top feature %s", len(r.Calibration), r.Importance[0].Feature)
	}
}

// TestRun_deterministic: the same data and seed give the same numbers.
func TestRun_deterministic(t *testing.T) {
	d := synthetic(300, 2, 2)
	a, err := Run(context.Background(), d, fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Model.Close()
	b, err := Run(context.Background(), d, fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Model.Close()
	if diff := cmp.Diff(a.Proba, b.Proba); diff != "" {
		t.Errorf("out-of-fold probabilities differ:\n%s", diff)
	}
	if diff := cmp.Diff(a.CV, b.CV); diff != "" {
		t.Errorf("cv differs:\n%s", diff)
	}
}

func TestRun_multiclass(t *testing.T) {
	d := synthetic(450, 3, 3)
	r, err := Run(context.Background(), d, fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Model.Close()
	if len(r.Proba) != 3*450 || r.OOF.Classes != 3 || len(r.Calibration) != 0 {
		t.Fatalf("proba %d, classes %d, calibration %d", len(r.Proba), r.OOF.Classes, len(r.Calibration))
	}
	if r.OOF.Accuracy < 0.5 {
		t.Errorf("oof accuracy %.3f", r.OOF.Accuracy)
	}
	if r.Model.NumClass() != 3 {
		t.Errorf("model predicts %d classes", r.Model.NumClass())
	}
}

func TestRun_ErrInput(t *testing.T) {
	d := synthetic(30, 2, 4)
	for i := range d.Y {
		d.Y[i] = 0
	}
	if _, err := Run(context.Background(), d, fastConfig()); !errors.Is(err, ErrInput) {
		t.Errorf("one class: err = %v", err)
	}
	d = synthetic(30, 2, 4)
	d.Groups = d.Groups[:10]
	if _, err := Run(context.Background(), d, fastConfig()); !errors.Is(err, ErrInput) {
		t.Errorf("short groups: err = %v", err)
	}
}

// TestRun_cancelled: a context cancelled during the second fold stops the
// training there (a job cancelled, a server shutting down): Run answers
// the context's error and trains neither the later folds nor the final
// model. Before, Run had no context and trained to the end.
func TestRun_cancelled(t *testing.T) {
	d := synthetic(600, 2, 1)
	cfg := fastConfig()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var steps []string
	cfg.Progress = func(_ float64, msg string) {
		steps = append(steps, msg)
		if msg == "fold 2 of 5" {
			cancel()
		}
	}
	r, err := Run(ctx, d, cfg)
	if !errors.Is(err, context.Canceled) || r != nil {
		t.Fatalf("Run on a cancelled context: %v, want context.Canceled", err)
	}
	if want := []string{"fold 1 of 5", "fold 2 of 5"}; !cmp.Equal(steps, want) {
		t.Errorf("steps %q, want %q", steps, want)
	}
}
