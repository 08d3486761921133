package engine

import (
	"math"
	"time"

	"github.com/exohunter/exohunter/engine/spec"
	"github.com/exohunter/exohunter/ml/metrics"
	"github.com/exohunter/exohunter/ml/supervised"
	"github.com/exohunter/exohunter/ml/xgb"
)

// Model kinds in meta.models.
const ModelKindClassifier = "classifier"

// ModelMetrics is metrics.json: what was trained on what, and how well it
// did. It lists the exact feature columns (Contracts).
type ModelMetrics struct {
	Model   string `json:"model"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
	Target  string `json:"target"`
	// Leaky marks the variant that reads the Robovetter's outputs.
	Leaky   bool     `json:"leaky"`
	Classes []string `json:"classes"`
	// PositiveClass is class 1 of a binary target.
	PositiveClass string          `json:"positive_class,omitempty"`
	Features      []string        `json:"features"`
	FeatureSet    ModelFeatureSet `json:"feature_set"`
	Source        FeatureSource   `json:"source"`
	// Mission is the source dataset's mission (koi, toi, k2, ps): scoring
	// a run by model name picks a version trained on the run's mission.
	Mission     string         `json:"mission,omitempty"`
	Rows        int            `json:"rows"`
	ClassCounts map[string]int `json:"class_counts"`
	// LabelSources counts rows by label origin: human (overrides), nasa
	// (labels.labels) and catalog (the run's koi_disposition).
	LabelSources map[string]int `json:"label_sources"`
	// Ephemeris says whether the ephemeris-match features were computed
	// (nil in a model trained before it was recorded, which always
	// computed them).
	Ephemeris *EphemerisMatching `json:"ephemeris_matching,omitempty"`
	Splits    *spec.Splits       `json:"splits"`
	Params    ModelParams        `json:"params"`
	// Threshold is the probability cut of accuracy, F1 and the confusion
	// matrices of binary targets.
	Threshold   float64                 `json:"threshold"`
	CV          metrics.FoldSummary     `json:"cv"`
	Folds       []supervised.FoldReport `json:"folds"`
	OOF         metrics.Report          `json:"oof"`
	Holdout     supervised.Holdout      `json:"holdout"`
	Calibration []metrics.Bin           `json:"calibration"`
	Importance  []supervised.Importance `json:"importance"`
	// ConfusionMatrix and PerClass restate the out-of-fold confusion
	// matrix and per-class precision, recall and support in the shape the
	// dashboard reads (ui/README.md).
	ConfusionMatrix LabeledConfusion    `json:"confusion_matrix"`
	PerClass        map[string]ClassFit `json:"per_class"`
	// Seconds is the training wall time (all folds, holdout, final model).
	Seconds        float64   `json:"seconds"`
	XGBoostVersion string    `json:"xgboost_version"`
	CreatedAt      time.Time `json:"created_at"`
}

// LabeledConfusion is a confusion matrix with its class names: rows are
// true classes, columns predicted ones.
type LabeledConfusion struct {
	Labels []string `json:"labels"`
	Matrix [][]int  `json:"matrix"`
}

// ClassFit is one class's out-of-fold precision, recall and support.
type ClassFit struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Support   int     `json:"support"`
}

// ModelFeatureSet identifies the feature set a model was trained on.
type ModelFeatureSet struct {
	Version     string `json:"version"`
	SpecHash    string `json:"spec_hash"`
	ContentHash string `json:"content_hash"`
}

// ModelParams are the XGBoost settings, as recorded.
type ModelParams struct {
	Objective           string  `json:"objective"`
	NumClass            int     `json:"num_class,omitempty"`
	NumBoostRound       int     `json:"num_boost_round"`
	EarlyStoppingRounds int     `json:"early_stopping_rounds"`
	Eta                 float64 `json:"eta"`
	MaxDepth            int     `json:"max_depth"`
	Subsample           float64 `json:"subsample"`
	ColsampleByTree     float64 `json:"colsample_bytree"`
	MinChildWeight      float64 `json:"min_child_weight"`
	Lambda              float64 `json:"lambda"`
	NThread             int     `json:"nthread"`
	Seed                int64   `json:"seed"`
	TreeMethod          string  `json:"tree_method"`
}

// MetricsSummary is the metrics object of the train line: the headlineOf
// numbers, rounded to 4 decimals.
type MetricsSummary struct {
	Rows int `json:"rows"`
	// CV holds mean and std over the folds.
	CV      map[string]MeanStd `json:"cv"`
	OOF     Headline           `json:"oof"`
	Test    Headline           `json:"test"`
	Seconds float64            `json:"seconds"`
}

// MeanStd is a metric's mean and sample standard deviation over folds.
type MeanStd struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// Headline holds the headlineOf metrics of one set of predictions.
type Headline struct {
	Rows     int     `json:"rows"`
	Accuracy float64 `json:"accuracy"`
	MacroF1  float64 `json:"macro_f1"`
	ROCAUC   float64 `json:"roc_auc"`
	PRAUC    float64 `json:"pr_auc"`
}

// Summary returns the headlineOf numbers.
func (m *ModelMetrics) Summary() MetricsSummary {
	ms := func(s metrics.Summary) MeanStd { return MeanStd{round4dp(s.Mean), round4dp(s.Std)} }
	return MetricsSummary{
		Rows: m.Rows,
		CV: map[string]MeanStd{"accuracy": ms(m.CV.Accuracy), "macro_f1": ms(m.CV.MacroF1),
			"roc_auc": ms(m.CV.ROCAUC), "pr_auc": ms(m.CV.PRAUC)},
		OOF: headlineOf(m.OOF), Test: headlineOf(m.Holdout.Test), Seconds: m.Seconds,
	}
}

func headlineOf(r metrics.Report) Headline {
	return Headline{Rows: r.Rows, Accuracy: round4dp(r.Accuracy), MacroF1: round4dp(r.MacroF1), ROCAUC: round4dp(r.ROCAUC), PRAUC: round4dp(r.PRAUC)}
}

func round4dp(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// newModelMetrics gathers metrics.json from a training result.
func newModelMetrics(name string, t *target, leaky bool, src *trainSource, mx *matrix, s *spec.Splits,
	cfg supervised.Config, res *supervised.Result) *ModelMetrics {
	p := cfg.Params
	m := &ModelMetrics{
		Model: name, Kind: ModelKindClassifier, Target: t.name, Leaky: leaky, Classes: t.classes,
		Features: mx.data.Features,
		FeatureSet: ModelFeatureSet{Version: src.manifest.Version, SpecHash: src.manifest.SpecHash,
			ContentHash: src.manifest.ContentHash},
		Source: FeatureSource{Dataset: src.run.Dataset, RunID: src.run.RunID},
		Rows:   len(mx.rowIDs), ClassCounts: mx.classCounts, LabelSources: mx.labelSources, Splits: s,
		Params: ModelParams{Objective: string(xgb.BinaryLogistic), NumBoostRound: p.NumBoostRound,
			EarlyStoppingRounds: cfg.EarlyStoppingRounds, Eta: p.Eta, MaxDepth: p.MaxDepth, Subsample: p.Subsample,
			ColsampleByTree: p.ColsampleByTree, MinChildWeight: p.MinChildWeight, Lambda: p.Lambda,
			NThread: p.NThread, Seed: p.Seed, TreeMethod: orDefault(p.TreeMethod, "hist")},
		Threshold: cfg.Threshold, CV: res.CV, Folds: res.Folds, OOF: res.OOF, Holdout: res.Holdout,
		Calibration: res.Calibration, Importance: res.Importance, Seconds: res.Seconds,
	}
	ephemeris := mx.ephemeris
	m.Ephemeris = &ephemeris
	if len(t.classes) > 2 {
		m.Params.Objective, m.Params.NumClass = string(xgb.MultiSoftprob), len(t.classes)
		m.Threshold = 0
	} else {
		m.PositiveClass = t.classes[1]
	}
	m.ConfusionMatrix = LabeledConfusion{Labels: t.classes, Matrix: res.OOF.Confusion}
	m.PerClass = map[string]ClassFit{}
	for k, c := range t.classes {
		support := 0
		for _, n := range res.OOF.Confusion[k] {
			support += n
		}
		m.PerClass[c] = ClassFit{Precision: res.OOF.Precision[k], Recall: res.OOF.Recall[k], Support: support}
	}
	if m.Calibration == nil {
		m.Calibration = []metrics.Bin{}
	}
	if v, _, err := xgb.Version(); err == nil {
		m.XGBoostVersion = v
	}
	return m
}
