package spec

import (
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
)

// FeaturesFile is the feature store's spec inside the config FS.
const FeaturesFile = "configs/features.yaml"

// ErrLeak is a feature that reads a column derived from the label: a
// Robovetter output, the disposition itself, or a run's classification.
var ErrLeak = errors.New("leaks the label")

// Imputations of a numeric feature.
const (
	ImputeMedian   = "median"
	ImputeMean     = "mean"
	ImputeZero     = "zero"
	ImputeConstant = "constant"
	// ImputeNone keeps NULL (for learners that handle missing values).
	ImputeNone = "none"
)

// Transforms of a numeric feature, applied after imputation.
const (
	TransformNone = "none"
	// TransformLog1p is the signed log1p, sign(x)·ln(1 + |x|): defined for
	// every value, so it never produces NULL.
	TransformLog1p = "log1p"
	// TransformStandardize is (x − mean) / std with the build's statistics.
	TransformStandardize = "standardize"
)

var (
	imputations = []string{ImputeMedian, ImputeMean, ImputeZero, ImputeConstant, ImputeNone}
	transforms  = []string{TransformNone, TransformLog1p, TransformStandardize}
)

// FeatureKeyColumns are kept in every feature set to join labels and group
// by star; they are never features.
var FeatureKeyColumns = []string{"row_id", "object_id", "star_id"}

// FeatureLabelColumn is the catalog disposition, kept as the label source
// column of a feature set; it is never a feature.
const FeatureLabelColumn = "koi_disposition"

// LeakyColumns are columns no feature may read (DESIGN.md: the Robovetter's
// outputs, the disposition, and a run's classification are functions of
// the label). Columns starting with LeakyPrefix are refused too.
var LeakyColumns = []string{
	"koi_disposition", "koi_pdisposition", "koi_score", "kepler_name", "koi_tce_delivname",
	"koi_vet_stat", "koi_vet_date", "koi_disp_prov", "koi_comment",
	"category", "tags", "score", "disposition_compare", "label", "labels",
}

// LeakyPrefix marks the Robovetter's false-positive flags (koi_fpflag_nt, …).
const LeakyPrefix = "koi_fpflag_"

// IsLeaky reports whether a column may not feed a feature.
func IsLeaky(col string) bool {
	c := strings.ToLower(col)
	return slices.Contains(LeakyColumns, c) || strings.HasPrefix(c, LeakyPrefix)
}

// Features is configs/features.yaml: the columns of a feature set, compiled
// to one SELECT over a run. Rows are the run's default rows (one per
// object); numeric and derived features are imputed and transformed with
// statistics computed on the same rows, categorical ones one-hot encoded.
type Features struct {
	Version     int                  `yaml:"version" json:"version"`
	Numeric     []Feature            `yaml:"numeric" json:"numeric"`
	Derived     []Feature            `yaml:"derived" json:"derived"`
	Categorical []CategoricalFeature `yaml:"categorical" json:"categorical"`

	src *source
}

// Feature is one numeric column. Under numeric, it reads the run column of
// the same name; under derived, its SQL expression over run columns.
type Feature struct {
	Name string `yaml:"name" json:"name"`
	SQL  string `yaml:"sql" json:"sql,omitempty"`
	// Impute is median (default), mean, zero, constant (with Value) or none.
	Impute string   `yaml:"impute" json:"impute"`
	Value  *float64 `yaml:"value" json:"value,omitempty"`
	// Transform is none (default), log1p or standardize.
	Transform string `yaml:"transform" json:"transform"`
	// MissingIndicator adds <name>_missing (1 where the input was NULL).
	MissingIndicator bool   `yaml:"missing_indicator" json:"missing_indicator,omitempty"`
	Unit             string `yaml:"unit" json:"unit,omitempty"`
	Description      string `yaml:"description" json:"description,omitempty"`

	// Expr is the input expression (the column itself under numeric).
	Expr *Expr `yaml:"-" json:"-"`
}

// CategoricalFeature is an expression with a fixed set of values, one-hot
// encoded as <name>_<value> columns (all 0 when the value is NULL or not
// listed).
type CategoricalFeature struct {
	Name        string   `yaml:"name" json:"name"`
	SQL         string   `yaml:"sql" json:"sql"`
	Values      []string `yaml:"values" json:"values"`
	Description string   `yaml:"description" json:"description,omitempty"`

	Expr *Expr `yaml:"-" json:"-"`
}

