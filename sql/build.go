package sqltmpl

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/exohunter/exohunter/engine/mapping"
	"github.com/exohunter/exohunter/engine/spec"
	"github.com/exohunter/exohunter/sql/ducktype"
)

// pipeline builds the steps of the three stages from a bundle and a mapping.
type pipeline struct {
	in       PipelineInput
	b        *spec.Bundle
	marks    *marks
	disabled map[Origin]bool

	normalize, metrics, classify []step
}

// build prepares every step. For views each stage starts at the previous
// view; chain() later rewires the first step of a joined chain.
func build(in PipelineInput) (*pipeline, error) {
	if in.Bundle == nil || in.Mapping == nil {
		return nil, errors.New("sqltmpl: pipeline input needs a bundle and a mapping")
	}
	if in.Dataset == "" && in.From == "" {
		return nil, errors.New("sqltmpl: pipeline input needs a dataset name")
	}
	p := &pipeline{in: in, b: in.Bundle, marks: &marks{}, disabled: map[Origin]bool{}}
	for _, o := range in.Disable {
		p.disabled[o] = true
	}
	var src fmt.Stringer = QualifiedIdent{Schema: SchemaRaw, Name: Ident(in.Dataset)}
	if in.From != "" {
		src = in.From
	}
	var err error
	if p.normalize, err = p.normalizeSteps(src); err != nil {
		return nil, err
	}
	if p.metrics, err = p.metricSteps(p.stageSource(SchemaNormalized)); err != nil {
		return nil, err
	}
	if p.classify, err = p.classifySteps(p.stageSource(SchemaMetrics)); err != nil {
		return nil, err
	}
	return p, nil
}

// stageSource is the view a stage reads when rendered as a view.
func (p *pipeline) stageSource(schema string) QualifiedIdent {
	return QualifiedIdent{Schema: Ident(schema), Name: Ident(p.in.Dataset)}
}

// proj is one projected column: composed code, its name, its origin mark.
type proj struct {
	Code fmt.Stringer
	Name Ident
	Mark mark
}

// bind substitutes parameters with numeric literals; a disabled element
// renders as NULL.
func (p *pipeline) bind(e *spec.Expr, o Origin) (Expr, error) {
	if p.disabled[o] || e == nil {
		return Expr("NULL"), nil
	}
	text, err := e.Bind(func(name string) (string, bool) {
		v, ok := p.b.Param(name)
		if v < 0 {
			// note: parenthesized so that "x-$a" never becomes "x--5",
			// which SQL reads as a comment.
			return "(" + Num(v).String() + ")", ok
		}
		return Num(v).String(), ok
	})
	if err != nil {
		return "", fmt.Errorf("%s: %s: %w", o.File, o.Path, err)
	}
	return Expr(text), nil
}

// normalizeSteps is the single projection from the raw view.
func (p *pipeline) normalizeSteps(from fmt.Stringer) ([]step, error) {
	cols := []proj{{Code: code("row_number() OVER ()"), Name: "row_id"}}
	for _, t := range p.in.Mapping.Targets {
		c, err := targetCode(t)
		if err != nil {
			return nil, err
		}
		idx := slices.IndexFunc(p.b.Columns.Columns, func(c spec.Column) bool { return c.Name == t.Spec.Name })
		o := Origin{File: spec.ColumnsFile, Path: fmt.Sprintf("columns[%d]", idx)}
		cols = append(cols, proj{Code: c, Name: Ident(t.Canonical), Mark: p.marks.add(o)})
	}
	types := map[string]string{}
	for _, c := range p.in.Mapping.Columns {
		types[c.Name] = c.Type
	}
	for _, name := range p.in.Mapping.PassThrough {
		var c fmt.Stringer = Ident(name)
		if t := ducktype.Parse(types[name]).Name; t == "DOUBLE" || t == "FLOAT" {
			// note: NaN and ±Inf never reach a table, not even through a
			// column the pipeline does not use. Nested values are guarded
			// where the run is written (RunCopy): inlined through the
			// stacked views, a 1,000-field struct's guard took 16 s and
			// ran out of memory.
			c = finite(Ident(name).String())
		}
		cols = append(cols, proj{Code: c, Name: Ident(name)})
	}
	return []step{{Name: "normalized", tmpl: "normalize", data: map[string]any{"From": from, "Columns": cols}}}, nil
}

// targetCode composes the expression of one canonical column.
func targetCode(t mapping.Target) (code, error) {
	src := Ident(t.Source)
	switch {
	case t.Limit && t.Source != "":
		return code(fmt.Sprintf("TRY_CAST(%s AS INTEGER)", src)), nil
	case t.Limit:
		return "CAST(NULL AS INTEGER)", nil
	case t.Spec.Role == spec.RoleMission:
		return code(Lit(t.Constant).String()), nil
	case t.Spec.Role == spec.RoleFlag && t.Source != "":
		return code(fmt.Sprintf("TRY_CAST(%s AS BOOLEAN)", src)), nil
	case t.Spec.Role == spec.RoleFlag:
		return "CAST(NULL AS BOOLEAN)", nil
	case t.Spec.Role == spec.RoleID && t.Source != "":
		return code(fmt.Sprintf("CAST(%s AS VARCHAR)", src)), nil
	case t.Spec.Role == spec.RoleID && t.Generated == "row_id":
		return code("'row_' || CAST(row_number() OVER () AS VARCHAR)"), nil
	case t.Spec.Role == spec.RoleID:
		return "CAST(NULL AS VARCHAR)", nil
	case t.Spec.Role == spec.RoleDisposition:
		return dispositionCode(t), nil
	case t.Spec.Role == spec.RoleDefaultFlag && t.Source != "":
		return code(fmt.Sprintf("coalesce(TRY_CAST(%s AS BOOLEAN), %t)", src, defaultFlag(t.Spec))), nil
	case t.Spec.Role == spec.RoleDefaultFlag:
		return code(fmt.Sprintf("%t", defaultFlag(t.Spec))), nil
	case t.Spec.Role == spec.RoleMeasure && t.Source != "":
		v := fmt.Sprintf("TRY_CAST(%s AS DOUBLE)", src)
		if t.Factor != 1 {
			v += " * " + Num(t.Factor).String()
		}
		switch {
		case t.Offset > 0:
			v += " + " + Num(t.Offset).String()
		case t.Offset < 0:
			v += " - " + Num(-t.Offset).String()
		}
		return finite(v), nil
	case t.Spec.Role == spec.RoleMeasure:
		return "CAST(NULL AS DOUBLE)", nil
	}
	return "", fmt.Errorf("sqltmpl: column %s has unknown role %q", t.Canonical, t.Spec.Role)
}

