package spec

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// QueriesFile holds the stored queries of the SQL console.
const QueriesFile = "configs/queries.yaml"

// Sentinel causes of queries.yaml problems (see also errors.go). The engine
// adds ErrSQL, ErrUnknownParameter and ErrUnusedParameter when DuckDB checks
// the SQL at load.
var (
	// ErrReservedName is a parameter named like a request option of
	// GET /api/queries/{name} (limit, query_id, timeout_ms, format).
	ErrReservedName = errors.New("reserved name")
	// ErrUnusedParameter is a declared parameter the SQL never reads.
	ErrUnusedParameter = errors.New("unused parameter")
)

// Parameter types of stored queries.
const (
	// ParamNumber is a finite float64, bound as DOUBLE.
	ParamNumber = "number"
	// ParamInteger is an int64, bound as BIGINT.
	ParamInteger = "integer"
	// ParamString is text, bound as VARCHAR (at most MaxParamTextLen bytes).
	ParamString = "string"
	// ParamBoolean is true or false, bound as BOOLEAN.
	ParamBoolean = "boolean"
	// ParamDataset is a dataset name, bound as VARCHAR like a string. The
	// engine refuses a name that is not an existing dataset, so a typo is a
	// 400 rather than an empty result; "" (when allowed by the default)
	// means every dataset.
	ParamDataset = "dataset"
	// ParamRun is a run id, bound as VARCHAR like a string. The engine
	// refuses an id that is not an existing run, as for ParamDataset; ""
	// (when allowed by the default) means the latest run of each dataset.
	ParamRun = "run"
)

// ParamTypes lists the parameter types.
var ParamTypes = []string{ParamNumber, ParamInteger, ParamString, ParamBoolean, ParamDataset, ParamRun}

// ReservedParams are request options of GET /api/queries/{name}; no stored
// query parameter may take these names.
var ReservedParams = []string{"limit", "query_id", "timeout_ms", "format"}

// MaxParamTextLen bounds a string parameter's value, in bytes.
const MaxParamTextLen = 256

// Queries is configs/queries.yaml: named, documented, parameterised
// read-only queries for the console (GET /api/queries). Their SQL names its
// parameters $name; values are always bound, never spliced into the text.
type Queries struct {
	Version int     `yaml:"version" json:"version"`
	Queries []Query `yaml:"queries" json:"queries"`

	src *source
}

// Query is one stored query.
type Query struct {
	// Name is the URL name (GET /api/queries/{name}), an identifier.
	Name string `yaml:"name" json:"name"`
	// Title is a short human name; Description says what the query answers
	// and how to read it.
	Title       string       `yaml:"title" json:"title"`
	Description string       `yaml:"description" json:"description"`
	Params      []QueryParam `yaml:"params" json:"params"`
	// SQL is one SELECT that reads its parameters as $name.
	SQL string `yaml:"sql" json:"sql"`

	// SQLLine is the line of the file that holds the SQL's first line, so
	// that DuckDB's "LINE n" maps back to the YAML.
	SQLLine int `yaml:"-" json:"-"`
	// Index is the query's position in the file (queries[Index]).
	Index int `yaml:"-" json:"-"`
}

// QueryParam is one parameter of a stored query. Default is required and
// must satisfy the parameter's own constraints, so that every stored query
// runs without arguments.
type QueryParam struct {
	Name        string `yaml:"name" json:"name"`
	Type        string `yaml:"type" json:"type"`
	Description string `yaml:"description" json:"description"`
	// Default is normalized to the type: float64, int64, string or bool.
	Default any `yaml:"default" json:"default"`
	// Min and Max bound number and integer values (inclusive).
	Min *float64 `yaml:"min" json:"min,omitempty"`
	Max *float64 `yaml:"max" json:"max,omitempty"`
	// Values lists the allowed values of a string parameter.
	Values []string `yaml:"values" json:"values,omitempty"`
}

// StoredQueries returns the stored queries in file order (nil when the
// bundle has no queries.yaml).
func (b *Bundle) StoredQueries() []Query {
	if b == nil || b.Queries == nil {
		return nil
	}
	return slices.Clone(b.Queries.Queries)
}

// StoredQuery returns the stored query with this name.
func (b *Bundle) StoredQuery(name string) (*Query, bool) {
	if b == nil || b.Queries == nil {
		return nil, false
	}
	for i := range b.Queries.Queries {
		if b.Queries.Queries[i].Name == name {
			q := b.Queries.Queries[i]
			return &q, true
		}
	}
	return nil, false
}

