package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Files of one feature-set version under the feature store.
const (
	FeaturesParquet  = "features.parquet"
	FeaturesManifest = "manifest.json"
	// featureBuildPrefix names a build in progress (<store>/.build-<V>-<rand>);
	// it is renamed to <store>/<V> only when complete, and removed at Open
	// if a process died before that.
	featureBuildPrefix = ".build-"
	// featureHashVersion is mixed into every content hash, so a change in
	// how content is hashed can never match an old hash by accident.
	featureHashVersion = "exohunter-features-v1"
)

// Column roles in a feature manifest.
const (
	RoleID      = "id"
	RoleLabel   = "label"
	RoleFeature = "feature"
)

// featureVersionRe is a safe version: a file name and (quoted) identifier.
var featureVersionRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// featureMu serializes the commit step of builds (compare with an existing
// version, rename, register) within the process.
var featureMu sync.Mutex

// FeatureManifest is manifest.json of a version (Contracts: feature
// manifest shape), plus the spec itself.
type FeatureManifest struct {
	Version     string        `json:"version"`
	SpecHash    string        `json:"spec_hash"`
	ContentHash string        `json:"content_hash"`
	Source      FeatureSource `json:"source"`
	Rows        int64         `json:"rows"`
	// Columns lists every column with its type and role: id (row_id,
	// object_id, star_id), label (koi_disposition, never a feature) or
	// feature.
	Columns []FeatureColumn `json:"columns"`
	// Stats are the statistics of each numeric feature's input, as used
	// for imputation and scaling.
	Stats     map[string]FeatureStats `json:"stats"`
	CreatedAt time.Time               `json:"created_at"`
	// Spec is configs/features.yaml as the build read it.
	Spec *spec.Features `json:"spec"`
}

// FeatureSource is the run a version was built from.
type FeatureSource struct {
	Dataset string `json:"dataset"`
	RunID   string `json:"run_id"`
}

// FeatureColumn is one column of a feature set.
type FeatureColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Role string `json:"role"`
}

// FeatureStats describe one numeric feature's input over the build's rows
// (NaN and ±Inf counted as missing). Numbers are rounded to 12 significant
// digits so that the same data always gives the same numbers, whatever the
// order DuckDB's threads summed them in.
type FeatureStats struct {
	Count       int64    `json:"count"`
	Missing     int64    `json:"missing"`
	Mean        *float64 `json:"mean"`
	Std         *float64 `json:"std"`
	Median      *float64 `json:"median"`
	Min         *float64 `json:"min"`
	Max         *float64 `json:"max"`
	Impute      string   `json:"impute"`
	ImputeValue *float64 `json:"impute_value"`
	Transform   string   `json:"transform"`
}

// FeatureBuildInput asks for a version built from a run.
type FeatureBuildInput struct {
	Version string
	// Run is the source run; empty picks the latest run of Dataset, or of
	// the only dataset (ResolveRun).
	Run     string
	Dataset string
}

// FeatureBuild is the result of a build: the manifest, where it lives,
// and whether it was created or already there with the same content.
type FeatureBuild struct {
	*FeatureManifest
	Path   string `json:"path"`
	Status string `json:"status"` // created | unchanged
	// Warnings name the features whose input has no value in any row
	// (a column the catalog lacks): every row gets the imputed value, so
	// the column carries nothing a model can learn from.
	Warnings []string `json:"warnings,omitempty"`
}

// emptyFeatureWarnings lists the features of m whose input was missing
// in every row, in name order.
func emptyFeatureWarnings(m *FeatureManifest) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(m.Stats)) {
		st := m.Stats[name]
		if st.Count > 0 || st.Missing == 0 {
			continue
		}
		v := "NULL"
		if st.ImputeValue != nil {
			v = strconv.FormatFloat(*st.ImputeValue, 'g', -1, 64)
		}
		out = append(out, fmt.Sprintf("%s has no value in any of the %d rows of run %s (the catalog has no such column, or it is empty): every row gets the imputed %s.",
			name, st.Missing, m.Source.RunID, v))
	}
	return out
}

// Build statuses.
const (
	FeatureCreated   = "created"
	FeatureUnchanged = "unchanged"
)

// featureBuildHook, when set by a test, runs after each build step (for
// example "written", after the Parquet file and the manifest are complete
// but before the version is renamed into place).
var featureBuildHook func(step string)

