package sqltmpl

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/exohunter/exohunter/engine/mapping"
	"github.com/exohunter/exohunter/engine/spec"
)

// Schemas of the per-dataset views (DESIGN.md "Relation names in DuckDB").
const (
	SchemaRaw        = "raw"
	SchemaNormalized = "normalized"
	SchemaMetrics    = "metrics"
	SchemaClassified = "classified"
)

// PipelineInput is what the renderer needs for one dataset.
type PipelineInput struct {
	// Dataset is the view name D in raw."D", normalized."D", ...
	Dataset string
	// Bundle is the validated config; for a run, the copy returned by
	// (*spec.Bundle).WithRun, whose thresholds and albedo are inlined.
	Bundle *spec.Bundle
	// Mapping is the dataset's column mapping.
	Mapping *mapping.Mapping
	// From replaces raw."Dataset" as the source relation; the engine's
	// config check passes an empty typed relation built by EmptyRelation.
	From Expr
	// Disable renders these spec elements as NULL, so that a check can go
	// on looking for further errors after DuckDB rejected one.
	Disable []Origin
}

// Origin names the config element that produced a line of SQL.
type Origin struct {
	File string // e.g. configs/metrics.yaml
	Path string // e.g. metrics[3].sql
}

// Rendered is SQL text plus, for each line, the config element that
// produced it (zero Origin for lines no element owns).
type Rendered struct {
	SQL     string
	origins []Origin
}

// Origins returns every element that rendered a line, in order of first
// appearance.
func (r Rendered) Origins() []Origin {
	var out []Origin
	seen := map[Origin]bool{}
	for _, o := range r.origins {
		if o != (Origin{}) && !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out
}

// Origin returns the element behind a 1-based line number, as DuckDB's
// "LINE n:" reports it.
func (r Rendered) Origin(line int) (Origin, bool) {
	if line < 1 || line > len(r.origins) || r.origins[line-1] == (Origin{}) {
		return Origin{}, false
	}
	return r.origins[line-1], true
}

// Views renders the three per-dataset views, normalized."D", metrics."D"
// and classified."D", each over the previous one, starting at raw."D".
func Views(in PipelineInput) ([]string, error) {
	p, err := build(in)
	if err != nil {
		return nil, err
	}
	stages := []struct {
		schema string
		steps  []step
	}{{SchemaNormalized, p.normalize}, {SchemaMetrics, p.metrics}, {SchemaClassified, p.classify}}
	var out []string
	for _, s := range stages {
		body, err := p.chain(s.steps)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		name := QualifiedIdent{Schema: Ident(s.schema), Name: Ident(in.Dataset)}
		if err := templates.ExecuteTemplate(&buf, "view", map[string]any{"Name": name, "Body": code(strings.TrimSuffix(body, "\n"))}); err != nil {
			return nil, err
		}
		out = append(out, p.marks.strip(buf.String()).SQL)
	}
	return out, nil
}

// RunSelect renders one SELECT (a CTE chain) from raw."D" to the classified
// columns, with the bundle's thresholds and parameters inlined as numeric
// literals. The engine wraps it in COPY (...) TO for a run.
func RunSelect(in PipelineInput) (string, error) {
	r, err := Render(in)
	return r.SQL, err
}

// Render is RunSelect with the line origins kept, for mapping DuckDB errors
// back to the YAML that produced them.
func Render(in PipelineInput) (Rendered, error) {
	p, err := build(in)
	if err != nil {
		return Rendered{}, err
	}
	// note: as one chain, each stage reads the previous stage's last CTE
	// instead of its view.
	p.metrics[0].data["From"] = p.normalize[len(p.normalize)-1].Name
	p.classify[0].data["From"] = p.metrics[len(p.metrics)-1].Name
	steps := append(append(append([]step{}, p.normalize...), p.metrics...), p.classify...)
	text, err := p.chain(steps)
	if err != nil {
		return Rendered{}, err
	}
	return p.marks.strip(text), nil
}

// marks hands out origin markers: invisible tokens placed on the line an
// element renders to, removed by strip, which records the line.
type marks struct{ origins []Origin }

// mark is a marker token printed by templates.
type mark string

func (m mark) String() string { return string(m) }

// add returns the marker for an origin.
func (ms *marks) add(o Origin) mark {
	ms.origins = append(ms.origins, o)
	return mark("\x00" + strconv.Itoa(len(ms.origins)-1) + "\x00")
}

// strip removes markers and records the origin of each line.
func (ms *marks) strip(text string) Rendered {
	lines := strings.Split(text, "\n")
	r := Rendered{origins: make([]Origin, len(lines))}
	for i, l := range lines {
		for {
			a := strings.IndexByte(l, 0)
			if a < 0 {
				break
			}
			b := strings.IndexByte(l[a+1:], 0) + a + 1
			n, _ := strconv.Atoi(l[a+1 : b])
			r.origins[i] = ms.origins[n]
			l = l[:a] + l[b+1:]
		}
		lines[i] = l
	}
	r.SQL = strings.Join(lines, "\n")
	return r
}

// code is SQL composed by this package from quoted pieces; it prints as is.
type code string

func (c code) String() string { return string(c) }

// step is one SELECT of the chain; Name is its CTE name.
type step struct {
	Name Ident
	tmpl string
	data map[string]any
}

// exec renders a step's template.
func exec(name string, data any) (string, error) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return buf.String(), nil
}