// Param returns the parameter with this name.
func (q *Query) Param(name string) (*QueryParam, bool) {
	for i := range q.Params {
		if q.Params[i].Name == name {
			return &q.Params[i], true
		}
	}
	return nil, false
}

// Path is the query's field path in the file, e.g. "queries[3]".
func (q *Query) Path() string { return fmt.Sprintf("queries[%d]", q.Index) }

// ParseValue converts the text of a request value (a URL parameter or
// --param k=v) to the parameter's type and checks its constraints. Errors
// wrap ErrNotNumber, ErrInvalidValue or ErrOutOfRange and read as a
// sentence fragment after the parameter's name.
func (p *QueryParam) ParseValue(text string) (any, error) {
	switch p.Type {
	case ParamNumber:
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errf(ErrNotNumber, "(%q is not a finite number)", text)
		}
		return f, p.checkRange(f)
	case ParamInteger:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return nil, errf(ErrNotNumber, "(%q is not an integer)", text)
		}
		return n, p.checkRange(float64(n))
	case ParamBoolean:
		v, err := strconv.ParseBool(strings.TrimSpace(text))
		if err != nil {
			return nil, errf(ErrInvalidValue, "%q (want true or false)", text)
		}
		return v, nil
	}
	return text, p.checkText(text)
}

// checkRange enforces Min and Max.
func (p *QueryParam) checkRange(f float64) error {
	if (p.Min != nil && f < *p.Min) || (p.Max != nil && f > *p.Max) {
		return errf(ErrOutOfRange, "%s (want %s)", strconv.FormatFloat(f, 'g', -1, 64), p.rangeText())
	}
	return nil
}

// rangeText describes the allowed range, e.g. "0.5 to 2.5".
func (p *QueryParam) rangeText() string {
	g := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	switch {
	case p.Min != nil && p.Max != nil:
		return g(*p.Min) + " to " + g(*p.Max)
	case p.Min != nil:
		return "at least " + g(*p.Min)
	case p.Max != nil:
		return "at most " + g(*p.Max)
	}
	return "any number"
}

// checkText enforces the length cap and the allowed values.
func (p *QueryParam) checkText(s string) error {
	if len(s) > MaxParamTextLen {
		return errf(ErrOutOfRange, "(%d bytes; at most %d)", len(s), MaxParamTextLen)
	}
	if len(p.Values) > 0 && !slices.Contains(p.Values, s) {
		return errf(ErrInvalidValue, "%q (want one of %s)", s, strings.Join(p.Values, ", "))
	}
	return nil
}

// ParseQueries reads and validates a queries file on its own (its SQL is
// checked by DuckDB only when the engine loads it).
func ParseQueries(r io.Reader, filename string) (*Queries, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	q, errs := parseQueries(data, filename)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return q, nil
}

func parseQueries(data []byte, file string) (*Queries, Errors) {
	qs := &Queries{src: newSource(file, data)}
	errs, fatal := qs.src.decodeStrict(data, qs)
	if fatal {
		return nil, errs
	}
	lines := sqlLines(data)
	for i := range qs.Queries {
		qs.Queries[i].Index = i
		qs.Queries[i].SQLLine = lines[i]
	}
	return qs, append(errs, qs.validate()...)
}

// sqlLines finds, for each query, the file line of its SQL's first line: the
// line after a block scalar's indicator (sql: |), else the value's own line.
func sqlLines(data []byte) map[int]int {
	out := map[int]int{}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return out
	}
	list := mappingValue(doc.Content[0], "queries")
	if list == nil || list.Kind != yaml.SequenceNode {
		return out
	}
	for i, item := range list.Content {
		v := mappingValue(item, "sql")
		switch {
		case v == nil:
		case v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
			out[i] = v.Line + 1
		default:
			out[i] = v.Line
		}
	}
	return out
}

