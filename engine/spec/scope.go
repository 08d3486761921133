package spec

import (
	"fmt"
	"slices"
	"strings"
)

// scope is the set of names an expression may read at one point of the
// pipeline, growing as metrics, flags and categories are defined.
type scope map[string]bool

func (s scope) add(names ...string) {
	for _, n := range names {
		s[strings.ToLower(n)] = true
	}
}

// checkScopes verifies, in pipeline order, that every expression reads only
// columns defined before it and only known parameters, and that fills,
// names and parameter namespaces do not collide.
func checkScopes(b *Bundle) Errors {
	var errs Errors
	// note: the scope grows in pipeline order, so a metric may read only
	// earlier metrics, and flags are visible to categories but not to
	// metrics. Pass-through columns are never in scope: they differ by
	// mission, and a rule reading one would break on other catalogs.
	sc := scope{}
	sc.add(b.Columns.OutputNames()...)

	// hint says why a name that the configs do define is out of scope
	// where it is read; "" for a name no config defines.
	var hint func(c string) string
	check := func(src *source, path string, e *Expr) {
		if e == nil {
			return
		}
		for _, c := range e.Columns {
			if !sc[c] {
				errs = append(errs, src.errorf(path, errf(ErrUnknownColumn, "%q%s", e.Written(c), hint(c))))
			}
		}
		for _, p := range e.Params {
			if _, ok := b.Param(p); !ok && !b.Thresholds.broken[p] {
				errs = append(errs, src.errorf(path, errf(ErrUnknownParameter, "%q%s", "$"+p, b.nearParam(p))))
			}
		}
	}
	// $albedo and $planet_radius.x share one namespace; a section named
	// like a parameter would make a reference ambiguous.
	for _, t := range b.Thresholds.entries {
		if _, clash := b.Metrics.Param(strings.SplitN(t.Key, ".", 2)[0]); clash {
			errs = append(errs, b.Thresholds.src.errorf(t.Key, errf(ErrDuplicateName, "(threshold section shadows metric parameter)")))
		}
	}
	ms, rs := b.Metrics, b.Rules
	isFlag := func(c string) bool {
		return slices.ContainsFunc(rs.Flags, func(f Flag) bool { return strings.EqualFold(f.Name, c) })
	}
	// laterHint explains a metric read before the line that defines it.
	laterHint := func(i int, c string) string {
		for j := i; j < len(ms.Metrics); j++ {
			o := &ms.Metrics[j]
			if !strings.EqualFold(o.Name, c) && !strings.EqualFold(o.SourceColumn(), c) {
				continue
			}
			if j == i {
				return fmt.Sprintf(": metric %s cannot read itself", o.Name)
			}
			return fmt.Sprintf(": metric %s is defined later in %s (line %d); a metric may read only the metrics above it",
				o.Name, MetricsFile, ms.src.at(fmt.Sprintf("metrics[%d].name", j)).line)
		}
		return ""
	}
	for i := range ms.Metrics {
		m := &ms.Metrics[i]
		p := fmt.Sprintf("metrics[%d]", i)
		hint = func(c string) string {
			if h := laterHint(i, c); h != "" {
				return h
			}
			if isFlag(c) || slices.Contains(Categories, c) {
				return ": metrics are computed before the flags and categories, and cannot read them"
			}
			return ""
		}
		check(ms.src, p+".sql", m.Expr)
		// note: a repeated metric name is reported by Metrics.validate.
		if sc[m.Name] && !slices.ContainsFunc(ms.Metrics[:i], func(o Metric) bool { return o.Name == m.Name }) {
			errs = append(errs, ms.src.errorf(p+".name", errf(ErrDuplicateName, "%q (already a column)", m.Name)))
		}
		sc.add(m.Name)
		if m.Fills != "" {
			c, ok := b.Columns.Column(m.Fills)
			switch {
			case !ok || c.Role != RoleMeasure:
				errs = append(errs, ms.src.errorf(p+".fills", errf(ErrUnknownColumn, "%q (fills needs a canonical measure column)", m.Fills)))
			case sc[m.SourceColumn()]:
				errs = append(errs, ms.src.errorf(p+".fills", errf(ErrDuplicateName, "%q is filled twice", m.Fills)))
			}
			sc.add(m.SourceColumn())
		}
	}
	hint = func(c string) string {
		if isFlag(c) {
			return ": a flag cannot read flags (categories and the score can)"
		}
		if slices.Contains(Categories, c) {
			return ": only the score can read categories"
		}
		return ""
	}
	for i := range rs.Flags {
		check(rs.src, fmt.Sprintf("flags[%d].when", i), rs.Flags[i].Expr)
	}
	for i := range rs.Flags {
		sc.add(rs.Flags[i].Name)
	}
	for i := range rs.Categories {
		check(rs.src, fmt.Sprintf("categories[%d].when", i), rs.Categories[i].Expr)
	}
	sc.add(Categories...)
	check(rs.src, "score.sql", rs.Score.Expr)
	return errs
}