// BuildFeatures compiles configs/features.yaml over a run and writes
// <store>/<version>/features.parquet and manifest.json. The version is
// built in a hidden folder and renamed into place only when complete, so
// a killed build leaves no half-written version. Versions are immutable:
// rebuilding one with the same content is a no-op success (status
// unchanged), with different content a Conflict.
func (e *Engine) BuildFeatures(ctx context.Context, in FeatureBuildInput) (*FeatureBuild, error) {
	if err := checkFeatureVersion(in.Version); err != nil {
		return nil, err
	}
	if other := e.versionCaseClash(in.Version); other != "" {
		return nil, caseClashError(in.Version, other)
	}
	run, err := e.ResolveRun(ctx, in.Run, in.Dataset)
	if err != nil {
		return nil, err
	}
	release, err := e.bulkTurn(ctx, run.Rows, "the feature set "+in.Version, nil)
	if err != nil {
		return nil, err
	}
	defer release()
	b, err := e.buildFeatures(ctx, in.Version, run)
	if err != nil {
		return nil, err
	}
	b.Warnings = emptyFeatureWarnings(b.FeatureManifest)
	for _, w := range b.Warnings {
		e.log.Warn("feature set " + b.Version + ": " + w)
	}
	return b, nil
}

// checkFeatureVersion refuses a version that cannot name a folder and a
// view.
func checkFeatureVersion(version string) error {
	if !featureVersionRe.MatchString(version) {
		return Errorf(BadRequest, "%q cannot be a feature-set version: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters (for example v1 or 2025-11-koi).", version)
	}
	if strings.EqualFold(version, "meta") {
		// note: GET /api/features/meta is the prototype's route, which
		// would hide this version's page.
		return Errorf(BadRequest, "%q is reserved (GET /api/features/meta is the manifest of the newest feature set); choose another version.", version)
	}
	return nil
}

// versionCaseClash returns the existing version that differs from version
// only in letter case, or "". Such a pair cannot both exist: the console
// names each version's view features.<version>, and DuckDB's names ignore
// case, so one would replace the other's view and a snapshot would keep
// only one of them.
func (e *Engine) versionCaseClash(version string) string {
	entries, err := os.ReadDir(e.featureStore)
	if err != nil {
		return ""
	}
	for _, d := range entries {
		if d.IsDir() && d.Name() != version && strings.EqualFold(d.Name(), version) && !strings.HasPrefix(d.Name(), featureBuildPrefix) {
			return d.Name()
		}
	}
	return ""
}

// caseClashError is the 409 for versionCaseClash.
func caseClashError(version, existing string) error {
	return Errorf(Conflict, "Feature set %s already exists as %s: versions that differ only in letter case would share the console view features.%s. Choose another version.",
		version, existing, strings.ToLower(version))
}

// buildFeatures is BuildFeatures once the version is valid and the run
// resolved; a training or detection that holds the bulk turn calls it
// directly (the turn is not reentrant).
func (e *Engine) buildFeatures(ctx context.Context, version string, run *Run) (*FeatureBuild, error) {
	fs := e.bundle.FeaturesConfig()
	if fs == nil {
		return nil, Errorf(Invalid, "There is no %s in the configuration, so no feature set can be built.", spec.FeaturesFile)
	}
	if err := os.MkdirAll(e.featureStore, 0o755); err != nil {
		return nil, Wrap(BadRequest, err, "Cannot create the feature store %s.", e.featureStore)
	}
	e.holdFeatureStore()
	tmp, err := os.MkdirTemp(e.featureStore, featureBuildPrefix+version+"-")
	if err != nil {
		return nil, Wrap(BadRequest, err, "Cannot write to the feature store %s.", e.featureStore)
	}
	defer os.RemoveAll(tmp)
	// note: MkdirTemp makes the folder 0700; the version it becomes is
	// read by notebooks and other users, as the store itself (0755) is.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, Wrap(BadRequest, err, "Cannot write to the feature store %s.", e.featureStore)
	}
	buildStep("started")
	m, err := e.writeFeatureSet(ctx, fs, run, version, tmp)
	if err != nil {
		return nil, e.runDeletedDuring(ctx, run.RunID, err, "feature set "+version+" was being built from it")
	}
	buildStep("written")
	return e.commitFeatureSet(ctx, m, tmp)
}

// buildStep runs the test hook, if any.
func buildStep(step string) {
	if featureBuildHook != nil {
		featureBuildHook(step)
	}
}

