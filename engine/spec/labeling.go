package spec

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// LabelingFile is the labeling queue's config inside the config FS.
const LabelingFile = "configs/labeling.yaml"

// Sentinel causes of labeling.yaml problems (see also errors.go).
var (
	// ErrUnknownFlag is an interesting_flags key that rules.yaml does not
	// define.
	ErrUnknownFlag = errors.New("unknown flag")
	// ErrNotDisposition is an exclusion written as a category name. The
	// prototype compared catalog dispositions with category names, so its
	// exclusions never matched; this refuses the same mistake.
	ErrNotDisposition = errors.New("not a catalog disposition")
)

// Queue strategies (batch.strategy and GET /api/labels/queue?strategy=).
const (
	// StrategyPriority orders by the summed priority, ties broken by the
	// priority list and the object id.
	StrategyPriority = "priority"
	// StrategyRandom orders by a seeded hash of the object id (exclusions
	// still apply).
	StrategyRandom = "random"
	// StrategyUncertainty orders by the uncertainty term first.
	StrategyUncertainty = "uncertainty"
)

// Strategies lists the queue strategies.
var Strategies = []string{StrategyPriority, StrategyRandom, StrategyUncertainty}

// Labeling is configs/labeling.yaml: how the labeling queue picks objects.
// An item's priority is
//
//	category_weights[category] + Σ interesting_flags[flag] over its flags
//	+ uncertainty.factor · (1 − 2·|p − 0.5|) + anomaly.weight · anomaly_score
//
// where p is the model probability when one exists for the run, else the
// run's score.
type Labeling struct {
	Version int   `yaml:"version" json:"version"`
	Batch   Batch `yaml:"batch" json:"batch"`
	// Priority breaks ties between equal priorities, first listed first;
	// categories not listed come after.
	Priority []string `yaml:"priority" json:"priority"`
	// CategoryWeights by category; a category not listed weighs 0.
	CategoryWeights map[string]float64 `yaml:"category_weights" json:"category_weights"`
	// InterestingFlags maps FLAG_… names to the weight each adds.
	InterestingFlags map[string]float64 `yaml:"interesting_flags" json:"interesting_flags"`
	Uncertainty      Uncertainty        `yaml:"uncertainty" json:"uncertainty"`
	Anomaly          Anomaly            `yaml:"anomaly" json:"anomaly"`
	Exclude          Exclude            `yaml:"exclude" json:"exclude"`
	Claims           Claims             `yaml:"claims" json:"claims"`

	src *source
}

// Batch is the default size and strategy of one queue request.
type Batch struct {
	Size     int    `yaml:"size" json:"size"`
	Strategy string `yaml:"strategy" json:"strategy"`
}

// Uncertainty weighs how close the score (or model probability) is to 0.5.
type Uncertainty struct {
	Factor float64 `yaml:"factor" json:"factor"`
}

// Anomaly weighs an anomaly score in [0, 1] when a detector wrote one.
type Anomaly struct {
	Weight float64 `yaml:"weight" json:"weight"`
}

// Exclude removes objects from the queue. Objects with a human label are
// always excluded.
type Exclude struct {
	// NASADispositions are catalog dispositions (CONFIRMED, CANDIDATE,
	// FALSE POSITIVE) whose objects need no label.
	NASADispositions []string `yaml:"nasa_dispositions" json:"nasa_dispositions"`
}

// Claims configures how long a claimed item stays reserved.
type Claims struct {
	ExpireAfter string `yaml:"expire_after" json:"expire_after"`
	// Expiry is ExpireAfter parsed by validation.
	Expiry time.Duration `yaml:"-" json:"-"`
}

// Queue limits.
const (
	MaxBatchSize   = 1000
	maxClaimExpiry = 7 * 24 * time.Hour
)

// DefaultLabeling returns the shipped configuration, used when
// configs/labeling.yaml is absent from the config FS.
func DefaultLabeling() *Labeling {
	return &Labeling{
		Version:  1,
		Batch:    Batch{Size: 50, Strategy: StrategyPriority},
		Priority: []string{"anomalous_signal", "candidate", "habitable_zone_candidate", "rocky_candidate"},
		CategoryWeights: map[string]float64{
			"anomalous_signal": 5, "candidate": 3, "habitable_zone_candidate": 2.5, "rocky_candidate": 2,
			"hot_jupiter_candidate": 1.5, "likely_false_positive": -1, "no_result": -2,
		},
		InterestingFlags: map[string]float64{
			"FLAG_RADIUS_TOO_LARGE": 0.5, "FLAG_DEPTH_TOO_DEEP": 0.5, "FLAG_DURATION_INCONSISTENT": 0.5,
			"FLAG_COLD_DEEP_TRANSIT": 0.5, "FLAG_DEPTH_RADII_MISMATCH": 0.5, "FLAG_HZ_CONSERVATIVE": 0.5,
		},
		Uncertainty: Uncertainty{Factor: 2},
		Anomaly:     Anomaly{Weight: 1},
		Exclude:     Exclude{NASADispositions: []string{Confirmed, FalsePositive}},
		Claims:      Claims{ExpireAfter: "30m", Expiry: 30 * time.Minute},
	}
}

// LabelingConfig returns the labeling config, or DefaultLabeling when the
// bundle was loaded without configs/labeling.yaml.
func (b *Bundle) LabelingConfig() *Labeling {
	if b != nil && b.Labeling != nil {
		return b.Labeling
	}
	return DefaultLabeling()
}

