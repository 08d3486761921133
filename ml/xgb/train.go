package xgb

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
)

// trainMu makes trainings take turns, from the first round to the last.
// XGBoost 1.7 seeds its row and column samplers' random engine once per
// learner configuration, and that engine is thread-local: every C call runs
// on the one dedicated thread (see lib.go), so two boosters whose rounds
// interleave draw from one engine and neither is reproducible. Prediction
// draws nothing and stays concurrent, and so does loading a model, which
// must not reseed the engine either (see LoadModel).
var trainMu sync.Mutex

// Data is a labelled feature matrix.
type Data struct {
	X Matrix
	// Y holds one label per row: 0 or 1 for BinaryLogistic, a class index
	// 0..NumClass-1 for MultiSoftprob.
	Y []float32
	// Weight optionally holds one non-negative weight per row.
	Weight []float32
}

func (d Data) validate(classes int) error {
	if err := d.X.validate(); err != nil {
		return err
	}
	if len(d.Y) != d.X.Rows {
		return fmt.Errorf("xgb: %d labels for %d rows", len(d.Y), d.X.Rows)
	}
	if len(d.Weight) != 0 && len(d.Weight) != d.X.Rows {
		return fmt.Errorf("xgb: %d weights for %d rows", len(d.Weight), d.X.Rows)
	}
	top := float32(max(classes, 2) - 1)
	for i, y := range d.Y {
		if y != float32(math.Trunc(float64(y))) || y < 0 || y > top {
			return fmt.Errorf("xgb: row %d has label %v, want an integer in [0, %v]", i, y, top)
		}
	}
	for i, w := range d.Weight {
		if !(w >= 0) || math.IsInf(float64(w), 0) {
			return fmt.Errorf("xgb: row %d has weight %v, want a finite value >= 0", i, w)
		}
	}
	return nil
}

// Train fits a booster on train. When valid is non-nil, the validation log
// loss is recorded after every round and, with p.EarlyStoppingRounds > 0,
// training stops once it has not improved for that many rounds; the returned
// model then keeps only the rounds up to the best one, so that saving and
// predicting use the early-stopped model without further bookkeeping.
func Train(train Data, valid *Data, p Params) (*Booster, error) {
	return TrainContext(context.Background(), train, valid, p)
}

