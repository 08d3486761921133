package spec

import (
	"fmt"
	"io"
	"math"
	"slices"
)

// SplitsFile is the supervised models' split config inside the config FS.
const SplitsFile = "configs/splits.yaml"

// Split groupings (splits.yaml group_by).
const (
	GroupByStar   = "star_id"
	GroupByObject = "object_id"
)

// Split limits.
const (
	MinFolds = 2
	MaxFolds = 20
)

// Splits is configs/splits.yaml: how `exohunter train` filters its labeled
// rows and splits them into cross-validation folds and a train/valid/test
// holdout (issue 7). The defaults are the prototype's: seed 1337, grouped
// by star, stratified, 5 folds, 70/15/15.
type Splits struct {
	Version int `yaml:"version" json:"version"`
	// Seed seeds every split and XGBoost's subsampling.
	Seed uint64 `yaml:"seed" json:"seed"`
	// GroupBy is star_id (planets of one star never straddle a split) or
	// object_id.
	GroupBy string `yaml:"group_by" json:"group_by"`
	// Stratify keeps the class ratios of each part close to the whole.
	Stratify bool         `yaml:"stratify" json:"stratify"`
	CV       SplitCV      `yaml:"cv" json:"cv"`
	Holdout  SplitHoldout `yaml:"holdout" json:"holdout"`
	// Filters are the row filters: a row enters only when every column is
	// present and inside its range.
	Filters []RowFilter `yaml:"filters" json:"filters"`

	src *source
}

// SplitCV configures the grouped k-fold cross-validation.
type SplitCV struct {
	Folds int `yaml:"folds" json:"folds"`
}

// SplitHoldout holds the train/valid/test fractions (they sum to 1).
type SplitHoldout struct {
	Train float64 `yaml:"train" json:"train"`
	Valid float64 `yaml:"valid" json:"valid"`
	Test  float64 `yaml:"test" json:"test"`
}

// RowFilter keeps rows whose column is present and within [Min, Max].
type RowFilter struct {
	Column string  `yaml:"column" json:"column"`
	Min    float64 `yaml:"min" json:"min"`
	Max    float64 `yaml:"max" json:"max"`
	Unit   string  `yaml:"unit" json:"unit,omitempty"`
}

// DefaultSplits returns the shipped configuration, used when
// configs/splits.yaml is absent from the config FS.
func DefaultSplits() *Splits {
	return &Splits{
		Version: 1, Seed: 1337, GroupBy: GroupByStar, Stratify: true,
		CV:      SplitCV{Folds: 5},
		Holdout: SplitHoldout{Train: 0.70, Valid: 0.15, Test: 0.15},
		Filters: []RowFilter{
			{Column: "koi_period", Min: 0.1, Max: 1e4, Unit: "days"},
			{Column: "koi_prad", Min: 0.1, Max: 1e3, Unit: "R_earth"},
		},
	}
}

// SplitsConfig returns the split config, or DefaultSplits when the bundle
// was loaded without configs/splits.yaml.
func (b *Bundle) SplitsConfig() *Splits {
	if b != nil && b.Splits != nil {
		return b.Splits
	}
	return DefaultSplits()
}

// ParseSplits reads and validates a splits file on its own (without the
// cross-check of filter columns against the pipeline).
func ParseSplits(r io.Reader, filename string) (*Splits, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	s, errs := parseSplits(data, filename)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func parseSplits(data []byte, file string) (*Splits, Errors) {
	s := &Splits{src: newSource(file, data)}
	errs, fatal := s.src.decodeStrict(data, s)
	if fatal {
		return nil, errs
	}
	return s, append(errs, s.validate()...)
}

// validate checks every field; problems are collected, not returned early.
func (s *Splits) validate() Errors {
	var errs Errors
	add := func(path string, err error) { errs = append(errs, s.src.errorf(path, err)) }
	if s.Version != 1 {
		add("version", errf(ErrInvalidValue, "%d (want 1)", s.Version))
	}
	if s.GroupBy != GroupByStar && s.GroupBy != GroupByObject {
		add("group_by", errf(ErrInvalidValue, "%q (want %s or %s)", s.GroupBy, GroupByStar, GroupByObject))
	}
	if s.CV.Folds < MinFolds || s.CV.Folds > MaxFolds {
		add("cv.folds", errf(ErrOutOfRange, "%d (want %d to %d)", s.CV.Folds, MinFolds, MaxFolds))
	}
	h := s.Holdout
	for _, f := range []struct {
		path string
		v    float64
	}{{"holdout.train", h.Train}, {"holdout.valid", h.Valid}, {"holdout.test", h.Test}} {
		if !(f.v > 0 && f.v < 1) {
			add(f.path, errf(ErrOutOfRange, "%v (want a fraction between 0 and 1)", f.v))
		}
	}
	if sum := h.Train + h.Valid + h.Test; math.Abs(sum-1) > 1e-9 {
		add("holdout", errf(ErrOutOfRange, "train + valid + test = %v (want 1)", sum))
	}
	for i, f := range s.Filters {
		p := fmt.Sprintf("filters[%d]", i)
		switch {
		case !identRe.MatchString(f.Column):
			add(p+".column", errf(ErrInvalidName, "%q", f.Column))
		case IsLeaky(f.Column):
			add(p+".column", errf(ErrLeak, "%q (a row filter on the label's sources selects by the label)", f.Column))
		case slices.ContainsFunc(s.Filters[:i], func(o RowFilter) bool { return o.Column == f.Column }):
			add(p+".column", errf(ErrDuplicateName, "%q", f.Column))
		}
		if math.IsNaN(f.Min) || math.IsNaN(f.Max) || f.Min > f.Max {
			add(p, errf(ErrOutOfRange, "min %v > max %v", f.Min, f.Max))
		}
	}
	return errs
}

// checkSplitColumns verifies that every filter reads a column every run
// has: a canonical column or a metric.
func checkSplitColumns(b *Bundle) Errors {
	if b.Splits == nil {
		return nil
	}
	sc := scope{}
	sc.add(b.Columns.OutputNames()...)
	sc.add(b.Metrics.OutputNames()...)
	var errs Errors
	for i, f := range b.Splits.Filters {
		if identRe.MatchString(f.Column) && !sc[f.Column] && !IsLeaky(f.Column) {
			errs = append(errs, b.Splits.src.errorf(fmt.Sprintf("filters[%d].column", i), errf(ErrUnknownColumn, "%q", f.Column)))
		}
	}
	return errs
}

func init() {
	Register(FileSpec{Path: SplitsFile, Optional: true, Parse: func(b *Bundle, d []byte, f string) Errors {
		s, errs := parseSplits(d, f)
		b.Splits = s
		return errs
	}})
	RegisterCheck(checkSplitColumns)
}
