package engine

import (
	"context"

	"github.com/exohunter/exohunter/ml/xgb"
)

// JobKindTrain is a model training started by Jobs.StartTrain.
const JobKindTrain = "train"

// StartTrain trains a model as a background job (POST /api/models/train)
// and returns the queued job: its progress names the fold being trained,
// its result is the TrainResult (the train line). A bad target or name, a
// missing XGBoost library, a version that exists, or a run, dataset or
// feature set that does not is refused before any job starts.
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
	// note: the named run, dataset and feature set are checked now, so that
	// a typo is a 404 at once rather than a failed job found later.
	if in.Run != "" {
		if _, err := j.e.completeRun(ctx, in.Run); err != nil {
			return nil, err
		}
	}
	if in.Dataset != "" {
		if _, err := j.e.Dataset(ctx, in.Dataset); err != nil {
			return nil, err
		}
	}
	if in.Features != "" {
		if _, _, err := j.e.featureSet(ctx, in.Features); err != nil {
			return nil, err
		}
	} else if _, err := j.e.ResolveRun(ctx, in.Run, in.Dataset); err != nil {
		// note: with several datasets and none named, the run is ambiguous.
		return nil, err
	}
	release, err := j.reserveVersion(name, in.Version)
	if err != nil {
		return nil, err
	}
	job, err := j.Start(ctx, JobKindTrain, func(ctx context.Context, report func(float64, string)) (any, error) {
		defer release()
		in.Progress = report
		return j.e.Train(ctx, in)
	})
	if err != nil {
		release()
	}
	return job, err
}

// reserveVersion holds name/version for one training job until release,
// so that a second request for the same version is refused at once
// rather than after its cross-validation. An empty version (the UTC time)
// needs no reservation.
func (j *Jobs) reserveVersion(name, version string) (release func(), err error) {
	if version == "" {
		return func() {}, nil
	}
	key := name + "/" + version
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.training[key] {
		return nil, Errorf(Conflict, "Model version %s is already being trained; wait for that job, or choose another version.", key)
	}
	if j.training == nil {
		j.training = map[string]bool{}
	}
	j.training[key] = true
	return func() {
		j.mu.Lock()
		delete(j.training, key)
		j.mu.Unlock()
	}, nil
}
