package spec

import (
	"fmt"
	"io"
	"math"
	"slices"
)

// Metrics is configs/metrics.yaml: named SQL expressions over canonical
// columns and earlier metrics, compiled into the metrics view one projection
// per metric, in YAML order.
type Metrics struct {
	Version    int         `yaml:"version"`
	Parameters []Parameter `yaml:"parameters"`
	Metrics    []Metric    `yaml:"metrics"`

	src *source
}

// Parameter is a number a metric reads as $name, such as the Bond albedo.
// A run may override it within [Min, Max].
type Parameter struct {
	Name        string   `yaml:"name"`
	Value       float64  `yaml:"value"`
	Min         *float64 `yaml:"min"`
	Max         *float64 `yaml:"max"`
	Unit        string   `yaml:"unit"`
	Description string   `yaml:"description"`
}

// Metric is one derived quantity.
type Metric struct {
	Name        string `yaml:"name"`
	Unit        string `yaml:"unit"`
	Description string `yaml:"description"`
	// Formula is the physics in plain notation, for people and the data
	// dictionary; SQL is what runs.
	Formula string `yaml:"formula"`
	SQL     string `yaml:"sql"`
	// Fills names a canonical column that takes this metric's value when the
	// catalog has none; <fills>_source then says catalog, derived or missing.
	Fills string `yaml:"fills"`

	// Expr is SQL parsed; set by validation.
	Expr *Expr `yaml:"-"`
}

// SourceColumn returns the provenance column of a filling metric, or "".
func (m *Metric) SourceColumn() string {
	if m.Fills == "" {
		return ""
	}
	return m.Fills + "_source"
}

// Param returns the named parameter.
func (ms *Metrics) Param(name string) (*Parameter, bool) {
	for i := range ms.Parameters {
		if ms.Parameters[i].Name == name {
			return &ms.Parameters[i], true
		}
	}
	return nil, false
}

// OutputNames lists the columns the metrics view adds, in order.
func (ms *Metrics) OutputNames() []string {
	var out []string
	for i := range ms.Metrics {
		out = append(out, ms.Metrics[i].Name)
		if s := ms.Metrics[i].SourceColumn(); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// WithParams returns a copy with parameters overridden. Unknown names,
// non-finite values and values outside [Min, Max] are refused.
func (ms *Metrics) WithParams(over map[string]float64) (*Metrics, error) {
	out := *ms
	out.Parameters = slices.Clone(ms.Parameters)
	var errs Errors
	for _, name := range sortedKeys(over) {
		v := over[name]
		p, ok := out.Param(name)
		switch {
		case !ok:
			errs = append(errs, &Error{Path: name, Err: errf(ErrUnknownParameter, "%q", name)})
		case math.IsNaN(v) || math.IsInf(v, 0):
			errs = append(errs, &Error{Path: name, Err: errf(ErrNotNumber, "(%v)", v)})
		case !p.inRange(v):
			errs = append(errs, &Error{Path: name, Err: errf(ErrOutOfRange, "%v (%s)", v, p.rangeText())})
		default:
			p.Value = v
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return &out, nil
}

func (p *Parameter) inRange(v float64) bool {
	return (p.Min == nil || v >= *p.Min) && (p.Max == nil || v <= *p.Max)
}

func (p *Parameter) rangeText() string {
	lo, hi := "-inf", "+inf"
	if p.Min != nil {
		lo = fmt.Sprint(*p.Min)
	}
	if p.Max != nil {
		hi = fmt.Sprint(*p.Max)
	}
	return "allowed " + lo + " to " + hi
}

// ParseMetrics reads and validates a metrics file on its own (expressions
// are parsed, but column references are checked only by Load, which knows
// the canonical columns).
func ParseMetrics(r io.Reader, filename string) (*Metrics, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	m, errs := parseMetrics(data, filename)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

func parseMetrics(data []byte, file string) (*Metrics, Errors) {
	m := &Metrics{src: newSource(file, data)}
	errs, fatal := m.src.decodeStrict(data, m)
	if fatal {
		return nil, errs
	}
	return m, append(errs, m.validate()...)
}

// validate checks names, parameter ranges and expression syntax.
func (ms *Metrics) validate() Errors {
	var errs Errors
	add := func(path string, err error) { errs = append(errs, ms.src.errorf(path, err)) }
	if ms.Version != 1 {
		add("version", errf(ErrInvalidValue, "%d (want 1)", ms.Version))
	}
	seen := map[string]bool{}
	for i, p := range ms.Parameters {
		path := fmt.Sprintf("parameters[%d]", i)
		switch {
		case !identRe.MatchString(p.Name):
			add(path+".name", errf(ErrInvalidName, "%q", p.Name))
		case seen[p.Name]:
			add(path+".name", errf(ErrDuplicateName, "%q", p.Name))
		}
		seen[p.Name] = true
		if !p.inRange(p.Value) {
			add(path+".value", errf(ErrOutOfRange, "%v (%s)", p.Value, p.rangeText()))
		}
	}
	seen = map[string]bool{}
	for i := range ms.Metrics {
		m := &ms.Metrics[i]
		path := fmt.Sprintf("metrics[%d]", i)
		switch {
		case !identRe.MatchString(m.Name):
			add(path+".name", errf(ErrInvalidName, "%q", m.Name))
		case seen[m.Name]:
			add(path+".name", errf(ErrDuplicateName, "%q", m.Name))
		}
		seen[m.Name] = true
		if m.SQL == "" {
			add(path+".sql", errf(ErrMissingKey, "(sql)"))
			continue
		}
		e, err := ParseExpr(m.SQL)
		if err != nil {
			add(path+".sql", err)
			continue
		}
		m.Expr = e
	}
	return errs
}