// TrainContext is Train, stopped between two boosting rounds once ctx
// ends (a cancelled job, a server shutting down): a round is one call into
// the library, which cannot be interrupted, and lasts milliseconds.
func TrainContext(ctx context.Context, train Data, valid *Data, p Params) (*Booster, error) {
	trainMu.Lock()
	defer trainMu.Unlock()
	a, err := lib()
	if err != nil {
		return nil, err
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	if p.EarlyStoppingRounds > 0 && valid == nil {
		return nil, fmt.Errorf("xgb: early stopping needs a validation set")
	}
	if err := train.validate(p.classes()); err != nil {
		return nil, fmt.Errorf("training data: %w", err)
	}
	dtrain, err := newDMatrix(a, train.X, train.Y, train.Weight)
	if err != nil {
		return nil, err
	}
	defer dtrain.free()
	cache := []uintptr{dtrain.h}
	var dvalid *dmatrix
	if valid != nil {
		if err := valid.validate(p.classes()); err != nil {
			return nil, fmt.Errorf("validation data: %w", err)
		}
		if valid.X.Cols != train.X.Cols {
			return nil, fmt.Errorf("xgb: validation has %d columns, training %d", valid.X.Cols, train.X.Cols)
		}
		if dvalid, err = newDMatrix(a, valid.X, nil, nil); err != nil {
			return nil, err
		}
		defer dvalid.free()
		// NB: listing the validation matrix at creation lets XGBoost cache
		// its predictions, so the per-round check adds one tree at a time.
		cache = append(cache, dvalid.h)
	}
	var h uintptr
	if err := a.call("create booster", func() int32 { return a.boosterCreate(cache, uint64(len(cache)), &h) }); err != nil {
		return nil, err
	}
	t := &trainer{ctx: ctx, a: a, h: h, p: p, dtrain: dtrain, dvalid: dvalid, valid: valid}
	info, err := t.run()
	if err != nil {
		_ = a.call("free booster", func() int32 { return a.boosterFree(t.h) })
		return nil, err
	}
	b, err := newBooster(a, t.h)
	if err != nil {
		return nil, err
	}
	info.Rounds = b.info.Rounds
	b.info = info
	return b, nil
}

// trainer holds the state of one Train call. h may be replaced by a sliced
// booster after early stopping.
type trainer struct {
	ctx            context.Context
	a              *api
	h              uintptr
	p              Params
	dtrain, dvalid *dmatrix
	valid          *Data
}

func (t *trainer) run() (TrainInfo, error) {
	for _, kv := range t.p.pairs() {
		if err := t.a.call("set "+kv[0], func() int32 { return t.a.boosterSetParam(t.h, kv[0], kv[1]) }); err != nil {
			return TrainInfo{}, err
		}
	}
	info := TrainInfo{BestIteration: -1}
	for iter := 0; iter < t.p.NumBoostRound; iter++ {
		if err := t.ctx.Err(); err != nil {
			return info, fmt.Errorf("xgb: training stopped after %d of %d rounds: %w", iter, t.p.NumBoostRound, err)
		}
		err := t.a.call("boost round "+strconv.Itoa(iter), func() int32 {
			return t.a.boosterUpdateOneIter(t.h, int32(iter), t.dtrain.h)
		})
		if err != nil {
			return info, err
		}
		if t.dvalid == nil {
			continue
		}
		loss, err := t.validLoss()
		if err != nil {
			return info, err
		}
		info.ValidLogLoss = append(info.ValidLogLoss, loss)
		if info.BestIteration < 0 || loss < info.BestScore {
			info.BestIteration, info.BestScore = iter, loss
		}
		if t.p.EarlyStoppingRounds > 0 && iter-info.BestIteration >= t.p.EarlyStoppingRounds {
			break
		}
	}
	if t.p.EarlyStoppingRounds > 0 && info.BestIteration+1 < len(info.ValidLogLoss) {
		if err := t.slice(info.BestIteration + 1); err != nil {
			return info, err
		}
	}
	if info.BestIteration >= 0 {
		// Python's convention, so the saved model says which round was best.
		attrs := [][2]string{
			{"best_iteration", strconv.Itoa(info.BestIteration)},
			{"best_score", strconv.FormatFloat(info.BestScore, 'g', -1, 64)},
		}
		for _, kv := range attrs {
			if err := t.a.call("set attribute", func() int32 { return t.a.boosterSetAttr(t.h, kv[0], kv[1]) }); err != nil {
				return info, err
			}
		}
	}
	return info, nil
}

// validLoss predicts the validation set with the model so far and returns
// its (weighted) log loss, the metric XGBoost itself uses by default for
// both objectives.
func (t *trainer) validLoss() (float64, error) {
	b := &Booster{a: t.a, h: t.h, classes: t.p.classes()}
	pred, err := b.predictLocked(t.dvalid, t.valid.X.Rows)
	if err != nil {
		return 0, err
	}
	return logLoss(t.valid.Y, t.valid.Weight, pred, t.p.classes()), nil
}

// slice replaces the booster with its first rounds rounds.
func (t *trainer) slice(rounds int) error {
	var out uintptr
	err := t.a.call("slice booster", func() int32 { return t.a.boosterSlice(t.h, 0, int32(rounds), 1, &out) })
	if err != nil {
		return err
	}
	old := t.h
	t.h = out
	return t.a.call("free booster", func() int32 { return t.a.boosterFree(old) })
}

// logLoss is the mean negative log-likelihood of the labels, with
// probabilities clipped to [1e-15, 1-1e-15] as scikit-learn does.
func logLoss(y, w []float32, pred []float64, classes int) float64 {
	const eps = 1e-15
	sum, total := 0.0, 0.0
	for i, yi := range y {
		wi := 1.0
		if len(w) > 0 {
			wi = float64(w[i])
		}
		var p float64
		if classes == 1 {
			p = pred[i]
			if yi == 0 {
				p = 1 - p
			}
		} else {
			p = pred[i*classes+int(yi)]
		}
		sum -= wi * math.Log(min(max(p, eps), 1-eps))
		total += wi
	}
	if total == 0 {
		return 0
	}
	return sum / total
}
