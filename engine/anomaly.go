package engine

import (
	"context"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/exohunter/exohunter/ml/anomaly"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Anomaly detection (issue 7): Isolation Forest and LOF over the physical
// columns of a run's feature set; their scores go to meta.scores, appear
// as anomaly_score (and one column per detector) in results, and feed the
// labeling queue's anomaly term.

// AnomalyColumns are the feature-set columns the detectors read: the
// transit, planet and star physics and their consistency checks, in their
// feature-set scales (log1p or standardised). Position, epoch, magnitude,
// uncertainties and indicator columns describe how an object was observed,
// not whether it is physically odd, so they are left out.
var AnomalyColumns = []string{
	"koi_period", "koi_duration", "koi_depth", "koi_impact", "koi_model_snr", "koi_prad", "koi_teq", "koi_insol",
	"koi_steff", "koi_slogg", "koi_srad", "koi_smass", "depth_consistency", "duration_ratio", "radius_ratio",
	"stellar_density_logg", "stellar_density_transit", "density_consistency", "snr_per_transit",
}

// AnomalyInput asks to score a run's objects for anomalies.
type AnomalyInput struct {
	// Run, Dataset and Features choose the run and its feature set as for
	// training (TrainInput).
	Run      string
	Dataset  string
	Features string
}

// AnomalyResult summarises one detection.
type AnomalyResult struct {
	RunID    string   `json:"run_id"`
	Features string   `json:"features"`
	Columns  []string `json:"columns"`
	Rows     int      `json:"rows"`
	// Flagged counts rows with anomaly_score >= 0.5.
	Flagged int `json:"flagged"`
	// Top lists the most anomalous objects.
	Top []AnomalyRow `json:"top"`
}

// AnomalyRow is one object's scores.
type AnomalyRow struct {
	ObjectID string  `json:"object_id"`
	Score    float64 `json:"anomaly_score"`
	IForest  float64 `json:"anomaly_score_iforest"`
	LOF      float64 `json:"anomaly_score_lof"`
}

// anomalyTop is the length of AnomalyResult.Top.
const anomalyTop = 10

// DetectAnomalies fits both detectors on the run's objects and writes
// anomaly_score_iforest, anomaly_score_lof and anomaly_score (1 − 1/LOF in
// [0, 1], see anomaly.Scores) to meta.scores.
func (e *Engine) DetectAnomalies(ctx context.Context, in AnomalyInput) (*AnomalyResult, error) {
	src, err := e.trainSource(ctx, TrainInput{Run: in.Run, Dataset: in.Dataset, Features: in.Features})
	if err != nil {
		return nil, err
	}
	cols := anomalyColumns(src.manifest)
	if len(cols) < 2 {
		return nil, Errorf(Invalid, "Feature set %s has fewer than two of the columns the detectors read (%s).",
			src.manifest.Version, strings.Join(AnomalyColumns, ", "))
	}
	rowIDs, objectIDs, x, err := e.anomalyMatrix(ctx, src.path, cols)
	if err != nil {
		return nil, err
	}
	s, err := anomaly.Detect(x, anomaly.DefaultParams())
	if err != nil {
		return nil, Wrap(BadRequest, err, "Run %s cannot be scored for anomalies: %v", src.run.RunID, err)
	}
	sc := scoreColumns{rowIDs: rowIDs, names: []string{"anomaly_score_iforest", "anomaly_score_lof", "anomaly_score"},
		values: [][]float64{s.IForest, s.LOF, s.Combined}, constants: map[string]any{"anomaly_features": src.manifest.Version}}
	if err := e.writeScores(ctx, src.run, sc); err != nil {
		return nil, err
	}
	res := &AnomalyResult{RunID: src.run.RunID, Features: src.manifest.Version, Columns: cols, Rows: len(rowIDs), Top: []AnomalyRow{}}
	for _, v := range s.Combined {
		if v >= 0.5 {
			res.Flagged++
		}
	}
	for _, i := range anomaly.Ranking(s.Combined)[:min(anomalyTop, len(rowIDs))] {
		res.Top = append(res.Top, AnomalyRow{ObjectID: objectIDs[i], Score: round4dp(s.Combined[i]),
			IForest: round4dp(s.IForest[i]), LOF: round4dp(s.LOF[i])})
	}
	return res, nil
}

// anomalyColumns keeps the AnomalyColumns a feature set has.
func anomalyColumns(m *FeatureManifest) []string {
	have := featureSetColumns(m)
	var out []string
	for _, c := range AnomalyColumns {
		if contains(have, c) {
			out = append(out, c)
		}
	}
	return out
}

// anomalyMatrix reads the columns of a feature set, in object order.
func (e *Engine) anomalyMatrix(ctx context.Context, path string, cols []string) ([]int64, []string, *mat.Dense, error) {
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = "CAST(" + sqltmpl.Ident(c).String() + " AS DOUBLE)"
	}
	q := `SELECT row_id, object_id, ` + strings.Join(sel, ", ") + ` FROM ` + string(readParquetRel(path)) + ` ORDER BY object_id, row_id`
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return nil, nil, nil, e.queryError(ctx, err, "read the anomaly features")
	}
	defer rows.Close()
	var rowIDs []int64
	var objectIDs []string
	var data []float64
	vals := make([]*float64, len(cols))
	for rows.Next() {
		var rid int64
		var oid string
		ptrs := []any{&rid, &oid}
		for i := range vals {
			vals[i] = nil
			ptrs = append(ptrs, &vals[i])
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, nil, err
		}
		for _, v := range vals {
			x := math.NaN()
			if v != nil && !math.IsInf(*v, 0) {
				x = *v
			}
			data = append(data, x)
		}
		rowIDs, objectIDs = append(rowIDs, rid), append(objectIDs, oid)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, e.queryError(ctx, err, "read the anomaly features")
	}
	if len(rowIDs) < 3 {
		return nil, nil, nil, Errorf(BadRequest, "The run has %d objects; anomaly detection needs at least 3.", len(rowIDs))
	}
	return rowIDs, objectIDs, mat.NewDense(len(rowIDs), len(cols), data), nil
}