// mappingValue returns the value under key in a mapping node.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// validate checks every query; problems are collected, not returned early.
func (qs *Queries) validate() Errors {
	var errs Errors
	if qs.Version != 1 {
		errs = append(errs, qs.src.errorf("version", errf(ErrInvalidValue, "%d (want 1)", qs.Version)))
	}
	seen := map[string]bool{}
	for i := range qs.Queries {
		q := &qs.Queries[i]
		p := q.Path()
		add := func(path string, err error) { errs = append(errs, qs.src.errorf(path, err)) }
		switch {
		case !identRe.MatchString(q.Name):
			add(p+".name", errf(ErrInvalidName, "%q (want lower case letters, digits and _)", q.Name))
		case seen[q.Name]:
			add(p+".name", errf(ErrDuplicateName, "%q", q.Name))
		}
		seen[q.Name] = true
		for _, f := range []struct{ key, val string }{{"title", q.Title}, {"description", q.Description}, {"sql", q.SQL}} {
			if strings.TrimSpace(f.val) == "" {
				add(p+"."+f.key, errf(ErrMissingKey, "(%s)", f.key))
			}
		}
		names := map[string]bool{}
		for j := range q.Params {
			pp := fmt.Sprintf("%s.params[%d]", p, j)
			par := &q.Params[j]
			switch {
			case !identRe.MatchString(par.Name):
				add(pp+".name", errf(ErrInvalidName, "%q", par.Name))
			case slices.Contains(ReservedParams, par.Name):
				add(pp+".name", errf(ErrReservedName, "%q is a request option (%s)", par.Name, strings.Join(ReservedParams, ", ")))
			case names[par.Name]:
				add(pp+".name", errf(ErrDuplicateName, "%q", par.Name))
			}
			names[par.Name] = true
			for _, e := range par.validate() {
				add(pp+"."+e.key, e.err)
			}
		}
	}
	return errs
}

// paramProblem is one problem of a parameter, under its field key.
type paramProblem struct {
	key string
	err error
}

// validate checks a parameter's type, description, constraints and
// default, and normalizes the default to the type's Go value.
func (p *QueryParam) validate() []paramProblem {
	var out []paramProblem
	add := func(key string, err error) { out = append(out, paramProblem{key, err}) }
	if !slices.Contains(ParamTypes, p.Type) {
		add("type", errf(ErrInvalidValue, "%q (want one of %v)", p.Type, ParamTypes))
		return out
	}
	if strings.TrimSpace(p.Description) == "" {
		add("description", errf(ErrMissingKey, "(description)"))
	}
	numeric := p.Type == ParamNumber || p.Type == ParamInteger
	for _, b := range []struct {
		key string
		v   *float64
	}{{"min", p.Min}, {"max", p.Max}} {
		switch {
		case b.v == nil:
		case !numeric:
			add(b.key, errf(ErrInvalidValue, "(%s applies to number and integer parameters only)", b.key))
		case math.IsNaN(*b.v) || math.IsInf(*b.v, 0):
			add(b.key, errf(ErrNotNumber, "(%v)", *b.v))
		case p.Type == ParamInteger && *b.v != math.Trunc(*b.v):
			add(b.key, errf(ErrInvalidValue, "%v (want an integer)", *b.v))
		}
	}
	if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
		add("min", errf(ErrOutOfRange, "%v is above max %v", *p.Min, *p.Max))
	}
	if len(p.Values) > 0 && p.Type != ParamString {
		add("values", errf(ErrInvalidValue, "(values apply to string parameters only)"))
	}
	for i, v := range p.Values {
		if slices.Contains(p.Values[:i], v) {
			add(fmt.Sprintf("values[%d]", i), errf(ErrDuplicateName, "%q", v))
		}
	}
	if len(out) > 0 {
		return out
	}
	d, err := p.normalizeDefault()
	if err != nil {
		add("default", err)
		return out
	}
	p.Default = d
	return out
}

// normalizeDefault converts the decoded YAML default to the type's Go value
// and checks it like a request value.
func (p *QueryParam) normalizeDefault() (any, error) {
	switch v := p.Default.(type) {
	case nil:
		return nil, errf(ErrMissingKey, "(default: every parameter needs one, so the query runs without arguments)")
	case int:
		switch p.Type {
		case ParamNumber:
			return float64(v), p.checkRange(float64(v))
		case ParamInteger:
			return int64(v), p.checkRange(float64(v))
		}
	case float64:
		if p.Type == ParamNumber {
			return v, p.checkRange(v)
		}
	case bool:
		if p.Type == ParamBoolean {
			return v, nil
		}
	case string:
		if p.Type == ParamString || p.Type == ParamDataset || p.Type == ParamRun {
			return v, p.checkText(v)
		}
	}
	return nil, errf(ErrInvalidValue, "%v (want type %s)", p.Default, p.Type)
}

func init() {
	Register(FileSpec{Path: QueriesFile, Optional: true, Parse: func(b *Bundle, d []byte, f string) Errors {
		q, errs := parseQueries(d, f)
		b.Queries = q
		return errs
	}})
}
