package engine

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

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
	// Progress, when set, is told each stage and batch, as a background
	// job reports it.
	Progress func(float64, string)
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
	// OutOfFold counts rows the model was trained on: their p_model is
	// their out-of-fold probability (oof_predictions.csv), not the final
	// model's, which has seen their labels.
	OutOfFold int `json:"out_of_fold"`
	// Warning is set when the model was trained on another mission's
	// catalog than the run's, or with ephemeris-match features the run is
	// too large to compute.
	Warning string `json:"warning,omitempty"`
	// Out is the file the scored run was also written to (score --out).
	Out string `json:"out,omitempty"`
}

// ScoreRun applies a model's final booster to every (default) row of a
// run (the rows it was trained on get their out-of-fold probability
// instead) and writes p_model, the probability of a planet (not a false
// positive), into meta.scores, where results, exports and the labeling
// queue's uncertainty strategy read it. The run's features are the
// model's feature set when the run is its source, else they are computed
// over the run with the feature set's own spec and statistics.
func (e *Engine) ScoreRun(ctx context.Context, in ScoreInput) (*ScoreResult, error) {
	if err := needXGBoost("Scoring"); err != nil {
		return nil, err
	}
	run, err := e.ResolveRun(ctx, in.Run, in.Dataset)
	if err != nil {
		return nil, err
	}
	mission := e.datasetMission(ctx, run.Dataset)
	mi, m, err := e.scoringModel(ctx, in.Model, mission)
	if err != nil {
		return nil, err
	}
	t, err := targetOf(m.Target)
	if err != nil {
		return nil, err
	}
	oof, err := readOOFProbabilities(filepath.Join(mi.Path, ModelOOFFile))
	if err != nil {
		return nil, Wrap(NotFound, err, "Model %s/%s has no readable %s; its artifacts are incomplete.", mi.Name, mi.Version, ModelOOFFile)
	}
	booster, err := xgb.LoadModel(filepath.Join(mi.Path, ModelFile))
	if err != nil {
		return nil, fmt.Errorf("load model %s/%s: %w", mi.Name, mi.Version, err)
	}
	defer booster.Close()
	res := &ScoreResult{RunID: run.RunID, Model: mi.Name, Version: mi.Version, Target: m.Target, Leaky: m.Leaky, Column: "p_model"}
	progress := orNoProgress(in.Progress)
	release, err := e.bulkTurn(ctx, run.Rows, "scoring run "+run.RunID, progress)
	if err != nil {
		return nil, err
	}
	defer release()
	w := booster.NumClass()
	var rowIDs []int64
	var pm []float64
	ephemeris, err := e.scoringScan(ctx, run, mi, m, progress, func(mx *matrix) error {
		p, err := booster.Predict(mx.data.X)
		if err != nil {
			return fmt.Errorf("score run %s: %w", run.RunID, err)
		}
		for i, oid := range mx.objectIDs {
			// note: the final model was fitted on every training row, so
			// its own probability for one of them has seen the label (0.98
			// for confirmed planets, in-sample); the uncertainty queue
			// needs the honest out-of-fold one.
			q, ok := oof[oid]
			if ok {
				res.OutOfFold++
			} else {
				q = t.planetProbability(p[i*w : (i+1)*w])
			}
			if q >= 0.5 {
				res.Planets++
			}
			pm = append(pm, q)
		}
		rowIDs = append(rowIDs, mx.rowIDs...)
		progress(0.5+0.38*min(1, float64(len(rowIDs))/float64(max(run.Rows, 1))), fmt.Sprintf("scored %d of %d rows", len(rowIDs), run.Rows))
		return nil
	})
	if err != nil {
		return nil, e.runDeletedDuring(ctx, run.RunID, err, "model "+mi.Name+"/"+mi.Version+" was scoring it")
	}
	res.Rows = len(rowIDs)
	if trained := e.modelMission(ctx, m); trained != "" && mission != "" && trained != mission {
		res.Warning = fmt.Sprintf("Model %s/%s was trained on a %s catalog (dataset %s) and was never validated on %s objects: treat its p_model here as a guess.",
			mi.Name, mi.Version, trained, m.Source.Dataset, mission)
	}
	if (m.Ephemeris == nil || m.Ephemeris.Computed) && !ephemeris.Computed {
		res.Warning = strings.TrimSpace(res.Warning + " " + ephemeris.skippedNote() +
			" The model was trained with them, so its p_model here is less reliable.")
	}
	sc := scoreColumns{rowIDs: rowIDs, names: []string{"p_model"}, values: [][]float64{pm},
		constants: map[string]string{"model": mi.Name + "/" + mi.Version}}
	progress(0.88, "writing p_model")
	if err := e.writeScores(ctx, run, sc); err != nil {
		return nil, err
	}
	return res, nil
}