// writeFeatureSet computes the statistics, writes the Parquet file, hashes
// it and writes the manifest, all inside dir.
func (e *Engine) writeFeatureSet(ctx context.Context, fs *spec.Features, run *Run, version, dir string) (*FeatureManifest, error) {
	in := sqltmpl.FeatureInput{RunPath: e.abs(run.Path), Spec: fs, Path: filepath.Join(dir, FeaturesParquet)}
	stats, params, err := e.featureStats(ctx, in, fs, run)
	if err != nil {
		return nil, err
	}
	in.Params = params
	q, err := sqltmpl.FeatureCopy(in)
	if err != nil {
		return nil, err
	}
	if _, err := e.db.ExecContext(ctx, q); err != nil {
		return nil, e.featureSQLError(ctx, err, fs, run)
	}
	specJSON, err := json.Marshal(fs)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(specJSON)
	m := &FeatureManifest{
		Version: version, SpecHash: hex.EncodeToString(sum[:]), Source: FeatureSource{Dataset: run.Dataset, RunID: run.RunID},
		Stats: stats, CreatedAt: time.Now().UTC(), Spec: fs,
	}
	if err := e.describeFeatureSet(ctx, in.Path, m); err != nil {
		return nil, err
	}
	if m.ContentHash, err = e.featureContentHash(ctx, in.Path, m); err != nil {
		return nil, err
	}
	return m, writeJSONFile(filepath.Join(dir, FeaturesManifest), m)
}

// featureSQLError explains a failed feature query over the features fs.
func (e *Engine) featureSQLError(ctx context.Context, err error, fs *spec.Features, run *Run) error {
	if ctx.Err() != nil {
		return Wrap(Timeout, err, "The feature build was cancelled; no version was written.")
	}
	if strings.Contains(err.Error(), "Binder Error") {
		return Wrap(Invalid, err, "%s does not compile over run %s: %s", spec.FeaturesFile, run.RunID, firstLine(err.Error()))
	}
	if isValueError(err) {
		// note: a feature's SQL met a value it cannot take (ln of 0, an
		// overflow, a text that is no number): the feature is named, as
		// the run's metrics are (blameRunError).
		if name, msg := e.blameFeature(ctx, fs, run); name != "" {
			return Wrap(Invalid, err, "Feature %s of %s cannot be computed over run %s: %s. Guard its expression (e.g. CASE WHEN x > 0 THEN ln(x) END).", name, spec.FeaturesFile, run.RunID, msg)
		}
		if ctx.Err() != nil {
			return Wrap(Timeout, err, "The feature build was cancelled; no version was written.")
		}
		if strings.Contains(err.Error(), "Conversion Error") {
			return Wrap(Invalid, err, "%s does not compile over run %s: %s", spec.FeaturesFile, run.RunID, firstLine(err.Error()))
		}
		return Wrap(BadRequest, err, "A feature of %s cannot be computed over run %s, whose values are too extreme for it: %s", spec.FeaturesFile, run.RunID, firstLine(err.Error()))
	}
	return fmt.Errorf("build features from %s: %w", run.RunID, err)
}

// blameFeature evaluates each feature of fs alone over the run and returns
// the first that fails, with DuckDB's reason; "" when none does alone. It
// costs a pass over the run per feature, paid only after a build failed.
func (e *Engine) blameFeature(ctx context.Context, fs *spec.Features, run *Run) (name, msg string) {
	ctx, cancel := context.WithTimeout(ctx, blameBudget)
	defer cancel()
	probe := func(one *spec.Features, n string) bool {
		q, err := sqltmpl.FeatureStats(sqltmpl.FeatureInput{RunPath: e.abs(run.Path), Spec: one, Medians: []string{}})
		if err != nil {
			return false
		}
		rows, err := e.db.QueryContext(ctx, q)
		if err == nil {
			for rows.Next() {
			}
			err = errors.Join(rows.Err(), rows.Close())
		}
		if err != nil && ctx.Err() == nil {
			name, msg = n, firstLine(err.Error())
			return true
		}
		return false
	}
	// note: one pass per feature, stopped by blameBudget or ctx (name
	// stays "" then: the build's own message stands).
	for _, f := range fs.All() {
		if ctx.Err() != nil {
			return "", ""
		}
		if probe(&spec.Features{Version: fs.Version, Derived: []spec.Feature{*f}}, f.Name) {
			return name, msg
		}
	}
	for _, c := range fs.Categorical {
		if ctx.Err() != nil {
			return "", ""
		}
		if probe(&spec.Features{Version: fs.Version, Categorical: []spec.CategoricalFeature{c}}, c.Name) {
			return name, msg
		}
	}
	return "", ""
}

