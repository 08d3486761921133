package spec

import (
	"fmt"
	"io"
	"regexp"
	"slices"
)

// Categories lists the nine categories in the contract's precedence order
// (DESIGN.md "The categories"). rules.yaml must define exactly these, in
// this order; the last one is the fallback when no rule applies.
var Categories = []string{
	"no_result",
	"likely_false_positive",
	"anomalous_signal",
	"confirmed_planet",
	"habitable_zone_candidate",
	"hot_jupiter_candidate",
	"rocky_candidate",
	"super_earth_or_mini_neptune",
	"candidate",
}

// dispositionBound are the categories that follow the catalog disposition
// exactly (DESIGN.md "Row semantics"), so rules.yaml states them with
// `disposition:` instead of a free `when`.
var dispositionBound = map[string]string{
	"confirmed_planet":      Confirmed,
	"likely_false_positive": FalsePositive,
}

// ClassifyOutputs are the columns the classified view adds.
var ClassifyOutputs = []string{"flags", "tags", "category", "score", "disposition_compare"}

// Rules is configs/rules.yaml: flags, categories and the score.
type Rules struct {
	Version    int        `yaml:"version"`
	Flags      []Flag     `yaml:"flags"`
	Categories []Category `yaml:"categories"`
	Score      Score      `yaml:"score"`

	src *source
}

// Flag is a machine name (FLAG_…) raised on a row when its condition holds.
type Flag struct {
	Name        string `yaml:"name"`
	When        string `yaml:"when"`
	Description string `yaml:"description"`
	// Requires names a canonical column the table must have a source
	// column for; in a table without one the flag is never raised (a
	// "missing" flag on every row says nothing about any row).
	Requires string `yaml:"requires"`

	Expr *Expr `yaml:"-"`
}

// Category is one of the nine categories. It applies to a row (becomes a
// tag) when When holds, or, for the two disposition-bound categories, when
// the catalog disposition equals Disposition.
type Category struct {
	Name        string `yaml:"name"`
	When        string `yaml:"when"`
	Disposition string `yaml:"disposition"`
	// AgreesWith is the catalog disposition this category matches in
	// disposition_compare (CANDIDATE for the candidate kinds).
	AgreesWith  string `yaml:"agrees_with"`
	Description string `yaml:"description"`

	Expr *Expr `yaml:"-"`
}

// Agreement returns the disposition the category agrees with, if any.
func (c *Category) Agreement() string {
	if c.Disposition != "" {
		return c.Disposition
	}
	return c.AgreesWith
}

// Score is the expression for the score column. The renderer clamps it into
// [0, 1] and maps NULL, NaN and ±Inf to 0.5 (no opinion).
type Score struct {
	SQL         string `yaml:"sql"`
	Description string `yaml:"description"`

	Expr *Expr `yaml:"-"`
}

// ParseRules reads and validates a rules file on its own.
func ParseRules(r io.Reader, filename string) (*Rules, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	rs, errs := parseRules(data, filename)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return rs, nil
}

func parseRules(data []byte, file string) (*Rules, Errors) {
	rs := &Rules{src: newSource(file, data)}
	errs, fatal := rs.src.decodeStrict(data, rs)
	if fatal {
		return nil, errs
	}
	return rs, append(errs, rs.validate()...)
}

var flagRe = regexp.MustCompile(`^FLAG_[A-Z0-9_]+$`)

// validate checks names, the category contract and expression syntax.
func (rs *Rules) validate() Errors {
	var errs Errors
	add := func(path string, err error) { errs = append(errs, rs.src.errorf(path, err)) }
	parse := func(path, text string) *Expr {
		if text == "" {
			add(path, errf(ErrMissingKey, "(%s)", lastKey(path)))
			return nil
		}
		e, err := ParseExpr(text)
		if err != nil {
			add(path, err)
		}
		return e
	}
	if rs.Version != 1 {
		add("version", errf(ErrInvalidValue, "%d (want 1)", rs.Version))
	}
	seen := map[string]bool{}
	for i := range rs.Flags {
		f := &rs.Flags[i]
		p := fmt.Sprintf("flags[%d]", i)
		switch {
		case !flagRe.MatchString(f.Name):
			add(p+".name", errf(ErrInvalidName, "%q (want FLAG_ and upper case)", f.Name))
		case seen[f.Name]:
			add(p+".name", errf(ErrDuplicateName, "%q", f.Name))
		}
		seen[f.Name] = true
		f.Expr = parse(p+".when", f.When)
	}
	errs = append(errs, rs.validateCategories()...)
	rs.Score.Expr = parse("score.sql", rs.Score.SQL)
	return errs
}

// validateCategories enforces the contract: the nine names, in precedence
// order, with confirmed_planet and likely_false_positive bound to the
// disposition.
func (rs *Rules) validateCategories() Errors {
	var errs Errors
	add := func(path string, err error) { errs = append(errs, rs.src.errorf(path, err)) }
	var names []string
	for i := range rs.Categories {
		c := &rs.Categories[i]
		p := fmt.Sprintf("categories[%d]", i)
		switch {
		case !slices.Contains(Categories, c.Name):
			add(p+".name", errf(ErrUnknownCategory, "%q", c.Name))
			continue
		case slices.Contains(names, c.Name):
			add(p+".name", errf(ErrDuplicateName, "%q", c.Name))
			continue
		}
		names = append(names, c.Name)
		want := dispositionBound[c.Name]
		switch {
		case want != "" && (c.Disposition != want || c.When != ""):
			add(p, errf(ErrContract, "(%s follows the catalog disposition exactly: write `disposition: %s` and no when)", c.Name, want))
		case want == "" && c.Disposition != "":
			add(p+".disposition", errf(ErrContract, "(only confirmed_planet and likely_false_positive are bound to the disposition)"))
		case want == "" && c.When == "":
			add(p+".when", errf(ErrMissingKey, "(when)"))
		case want == "":
			e, err := ParseExpr(c.When)
			if err != nil {
				add(p+".when", err)
			}
			c.Expr = e
		}
		if a := c.AgreesWith; a != "" && a != Confirmed && a != Candidate && a != FalsePositive {
			add(p+".agrees_with", errf(ErrInvalidValue, "%q", a))
		}
	}
	for _, want := range Categories {
		if !slices.Contains(names, want) {
			add("categories", errf(ErrMissingCategory, "%q", want))
		}
	}
	if len(errs) == 0 && !slices.Equal(names, Categories) {
		add("categories", errf(ErrContract, "(precedence must be %v)", Categories))
	}
	return errs
}

// lastKey returns the last element of a dotted path.
func lastKey(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' {
			return path[i+1:]
		}
	}
	return path
}

// checkFlagRequires refuses a flag whose requires names no canonical
// column: the renderer would stop at the first run, without a line.
func checkFlagRequires(b *Bundle) Errors {
	var errs Errors
	for i, f := range b.Rules.Flags {
		if f.Requires == "" {
			continue
		}
		if _, ok := b.Columns.Column(f.Requires); !ok {
			errs = append(errs, b.Rules.src.errorf(fmt.Sprintf("flags[%d].requires", i),
				errf(ErrUnknownColumn, "%q%s: requires names a canonical column of %s", f.Requires, nearColumn(f.Requires, b.Columns), ColumnsFile)))
		}
	}
	return errs
}

// nearColumn names the canonical column name probably misspells, as
// " (a typo of koi_prad?)", or "".
func nearColumn(name string, cs *Columns) string {
	names := make([]string, len(cs.Columns))
	for i := range cs.Columns {
		names[i] = cs.Columns[i].Name
	}
	return nearName(name, names)
}
