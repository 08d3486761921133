package engine

import (
	"context"

	"github.com/exohunter/exohunter/ml/xgb"
)

// JobKindTrain is a model training started by Jobs.StartTrain.
const JobKindTrain = "train"

// StartTrain trains a model as a background job (POST /api/models/train)
// and returns the queued job: its progress names the fold being trained,
// its result is the TrainResult (the train line). A bad target or name, or
// a missing XGBoost library, or a version that exists is refused before
// any job starts.
func (j *Jobs) StartTrain(ctx context.Context, in TrainInput) (*Job, error) {
	if err := xgb.Available(); err != nil {
		return nil, Wrap(Invalid, err, "Training needs the XGBoost library: %s.", xgb.InstallHint)
	}
	t, err := targetOf(orDefault(in.Target, TargetConfirmedVsFP))
	if err != nil {
		return nil, err
	}
	name, err := modelName(in.Name, t.name, in.Leaky)
	if err != nil {
		return nil, err
	}
	if err := j.e.checkNewVersion(name, in.Version); err != nil {
		return nil, err
	}
	return j.Start(ctx, JobKindTrain, func(ctx context.Context, report func(float64, string)) (any, error) {
		in.Progress = report
		return j.e.Train(ctx, in)
	})
}
