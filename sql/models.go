package sqltmpl

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Ephemeris matching (model_context): two KOIs of different stars match
// when their periods agree within EphemerisPeriodTolerance (relative, also
// at period ratios 2, 1/2, 3 and 1/3) and their epochs within one transit
// duration (at least half an hour). The score is the larger of the two
// distances in those units: below 1 is a match.
//
// The candidate pairs grow as the square of the rows (2.2 billion at a
// million KOI-like rows, 1.4 billion of them within the window, 73 s for the join alone on two
// cores, and the aggregate over them ran for minutes more), so a run
// whose pairs exceed EphemerisPairBudget is not matched: its ephemeris
// features are NULL and the model's metrics and card say so. The KOI
// table has about 200 thousand pairs; 250 thousand KOI-like rows have
// 135 million, matched in about 15 s.
const (
	EphemerisPeriodTolerance = 1e-4
	ephemerisWindow          = 1e-3 // candidate pairs: periods within 0.1%
	EphemerisPairBudget      = 150_000_000
)

// ContextInputs are the run columns model_context reads. A run without one
// of them (another mission's table) reads NULL instead.
var ContextInputs = []string{"koi_period", "koi_time0bk", "koi_duration", "koi_depth", "ra", "dec", "koi_tce_plnt_num"}

// ContextErrors are the catalog uncertainties the classifier reads as
// features (the + side, and the − side where the two differ in the KOI
// table). A larger error often marks a poorer fit or a star without
// spectroscopy.
var ContextErrors = []string{
	"koi_period_err1", "koi_time0bk_err1", "koi_impact_err1", "koi_impact_err2", "koi_duration_err1",
	"koi_depth_err1", "koi_prad_err1", "koi_prad_err2", "koi_insol_err1", "koi_insol_err2",
	"koi_steff_err1", "koi_steff_err2", "koi_slogg_err1", "koi_slogg_err2", "koi_srad_err1", "koi_srad_err2",
}

// ContextFeatures lists the columns model_context adds, in order.
func ContextFeatures() []string {
	return append([]string{"ephem_match_score", "ephem_match_score_harmonic", "ephem_match_depth_ratio",
		"ephem_match_sep_arcsec", "ephem_matches", "tce_excess"}, ContextErrors...)
}

// LeakyFeature is one Robovetter output the leaky variant adds: Expr over
// the run (alias r) and the run column it needs.
type LeakyFeature struct {
	Name   string
	Column string
	Expr   Expr
}

// LeakyFeatures are the columns `train --leaky` adds to show the size of
// the leak: NASA's score, its false-positive flags and its pre-disposition.
var LeakyFeatures = []LeakyFeature{
	{"koi_score", "koi_score", "CAST(r.koi_score AS DOUBLE)"},
	{"koi_fpflag_nt", "koi_fpflag_nt", "CAST(r.koi_fpflag_nt AS DOUBLE)"},
	{"koi_fpflag_ss", "koi_fpflag_ss", "CAST(r.koi_fpflag_ss AS DOUBLE)"},
	{"koi_fpflag_co", "koi_fpflag_co", "CAST(r.koi_fpflag_co AS DOUBLE)"},
	{"koi_fpflag_ec", "koi_fpflag_ec", "CAST(r.koi_fpflag_ec AS DOUBLE)"},
	{"koi_pdisposition_candidate", "koi_pdisposition",
		"CASE r.koi_pdisposition WHEN 'CANDIDATE' THEN 1.0 WHEN 'FALSE POSITIVE' THEN 0.0 END"},
}

// ModelFilter is one row filter: Column present and in [Min, Max].
type ModelFilter struct {
	Column Ident
	Min    Num
	Max    Num
}