// finite maps NaN and ±Inf to NULL. The value is written twice; DuckDB's
// common-subexpression pass computes it once, in a projection of its own.
// The nullif chain this replaced (nullif(nullif(nullif(v, NaN), Inf), -Inf))
// refers to v eight times and became four projections per value: the run's
// COPY passed 101 projections instead of 57, and `process` of the 1M-row
// CSV took 9.2 s instead of 8.4 s (median of 3, 2026-11-27).
func finite(v string) code {
	return code(fmt.Sprintf("CASE WHEN isfinite(%s) THEN %s END", v, v))
}

// defaultFlag is the value of a default-flag column when absent or unreadable.
func defaultFlag(c *spec.Column) bool { return c.Default == nil || *c.Default }

// dispositionCode maps source values through the value map, sorted for
// deterministic output; unknown values become NULL.
func dispositionCode(t mapping.Target) code {
	switch {
	case t.Source == "" && t.Constant != "":
		return code(Lit(t.Constant).String())
	case t.Source == "":
		return "CAST(NULL AS VARCHAR)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CASE upper(trim(CAST(%s AS VARCHAR)))", Ident(t.Source))
	for _, k := range sortedKeys(t.Spec.Values) {
		fmt.Fprintf(&b, " WHEN %s THEN %s", Lit(k), Lit(t.Spec.Values[k]))
	}
	b.WriteString(" END")
	return code(b.String())
}

// metricSteps adds one step per metric, plus one per fill, in YAML order.
func (p *pipeline) metricSteps(from fmt.Stringer) ([]step, error) {
	var steps []step
	for i := range p.b.Metrics.Metrics {
		m := &p.b.Metrics.Metrics[i]
		o := Origin{File: spec.MetricsFile, Path: fmt.Sprintf("metrics[%d].sql", i)}
		e, err := p.bind(m.Expr, o)
		if err != nil {
			return nil, err
		}
		steps = append(steps, step{Name: Ident("metric_" + m.Name), tmpl: "metric", data: map[string]any{
			"Name": Ident(m.Name), "Expr": e, "Mark": p.marks.add(o)}})
		if m.Fills != "" {
			fo := Origin{File: spec.MetricsFile, Path: fmt.Sprintf("metrics[%d].fills", i)}
			steps = append(steps, step{Name: Ident("fill_" + m.Fills), tmpl: "fill", data: map[string]any{
				"Column": Ident(m.Fills), "Metric": Ident(m.Name), "Source": Ident(m.SourceColumn()), "Mark": p.marks.add(fo)}})
		}
	}
	return chainFrom(steps, from), nil
}

// chainFrom sets each step's source: the first reads from, the others the
// step before. An empty stage becomes a plain SELECT * so that its view
// still exists.
func chainFrom(steps []step, from fmt.Stringer) []step {
	if len(steps) == 0 {
		steps = []step{{Name: "passthrough", tmpl: "passthrough", data: map[string]any{}}}
	}
	for i := range steps {
		if i == 0 {
			steps[i].data["From"] = from
		} else {
			steps[i].data["From"] = steps[i-1].Name
		}
	}
	return steps
}

// typeRe admits the DuckDB type names EmptyRelation may print.
var typeRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]*(\[\])?$`)

// EmptyRelation returns a relation with the given columns and no rows, for
// checking the pipeline SQL without data.
func EmptyRelation(cols []mapping.Column) (Expr, error) {
	if len(cols) == 0 {
		return "", errors.New("sqltmpl: empty relation needs columns")
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		t := strings.ToUpper(c.Type)
		if !typeRe.MatchString(t) {
			return "", fmt.Errorf("sqltmpl: column %s: unsupported type %q", c.Name, c.Type)
		}
		parts[i] = fmt.Sprintf("CAST(NULL AS %s) AS %s", t, Ident(c.Name))
	}
	return Expr("SELECT " + strings.Join(parts, ", ") + " LIMIT 0"), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// UnreadableNumbers renders, for each source column (read as text) that
// feeds a numeric canonical column, the count of its values that are not
// numbers and the smallest of them, over the dataset's raw view. The
// normalized view reads those values as NULL; the mapping report says how
// many there were.
func UnreadableNumbers(dataset string, sources []string) (string, error) {
	if len(sources) == 0 {
		return "", fmt.Errorf("unreadable numbers: no columns")
	}
	ids := make([]Ident, len(sources))
	for i, s := range sources {
		ids[i] = Ident(s)
	}
	return exec("unreadable_numbers", map[string]any{"From": QualifiedIdent{Schema: SchemaRaw, Name: Ident(dataset)}, "Sources": ids})
}
