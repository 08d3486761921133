package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/exohunter/exohunter/engine/spec"
	"github.com/exohunter/exohunter/ml/xgb"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// ScoreInput asks to apply a model to a run.
type ScoreInput struct {
	// Run is the run to score; empty takes the latest run of Dataset, or of
	// the only dataset.
	Run     string
	Dataset string
	// Model is NAME or NAME/VERSION (newest version when omitted).
	Model string
}

// ScoreResult describes a scoring: how many rows got a probability.
type ScoreResult struct {
	RunID   string `json:"run_id"`
	Model   string `json:"model"`
	Version string `json:"version"`
	Target  string `json:"target"`
	Leaky   bool   `json:"leaky"`
	// Rows is the number of rows scored; Planets how many have
	// p_model >= 0.5.
	Rows    int `json:"rows"`
	Planets int `json:"planets"`
	// Column names where the probability appears in the run's results.
	Column string `json:"column"`
}

// ScoreRun applies a model's final booster to every (default) row of a
// run and writes p_model, the probability of a planet (not a false
// positive), into meta.scores, where results, exports and the labeling
// queue's uncertainty strategy read it. The run's features are the
// model's feature set when the run is its source, else they are computed
// over the run with the feature set's own spec and statistics.
func (e *Engine) ScoreRun(ctx context.Context, in ScoreInput) (*ScoreResult, error) {
	if err := xgb.Available(); err != nil {
		return nil, Wrap(Invalid, err, "Scoring needs the XGBoost library: %s.", xgb.InstallHint)
	}
	mi, err := e.ResolveModel(ctx, in.Model)
	if err != nil {
		return nil, err
	}
	m, err := readModelMetrics(mi.Path)
	if err != nil {
		return nil, err
	}
	run, err := e.ResolveRun(ctx, in.Run, in.Dataset)
	if err != nil {
		return nil, err
	}
	mx, err := e.scoringMatrix(ctx, run, mi, m)
	if err != nil {
		return nil, err
	}
	booster, err := xgb.LoadModel(filepath.Join(mi.Path, ModelFile))
	if err != nil {
		return nil, fmt.Errorf("load model %s/%s: %w", mi.Name, mi.Version, err)
	}
	defer booster.Close()
	p, err := booster.Predict(mx.data.X)
	if err != nil {
		return nil, fmt.Errorf("score run %s: %w", run.RunID, err)
	}
	t, err := targetOf(m.Target)
	if err != nil {
		return nil, err
	}
	w := booster.NumClass()
	res := &ScoreResult{RunID: run.RunID, Model: mi.Name, Version: mi.Version, Target: m.Target, Leaky: m.Leaky,
		Rows: len(mx.rowIDs), Column: "p_model"}
	pm := make([]float64, len(mx.rowIDs))
	for i := range pm {
		pm[i] = t.planetProbability(p[i*w : (i+1)*w])
		if pm[i] >= 0.5 {
			res.Planets++
		}
	}
	sc := scoreColumns{rowIDs: mx.rowIDs, names: []string{"p_model"}, values: [][]float64{pm},
		constants: map[string]any{"model": mi.Name + "/" + mi.Version}}
	if err := e.writeScores(ctx, run, sc); err != nil {
		return nil, err
	}
	return res, nil
}

// scoringMatrix reads the model's features over a run, unlabeled and
// unfiltered, and checks that they are the model's columns in its order.
func (e *Engine) scoringMatrix(ctx context.Context, run *Run, mi *ModelInfo, m *ModelMetrics) (*matrix, error) {
	fm, path, cleanup, err := e.scoringFeatures(ctx, run, mi, m)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	mm, err := e.modelMatrix(ctx, run, path, fm, m.Leaky)
	if err != nil {
		return nil, err
	}
	mx, err := e.queryMatrix(ctx, mm, nil)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(mx.data.Features, m.Features) {
		return nil, Errorf(Conflict, "Model %s/%s was trained on other feature columns than this version of ExoHunter computes; retrain it.", mi.Name, mi.Version)
	}
	return mx, nil
}

// scoringFeatures returns the feature set to score a run with: the
// model's own version when the run is its source and the version is
// unchanged, else a temporary file computed with the model's copy of the
// feature manifest (spec, imputation values and scaling).
func (e *Engine) scoringFeatures(ctx context.Context, run *Run, mi *ModelInfo, m *ModelMetrics) (*FeatureManifest, string, func(), error) {
	none := func() {}
	if run.RunID == m.Source.RunID {
		if fm, path, err := e.featureSet(ctx, m.FeatureSet.Version); err == nil && fm.ContentHash == m.FeatureSet.ContentHash {
			return fm, path, none, nil
		}
	}
	var fm FeatureManifest
	b, err := os.ReadFile(filepath.Join(mi.Path, ModelFeatureSetFile))
	if err == nil {
		err = json.Unmarshal(b, &fm)
	}
	if err != nil || fm.Spec == nil {
		return nil, "", none, Wrap(NotFound, err, "Model %s/%s has no readable %s, so its features cannot be computed over run %s.",
			mi.Name, mi.Version, ModelFeatureSetFile, run.RunID)
	}
	// note: JSON is YAML, so the manifest's copy of the spec goes through
	// the same strict parser and validation as configs/features.yaml.
	specJSON, err := json.Marshal(fm.Spec)
	if err != nil {
		return nil, "", none, err
	}
	fs, err := spec.ParseFeatures(bytes.NewReader(specJSON), ModelFeatureSetFile)
	if err != nil {
		return nil, "", none, fmt.Errorf("model %s/%s feature spec: %w", mi.Name, mi.Version, err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	path := e.path(DirTmp, ".score-"+hex.EncodeToString(rnd[:])+".parquet")
	in := sqltmpl.FeatureInput{RunPath: e.abs(run.Path), Spec: fs, Params: manifestParams(&fm), Path: path}
	q, err := sqltmpl.FeatureCopy(in)
	if err != nil {
		return nil, "", none, err
	}
	if _, err := e.db.ExecContext(ctx, q); err != nil {
		os.Remove(path)
		return nil, "", none, e.featureSQLError(ctx, err, run)
	}
	return &fm, path, func() { os.Remove(path) }, nil
}

// manifestParams turns a manifest's statistics back into the imputation
// and scaling of its build.
func manifestParams(fm *FeatureManifest) map[string]sqltmpl.FeatureParams {
	out := map[string]sqltmpl.FeatureParams{}
	for name, st := range fm.Stats {
		p := sqltmpl.FeatureParams{Impute: st.ImputeValue, Std: 1}
		if st.Mean != nil {
			p.Mean = *st.Mean
		}
		if st.Std != nil && *st.Std > 0 && !math.IsInf(*st.Std, 0) {
			p.Std = *st.Std
		}
		out[name] = p
	}
	return out
}
