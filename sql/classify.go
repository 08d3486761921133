package sqltmpl

import (
	"fmt"
	"strings"

	"github.com/exohunter/exohunter/engine/spec"
)

// named pairs a boolean column with the text it contributes to a list.
type named struct {
	Name  Ident
	Value Lit
}

// agreement lists the categories that match one catalog disposition.
type agreement struct {
	Disposition Lit
	Categories  []Lit
}

// classifySteps: flag booleans, category booleans, lists/category/score,
// then disposition_compare.
func (p *pipeline) classifySteps(from fmt.Stringer) ([]step, error) {
	rs := p.b.Rules
	var flags, cats []proj
	var exclude []Ident
	var flagNames, catNames []named
	for i := range rs.Flags {
		f := &rs.Flags[i]
		o := Origin{File: spec.RulesFile, Path: fmt.Sprintf("flags[%d].when", i)}
		e, err := p.bind(f.Expr, o)
		if err != nil {
			return nil, err
		}
		if f.Requires != "" && p.in.Mapping != nil {
			t, ok := p.in.Mapping.Target(f.Requires)
			if !ok {
				return nil, fmt.Errorf("%s: flags[%d].requires: %q is not a canonical column", spec.RulesFile, i, f.Requires)
			}
			if t.Source == "" {
				e = "false"
			}
		}
		flags = append(flags, proj{Code: e, Name: Ident(f.Name), Mark: p.marks.add(o)})
		exclude = append(exclude, Ident(f.Name))
		flagNames = append(flagNames, named{Ident(f.Name), Lit(f.Name)})
	}
	for i := range rs.Categories {
		c := &rs.Categories[i]
		o := Origin{File: spec.RulesFile, Path: fmt.Sprintf("categories[%d].when", i)}
		e, err := p.bind(c.Expr, o)
		if err != nil {
			return nil, err
		}
		if c.Disposition != "" {
			// note: the two disposition-bound categories are generated, not
			// written in YAML, so the contract cannot be edited away.
			e = Expr(fmt.Sprintf(`"koi_disposition" = %s`, Lit(c.Disposition)))
		}
		cats = append(cats, proj{Code: e, Name: Ident(c.Name), Mark: p.marks.add(o)})
		exclude = append(exclude, Ident(c.Name))
		catNames = append(catNames, named{Ident(c.Name), Lit(c.Name)})
	}
	so := Origin{File: spec.RulesFile, Path: "score.sql"}
	score, err := p.bind(rs.Score.Expr, so)
	if err != nil {
		return nil, err
	}
	steps := []step{
		{Name: "flagged", tmpl: "booleans", data: map[string]any{"Columns": flags}},
		{Name: "tagged", tmpl: "booleans", data: map[string]any{"Columns": cats}},
		{Name: "scored", tmpl: "classify", data: map[string]any{
			"Exclude": exclude, "Flags": flagNames, "Categories": catNames,
			"Fallback": Lit(rs.Categories[len(rs.Categories)-1].Name), "Score": score, "ScoreMark": p.marks.add(so)}},
		{Name: "compared", tmpl: "compare", data: map[string]any{"Agree": agreements(rs)}},
	}
	return chainFrom(steps, from), nil
}

// agreements groups categories by the disposition they agree with, in the
// order CONFIRMED, CANDIDATE, FALSE POSITIVE.
func agreements(rs *spec.Rules) []agreement {
	var out []agreement
	for _, d := range []string{spec.Confirmed, spec.Candidate, spec.FalsePositive} {
		a := agreement{Disposition: Lit(d)}
		for i := range rs.Categories {
			if rs.Categories[i].Agreement() == d {
				a.Categories = append(a.Categories, Lit(rs.Categories[i].Name))
			}
		}
		if len(a.Categories) > 0 {
			out = append(out, a)
		}
	}
	return out
}

// chain renders steps as a CTE chain whose last step is the outer SELECT.
// Step bodies are indented inside their CTE.
func (p *pipeline) chain(steps []step) (string, error) {
	type cte struct {
		Name Ident
		Body code
	}
	var ctes []cte
	var last string
	for i, s := range steps {
		// note: a stage rendered alone keeps the source chainFrom set;
		// only a step without one reads the step before it.
		if i > 0 && s.data["From"] == nil {
			s.data["From"] = steps[i-1].Name
		}
		body, err := exec(s.tmpl, s.data)
		if err != nil {
			return "", err
		}
		if i == len(steps)-1 {
			last = body
			break
		}
		// indent the body inside "name AS (...)" so each level reads as a block
		ctes = append(ctes, cte{s.Name, code("  " + strings.ReplaceAll(body, "\n", "\n  "))})
	}
	return exec("chain", map[string]any{"Steps": ctes, "Last": code(last)})
}
