package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/exohunter/exohunter/engine/spec"
	"github.com/exohunter/exohunter/ml/supervised"
	"github.com/exohunter/exohunter/ml/xgb"
)

// Supervised models (issue 7): an XGBoost classifier of NASA's
// disposition from leak-free features, trained on a feature-set version
// with the splits of configs/splits.yaml, written as artifacts under
// DATA/models/<name>/<version>/ and indexed in meta.models.

// Model targets.
const (
	// TargetConfirmedVsFP is CONFIRMED (1) vs FALSE POSITIVE (0); candidates
	// are left out.
	TargetConfirmedVsFP = "confirmed_vs_fp"
	// TargetPlanetVsFP is CONFIRMED or CANDIDATE (1) vs FALSE POSITIVE (0).
	TargetPlanetVsFP = "planet_vs_fp"
	// TargetDisposition is the 3-class disposition.
	TargetDisposition = "disposition"
)

// Targets lists the model targets.
var Targets = []string{TargetConfirmedVsFP, TargetPlanetVsFP, TargetDisposition}

// Artifact files of a model version.
const (
	ModelFile           = "model.json"
	ModelMetricsFile    = "metrics.json"
	ModelOOFFile        = "oof_predictions.csv"
	ModelCardFile       = "model_card.md"
	ModelDataCardFile   = "data_card.md"
	ModelFeatureSetFile = "feature_manifest.json"
)

// modelNameRe is a safe model name or version: a folder name.
var modelNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// modelMu serializes the commit of model versions within the process.
var modelMu sync.Mutex

// target is one learning task: which labels enter and which class each
// becomes (class index = position in classes).
type target struct {
	name    string
	classes []string
	// classOf maps a disposition to its class index; absent means the row
	// is left out.
	classOf map[string]int
}

// targetOf resolves a target name.
func targetOf(name string) (*target, error) {
	switch name {
	case TargetConfirmedVsFP:
		return &target{name, []string{spec.FalsePositive, spec.Confirmed},
			map[string]int{spec.FalsePositive: 0, spec.Confirmed: 1}}, nil
	case TargetPlanetVsFP:
		return &target{name, []string{spec.FalsePositive, "PLANET"},
			map[string]int{spec.FalsePositive: 0, spec.Confirmed: 1, spec.Candidate: 1}}, nil
	case TargetDisposition:
		return &target{name, []string{spec.Confirmed, spec.Candidate, spec.FalsePositive},
			map[string]int{spec.Confirmed: 0, spec.Candidate: 1, spec.FalsePositive: 2}}, nil
	}
	return nil, Errorf(BadRequest, "Unknown target %q: use confirmed_vs_fp, planet_vs_fp or disposition.", name)
}

// dispositions lists the labels the target reads, in a fixed order.
func (t *target) dispositions() []string {
	var out []string
	for _, d := range []string{spec.Confirmed, spec.Candidate, spec.FalsePositive} {
		if _, ok := t.classOf[d]; ok {
			out = append(out, d)
		}
	}
	return out
}

// planetProbability is p_model for one row of predictions: the
// probability that the object is a planet (not a false positive).
func (t *target) planetProbability(p []float64) float64 {
	if len(p) == 1 {
		return p[0]
	}
	return 1 - p[t.classOf[spec.FalsePositive]]
}

// TrainInput asks for one model version.
type TrainInput struct {
	// Run is the source run; empty takes the feature set's run, or the
	// latest run of Dataset, or of the only dataset.
	Run     string
	Dataset string
	// Features is the feature-set version; empty reuses the run's feature
	// set built with the current configs/features.yaml, or builds one
	// named auto-<run>.
	Features string
	// Target is confirmed_vs_fp (default), planet_vs_fp or disposition.
	Target string
	// Leaky adds the Robovetter's outputs, to measure the leak; the model
	// is named ..._leaky and its card says so.
	Leaky bool
	// Name defaults to xgb_<target>[_leaky]; Version to the UTC time.
	Name    string
	Version string
	// Progress, when set, hears each step.
	Progress func(done float64, message string)
}