// ModelMatrix is the classifier's feature matrix over one run.
type ModelMatrix struct {
	Dataset string
	RunPath string
	// RunColumns are the run's columns: context inputs it lacks read NULL.
	RunColumns []string
	// FeaturesPath is the feature set's Parquet file (the run's features).
	FeaturesPath string
	// FeatureSet lists the feature set's feature columns (alias f).
	FeatureSet []string
	// Leaky adds LeakyFeatures.
	Leaky bool
	// Filters keep rows; Labeled keeps only rows whose label is in Classes.
	Filters []ModelFilter
	Labeled bool
	Classes []string
	// SkipEphemeris leaves the ephemeris-match features NULL (a run over
	// EphemerisPairBudget).
	SkipEphemeris bool
	// Scoring reads no labels (label and label_source are NULL) and drops
	// the ORDER BY: scoring needs neither, and skips the labels joins and
	// a sort of the whole matrix.
	Scoring bool
	// CopyTo, when set, makes Render a COPY of the matrix to this Parquet
	// file, to be read back with MatrixBatch.
	CopyTo string
}

// Features returns the matrix's feature columns in order.
func (m ModelMatrix) Features() []string {
	out := slices.Clone(m.FeatureSet)
	out = append(out, ContextFeatures()...)
	if m.Leaky {
		for _, l := range LeakyFeatures {
			out = append(out, l.Name)
		}
	}
	return out
}

// Render renders the matrix query: row_id, object_id, star_id, label,
// label_source, then Features() as DOUBLE, ordered by object_id and row_id.
func (m ModelMatrix) Render() (string, error) {
	data, err := m.contextData()
	if err != nil {
		return "", err
	}
	var feats []ExportColumn
	for _, f := range m.FeatureSet {
		feats = append(feats, ExportColumn{Expr: Expr("CAST(f." + Ident(f).String() + " AS DOUBLE)"), Name: Ident(f)})
	}
	for _, f := range ContextFeatures() {
		feats = append(feats, ExportColumn{Expr: Expr("ctx." + Ident(f).String()), Name: Ident(f)})
	}
	if m.Leaky {
		for _, l := range LeakyFeatures {
			if !slices.Contains(m.RunColumns, l.Column) {
				return "", fmt.Errorf("the run has no %s column", l.Column)
			}
			feats = append(feats, ExportColumn{Expr: l.Expr, Name: Ident(l.Name)})
		}
	}
	classes := make([]Lit, len(m.Classes))
	for i, c := range m.Classes {
		classes[i] = Lit(c)
	}
	data["Dataset"], data["FeaturesPath"], data["Features"] = Lit(m.Dataset), Lit(m.FeaturesPath), feats
	data["Filters"], data["Labeled"], data["Classes"], data["Scoring"], data["Leaky"] = m.Filters, m.Labeled, classes, m.Scoring, m.Leaky
	data["CopyTo"] = Lit(m.CopyTo) // note: empty is false in the template

	return exec("model_matrix", data)
}

// MatrixBatch renders the read of rows [from, to] (0-based positions in
// the file) of a matrix written by MatrixCopy.
func MatrixBatch(path string, from, to int64) (string, error) {
	return exec("matrix_batch", map[string]any{"Path": Lit(path), "From": from, "To": to})
}

// contextData is the template data of model_context.
func (m ModelMatrix) contextData() (map[string]any, error) {
	var inputs []ExportColumn
	for _, c := range append(slices.Clone(ContextInputs), ContextErrors...) {
		e := Expr("NULL::DOUBLE")
		if slices.Contains(m.RunColumns, c) {
			e = Expr("CAST(" + Ident(c).String() + " AS DOUBLE)")
		}
		inputs = append(inputs, ExportColumn{Expr: e, Name: Ident(c)})
	}
	errs := make([]Ident, len(ContextErrors))
	for i, c := range ContextErrors {
		errs[i] = Ident(c)
	}
	return map[string]any{
		"RunPath": Lit(m.RunPath), "Inputs": inputs, "Errors": errs, "SkipEphemeris": m.SkipEphemeris,
		"PeriodTolerance": Num(EphemerisPeriodTolerance),
		"WindowLo":        Num(1 - ephemerisWindow), "WindowHi": Num(1 + ephemerisWindow),
		// note: a bucket a little wider than |ln(1 − window)|, the widest
		// log distance inside the window, so a pair is at most one bucket
		// apart.
		"Bucket": Num(-1.01 * math.Log1p(-ephemerisWindow)),
	}, nil
}

