package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
)

// File names inside the config FS (whose root holds configs/ and schemas/).
const (
	ColumnsFile    = "schemas/columns.yaml"
	MetricsFile    = "configs/metrics.yaml"
	ThresholdsFile = "configs/thresholds.yaml"
	RulesFile      = "configs/rules.yaml"
)

// Bundle is the whole validated configuration. Other parts of the project
// add their own fields here and register their file with Register.
type Bundle struct {
	Columns    *Columns
	Metrics    *Metrics
	Thresholds *Thresholds
	Rules      *Rules
	Labeling   *Labeling // configs/labeling.yaml (engine/spec/labeling.go), nil when absent
	Features   *Features // configs/features.yaml (engine/spec/features.go), nil when absent
	Splits     *Splits   // configs/splits.yaml (engine/spec/splits.go), nil when absent
	Queries    *Queries  // configs/queries.yaml (engine/spec/queries.go), nil when absent

	sources map[string]*source
}

// FileSpec describes one config file of the bundle.
type FileSpec struct {
	// Path inside the config FS, e.g. "configs/labeling.yaml".
	Path string
	// Optional files may be absent; Parse is then not called.
	Optional bool
	// Parse decodes data into its Bundle field and returns every problem
	// found in the file itself. Helpers: NewSourceErrorf for positions.
	Parse func(b *Bundle, data []byte, file string) Errors
}

// files is the load table, in load order; checks run after all files parse.
var (
	files = []FileSpec{
		{Path: ColumnsFile, Parse: func(b *Bundle, d []byte, f string) Errors {
			c, errs := parseColumns(d, f)
			b.Columns = c
			return errs
		}},
		{Path: MetricsFile, Parse: func(b *Bundle, d []byte, f string) Errors {
			m, errs := parseMetrics(d, f)
			b.Metrics = m
			return errs
		}},
		{Path: ThresholdsFile, Parse: func(b *Bundle, d []byte, f string) Errors {
			t, errs := parseThresholds(d, f)
			b.Thresholds = t
			return errs
		}},
		{Path: RulesFile, Parse: func(b *Bundle, d []byte, f string) Errors {
			r, errs := parseRules(d, f)
			b.Rules = r
			return errs
		}},
	}
	checks = []func(b *Bundle) Errors{checkScopes, checkThresholdsRead, checkFlagRequires}
)

// Register adds a config file to every Load. Call it from an init function
// in the file that owns the config (e.g. engine/spec/labeling.go).
func Register(f FileSpec) { files = append(files, f) }

// RegisterCheck adds a cross-file validation that runs after every file has
// parsed without error.
func RegisterCheck(fn func(b *Bundle) Errors) { checks = append(checks, fn) }

// Load reads every registered file from fsys, validates each one and then
// the bundle as a whole, and returns all problems at once as Errors.
func Load(fsys fs.FS) (*Bundle, error) {
	b := &Bundle{sources: map[string]*source{}}
	var errs Errors
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && f.Optional:
			continue
		case errors.Is(err, fs.ErrNotExist):
			errs = append(errs, &Error{File: f.Path, Err: ErrFileMissing})
			continue
		case err != nil:
			errs = append(errs, &Error{File: f.Path, Err: err})
			continue
		}
		b.sources[f.Path] = newSource(f.Path, data)
		errs = append(errs, f.Parse(b, data, f.Path)...)
	}
	// note: cross-file checks run whenever every file decoded, even with
	// problems inside files, so one pass reports as much as possible.
	if b.Columns != nil && b.Metrics != nil && b.Thresholds != nil && b.Rules != nil {
		for _, check := range checks {
			errs = append(errs, check(b)...)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	b.Columns.Reserved = b.reserved()
	return b, nil
}

// Errorf returns an *Error for a field path of a loaded file, positioned by
// the file's YAML nodes. DuckDB checks use it to point at a metric or rule.
func (b *Bundle) Errorf(file, path string, err error) *Error {
	if s, ok := b.sources[file]; ok {
		return s.errorf(path, err)
	}
	return &Error{File: file, Path: path, Err: err}
}

// WithRun returns a copy of the bundle with a run's threshold overrides
// (dotted keys, textual numbers as from --set) and albedo applied. A nil
// albedo keeps the configured one. The original is not modified.
func (b *Bundle) WithRun(set map[string]string, albedo *float64) (*Bundle, error) {
	out := *b
	var errs Errors
	if len(set) > 0 {
		t, err := b.Thresholds.WithStrings(set)
		errs = append(errs, AsErrors(err)...)
		out.Thresholds = t
	}
	if albedo != nil {
		m, err := b.Metrics.WithParams(map[string]float64{"albedo": *albedo})
		errs = append(errs, AsErrors(err)...)
		out.Metrics = m
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &out, nil
}

// Param returns the value of a $name reference: a metric parameter or a
// threshold's dotted key.
func (b *Bundle) Param(name string) (float64, bool) {
	if p, ok := b.Metrics.Param(name); ok {
		return p.Value, true
	}
	return b.Thresholds.Get(name)
}

// nearParam names, for a parameter no config defines, the one it was
// probably meant to be ("hot_jupiter.min_teqq" in thresholds.yaml for a rule
// reading $hot_jupiter.min_teq): the typo is in the file the error does not
// point at, so the message points there too.
func (b *Bundle) nearParam(name string) string {
	// note: one edit away only: teff_min is two from teff_max, and a
	// rule that lost teff_max was not meant to read teff_min.
	best, dist := "", 2
	consider := func(key, file string) {
		if d := EditDistance(name, key); d < dist {
			best, dist = fmt.Sprintf(" (%s has %q: a typo?)", file, key), d
		}
	}
	for _, t := range b.Thresholds.entries {
		consider(t.Key, "configs/thresholds.yaml")
	}
	for _, p := range b.Metrics.Parameters {
		consider(p.Name, "configs/metrics.yaml")
	}
	return best
}

// EditDistance is the Levenshtein distance between a and b, in bytes: how
// far a name is from the one it probably misspells.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// reserved lists every name the pipeline adds after normalization.
func (b *Bundle) reserved() []string {
	out := slices.Clone(b.Metrics.OutputNames())
	for _, f := range b.Rules.Flags {
		out = append(out, f.Name)
	}
	out = append(out, Categories...)
	return append(out, ClassifyOutputs...)
}
