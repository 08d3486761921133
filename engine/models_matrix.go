package engine

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/exohunter/exohunter/engine/spec"
	"github.com/exohunter/exohunter/ml/supervised"
	"github.com/exohunter/exohunter/ml/xgb"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// matrix is a feature matrix read out of DuckDB, with the ids of its rows.
type matrix struct {
	data      supervised.Data
	rowIDs    []int64
	objectIDs []string
	// labelSources counts where each row's label came from: human, nasa
	// (labels.labels) or catalog (the feature set's koi_disposition).
	labelSources map[string]int
	classCounts  map[string]int
	ephemeris    EphemerisMatching
}

// EphemerisMatching says whether the ephemeris-match features were
// computed over a run: not when its candidate pairs exceed the budget
// (sqltmpl.EphemerisPairBudget), since they grow as the square of the rows.
type EphemerisMatching struct {
	CandidatePairs int64 `json:"candidate_pairs"`
	Budget         int64 `json:"budget"`
	Computed       bool  `json:"computed"`
}

// skippedNote is the sentence that says why the ephemeris features are
// missing, or "" when they were computed.
func (m EphemerisMatching) skippedNote() string {
	if m.Computed {
		return ""
	}
	return fmt.Sprintf("Ephemeris matching was skipped: the run has %d candidate pairs of periods, over the budget of %d (they grow as the square of the rows), so the ephemeris-match features are missing for every row.",
		m.CandidatePairs, m.Budget)
}

// planEphemeris counts the run's candidate pairs and skips the matching
// when they exceed the budget.
func (e *Engine) planEphemeris(ctx context.Context, mm *sqltmpl.ModelMatrix) (EphemerisMatching, error) {
	plan := EphemerisMatching{Budget: e.ephemerisBudget, Computed: true}
	q, ok, err := mm.EphemerisPairs()
	if err != nil || !ok {
		return plan, err
	}
	if err := e.db.QueryRowContext(ctx, q).Scan(&plan.CandidatePairs); err != nil {
		return plan, e.modelSQLError(ctx, err)
	}
	if plan.CandidatePairs > plan.Budget {
		plan.Computed, mm.SkipEphemeris = false, true
	}
	return plan, nil
}

// featureSetColumns lists a manifest's feature columns, in order.
func featureSetColumns(m *FeatureManifest) []string {
	var out []string
	for _, c := range m.Columns {
		if c.Role == RoleFeature {
			out = append(out, c.Name)
		}
	}
	return out
}

