package xgb

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"
)

// SaveModel writes the model in XGBoost's JSON format (XGBoosterSaveModel;
// the format follows the extension, so the path must end in ".json"). The
// file loads in any XGBoost binding, e.g. Python's Booster.load_model.
func (b *Booster) SaveModel(path string) error {
	if !strings.EqualFold(filepath.Ext(path), ".json") {
		return fmt.Errorf("xgb: model path %q must end in .json", path)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.h == 0 {
		return ErrClosed
	}
	return b.a.call("save model", func() int32 { return b.a.boosterSaveModel(b.h, path) })
}

// ModelJSON returns the model as the same JSON document SaveModel writes.
func (b *Booster) ModelJSON() ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.h == 0 {
		return nil, ErrClosed
	}
	var n uint64
	var p unsafe.Pointer
	err := b.a.call("save model", func() int32 {
		return b.a.boosterSaveToBuffer(b.h, `{"format": "json"}`, &n, &p)
	})
	if err != nil {
		return nil, err
	}
	// Copy: the buffer is XGBoost's and is reused by its next call.
	return append([]byte(nil), unsafe.Slice((*byte)(p), n)...), nil
}

// LoadModel reads a model written by SaveModel (or by any XGBoost binding).
//
// NB: the file is read here and handed to XGBoost as a buffer. XGBoost
// 1.7's own file loader (XGBoosterLoadModel) leaves the learner's context
// uninitialised, so the booster's first configuration reseeds the random
// engine of the XGBoost thread with seed 0, in the middle of any training
// running there: scoring a run while a model trained changed the training's
// row samples (TestTrain_deterministicWhileScoring). The buffer loader
// initialises the context first and draws nothing.
func LoadModel(path string) (*Booster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("xgb: %w", err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("xgb: model file %s is empty", path)
	}
	return load1(func(a *api, h uintptr) error {
		return a.call("load model "+path, func() int32 { return a.boosterLoadFromBuffer(h, data, uint64(len(data))) })
	})
}

// LoadModelJSON reads a model from the bytes ModelJSON returns.
func LoadModelJSON(data []byte) (*Booster, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("xgb: empty model")
	}
	return load1(func(a *api, h uintptr) error {
		return a.call("load model", func() int32 { return a.boosterLoadFromBuffer(h, data, uint64(len(data))) })
	})
}

// load1 creates an empty booster, fills it with fill and wraps it.
func load1(fill func(*api, uintptr) error) (*Booster, error) {
	a, err := lib()
	if err != nil {
		return nil, err
	}
	var h uintptr
	if err := a.call("create booster", func() int32 { return a.boosterCreate(nil, 0, &h) }); err != nil {
		return nil, err
	}
	if err := fill(a, h); err != nil {
		_ = a.call("free booster", func() int32 { return a.boosterFree(h) })
		return nil, err
	}
	return newBooster(a, h)
}

// Importance types accepted by FeatureImportance (XGBoost's names).
const (
	ImportanceGain      = "gain"
	ImportanceTotalGain = "total_gain"
	ImportanceWeight    = "weight"
	ImportanceCover     = "cover"
)

// FeatureImportance returns one score per feature column for the given
// importance type (ImportanceGain: the average loss reduction of the splits
// on that feature). Features never used in a split score 0.
func (b *Booster) FeatureImportance(kind string) ([]float64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.h == 0 {
		return nil, ErrClosed
	}
	// NB: names are passed explicitly as f0, f1, … so the result maps back
	// to column indices whether or not the model carries feature names.
	names := make([]string, b.features)
	for i := range names {
		names[i] = "f" + strconv.Itoa(i)
	}
	cfg, err := json.Marshal(map[string]any{"importance_type": kind, "feature_names": names})
	if err != nil {
		return nil, err
	}
	var nFeat, dim uint64
	var feat, shape, scores unsafe.Pointer
	err = b.a.call("feature score", func() int32 {
		return b.a.boosterFeatureScore(b.h, string(cfg), &nFeat, &feat, &dim, &shape, &scores)
	})
	if err != nil {
		return nil, err
	}
	out := make([]float64, b.features)
	names2 := unsafe.Slice((*unsafe.Pointer)(feat), nFeat)
	vals := unsafe.Slice((*float32)(scores), nFeat)
	for i, p := range names2 {
		j, err := strconv.Atoi(strings.TrimPrefix(goString(p), "f"))
		if err != nil || j < 0 || j >= len(out) {
			return nil, fmt.Errorf("xgb: unexpected feature name %q in importance", goString(p))
		}
		out[j] = float64(vals[i])
	}
	return out, nil
}