// OneHotName is the column of one value.
func (c *CategoricalFeature) OneHotName(value string) string { return c.Name + "_" + value }

// MissingName is the indicator column of a feature.
func (f *Feature) MissingName() string { return f.Name + "_missing" }

// All returns the numeric then the derived features, in YAML order.
func (fs *Features) All() []*Feature {
	out := make([]*Feature, 0, len(fs.Numeric)+len(fs.Derived))
	for i := range fs.Numeric {
		out = append(out, &fs.Numeric[i])
	}
	for i := range fs.Derived {
		out = append(out, &fs.Derived[i])
	}
	return out
}

// OutputNames lists the feature columns of a set, in order (key and label
// columns excluded).
func (fs *Features) OutputNames() []string {
	var out []string
	for _, f := range fs.All() {
		out = append(out, f.Name)
		if f.MissingIndicator {
			out = append(out, f.MissingName())
		}
	}
	for i := range fs.Categorical {
		for _, v := range fs.Categorical[i].Values {
			out = append(out, fs.Categorical[i].OneHotName(v))
		}
	}
	return out
}

// FeaturesConfig returns the feature spec, or nil when the bundle was
// loaded without configs/features.yaml.
func (b *Bundle) FeaturesConfig() *Features {
	if b == nil {
		return nil
	}
	return b.Features
}