// TrainResult is the line `exohunter train` prints (Contracts).
type TrainResult struct {
	ArtifactDir string         `json:"artifact_dir"`
	Model       string         `json:"model"`
	Version     string         `json:"version"`
	Target      string         `json:"target"`
	Leaky       bool           `json:"leaky"`
	Features    []string       `json:"features"`
	Metrics     MetricsSummary `json:"metrics"`
}

// Train fits and evaluates a classifier and writes its artifacts:
// model.json, metrics.json, oof_predictions.csv, model_card.md,
// data_card.md and the feature set's manifest, in a hidden folder renamed
// into place when complete.
func (e *Engine) Train(ctx context.Context, in TrainInput) (*TrainResult, error) {
	if err := needXGBoost("Training"); err != nil {
		return nil, err
	}
	t, err := targetOf(orDefault(in.Target, TargetConfirmedVsFP))
	if err != nil {
		return nil, err
	}
	progress := orNoProgress(in.Progress)
	name, err := modelName(in.Name, t.name, in.Leaky)
	if err != nil {
		return nil, err
	}
	if err := e.checkNewVersion(name, in.Version); err != nil {
		return nil, err
	}
	release, err := e.bulkTurn(ctx, runRows(e.sourceRun(ctx, in.Run, in.Dataset, in.Features)), "training "+name, progress)
	if err != nil {
		return nil, err
	}
	defer release()
	progress(0, "feature set")
	src, err := e.trainSource(ctx, in)
	if err != nil {
		return nil, err
	}
	progress(0.05, "feature matrix")
	splits := e.bundle.SplitsConfig()
	mx, err := e.readMatrix(ctx, src, t, in.Leaky, splits)
	if err != nil {
		return nil, err
	}
	if !mx.ephemeris.Computed {
		progress(0.1, fmt.Sprintf("ephemeris matching skipped (%d candidate pairs, over the budget of %d)", mx.ephemeris.CandidatePairs, mx.ephemeris.Budget))
	}
	cfg := trainConfig(splits, len(t.classes))
	cfg.Progress = func(p float64, msg string) { progress(0.1+0.85*p, msg) }
	res, err := supervised.Run(ctx, mx.data, cfg)
	if err == nil {
		defer res.Model.Close()
	}
	if cerr := ctx.Err(); cerr != nil {
		return nil, Wrap(Timeout, cerr, "Training was cancelled; no model was written.")
	}
	if err != nil {
		return nil, fmt.Errorf("train %s: %w", name, err)
	}
	progress(0.95, "artifacts")
	m := newModelMetrics(name, t, in.Leaky, src, mx, splits, cfg, res)
	m.Mission = e.datasetMission(ctx, src.run.Dataset)
	return e.commitModel(ctx, name, in.Version, m, mx, res, src.manifest)
}

// needXGBoost refuses task (Training, Scoring) when the XGBoost library
// cannot be loaded, saying what to install.
func needXGBoost(task string) error {
	if err := xgb.Available(); err != nil {
		return Wrap(Invalid, err, "%s needs the XGBoost library: %s.", task, xgb.InstallHint)
	}
	return nil
}

// multiclassRounds is the number of boosting rounds of a 3-class model:
// each round grows one tree per class, and early stopping on the holdout
// keeps about 150 rounds, so 300 keep the training of all folds within
// the 2-minute budget on 2 cores with room to spare.
const multiclassRounds = 300

// trainConfig maps the split config onto the trainer's.
func trainConfig(s *spec.Splits, classes int) supervised.Config {
	cfg := supervised.DefaultConfig()
	if classes > 2 {
		cfg.Params.NumBoostRound = multiclassRounds
	}
	cfg.Folds, cfg.Seed, cfg.Stratify = s.CV.Folds, s.Seed, s.Stratify
	cfg.Train, cfg.Valid, cfg.Test = s.Holdout.Train, s.Holdout.Valid, s.Holdout.Test
	cfg.Params.Seed = int64(s.Seed)
	return cfg
}

