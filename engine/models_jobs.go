package engine

import "context"

// Job kinds of the models API.
const (
	// JobKindTrain is a model training started by Jobs.StartTrain.
	JobKindTrain = "train"
	// JobKindAnomalies is an anomaly detection started by
	// Jobs.StartAnomalies.
	JobKindAnomalies = "anomalies"
	// JobKindScore is a scoring started by Jobs.StartScore.
	JobKindScore = "score"
	// JobKindFeatures is a feature-set build started by Jobs.StartFeatures.
	JobKindFeatures = "features"
)

// StartTrain trains a model as a background job (POST /api/models/train)
// and returns the queued job: its progress names the fold being trained,
// its result is the TrainResult (the train line). A bad target or name, a
// missing XGBoost library, a version that exists, or a run, dataset or
// feature set that does not is refused before any job starts.
func (j *Jobs) StartTrain(ctx context.Context, in TrainInput) (*Job, error) {
	if err := needXGBoost("Training"); err != nil {
		return nil, err
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
	if err := j.checkSource(ctx, in.Run, in.Dataset, in.Features); err != nil {
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

// StartAnomalies scores a run with both detectors as a background job
// (POST /api/runs/{id}/anomalies?background=true): a run of ten million
// rows takes six minutes, beyond a request's limit. Its result is the
// AnomalyResult; a run, dataset or feature set that does not exist is
// refused before the job starts.
func (j *Jobs) StartAnomalies(ctx context.Context, in AnomalyInput) (*Job, error) {
	if err := j.checkSource(ctx, in.Run, in.Dataset, in.Features); err != nil {
		return nil, err
	}
	return j.Start(ctx, JobKindAnomalies, func(ctx context.Context, report func(float64, string)) (any, error) {
		in.Progress = report
		return j.e.DetectAnomalies(ctx, in)
	})
}

// StartScore writes a model's probabilities for a run as a background job
// (POST /api/models/{name}/{version}/score?background=true). Its result is
// the ScoreResult; a missing XGBoost library, model or run is refused
// before the job starts.
func (j *Jobs) StartScore(ctx context.Context, in ScoreInput) (*Job, error) {
	if err := needXGBoost("Scoring"); err != nil {
		return nil, err
	}
	run, err := j.e.ResolveRun(ctx, in.Run, in.Dataset)
	if err != nil {
		return nil, err
	}
	if _, _, err := j.e.scoringModel(ctx, in.Model, j.e.datasetMission(ctx, run.Dataset)); err != nil {
		return nil, err
	}
	// note: the job scores the run resolved now, not a newer one.
	in.Run, in.Dataset = run.RunID, ""
	return j.Start(ctx, JobKindScore, func(ctx context.Context, report func(float64, string)) (any, error) {
		in.Progress = report
		return j.e.ScoreRun(ctx, in)
	})
}

// StartFeatures builds a feature set as a background job (POST
// /api/features?background=true): at ten million rows a build takes about
// three minutes, and may first wait for the bulk turn. Its result is the
// FeatureBuild; a bad version name or a missing run is refused before the
// job starts, a version taken by other content fails the job (Conflict).
func (j *Jobs) StartFeatures(ctx context.Context, in FeatureBuildInput) (*Job, error) {
	if err := checkFeatureVersion(in.Version); err != nil {
		return nil, err
	}
	run, err := j.e.ResolveRun(ctx, in.Run, in.Dataset)
	if err != nil {
		return nil, err
	}
	// note: the job builds from the run resolved now, not a newer one.
	in.Run, in.Dataset = run.RunID, ""
	return j.Start(ctx, JobKindFeatures, func(ctx context.Context, report func(float64, string)) (any, error) {
		report(0, "building feature set "+in.Version+" from run "+in.Run)
		return j.e.BuildFeatures(ctx, in)
	})
}

// checkSource checks the named run, dataset and feature set of a job now,
// so that a typo is a 404 at once rather than a failed job found later.
func (j *Jobs) checkSource(ctx context.Context, run, dataset, features string) error {
	if run != "" {
		if _, err := j.e.completeRun(ctx, run); err != nil {
			return err
		}
	}
	if dataset != "" {
		if _, err := j.e.Dataset(ctx, dataset); err != nil {
			return err
		}
	}
	if features != "" {
		_, _, err := j.e.featureSetRow(ctx, features)
		return err
	}
	// note: with several datasets and none named, the run is ambiguous.
	_, err := j.e.ResolveRun(ctx, run, dataset)
	return err
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
