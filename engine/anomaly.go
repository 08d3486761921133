package engine

import (
	"context"
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/exohunter/exohunter/engine/spec"
	"github.com/exohunter/exohunter/ml/anomaly"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Anomaly detection (issue 7): Isolation Forest and LOF over physical
// consistency checks read from a run's feature set; their scores go to
// meta.scores, appear as anomaly_score (and one column per detector) in
// results, and feed the labeling queue's anomaly term.

// AnomalyColumns are the feature-set columns the detectors read. Each is
// a physical consistency check, about 0 (or 1 for a ratio) for a planet
// transiting the catalogued star: the measured depth against the depth
// the radii imply, the measured duration against the duration of a
// circular orbit around a star of that density, the radius ratio (a
// planet is a small fraction of its star) and the impact parameter that
// goes with it (a transit with b < 1 and Rp/R★ near 1 would hide the
// whole star; 93 of the 107 KOIs with Rp/R★ > 1 are grazing, b >= 1). Raw
// extremes (period, depth, radius, SNR, stellar parameters) are left out:
// their tails belong to the catalog's false positives (radii of
// thousands of R⊕, depths of tens of percent); with them, both detectors
// rank those tails first and miss an object that is ordinary in every
// column but impossible in a combination (the KOI evaluation, docs/models.md).
// Position, epoch, magnitude and uncertainties describe how an object
// was observed, not whether it is physically odd.
var AnomalyColumns = []string{"depth_consistency", "duration_ratio", "radius_ratio", "koi_impact"}

// anomalyLogColumns are the AnomalyColumns that are ratios: the detectors
// read their natural log, so that 5× too long and 5× too short are
// equally far from the norm.
var anomalyLogColumns = []string{"duration_ratio", "radius_ratio"}

// AnomalyInput asks to score a run's objects for anomalies.
type AnomalyInput struct {
	// Run, Dataset and Features choose the run and its feature set as for
	// training (TrainInput).
	Run      string
	Dataset  string
	Features string
	// Progress, when set, is told each stage (a fraction done and what
	// runs), as a background job reports it.
	Progress func(float64, string)
}

// AnomalyResult summarises one detection.
type AnomalyResult struct {
	RunID    string   `json:"run_id"`
	Features string   `json:"features"`
	Columns  []string `json:"columns"`
	Rows     int      `json:"rows"`
	// Unassessed counts objects with none of the detectors' inputs (no
	// depth, radius or duration to check): their scores are NULL, not the
	// score their imputed values alone would get.
	Unassessed int `json:"unassessed"`
	// Flagged counts rows with anomaly_score >= 0.5.
	Flagged int `json:"flagged"`
	// Top lists the most anomalous objects.
	Top []AnomalyRow `json:"top"`
	// Out is the file the scored run was also written to (anomalies --out).
	Out string `json:"out,omitempty"`
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

// The detectors' peak memory is about anomalyBaseBytes plus
// anomalyBytesPerRow per object, fitted to whole-process measurements
// (`exohunter anomalies` on the bench's synthetic KOI replicas): 0.94 to
// 1.05 GB at a million rows, 6.0 GB at ten million. LOF's neighbourhoods
// (k = 50 indices per object) are most of the per-object part.
const (
	anomalyBaseBytes   = 512 << 20
	anomalyBytesPerRow = 560
)

// anomalyNeed is the memory the detectors need for rows objects.
func anomalyNeed(rows int64) int64 { return anomalyBaseBytes + rows*anomalyBytesPerRow }

// checkAnomalyRows refuses a run whose detection would need more memory
// than is available (avail, in bytes; 0 when unknown, which lets it run),
// with a sentence that says why and what to do, before any row is read.
func checkAnomalyRows(runID string, rows, avail int64) error {
	need := anomalyNeed(rows)
	if avail <= 0 || need <= avail {
		return nil
	}
	return Errorf(TooLarge, "Run %s has %d rows; the anomaly detectors need about %s of memory for them (%d bytes per object, most of it the Local Outlier Factor's neighbourhoods), and only %s is available. Free memory, or score a smaller dataset (one mission's table, or a filtered export ingested as its own dataset).",
		runID, rows, humanBytes(need), anomalyBytesPerRow, humanBytes(avail))
}

// DetectAnomalies fits both detectors on the run's objects and writes
// anomaly_score_iforest, anomaly_score_lof and anomaly_score (1 − 1/LOF in
// [0, 1], see anomaly.Scores) to meta.scores.
func (e *Engine) DetectAnomalies(ctx context.Context, in AnomalyInput) (*AnomalyResult, error) {
	progress := orNoProgress(in.Progress)
	// note: the memory check is cheap and comes before any wait for the
	// bulk turn, so a run that cannot fit is refused at once.
	run := e.sourceRun(ctx, in.Run, in.Dataset, in.Features)
	if run != nil {
		if err := checkAnomalyRows(run.RunID, run.Rows, e.memAvailable()); err != nil {
			return nil, err
		}
	}
	release, err := e.bulkTurn(ctx, runRows(run), "anomaly detection", progress)
	if err != nil {
		return nil, err
	}
	defer release()
	progress(0, "feature set")
	src, err := e.trainSource(ctx, TrainInput{Run: in.Run, Dataset: in.Dataset, Features: in.Features})
	if err != nil {
		return nil, err
	}
	cols := anomalyColumns(src.manifest)
	if len(cols) < 2 {
		return nil, Errorf(Invalid, "Feature set %s has fewer than two of the columns the detectors read (%s).",
			src.manifest.Version, strings.Join(AnomalyColumns, ", "))
	}
	if err := checkAnomalyRows(src.run.RunID, src.manifest.Rows, e.memAvailable()); err != nil {
		return nil, err
	}
	progress(0.05, fmt.Sprintf("reading %d rows", src.manifest.Rows))
	rowIDs, objectIDs, x, err := e.anomalyMatrix(ctx, src.path, cols)
	if err != nil {
		return nil, e.runDeletedDuring(ctx, src.run.RunID, err, "it was being scored for anomalies")
	}
	anomalyInputsOf(x, cols, src.manifest)
	assessed, err := e.anomalyAssessed(ctx, src, cols, rowIDs)
	if err != nil {
		return nil, e.runDeletedDuring(ctx, src.run.RunID, err, "it was being scored for anomalies")
	}
	if len(assessed) < 3 {
		return nil, Errorf(BadRequest, "Run %s has %d objects with any of the values the anomaly detectors read (%s); detection needs at least 3.",
			src.run.RunID, len(assessed), strings.Join(cols, ", "))
	}
	p := anomaly.DefaultParams()
	// note: LOF's neighbour search is most of the time (30 of 36 s at a
	// million rows), hence its large share of the bar.
	p.Stage = func(name string) {
		if name == "isolation forest" {
			progress(0.1, "Isolation Forest")
		} else {
			progress(0.25, "Local Outlier Factor")
		}
	}
	s, err := anomaly.Detect(ctx, matrixRows(x, assessed), p)
	if err != nil && ctx.Err() != nil {
		return nil, e.queryError(ctx, err, "score run "+src.run.RunID+" for anomalies")
	}
	if err != nil {
		return nil, Wrap(BadRequest, err, "Run %s cannot be scored for anomalies: %v", src.run.RunID, err)
	}
	s = spreadScores(s, assessed, len(rowIDs))
	sc := scoreColumns{rowIDs: rowIDs, names: []string{"anomaly_score_iforest", "anomaly_score_lof", "anomaly_score"},
		values: [][]float64{s.IForest, s.LOF, s.Combined}, constants: map[string]string{"anomaly_features": src.manifest.Version}}
	progress(0.9, "writing anomaly_score")
	if err := e.writeScores(ctx, src.run, sc); err != nil {
		return nil, err
	}
	res := &AnomalyResult{RunID: src.run.RunID, Features: src.manifest.Version, Columns: cols, Rows: len(rowIDs),
		Unassessed: len(rowIDs) - len(assessed), Top: []AnomalyRow{}}
	for _, v := range s.Combined {
		if v >= 0.5 {
			res.Flagged++
		}
	}
	for _, i := range anomaly.Ranking(s.Combined)[:min(anomalyTop, len(assessed))] {
		res.Top = append(res.Top, AnomalyRow{ObjectID: objectIDs[i], Score: round4dp(s.Combined[i]),
			IForest: round4dp(s.IForest[i]), LOF: round4dp(s.LOF[i])})
	}
	return res, nil
}

// anomalyInputsOf turns the columns of x, read from a feature set, into
// the detector inputs in place (see AnomalyColumns): the set's transform
// is undone with the statistics of its manifest, then a ratio becomes its
// log. A ratio <= 0 becomes NaN, which the detectors impute.
func anomalyInputsOf(x *mat.Dense, cols []string, m *FeatureManifest) {
	n, _ := x.Dims()
	for j, c := range cols {
		lg, st := contains(anomalyLogColumns, c), m.Stats[c]
		for i := range n {
			v := untransform(x.At(i, j), st)
			if lg {
				v = logPositive(v)
			}
			x.Set(i, j, v)
		}
	}
}

// logPositive is ln v for v > 0 and NaN otherwise.
func logPositive(v float64) float64 {
	if v > 0 {
		return math.Log(v)
	}
	return math.NaN()
}

// untransform inverts a feature-set transform (sql featureOutput):
// signed log1p, or standardisation with the build's mean and standard
// deviation (1 when it was 0).
func untransform(v float64, st FeatureStats) float64 {
	switch st.Transform {
	case spec.TransformLog1p:
		return math.Copysign(math.Expm1(math.Abs(v)), v)
	case spec.TransformStandardize:
		mean, std := 0.0, 1.0
		if st.Mean != nil {
			mean = *st.Mean
		}
		if st.Std != nil && *st.Std != 0 && !math.IsNaN(*st.Std) && !math.IsInf(*st.Std, 0) {
			std = *st.Std
		}
		return v*std + mean
	}
	return v
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

// anomalyAssessed returns the indexes (into rowIDs, in order) of the
// objects with at least one of the detectors' inputs before imputation.
// The feature set imputes a missing input with its median, so an object
// missing all of them (no depth and no radius: 363 KOIs) would become the
// most ordinary point of all, anomaly_score 0, and read as checked and
// normal although nothing of it was checked. A manifest without its spec
// counts every object as assessed.
func (e *Engine) anomalyAssessed(ctx context.Context, src *trainSource, cols []string, rowIDs []int64) ([]int, error) {
	all := make([]int, len(rowIDs))
	for i := range all {
		all[i] = i
	}
	if src.manifest.Spec == nil {
		return all, nil
	}
	fs, err := manifestSpec(src.manifest, "feature set "+src.manifest.Version)
	if err != nil {
		return nil, err
	}
	q, err := sqltmpl.FeatureAllMissing(sqltmpl.FeatureInput{RunPath: e.abs(src.run.Path), Spec: fs}, cols)
	if err != nil {
		return nil, err
	}
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return nil, e.queryError(ctx, err, "find the objects without anomaly inputs")
	}
	defer rows.Close()
	missing := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		missing[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, e.queryError(ctx, err, "find the objects without anomaly inputs")
	}
	out := all[:0]
	for i, id := range rowIDs {
		if !missing[id] {
			out = append(out, i)
		}
	}
	return out, nil
}

// matrixRows returns the rows idx of x as a new matrix (x itself when idx
// holds every row).
func matrixRows(x *mat.Dense, idx []int) *mat.Dense {
	n, d := x.Dims()
	if len(idx) == n {
		return x
	}
	out := mat.NewDense(len(idx), d, nil)
	for r, i := range idx {
		out.SetRow(r, x.RawRowView(i))
	}
	return out
}

// spreadScores places the scores of the rows idx back among n rows; the
// others get NaN, written as NULL.
func spreadScores(s *anomaly.Scores, idx []int, n int) *anomaly.Scores {
	if len(idx) == n {
		return s
	}
	spread := func(v []float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = math.NaN()
		}
		for r, i := range idx {
			out[i] = v[r]
		}
		return out
	}
	return &anomaly.Scores{IForest: spread(s.IForest), LOF: spread(s.LOF), Combined: spread(s.Combined)}
}