// featureStats runs the statistics query and derives each feature's
// imputation value and scaling.
func (e *Engine) featureStats(ctx context.Context, in sqltmpl.FeatureInput, fs *spec.Features, run *Run) (map[string]FeatureStats, map[string]sqltmpl.FeatureParams, error) {
	feats := fs.All()
	batches := medianBatches(feats, run.Rows, medianBudget)
	in.Medians = batches[0]
	q, err := sqltmpl.FeatureStats(in)
	if err != nil {
		return nil, nil, err
	}
	vals := make([]sql.NullFloat64, 1+6*len(feats))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := e.db.QueryRowContext(ctx, q).Scan(ptrs...); err != nil {
		return nil, nil, e.featureSQLError(ctx, err, fs, run)
	}
	medians := map[string]sql.NullFloat64{}
	for i, f := range feats {
		if slices.Contains(batches[0], f.Name) {
			medians[f.Name] = vals[4+6*i]
		}
	}
	for _, names := range batches[1:] {
		q, err := sqltmpl.FeatureMedians(in, names)
		if err != nil {
			return nil, nil, err
		}
		m := make([]sql.NullFloat64, len(names))
		ptrs := make([]any, len(m))
		for i := range m {
			ptrs[i] = &m[i]
		}
		if err := e.db.QueryRowContext(ctx, q).Scan(ptrs...); err != nil {
			return nil, nil, e.featureSQLError(ctx, err, fs, run)
		}
		for i, n := range names {
			medians[n] = m[i]
		}
	}
	rows := int64(vals[0].Float64)
	stats := make(map[string]FeatureStats, len(feats))
	params := make(map[string]sqltmpl.FeatureParams, len(feats))
	for i, f := range feats {
		v := vals[1+6*i : 7+6*i]
		st := FeatureStats{Count: int64(v[0].Float64), Mean: round12(v[1]), Std: round12(v[2]), Median: round12(medians[f.Name]),
			Min: round12(v[4]), Max: round12(v[5]), Impute: f.Impute, Transform: f.Transform}
		st.Missing = rows - st.Count
		st.ImputeValue = imputeValue(f, st)
		p := sqltmpl.FeatureParams{Impute: st.ImputeValue, Std: 1}
		if st.Mean != nil {
			p.Mean = *st.Mean
		}
		if st.Std != nil && *st.Std > 0 {
			p.Std = *st.Std
		}
		stats[f.Name], params[f.Name] = st, p
	}
	return stats, params, nil
}

// medianBudget bounds the memory of one statistics query's medians: DuckDB's
// median holds each of its column's values (8 bytes a row) outside the
// memory limit. The statistics of 44 features took 4.46 GB of RSS at 10M
// rows under a 1 GB limit with every median in one query.
const medianBudget = 256 << 20

// medianBatches splits the features into groups whose medians over rows
// rows fit budget bytes together (at least one feature per group); the
// KOI table's all fit in the first.
func medianBatches(feats []*spec.Feature, rows, budget int64) [][]string {
	per := int(budget / max(8*rows, 1))
	per = max(per, 1)
	var out [][]string
	for i := 0; i < len(feats); i += per {
		var b []string
		for _, f := range feats[i:min(i+per, len(feats))] {
			b = append(b, f.Name)
		}
		out = append(out, b)
	}
	if out == nil {
		out = [][]string{{}}
	}
	return out
}

// imputeValue is the value a feature's missing inputs take, nil for none.
// A feature with no value at all imputes 0 rather than NULL.
func imputeValue(f *spec.Feature, st FeatureStats) *float64 {
	zero := 0.0
	var v *float64
	switch f.Impute {
	case spec.ImputeNone:
		return nil
	case spec.ImputeMedian:
		v = st.Median
	case spec.ImputeMean:
		v = st.Mean
	case spec.ImputeConstant:
		v = f.Value
	}
	if v == nil {
		return &zero
	}
	return v
}

// round12 rounds a statistic to 12 significant digits (nil for NULL).
func round12(v sql.NullFloat64) *float64 {
	if !v.Valid || math.IsNaN(v.Float64) || math.IsInf(v.Float64, 0) {
		return nil
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v.Float64, 'g', 12, 64), 64)
	return &r
}

