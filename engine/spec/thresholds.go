package spec

import (
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Thresholds is configs/thresholds.yaml: nested sections of numbers, read by
// rules as $section.key. Entries keep YAML order.
type Thresholds struct {
	entries []Threshold
	src     *source
	// broken holds keys whose value is not a number, so that rules reading
	// them are not also reported as using an unknown parameter.
	broken map[string]bool
}

// Threshold is one number under its dotted key, e.g. planet_radius.rocky_max,
// with the unit and one-line description its YAML comment gives
// ("rocky_max: 2.0  # R_earth: rocky_candidate below this radius").
type Threshold struct {
	Key   string  `json:"key"`
	Value float64 `json:"value"`
	// Unit is the text before the first ": " of the key's line comment
	// ("-" or "fraction" for unitless keys); empty when the comment has
	// none.
	Unit string `json:"unit"`
	// Description is the rest of the comment, on one line.
	Description string `json:"description"`
}

// All returns the thresholds in YAML order.
func (t *Thresholds) All() []Threshold { return slices.Clone(t.entries) }

// Get returns the value under a dotted key.
func (t *Thresholds) Get(key string) (float64, bool) {
	for _, e := range t.entries {
		if e.Key == key {
			return e.Value, true
		}
	}
	return 0, false
}

// Map returns the thresholds as dotted key → value, e.g. for a run record.
func (t *Thresholds) Map() map[string]float64 {
	m := make(map[string]float64, len(t.entries))
	for _, e := range t.entries {
		m[e.Key] = e.Value
	}
	return m
}

// With returns a copy with overrides applied. Keys follow the YAML structure
// (planet_radius.rocky_max), optionally prefixed "thresholds."; unknown keys
// and non-finite numbers are refused, all problems reported together.
func (t *Thresholds) With(over map[string]float64) (*Thresholds, error) {
	out := &Thresholds{entries: slices.Clone(t.entries), src: t.src}
	var errs Errors
	for _, raw := range sortedKeys(over) {
		key := strings.TrimPrefix(raw, "thresholds.")
		v := over[raw]
		i := slices.IndexFunc(out.entries, func(e Threshold) bool { return e.Key == key })
		switch {
		case i < 0:
			errs = append(errs, &Error{Path: raw, Err: errf(ErrUnknownKey, "%q (not a threshold)", raw)})
		case math.IsNaN(v) || math.IsInf(v, 0):
			errs = append(errs, &Error{Path: raw, Err: errf(ErrNotNumber, "(%v)", v)})
		default:
			out.entries[i].Value = v
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if err := out.checkDomain(over); err.Err() != nil {
		return nil, err.Err()
	}
	return out, nil
}

// thresholdOrder lists pairs of keys whose values must not decrease
// (a <= b): the classes they bound would otherwise overlap or vanish.
var thresholdOrder = [][2]string{
	{"planet_radius.rocky_max", "planet_radius.super_earth_max"},
	{"duration_ratio.extreme_min", "duration_ratio.min"},
	{"duration_ratio.min", "duration_ratio.max"},
	{"duration_ratio.max", "duration_ratio.extreme_max"},
	{"habitable_zone.teff_min", "habitable_zone.teff_max"},
	{"plausible.min_derived_smass", "plausible.max_derived_smass"},
	// note: above anomalous_min a hot Jupiter could not exist: every
	// such radius is anomalous_signal, which takes precedence.
	{"planet_radius.hot_jupiter_min", "planet_radius.anomalous_min"},
}

// checkDomain refuses overridden values no physical threshold can take
// (domainProblems). Only the overridden keys (over) are blamed.
func (t *Thresholds) checkDomain(over map[string]float64) Errors {
	touched := map[string]string{}
	for raw := range over {
		touched[strings.TrimPrefix(raw, "thresholds.")] = raw
	}
	var errs Errors
	for _, p := range t.domainProblems() {
		path, ok := touched[p.key]
		if !ok {
			path, ok = touched[p.other]
		}
		if ok {
			errs = append(errs, &Error{Path: path, Err: p.err})
		}
	}
	return errs
}

// domainProblem is a value no physical threshold can take, under key; a
// pair out of order names its other key too.
type domainProblem struct {
	key, other string
	err        error
}

// nonNegativeUnits are the units no quantity of them is below 0 in: a
// radius, mass, period, temperature (K), depth or fraction. Others may be
// signed: a metallicity in dex, a magnitude, a declination, a log ratio
// ("-").
var nonNegativeUnits = map[string]bool{
	"R_earth": true, "R_sun": true, "R_jup": true, "M_earth": true, "M_sun": true, "M_jup": true,
	"days": true, "hours": true, "K": true, "AU": true, "S_earth": true,
	"percent": true, "ppm": true, "fraction": true,
}

// domainProblems lists negatives of non-negative units, fractions above
// 1, and pairs out of order. Load reports them against the file,
// overrides against the keys they set.
func (t *Thresholds) domainProblems() []domainProblem {
	var out []domainProblem
	for _, e := range t.entries {
		switch {
		case e.Value < 0 && nonNegativeUnits[e.Unit]:
			out = append(out, domainProblem{key: e.Key, err: errf(ErrInvalidValue, "(%g): a %s threshold cannot be negative", e.Value, orUnit(e.Unit))})
		case e.Unit == "fraction" && e.Value > 1:
			out = append(out, domainProblem{key: e.Key, err: errf(ErrInvalidValue, "(%g): a fraction is at most 1", e.Value)})
		}
	}
	for _, p := range thresholdOrder {
		a, okA := t.Get(p[0])
		b, okB := t.Get(p[1])
		if !okA || !okB || a <= b {
			continue
		}
		out = append(out, domainProblem{key: p[0], other: p[1], err: errf(ErrInvalidValue, "(%s = %g is above %s = %g; it must not be)", p[0], a, p[1], b)})
	}
	return out
}

// paramRe finds $references in an expression that did not parse, so that
// its thresholds still count as read.
var paramRe = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_])`)

// readParams returns the $parameters an expression field reads.
func readParams(text string, e *Expr) []string {
	if e != nil {
		return e.Params
	}
	var out []string
	for _, m := range paramRe.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// checkThresholdsRead refuses a threshold that no metric or rule reads and
// whose name is a near miss of one they do read: a misspelled key
// (roky_max beside rocky_max) or section (planet_raduis) would otherwise
// be accepted and change nothing, while the value it was meant to set
// keeps its default or breaks the rules reading it. Other unread keys are
// allowed: a rules.yaml of one's own may leave shipped thresholds unread,
// and a thresholds file may hold values kept for later.
func checkThresholdsRead(b *Bundle) Errors {
	read := map[string]bool{}
	mark := func(text string, e *Expr) {
		for _, p := range readParams(text, e) {
			read[p] = true
		}
	}
	for i := range b.Metrics.Metrics {
		mark(b.Metrics.Metrics[i].SQL, b.Metrics.Metrics[i].Expr)
	}
	for i := range b.Rules.Flags {
		mark(b.Rules.Flags[i].When, b.Rules.Flags[i].Expr)
	}
	for i := range b.Rules.Categories {
		mark(b.Rules.Categories[i].When, b.Rules.Categories[i].Expr)
	}
	mark(b.Rules.Score.SQL, b.Rules.Score.Expr)
	// keys read per section, and the sections read at all
	keys := map[string][]string{}
	for p := range read {
		if sec, key, ok := strings.Cut(p, "."); ok {
			keys[sec] = append(keys[sec], key)
		}
	}
	sections := sortedKeys(keys)
	for _, sec := range sections {
		slices.Sort(keys[sec])
	}
	readers := "no rule in " + RulesFile + " or metric in " + MetricsFile
	var errs Errors
	reported := map[string]bool{}
	for _, e := range b.Thresholds.entries {
		if read[e.Key] {
			continue
		}
		sec, key, _ := strings.Cut(e.Key, ".")
		if known, ok := keys[sec]; ok {
			if near := nearName(key, known); near != "" {
				errs = append(errs, b.Thresholds.src.errorf(e.Key, errf(ErrUnknownKey,
					"%q%s: %s reads $%s; the keys of %s they read are %s. Fix the name or remove the key.",
					key, near, readers, e.Key, sec, strings.Join(known, ", "))))
			}
			continue
		}
		near := nearName(sec, sections)
		if reported[sec] || near == "" {
			continue
		}
		reported[sec] = true
		errs = append(errs, b.Thresholds.src.errorf(sec, errf(ErrUnknownKey,
			"%q%s: %s reads a threshold of section %s; the sections they read are %s. Fix the name or remove the section.",
			sec, near, readers, sec, strings.Join(sections, ", "))))
	}
	return errs
}

// nearName names the entry of known that name probably misspells, as
// " (a typo of rocky_max?)", or "". Two edits away at most: a swap of
// two letters (raduis) is two.
func nearName(name string, known []string) string {
	best, dist := "", 3
	for _, k := range known {
		if d := EditDistance(name, k); d < dist {
			best, dist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return " (a typo of " + best + "?)"
}

// orUnit names a unit for a message ("unitless" for "-").
func orUnit(u string) string {
	if u == "" || u == "-" {
		return "unitless"
	}
	return u
}

// WithStrings is With for textual values such as --set KEY=VALUE; each value
// must parse as a finite number.
func (t *Thresholds) WithStrings(over map[string]string) (*Thresholds, error) {
	nums := make(map[string]float64, len(over))
	var errs Errors
	for _, k := range sortedKeys(over) {
		v, err := strconv.ParseFloat(strings.TrimSpace(over[k]), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			errs = append(errs, &Error{Path: k, Err: errf(ErrNotNumber, "%q", over[k])})
			continue
		}
		nums[k] = v
	}
	out, err := t.With(nums)
	errs = append(errs, AsErrors(err)...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseThresholds reads and validates a thresholds file.
func ParseThresholds(r io.Reader, filename string) (*Thresholds, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	t, errs := parseThresholds(data, filename)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// parseThresholds walks the node tree: every leaf must be a number and every
// key an identifier. Strictness here is structural, since the keys are data.
func parseThresholds(data []byte, file string) (*Thresholds, Errors) {
	t := &Thresholds{src: newSource(file, data), broken: map[string]bool{}}
	var doc yaml.Node
	if errs, _ := t.src.decodeStrict(data, &doc); errs != nil {
		return nil, errs
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Errors{t.src.errorf("", errf(ErrInvalidValue, "(want a mapping of sections)"))}
	}
	var errs Errors
	t.walk(root, "", &errs)
	// note: the same checks as --set and the API's overrides: a negative
	// rocky_max, or one above super_earth_max, would empty a category
	// without a word.
	for _, p := range t.domainProblems() {
		errs = append(errs, t.src.errorf(p.key, p.err))
	}
	return t, errs
}

func (t *Thresholds) walk(n *yaml.Node, prefix string, errs *Errors) {
	// note: decoding into a yaml.Node does not refuse a repeated key as
	// decoding into a struct does; Get would read the first value and
	// Map (the run record) the last, so the record would lie.
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if prefix != "" {
			key = prefix + "." + k.Value
		}
		if line, ok := first[k.Value]; ok {
			*errs = append(*errs, &Error{File: t.src.file, Line: k.Line, Col: k.Column, Path: key,
				Err: errf(ErrSyntax, "(mapping key %q already defined at line %d)", k.Value, line)})
			continue
		}
		first[k.Value] = k.Line
		if !identRe.MatchString(k.Value) {
			*errs = append(*errs, t.src.errorf(key, errf(ErrInvalidName, "%q", k.Value)))
			continue
		}
		switch {
		case v.Kind == yaml.MappingNode:
			t.walk(v, key, errs)
		case v.Kind == yaml.ScalarNode && (v.Tag == "!!int" || v.Tag == "!!float"):
			f, err := strconv.ParseFloat(strings.ReplaceAll(v.Value, "_", ""), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				t.broken[key] = true
				*errs = append(*errs, t.src.errorf(key, errf(ErrNotNumber, "%q", v.Value)))
				continue
			}
			unit, desc := thresholdDoc(k, v)
			t.entries = append(t.entries, Threshold{Key: key, Value: f, Unit: unit, Description: desc})
		case v.Kind == yaml.ScalarNode:
			t.broken[key] = true
			*errs = append(*errs, t.src.errorf(key, errf(ErrNotNumber, "%q", v.Value)))
		default:
			t.broken[key] = true
			*errs = append(*errs, t.src.errorf(key, errf(ErrNotNumber, "(got a %s)", kindName(v.Kind))))
		}
	}
}

// kindName names a node kind for messages.
func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

// thresholdDoc reads a key's unit and description from its line comment
// ("# unit: description"), or from the comment lines above it when the
// line has none. Comment lines are joined into one line. Without ": " the
// whole comment is the description.
func thresholdDoc(k, v *yaml.Node) (unit, desc string) {
	text := v.LineComment
	if text == "" {
		text = k.LineComment
	}
	if text == "" {
		text = k.HeadComment
	}
	var parts []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "#")); line != "" {
			parts = append(parts, line)
		}
	}
	text = strings.Join(parts, " ")
	// note: a unit is one word (R_earth, K, days, -, fraction); a colon
	// further into a sentence does not make a unit.
	if u, d, ok := strings.Cut(text, ": "); ok && u != "" && !strings.ContainsAny(u, " \t") {
		return u, strings.TrimSpace(d)
	}
	return "", text
}