// modelName validates or derives the model's name.
func modelName(name, target string, leaky bool) (string, error) {
	if name == "" {
		name = "xgb_" + target
		if leaky {
			name += "_leaky"
		}
	}
	if !modelNameRe.MatchString(name) {
		return "", Errorf(BadRequest, "%q cannot be a model name: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters.", name)
	}
	return name, nil
}

// trainSource is the run and feature set a model trains on.
type trainSource struct {
	run      *Run
	manifest *FeatureManifest
	path     string // features.parquet
}

// trainSource resolves the feature set and its run (see TrainInput).
func (e *Engine) trainSource(ctx context.Context, in TrainInput) (*trainSource, error) {
	if in.Features != "" {
		m, path, err := e.featureSet(ctx, in.Features)
		if err != nil {
			return nil, err
		}
		if in.Run != "" && in.Run != m.Source.RunID {
			return nil, Errorf(BadRequest, "Feature set %s was built from run %s, not %s: pass --run %s or leave --run out.",
				m.Version, m.Source.RunID, in.Run, m.Source.RunID)
		}
		run, err := e.completeRun(ctx, m.Source.RunID)
		if err != nil {
			return nil, Wrap(NotFound, err, "Feature set %s was built from run %s, which is gone; build a new feature set.", m.Version, m.Source.RunID)
		}
		return &trainSource{run: run, manifest: m, path: path}, nil
	}
	run, err := e.ResolveRun(ctx, in.Run, in.Dataset)
	if err != nil {
		return nil, err
	}
	version, err := e.runFeatureSet(ctx, run)
	if err != nil {
		return nil, err
	}
	m, path, err := e.featureSet(ctx, version)
	if err != nil {
		return nil, err
	}
	return &trainSource{run: run, manifest: m, path: path}, nil
}

// runFeatureSet returns a feature set of the run built with the current
// spec, building auto-<run> when there is none.
func (e *Engine) runFeatureSet(ctx context.Context, run *Run) (string, error) {
	fs := e.bundle.FeaturesConfig()
	if fs == nil {
		return "", Errorf(Invalid, "There is no %s in the configuration, so the model has no features; add it or pass --features.", spec.FeaturesFile)
	}
	b, err := json.Marshal(fs)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	rows, err := e.db.QueryContext(ctx, `SELECT version, path FROM meta.feature_sets WHERE run_id = ? AND spec_hash = ?
		ORDER BY created_at DESC, version`, run.RunID, hex.EncodeToString(sum[:]))
	if err != nil {
		return "", e.queryError(ctx, err, "list the feature sets of run "+run.RunID)
	}
	var version string
	for rows.Next() && version == "" {
		var v, dir string
		if err := rows.Scan(&v, &dir); err != nil {
			rows.Close()
			return "", err
		}
		// note: serve skips a set kept in another feature store, which its
		// DuckDB may not read, and builds one in its own.
		if e.featureDirReadable(dir) {
			version = v
		}
	}
	rows.Close()
	if version != "" {
		return version, nil
	}
	version = "auto-" + run.RunID
	if !featureVersionRe.MatchString(version) {
		h := sha256.Sum256([]byte(run.RunID))
		version = "auto-" + hex.EncodeToString(h[:8])
	}
	if _, _, err := e.featureSetRow(ctx, version); err == nil {
		// note: the run's auto set lives in another feature store.
		h := sha256.Sum256([]byte(e.featureStore))
		version += "-" + hex.EncodeToString(h[:4])
	}
	e.log.Info("building a feature set for training", "version", version, "run", run.RunID)
	if _, err := e.buildFeatures(ctx, version, run); err != nil {
		return "", err
	}
	return version, nil
}