// describeFeatureSet fills the manifest's columns and row count from the
// written file.
func (e *Engine) describeFeatureSet(ctx context.Context, path string, m *FeatureManifest) error {
	cols, err := e.describe(ctx, readParquet(path))
	if err != nil {
		return err
	}
	for _, c := range cols {
		role := RoleFeature
		switch {
		case c.Name == spec.FeatureLabelColumn:
			role = RoleLabel
		case contains(spec.FeatureKeyColumns, c.Name):
			role = RoleID
		}
		m.Columns = append(m.Columns, FeatureColumn{Name: c.Name, Type: c.Type, Role: role})
	}
	return e.db.QueryRowContext(ctx, `SELECT count(*) FROM `+string(readParquetRel(path))).Scan(&m.Rows)
}

// readParquetRel is read_parquet('path') as a relation.
func readParquetRel(path string) sqltmpl.Expr {
	return sqltmpl.Expr("read_parquet(" + sqltmpl.Lit(path).String() + ")")
}

// contains reports whether xs holds s.
func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// featureContentHash hashes the written content: the columns with their
// types, the row count, and DuckDB's per-chunk digests of the rows in
// object_id, row_id order. The version, time and source run are not part
// of it.
func (e *Engine) featureContentHash(ctx context.Context, path string, m *FeatureManifest) (string, error) {
	q, err := sqltmpl.FeatureHash(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", featureHashVersion)
	for _, c := range m.Columns {
		fmt.Fprintf(h, "%s %s\n", c.Name, c.Type)
	}
	fmt.Fprintf(h, "rows %d\n", m.Rows)
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return "", fmt.Errorf("hash feature set: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var chunk, n int64
		var digest string
		if err := rows.Scan(&chunk, &digest, &n); err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%d %s %d\n", chunk, digest, n)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("hash feature set: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// commitFeatureSet puts a complete build in place, or compares it with the
// version already there.
func (e *Engine) commitFeatureSet(ctx context.Context, m *FeatureManifest, tmp string) (*FeatureBuild, error) {
	featureMu.Lock()
	defer featureMu.Unlock()
	dir := filepath.Join(e.featureStore, m.Version)
	if other := e.versionCaseClash(m.Version); other != "" {
		return nil, caseClashError(m.Version, other)
	}
	old, err := readFeatureManifest(dir)
	switch {
	case err == nil && old.ContentHash == m.ContentHash:
		if err := e.registerFeatureSet(ctx, old, dir); err != nil {
			return nil, err
		}
		return &FeatureBuild{FeatureManifest: old, Path: dir, Status: FeatureUnchanged}, nil
	case err == nil:
		return nil, Errorf(Conflict, "Feature set %s already exists with different content (content hash %s, built from run %s; this build gives %s). Versions are immutable: choose a new version.",
			m.Version, short(old.ContentHash), old.Source.RunID, short(m.ContentHash))
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	if _, err := os.Stat(dir); err == nil {
		return nil, Errorf(Conflict, "%s exists but holds no manifest; move it away to build version %s.", dir, m.Version)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("place feature set %s: %w", m.Version, err)
	}
	syncDir(e.featureStore)
	buildStep("renamed")
	if err := e.registerFeatureSet(ctx, m, dir); err != nil {
		return nil, err
	}
	return &FeatureBuild{FeatureManifest: m, Path: dir, Status: FeatureCreated}, nil
}

// short abbreviates a hash for messages.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// syncDir flushes a directory entry change (a rename) to disk; errors are
// ignored because not every file system supports it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// readFeatureManifest reads <dir>/manifest.json; os.ErrNotExist when absent.
func readFeatureManifest(dir string) (*FeatureManifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, FeaturesManifest))
	if err != nil {
		return nil, err
	}
	var m FeatureManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, FeaturesManifest), err)
	}
	return &m, nil
}

// manifestSpec parses a manifest's copy of the feature spec, which the
// JSON leaves without its compiled expressions. JSON is YAML, so the copy
// goes through the same strict parser and validation as
// configs/features.yaml; name says where the manifest came from.
func manifestSpec(fm *FeatureManifest, name string) (*spec.Features, error) {
	if fm.Spec == nil {
		return nil, fmt.Errorf("%s holds no feature spec", name)
	}
	b, err := json.Marshal(fm.Spec)
	if err != nil {
		return nil, err
	}
	return spec.ParseFeatures(bytes.NewReader(b), name)
}