// ParseFeatures reads and validates a features file on its own (without
// the cross-check of column names against the pipeline).
func ParseFeatures(r io.Reader, filename string) (*Features, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	f, errs := parseFeatures(data, filename)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

func parseFeatures(data []byte, file string) (*Features, Errors) {
	fs := &Features{src: newSource(file, data)}
	errs, fatal := fs.src.decodeStrict(data, fs)
	if fatal {
		return nil, errs
	}
	return fs, append(errs, fs.validate()...)
}

// valueRe is the shape of a one-hot value (it becomes part of a column name).
var valueRe = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// validate checks names, options and expressions, and refuses leaky inputs.
func (fs *Features) validate() Errors {
	var errs Errors
	add := func(path string, err error) { errs = append(errs, fs.src.errorf(path, err)) }
	if fs.Version != 1 {
		add("version", errf(ErrInvalidValue, "%d (want 1)", fs.Version))
	}
	if len(fs.Numeric)+len(fs.Derived)+len(fs.Categorical) == 0 {
		add("", errf(ErrMissingKey, "(numeric, derived or categorical: a feature set needs features)"))
	}
	names := map[string]bool{FeatureLabelColumn: true}
	for _, k := range FeatureKeyColumns {
		names[k] = true
	}
	// note: one-hot columns keep their value's case (stellar_type_G); names
	// are compared case-insensitively, as DuckDB compares identifiers.
	claim := func(path, name string) {
		key := strings.ToLower(name)
		switch {
		case !identRe.MatchString(key):
			add(path, errf(ErrInvalidName, "%q", name))
		case names[key]:
			add(path, errf(ErrDuplicateName, "%q", name))
		}
		names[key] = true
	}
	for i := range fs.Numeric {
		errs = append(errs, fs.validateFeature(fmt.Sprintf("numeric[%d]", i), &fs.Numeric[i], false, claim)...)
	}
	for i := range fs.Derived {
		errs = append(errs, fs.validateFeature(fmt.Sprintf("derived[%d]", i), &fs.Derived[i], true, claim)...)
	}
	for i := range fs.Categorical {
		c := &fs.Categorical[i]
		p := fmt.Sprintf("categorical[%d]", i)
		if !identRe.MatchString(c.Name) {
			add(p+".name", errf(ErrInvalidName, "%q", c.Name))
		}
		c.Expr = fs.parseInput(p+".sql", c.SQL, &errs)
		if len(c.Values) == 0 {
			add(p+".values", errf(ErrMissingKey, "(values)"))
		}
		for j, v := range c.Values {
			vp := fmt.Sprintf("%s.values[%d]", p, j)
			if !valueRe.MatchString(v) {
				add(vp, errf(ErrInvalidName, "%q (letters, digits and _ only)", v))
				continue
			}
			claim(vp, c.OneHotName(v))
		}
	}
	return errs
}

// validateFeature normalizes defaults and checks one numeric or derived
// feature.
func (fs *Features) validateFeature(p string, f *Feature, derived bool, claim func(path, name string)) Errors {
	var errs Errors
	add := func(path string, err error) { errs = append(errs, fs.src.errorf(path, err)) }
	claim(p+".name", f.Name)
	if f.MissingIndicator {
		claim(p+".missing_indicator", f.MissingName())
	}
	switch {
	case derived:
		f.Expr = fs.parseInput(p+".sql", f.SQL, &errs)
	case f.SQL != "":
		add(p+".sql", errf(ErrInvalidValue, "(a numeric feature reads the column it is named after; put expressions under derived)"))
	case IsLeaky(f.Name):
		add(p+".name", errf(ErrLeak, "%q", f.Name))
	case identRe.MatchString(f.Name):
		f.Expr = &Expr{Text: f.Name, Columns: []string{f.Name}}
	}
	if f.Impute == "" {
		f.Impute = ImputeMedian
	}
	if f.Transform == "" {
		f.Transform = TransformNone
	}
	if !slices.Contains(imputations, f.Impute) {
		add(p+".impute", errf(ErrInvalidValue, "%q (want one of %v)", f.Impute, imputations))
	}
	if !slices.Contains(transforms, f.Transform) {
		add(p+".transform", errf(ErrInvalidValue, "%q (want one of %v)", f.Transform, transforms))
	}
	switch {
	case f.Impute == ImputeConstant && f.Value == nil:
		add(p+".value", errf(ErrMissingKey, "(value, for impute: constant)"))
	case f.Impute != ImputeConstant && f.Value != nil:
		add(p+".value", errf(ErrInvalidValue, "(value is only read with impute: constant)"))
	case f.Value != nil && (math.IsNaN(*f.Value) || math.IsInf(*f.Value, 0)):
		add(p+".value", errf(ErrNotNumber, "(%v)", *f.Value))
	}
	return errs
}

// parseInput parses a feature expression and refuses parameters and leaky
// columns.
func (fs *Features) parseInput(path, text string, errs *Errors) *Expr {
	if strings.TrimSpace(text) == "" {
		*errs = append(*errs, fs.src.errorf(path, errf(ErrMissingKey, "(sql)")))
		return nil
	}
	e, err := ParseExpr(text)
	if err != nil {
		*errs = append(*errs, fs.src.errorf(path, err))
		return nil
	}
	for _, p := range e.Params {
		*errs = append(*errs, fs.src.errorf(path, errf(ErrUnknownParameter, "%q (features take no parameters)", "$"+p)))
	}
	for _, c := range e.Columns {
		if IsLeaky(c) {
			*errs = append(*errs, fs.src.errorf(path, errf(ErrLeak, "%q", e.Written(c))))
		}
	}
	return e
}

// checkFeatureColumns verifies that features read only columns every run
// has: the canonical columns and the metrics.
func checkFeatureColumns(b *Bundle) Errors {
	if b.Features == nil {
		return nil
	}
	sc := scope{}
	sc.add(b.Columns.OutputNames()...)
	sc.add(b.Metrics.OutputNames()...)
	var errs Errors
	check := func(path string, e *Expr) {
		if e == nil {
			return
		}
		for _, c := range e.Columns {
			if !sc[c] && !IsLeaky(c) {
				errs = append(errs, b.Features.src.errorf(path, errf(ErrUnknownColumn, "%q", e.Written(c))))
			}
		}
	}
	for i := range b.Features.Numeric {
		check(fmt.Sprintf("numeric[%d].name", i), b.Features.Numeric[i].Expr)
	}
	for i := range b.Features.Derived {
		check(fmt.Sprintf("derived[%d].sql", i), b.Features.Derived[i].Expr)
	}
	for i := range b.Features.Categorical {
		check(fmt.Sprintf("categorical[%d].sql", i), b.Features.Categorical[i].Expr)
	}
	return errs
}

func init() {
	Register(FileSpec{Path: FeaturesFile, Optional: true, Parse: func(b *Bundle, d []byte, f string) Errors {
		fs, errs := parseFeatures(d, f)
		b.Features = fs
		return errs
	}})
	RegisterCheck(checkFeatureColumns)
}
