package xgb

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"unsafe"
)

// ErrClosed is returned by methods of a Booster after Close.
var ErrClosed = errors.New("xgb: booster is closed")

// Booster is a trained or loaded XGBoost model. It owns a C handle: call
// Close when done (a cleanup frees it if the Booster is dropped, but models
// are large and the garbage collector does not see C memory). A Booster is
// safe for concurrent use; calls are serialised.
type Booster struct {
	mu        sync.Mutex
	a         *api
	h         uintptr
	cleanup   runtime.Cleanup
	objective Objective
	classes   int
	features  int
	info      TrainInfo
}

// TrainInfo records how a Booster was trained. A loaded Booster has only
// Rounds set and BestIteration -1.
type TrainInfo struct {
	// Rounds is the number of boosting rounds the model keeps.
	Rounds int `json:"rounds"`
	// BestIteration is the 0-based round with the lowest validation log
	// loss, or -1 without a validation set.
	BestIteration int `json:"best_iteration"`
	// BestScore is the validation log loss at BestIteration.
	BestScore float64 `json:"best_score"`
	// ValidLogLoss is the validation log loss after each round trained,
	// including rounds dropped by early stopping.
	ValidLogLoss []float64 `json:"valid_logloss,omitempty"`
}

// newBooster wraps handle h and reads the objective, class and feature
// counts from XGBoost's own configuration, so trained and loaded models are
// described the same way.
func newBooster(a *api, h uintptr) (*Booster, error) {
	b := &Booster{a: a, h: h, info: TrainInfo{BestIteration: -1}}
	// NB: the cleanup frees through call, on the XGBoost thread, as Close does.
	b.cleanup = runtime.AddCleanup(b, func(h uintptr) {
		_ = a.call("free booster", func() int32 { return a.boosterFree(h) })
	}, h)
	if err := b.readConfig(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// learnerConfig is the part of XGBoosterSaveJsonConfig's output we read.
// XGBoost encodes these numbers as JSON strings.
type learnerConfig struct {
	Learner struct {
		ModelParam struct {
			NumClass   string `json:"num_class"`
			NumFeature string `json:"num_feature"`
		} `json:"learner_model_param"`
		Objective struct {
			Name string `json:"name"`
		} `json:"objective"`
	} `json:"learner"`
}

func (b *Booster) readConfig() error {
	var n uint64
	var p unsafe.Pointer
	if err := b.a.call("read config", func() int32 { return b.a.boosterSaveJSONConfig(b.h, &n, &p) }); err != nil {
		return err
	}
	var cfg learnerConfig
	if err := json.Unmarshal(unsafe.Slice((*byte)(p), n), &cfg); err != nil {
		return fmt.Errorf("xgb: parse booster config: %w", err)
	}
	b.objective = Objective(cfg.Learner.Objective.Name)
	if b.objective != BinaryLogistic && b.objective != MultiSoftprob {
		return fmt.Errorf("xgb: model objective %q is not %s or %s", b.objective, BinaryLogistic, MultiSoftprob)
	}
	numClass, err1 := strconv.Atoi(cfg.Learner.ModelParam.NumClass)
	features, err2 := strconv.Atoi(cfg.Learner.ModelParam.NumFeature)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("xgb: booster config: %w", err)
	}
	b.classes, b.features = max(numClass, 1), features
	if b.objective == BinaryLogistic {
		b.classes = 1
	}
	var rounds int32
	err := b.a.call("boosted rounds", func() int32 { return b.a.boosterBoostedRounds(b.h, &rounds) })
	b.info.Rounds = int(rounds)
	return err
}

// Objective returns the model's learning task.
func (b *Booster) Objective() Objective { return b.objective }

// NumClass returns the number of probabilities Predict returns per row: 1
// for BinaryLogistic (P(label = 1)), the class count for MultiSoftprob.
func (b *Booster) NumClass() int { return b.classes }

// NumFeatures returns the number of feature columns the model expects.
func (b *Booster) NumFeatures() int { return b.features }

// Info returns how the model was trained.
func (b *Booster) Info() TrainInfo { return b.info }

// SetParam sets one XGBoost parameter, e.g. "nthread" before scoring.
func (b *Booster) SetParam(name, value string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.h == 0 {
		return ErrClosed
	}
	return b.a.call("set "+name, func() int32 { return b.a.boosterSetParam(b.h, name, value) })
}

// Close frees the model. It is safe to call more than once.
func (b *Booster) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.h == 0 {
		return nil
	}
	b.cleanup.Stop()
	h := b.h
	b.h = 0
	return b.a.call("free booster", func() int32 { return b.a.boosterFree(h) })
}

// predictConfig asks for plain transformed predictions (probabilities) from
// all trees; see XGBoosterPredictFromDMatrix in c_api.h.
const predictConfig = `{"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false}`

// Predict returns probabilities for every row of x, row-major with
// NumClass() values per row (one, P(label = 1), for binary models).
func (b *Booster) Predict(x Matrix) ([]float64, error) {
	if x.Rows == 0 && len(x.Data) == 0 {
		return []float64{}, nil // NB: XGBoost refuses an empty matrix; scoring nothing is not an error
	}
	if x.Cols != b.features {
		return nil, fmt.Errorf("xgb: matrix has %d columns, model expects %d", x.Cols, b.features)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.h == 0 {
		return nil, ErrClosed
	}
	d, err := newDMatrix(b.a, x, nil, nil)
	if err != nil {
		return nil, err
	}
	defer d.free()
	return b.predictLocked(d, x.Rows)
}

// predictLocked predicts on an existing DMatrix; b.mu must be held. The
// result buffer belongs to the booster and is overwritten by its next call,
// so it is copied before returning.
func (b *Booster) predictLocked(d *dmatrix, rows int) ([]float64, error) {
	var shape, result unsafe.Pointer
	var dim uint64
	err := b.a.call("predict", func() int32 {
		return b.a.boosterPredictFromDMat(b.h, d.h, predictConfig, &shape, &dim, &result)
	})
	if err != nil {
		return nil, err
	}
	n := uint64(1)
	for _, s := range unsafe.Slice((*uint64)(shape), dim) {
		n *= s
	}
	if want := uint64(rows * b.classes); n != want {
		return nil, fmt.Errorf("xgb: prediction has %d values, want %d", n, want)
	}
	out := make([]float64, n)
	for i, v := range unsafe.Slice((*float32)(result), n) {
		out[i] = float64(v)
	}
	return out, nil
}