// commitModel writes the artifacts into a hidden folder, renames it to
// DATA/models/<name>/<version> and records it in meta.models.
func (e *Engine) commitModel(ctx context.Context, name, version string, m *ModelMetrics, mx *matrix, res *supervised.Result, fm *FeatureManifest) (*TrainResult, error) {
	parent := e.path(DirModels, name)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, Wrap(BadRequest, err, "Cannot create %s.", parent)
	}
	tmp, err := os.MkdirTemp(parent, ".train-")
	if err != nil {
		return nil, Wrap(BadRequest, err, "Cannot write to %s.", parent)
	}
	defer os.RemoveAll(tmp)
	// note: MkdirTemp makes the folder 0700; the version it becomes is
	// read by notebooks and other users, as feature sets are.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, Wrap(BadRequest, err, "Cannot write to %s.", parent)
	}
	modelMu.Lock()
	defer modelMu.Unlock()
	if m.Version, err = e.modelVersion(parent, version); err != nil {
		return nil, err
	}
	m.CreatedAt = time.Now().UTC().Truncate(time.Second)
	if err := writeArtifacts(tmp, m, mx, res, fm); err != nil {
		return nil, err
	}
	dir := filepath.Join(parent, m.Version)
	// note: under ingestMu, as DeleteDataset, so that a dataset deleted
	// while the model trained (its rows are read into memory first, so
	// nothing failed) is seen here, and a delete that comes later finds
	// the model listed. Without it, a model of a run that 404s was
	// published.
	e.ingestMu.Lock()
	defer e.ingestMu.Unlock()
	if _, err := e.Run(ctx, m.Source.RunID); ErrorCode(err) == NotFound {
		return nil, Wrap(NotFound, err, "Run %s was deleted (with its dataset) while model %s was being trained; no model was written.", m.Source.RunID, name)
	} else if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("commit model %s/%s: %w", name, m.Version, err)
	}
	if err := e.registerModel(ctx, m, dir); err != nil {
		// note: Open registers the folders it finds (syncModels); an
		// unrecorded one would be published at the next start.
		if rerr := os.RemoveAll(dir); rerr != nil {
			e.log.Warn("cannot remove an unregistered model", "dir", dir, "err", rerr)
		}
		return nil, err
	}
	return &TrainResult{ArtifactDir: dir, Model: name, Version: m.Version, Target: m.Target, Leaky: m.Leaky,
		Features: m.Features, Metrics: m.Summary()}, nil
}

// checkNewVersion refuses a requested version that is malformed or
// exists, before any training time is spent on it; commitModel checks
// again under the lock.
func (e *Engine) checkNewVersion(name, version string) error {
	if version == "" {
		return nil
	}
	_, err := e.modelVersion(e.path(DirModels, name), version)
	return err
}

// modelVersion validates the requested version, or derives one from the
// time (a suffix keeps two versions of the same second apart).
func (e *Engine) modelVersion(parent, version string) (string, error) {
	if version != "" {
		if !modelNameRe.MatchString(version) {
			return "", Errorf(BadRequest, "%q cannot be a model version: use letters, digits, '.', '_' and '-', at most 64 characters.", version)
		}
		if _, err := os.Stat(filepath.Join(parent, version)); err == nil {
			return "", Errorf(Conflict, "Model %s/%s already exists; versions are never overwritten, so choose another version, or none for a timestamp.", filepath.Base(parent), version)
		}
		return version, nil
	}
	base := time.Now().UTC().Format("20060102T150405Z")
	v := base
	for i := 2; ; i++ {
		if _, err := os.Stat(filepath.Join(parent, v)); os.IsNotExist(err) {
			return v, nil
		}
		v = fmt.Sprintf("%s-%d", base, i)
	}
}

// orDefault returns a unless it is empty.
func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