// scoringModel resolves the model to score a run of mission with. A name
// without a version takes the newest version trained on the same
// mission's catalog: the newest of all might be another mission's model
// of the same target (the default names do not say the dataset).
func (e *Engine) scoringModel(ctx context.Context, ref, mission string) (*ModelInfo, *ModelMetrics, error) {
	if _, version, _ := strings.Cut(strings.TrimSpace(ref), "/"); version != "" || mission == "" {
		mi, err := e.ResolveModel(ctx, ref)
		if err != nil {
			return nil, nil, err
		}
		m, err := readModelMetrics(mi.Path)
		return mi, m, err
	}
	versions, err := e.modelVersions(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	var others []string
	for _, mi := range versions {
		m, err := readModelMetrics(mi.Path)
		if err != nil {
			return nil, nil, err
		}
		trained := e.modelMission(ctx, m)
		if trained == "" || trained == mission {
			return mi, m, nil
		}
		others = append(others, mi.Version+" ("+trained+")")
	}
	return nil, nil, Errorf(NotFound, "Model %s has no version trained on a %s catalog (versions: %s). Train one on this dataset, or name a version (NAME/VERSION) to apply it to another mission's objects.",
		ref, mission, strings.Join(others, ", "))
}

// modelMission is the mission of a model's training catalog: recorded in
// metrics.json since it has the field, else that of its dataset if it
// still exists, else "" (unknown).
func (e *Engine) modelMission(ctx context.Context, m *ModelMetrics) string {
	if m.Mission != "" {
		return m.Mission
	}
	return e.datasetMission(ctx, m.Source.Dataset)
}

// datasetMission is a dataset's mission, or "" when it is gone.
func (e *Engine) datasetMission(ctx context.Context, name string) string {
	ds, err := e.Dataset(ctx, name)
	if err != nil {
		return ""
	}
	return ds.Mission
}

// readOOFProbabilities reads p_positive by object_id from a model's
// oof_predictions.csv.
func readOOFProbabilities(path string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, err
	}
	id, p := slices.Index(head, "object_id"), slices.Index(head, "p_positive")
	if id < 0 || p < 0 {
		return nil, fmt.Errorf("%s has no object_id or p_positive column", path)
	}
	out := map[string]float64{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		v, err := strconv.ParseFloat(rec[p], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out[rec[id]] = v
	}
}

// defaultScoreBatch is the rows scored at a time: the run's matrix is
// never held whole (a million rows of ~60 features took 2 GB read at once,
// ten million 6.4 GB).
const defaultScoreBatch = 50_000

// scoreBatchOf is Options.ScoreBatch, or the default when it is not
// positive.
func scoreBatchOf(n int) int {
	if n <= 0 {
		return defaultScoreBatch
	}
	return n
}

// scoringScan reads the model's features over a run, unlabeled, and hands
// them to fn in batches of at most e.scoreBatch rows. It returns whether
// the ephemeris features were computed.
func (e *Engine) scoringScan(ctx context.Context, run *Run, mi *ModelInfo, m *ModelMetrics, progress func(float64, string), fn func(*matrix) error) (EphemerisMatching, error) {
	progress(0.02, fmt.Sprintf("computing the features of %d rows", run.Rows))
	fm, path, cleanup, err := e.scoringFeatures(ctx, run, mi, m)
	if err != nil {
		return EphemerisMatching{}, err
	}
	defer cleanup()
	mm, err := e.modelMatrix(ctx, run, path, fm, m.Leaky)
	if err != nil {
		return EphemerisMatching{}, err
	}
	feats := mm.Features()
	if !slices.Equal(feats, m.Features) {
		return EphemerisMatching{}, Errorf(Conflict, "Model %s/%s was trained on other feature columns than this version of ExoHunter computes; retrain it.", mi.Name, mi.Version)
	}
	mm.Scoring = true
	if run.Rows <= int64(e.scoreBatch) {
		mx, err := e.queryMatrix(ctx, mm, nil)
		if err != nil {
			return EphemerisMatching{}, err
		}
		return mx.ephemeris, fn(mx)
	}
	plan, err := e.planEphemeris(ctx, &mm)
	if err != nil {
		return plan, err
	}
	// note: at ten million rows the features take 20 s, this COPY 140 s,
	// the batches 145 s and the write 40 s (a serve job, 2 cores).
	progress(0.08, "writing the feature matrix")
	tmp, err := e.writeMatrix(ctx, mm)
	if err != nil {
		return plan, err
	}
	defer os.Remove(tmp)
	for from := int64(0); ; from += int64(e.scoreBatch) {
		q, err := sqltmpl.MatrixBatch(tmp, from, from+int64(e.scoreBatch)-1)
		if err != nil {
			return plan, err
		}
		mx := newMatrix(feats, nil, plan)
		if err := e.readMatrixRows(ctx, q, nil, mx); err != nil {
			return plan, err
		}
		if len(mx.rowIDs) == 0 {
			return plan, nil
		}
		if err := fn(mx); err != nil {
			return plan, err
		}
	}
}

// writeMatrix writes a matrix query to a temporary Parquet file in the
// temp dir and returns its path.
func (e *Engine) writeMatrix(ctx context.Context, mm sqltmpl.ModelMatrix) (string, error) {
	path := randomParquet(e.tempDir, ".matrix-")
	mm.CopyTo = path
	q, err := mm.Render()
	if err != nil {
		return "", err
	}
	if _, err := e.db.ExecContext(ctx, q); err != nil {
		os.Remove(path)
		return "", e.modelSQLError(ctx, err)
	}
	return path, nil
}

// randomParquet names a new temporary Parquet file in dir (removed at Open
// if a killed process leaves it: removeStaleExports).
func randomParquet(dir, prefix string) string {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return filepath.Join(dir, prefix+hex.EncodeToString(rnd[:])+".parquet")
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
	fs, err := manifestSpec(&fm, ModelFeatureSetFile)
	if err != nil {
		return nil, "", none, fmt.Errorf("model %s/%s feature spec: %w", mi.Name, mi.Version, err)
	}
	path := randomParquet(e.path(DirTmp), ".score-")
	in := sqltmpl.FeatureInput{RunPath: e.abs(run.Path), Spec: fs, Params: manifestParams(&fm), Path: path}
	q, err := sqltmpl.FeatureCopy(in)
	if err != nil {
		return nil, "", none, err
	}
	if _, err := e.db.ExecContext(ctx, q); err != nil {
		os.Remove(path)
		return nil, "", none, e.featureSQLError(ctx, err, fs, run)
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