// EphemerisPairs renders the count of model_context's candidate pairs
// over the run; ok is false when the run has no koi_period column (no
// pairs, nothing to count).
func (m ModelMatrix) EphemerisPairs() (q string, ok bool, err error) {
	if !slices.Contains(m.RunColumns, "koi_period") {
		return "", false, nil
	}
	data, err := m.contextData()
	if err != nil {
		return "", false, err
	}
	data["Period"] = Expr("CAST(" + Ident("koi_period").String() + " AS DOUBLE)")
	q, err = exec("ephemeris_pairs", data)
	return q, err == nil, err
}

// ScoresWrite is one write of scores for the rows of a run.
type ScoresWrite struct {
	RunID   string
	RunPath string
	// Values is a CSV file: row_id, then c0, c1, ... holding the columns
	// of Names in order (empty for NULL).
	Values string
	Names  []string
	// Constants are written to every row the file lists.
	Constants map[string]string
	Now       time.Time
}

// ScoreTableColumns are the columns of meta.scores a write can set.
var ScoreTableColumns = []string{"model", "p_model", "anomaly_score_iforest", "anomaly_score_lof", "anomaly_score", "anomaly_features"}

// scoresStaged is the temporary table of a write (per connection).
const scoresStaged = Ident("scores_staged")

// Render returns the statements of the write, to run in one transaction
// on one connection: stage the run's new rows, then replace its rows.
// Columns neither named nor constant keep their values.
func (w ScoresWrite) Render() ([]string, error) {
	type column struct {
		Name Ident
		New  any
	}
	var cols []column
	var values []Lit
	for _, c := range ScoreTableColumns {
		col := column{Name: Ident(c), New: Expr("old." + Ident(c).String())}
		if j := slices.Index(w.Names, c); j >= 0 {
			col.New = Expr("v." + Ident(fmt.Sprintf("c%d", j)).String())
		} else if v, ok := w.Constants[c]; ok {
			col.New = Lit(v)
		}
		cols = append(cols, col)
	}
	for j, n := range w.Names {
		if !slices.Contains(ScoreTableColumns, n) {
			return nil, fmt.Errorf("meta.scores has no column %s", n)
		}
		values = append(values, Lit(fmt.Sprintf("c%d", j)))
	}
	for k := range w.Constants {
		if !slices.Contains(ScoreTableColumns, k) {
			return nil, fmt.Errorf("meta.scores has no column %s", k)
		}
	}
	data := map[string]any{"RunID": Lit(w.RunID), "RunPath": Lit(w.RunPath), "Values": Lit(w.Values), "ValueColumns": values,
		"Columns": cols, "Now": timestampLit(w.Now), "Staged": scoresStaged}
	stage, err := exec("scores_stage", data)
	if err != nil {
		return nil, err
	}
	replace, err := exec("scores_replace", data)
	if err != nil {
		return nil, err
	}
	return []string{stage, replace}, nil
}

// ScoredRun renders a run's rows with its scores LEFT JOINed: p_model,
// p_model_model (the model that wrote it), anomaly_score and the two
// detectors' scores. It is a relation for FROM (...).
func ScoredRun(runID, runPath string) (string, error) {
	return exec("scored_run", map[string]any{"RunID": Lit(runID), "RunPath": Lit(runPath)})
}

// ScoredRunOrdered renders ScoredRun in the run file's order (a POSITIONAL
// JOIN), for a run file in row_id order whose scores cover each row once.
func ScoredRunOrdered(runID, runPath string) (string, error) {
	return exec("scored_run_ordered", map[string]any{"RunID": Lit(runID), "RunPath": Lit(runPath)})
}

// ScoredRunsView renders runs.scored: runs.results with the scores of
// every run.
func ScoredRunsView() (string, error) {
	return exec("scored_runs_view", nil)
}

// InjectedPrefix starts the object and star ids of injected anomalies.
const InjectedPrefix = "INJ-"

// InjectionKind is one way to make a real planet impossible: Set maps raw
// KOI columns to expressions over the raw row (r) and its donor (d: i,
// expected_duration_hours, depth_from_radii_ppm).
type InjectionKind struct {
	Name        string
	Description string
	Set         [][2]string
}