// modelMatrix prepares the matrix query of a run and its features.
func (e *Engine) modelMatrix(ctx context.Context, run *Run, featuresPath string, m *FeatureManifest, leaky bool) (sqltmpl.ModelMatrix, error) {
	path := e.abs(run.Path)
	cols, err := e.describe(ctx, readParquet(path))
	if err != nil {
		return sqltmpl.ModelMatrix{}, fmt.Errorf("describe run %s: %w", run.RunID, err)
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	if leaky {
		for _, l := range sqltmpl.LeakyFeatures {
			if !contains(names, l.Column) {
				return sqltmpl.ModelMatrix{}, Errorf(BadRequest, "Run %s has no %s column, so the leaky variant cannot be trained on it (it needs a KOI table with the Robovetter's columns).", run.RunID, l.Column)
			}
		}
	}
	return sqltmpl.ModelMatrix{Dataset: run.Dataset, RunPath: path, RunColumns: names, FeaturesPath: featuresPath,
		FeatureSet: featureSetColumns(m), Leaky: leaky}, nil
}

// readMatrix reads the labeled, filtered training matrix of a target.
func (e *Engine) readMatrix(ctx context.Context, src *trainSource, t *target, leaky bool, s *spec.Splits) (*matrix, error) {
	mm, err := e.modelMatrix(ctx, src.run, src.path, src.manifest, leaky)
	if err != nil {
		return nil, err
	}
	mm.Labeled, mm.Classes = true, t.dispositions()
	for _, f := range s.Filters {
		if !contains(mm.RunColumns, f.Column) {
			return nil, Errorf(BadRequest, "Run %s has no %s column, which %s filters on.", src.run.RunID, f.Column, spec.SplitsFile)
		}
		mm.Filters = append(mm.Filters, sqltmpl.ModelFilter{Column: sqltmpl.Ident(f.Column), Min: sqltmpl.Num(f.Min), Max: sqltmpl.Num(f.Max)})
	}
	mx, err := e.queryMatrix(ctx, mm, t)
	if err != nil {
		return nil, err
	}
	if len(mx.rowIDs) == 0 {
		return nil, Errorf(BadRequest, "Run %s has no labeled rows for %s after the filters of %s.", src.run.RunID, t.name, spec.SplitsFile)
	}
	for k, c := range t.classes {
		if mx.classCounts[c] == 0 {
			return nil, Errorf(BadRequest, "Run %s has no %s rows for %s (class %d); a classifier needs every class.", src.run.RunID, c, t.name, k)
		}
	}
	return mx, nil
}

// queryMatrix runs a matrix query and reads it whole. With t nil, labels
// are not read (scoring).
func (e *Engine) queryMatrix(ctx context.Context, mm sqltmpl.ModelMatrix, t *target) (*matrix, error) {
	plan, err := e.planEphemeris(ctx, &mm)
	if err != nil {
		return nil, err
	}
	q, err := mm.Render()
	if err != nil {
		return nil, err
	}
	mx := newMatrix(mm.Features(), t, plan)
	return mx, e.readMatrixRows(ctx, q, t, mx)
}

func newMatrix(feats []string, t *target, plan EphemerisMatching) *matrix {
	mx := &matrix{data: supervised.Data{Features: feats, X: xgb.Matrix{Cols: len(feats), Data: []float32{}}},
		labelSources: map[string]int{}, classCounts: map[string]int{}, ephemeris: plan}
	if t != nil {
		mx.data.Classes = t.classes
	}
	return mx
}

// readMatrixRows appends the rows of a matrix query (row_id, object_id,
// star_id, label, label_source, then mx's features) to mx.
func (e *Engine) readMatrixRows(ctx context.Context, q string, t *target, mx *matrix) error {
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return e.modelSQLError(ctx, err)
	}
	defer rows.Close()
	n := len(mx.data.Features)
	vals := make([]sql.NullFloat64, n)
	var rowID int64
	var objectID string
	var starID, label, source sql.NullString
	ptrs := []any{&rowID, &objectID, &starID, &label, &source}
	for i := range vals {
		ptrs = append(ptrs, &vals[i])
	}
	data := mx.data.X.Data
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for _, v := range vals {
			x := float32(math.NaN())
			if v.Valid && !math.IsInf(v.Float64, 0) {
				x = float32(v.Float64)
			}
			data = append(data, x)
		}
		mx.rowIDs = append(mx.rowIDs, rowID)
		mx.objectIDs = append(mx.objectIDs, objectID)
		// note: a row without a star stands alone in the splits.
		mx.data.Groups = append(mx.data.Groups, starID.String)
		if t != nil {
			mx.data.Y = append(mx.data.Y, t.classOf[label.String])
			mx.classCounts[t.classes[t.classOf[label.String]]]++
			mx.labelSources[source.String]++
		}
	}
	if err := rows.Err(); err != nil {
		return e.modelSQLError(ctx, err)
	}
	mx.data.X = xgb.Matrix{Rows: len(mx.rowIDs), Cols: n, Data: data}
	return nil
}

// modelSQLError explains a failed matrix query.
func (e *Engine) modelSQLError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return Wrap(Timeout, err, "The model's feature matrix was cancelled before it was read.")
	}
	if strings.Contains(err.Error(), "Binder Error") {
		return Wrap(BadRequest, err, "The model's features do not compile over this run: %s", firstLine(err.Error()))
	}
	return fmt.Errorf("read the feature matrix: %w", err)
}