// FlagNames returns the interesting flags, sorted.
func (l *Labeling) FlagNames() []string { return sortedKeys(l.InterestingFlags) }

// ParseLabeling reads and validates a labeling file on its own (without the
// cross-check of flag names against rules.yaml).
func ParseLabeling(r io.Reader, filename string) (*Labeling, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	l, errs := parseLabeling(data, filename)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return l, nil
}

func parseLabeling(data []byte, file string) (*Labeling, Errors) {
	l := &Labeling{src: newSource(file, data)}
	errs, fatal := l.src.decodeStrict(data, l)
	if fatal {
		return nil, errs
	}
	return l, append(errs, l.validate()...)
}

// validate checks every field; problems are collected, not returned early.
func (l *Labeling) validate() Errors {
	var errs Errors
	add := func(path string, err error) { errs = append(errs, l.src.errorf(path, err)) }
	if l.Version != 1 {
		add("version", errf(ErrInvalidValue, "%d (want 1)", l.Version))
	}
	if l.Batch.Size < 1 || l.Batch.Size > MaxBatchSize {
		add("batch.size", errf(ErrOutOfRange, "%d (want 1 to %d)", l.Batch.Size, MaxBatchSize))
	}
	if !slices.Contains(Strategies, l.Batch.Strategy) {
		add("batch.strategy", errf(ErrInvalidValue, "%q (want one of %v)", l.Batch.Strategy, Strategies))
	}
	for i, c := range l.Priority {
		p := fmt.Sprintf("priority[%d]", i)
		switch {
		case !slices.Contains(Categories, c):
			add(p, errf(ErrUnknownCategory, "%q", c))
		case slices.Contains(l.Priority[:i], c):
			add(p, errf(ErrDuplicateName, "%q", c))
		}
	}
	for _, c := range sortedKeys(l.CategoryWeights) {
		p := "category_weights." + c
		if !slices.Contains(Categories, c) {
			add(p, errf(ErrUnknownCategory, "%q", c))
		}
		if w := l.CategoryWeights[c]; math.IsNaN(w) || math.IsInf(w, 0) {
			add(p, errf(ErrNotNumber, "(%v)", w))
		}
	}
	for _, f := range sortedKeys(l.InterestingFlags) {
		p := "interesting_flags." + f
		if !flagRe.MatchString(f) {
			add(p, errf(ErrInvalidName, "%q (want FLAG_ and upper case)", f))
		}
		if w := l.InterestingFlags[f]; math.IsNaN(w) || math.IsInf(w, 0) {
			add(p, errf(ErrNotNumber, "(%v)", w))
		}
	}
	if f := l.Uncertainty.Factor; f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		add("uncertainty.factor", errf(ErrOutOfRange, "%v (want a number >= 0)", f))
	}
	if w := l.Anomaly.Weight; w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
		add("anomaly.weight", errf(ErrOutOfRange, "%v (want a number >= 0)", w))
	}
	errs = append(errs, l.validateExclusions()...)
	d, err := time.ParseDuration(l.Claims.ExpireAfter)
	switch {
	case err != nil:
		add("claims.expire_after", errf(ErrInvalidValue, "%q (want a duration such as 30m or 2h)", l.Claims.ExpireAfter))
	case d < time.Second || d > maxClaimExpiry:
		add("claims.expire_after", errf(ErrOutOfRange, "%q (want 1s to %s)", l.Claims.ExpireAfter, maxClaimExpiry))
	default:
		l.Claims.Expiry = d
	}
	return errs
}

// validateExclusions accepts only catalog dispositions, with a hint when a
// category name was written instead.
func (l *Labeling) validateExclusions() Errors {
	var errs Errors
	for i, d := range l.Exclude.NASADispositions {
		p := fmt.Sprintf("exclude.nasa_dispositions[%d]", i)
		switch {
		case d == Confirmed || d == Candidate || d == FalsePositive:
			if slices.Contains(l.Exclude.NASADispositions[:i], d) {
				errs = append(errs, l.src.errorf(p, errf(ErrDuplicateName, "%q", d)))
			}
		case slices.Contains(Categories, d):
			errs = append(errs, l.src.errorf(p, errf(ErrNotDisposition,
				"%q is a category; exclusions compare NASA dispositions: write CONFIRMED, CANDIDATE or FALSE POSITIVE", d)))
		default:
			errs = append(errs, l.src.errorf(p, errf(ErrNotDisposition, "%q (want CONFIRMED, CANDIDATE or FALSE POSITIVE)", d)))
		}
	}
	return errs
}

// checkLabelingFlags verifies that every interesting flag is defined in
// rules.yaml.
func checkLabelingFlags(b *Bundle) Errors {
	if b.Labeling == nil {
		return nil
	}
	known := map[string]bool{}
	for _, f := range b.Rules.Flags {
		known[f.Name] = true
	}
	var errs Errors
	for _, f := range sortedKeys(b.Labeling.InterestingFlags) {
		if flagRe.MatchString(f) && !known[f] {
			errs = append(errs, b.Labeling.src.errorf("interesting_flags."+f, errf(ErrUnknownFlag, "%q (not in %s)", f, RulesFile)))
		}
	}
	return errs
}

func init() {
	Register(FileSpec{Path: LabelingFile, Optional: true, Parse: func(b *Bundle, d []byte, f string) Errors {
		l, errs := parseLabeling(d, f)
		b.Labeling = l
		return errs
	}})
	RegisterCheck(checkLabelingFlags)
}