// InjectionKinds are the injected anomalies of the issue, used in turn
// (donor i gets kind i mod 3).
var InjectionKinds = []InjectionKind{
	{"giant_short_period_m_dwarf", "radius 40 R⊕ at 0.5 d around an M dwarf (Teff 3300 K, 0.35 R☉, log g 4.9)", [][2]string{
		{"koi_prad", "40.0"}, {"koi_period", "0.5"}, {"koi_steff", "3300.0"}, {"koi_srad", "0.35"}, {"koi_slogg", "4.9"},
		{"koi_teq", "NULL"}, {"koi_insol", "NULL"}}},
	{"depth_10x_radii", "transit depth 10 times the depth the planet and star radii imply", [][2]string{
		{"koi_depth", "10 * d.depth_from_radii_ppm"}}},
	{"duration_5x_expected", "transit duration 5 times the duration expected for a circular orbit", [][2]string{
		{"koi_duration", "5 * d.expected_duration_hours"}}},
}

// AnomalyInject is the injected copy of a KOI table.
type AnomalyInject struct {
	// Raw is the dataset's raw view; RawColumns its columns.
	Raw        QualifiedIdent
	RawColumns []string
	// RunPath is a run of the dataset (the donors' metrics).
	RunPath string
	// IDColumn and StarColumn are the raw id columns (kepoi_name, kepid).
	IDColumn, StarColumn string
	N                    int
	Seed                 string
	// Path is the CSV file written.
	Path string
}

// Render renders the COPY that writes the injected table.
func (a AnomalyInject) Render() (string, error) {
	id := func(prefix string) string {
		return Lit(InjectedPrefix+prefix).String() + " || lpad(CAST(d.i + 1 AS VARCHAR), 3, '0')"
	}
	set := map[string]string{
		a.IDColumn: id(""), a.StarColumn: id("star-"), "kepler_name": "NULL", "koi_disposition": "'CANDIDATE'",
		"koi_pdisposition": "'CANDIDATE'", "koi_score": "NULL", "koi_fpflag_nt": "0", "koi_fpflag_ss": "0",
		"koi_fpflag_co": "0", "koi_fpflag_ec": "0",
		// Half a period on: a new signal, not a twin repeating its donor's
		// ephemeris (which the classifier's context features call contamination).
		"koi_time0bk": "r.koi_time0bk + r.koi_period / 2",
	}
	cases := map[string][]string{}
	for k, kind := range InjectionKinds {
		for _, s := range kind.Set {
			cases[s[0]] = append(cases[s[0]], fmt.Sprintf("WHEN d.i %% %d = %d THEN %s", len(InjectionKinds), k, s[1]))
		}
	}
	for col, whens := range cases {
		set[col] = "CASE " + strings.Join(whens, " ") + " ELSE r." + Ident(col).String() + " END"
	}
	var replace []string
	for _, c := range a.RawColumns {
		if e, ok := set[c]; ok {
			replace = append(replace, "CAST("+e+" AS "+a.columnType(c)+") AS "+Ident(c).String())
		}
	}
	for _, c := range []string{a.IDColumn, a.StarColumn, "koi_prad", "koi_period", "koi_steff", "koi_srad", "koi_slogg", "koi_depth", "koi_duration"} {
		if !slices.Contains(a.RawColumns, c) {
			return "", fmt.Errorf("the table has no %s column", c)
		}
	}
	return exec("anomaly_inject", map[string]any{
		"Raw": a.Raw, "RunPath": Lit(a.RunPath), "IDColumn": Ident(a.IDColumn), "N": Num(a.N), "Seed": Lit(a.Seed),
		"Replace": replace, "Path": Lit(a.Path),
	})
}

// columnType is the SQL type a replaced column keeps: ids and labels are
// text, the rest numbers.
func (a AnomalyInject) columnType(c string) string {
	switch c {
	case a.IDColumn, a.StarColumn, "kepler_name", "koi_disposition", "koi_pdisposition":
		return "VARCHAR"
	}
	return "DOUBLE"
}
