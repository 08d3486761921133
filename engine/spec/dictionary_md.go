package spec

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Markdown renders the dictionary as schemas/data_dictionary.md. The
// output is deterministic (YAML order, sorted map keys) so that a test can
// compare it with the committed file.
func (d *Dictionary) Markdown() []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# ExoHunter data dictionary\n\n")
	w("<!-- Generated from schemas/columns.yaml, configs/metrics.yaml and configs/rules.yaml\n")
	w("     by `go generate ./engine/spec` (engine/spec/cmd/dictgen). Do not edit by hand:\n")
	w("     `go test ./engine/spec` fails when this file is out of date. -->\n\n")
	w("Every run, export and snapshot uses these column names and units. The same\n")
	w("dictionary is served as JSON at `GET /api/dictionary`, and a snapshot's\n")
	w("`catalog.columns` table and column comments carry the same units and\n")
	w("descriptions.\n\n")
	w("Pipeline: `raw.D` (the stored file) → `normalized.D` (the canonical columns\n")
	w("below, units converted, then every unmapped source column unchanged) →\n")
	w("`metrics.D` (plus the derived metrics) → `classified.D` (plus flags, tags,\n")
	w("category, score) → a run (`runs.results`, `runs.latest_D`).\n\n")

	d.missionsMD(w)
	d.columnsMD(w)
	d.metricsMD(w)
	d.outputsMD(w)
	return b.Bytes()
}

// mdWriter appends formatted text.
type mdWriter func(format string, args ...any)

func (d *Dictionary) missionsMD(w mdWriter) {
	w("## Missions\n\n")
	w("A file's mission is detected from its columns (first match in this order).\n\n")
	w("| mission | description |\n|---|---|\n")
	for _, m := range d.Missions {
		w("| `%s` | %s |\n", m.Name, cell(m.Description))
	}
	w("\n")
}

func (d *Dictionary) columnsMD(w mdWriter) {
	w("## Canonical columns (schemas/columns.yaml)\n\n")
	w("For each canonical column the mapper tries, in order: the mission's own\n")
	w("source columns (or those of the mission it is like), the canonical name\n")
	w("itself, then the generic names. The first present wins; other matches are\n")
	w("reported as shadowed and passed through unchanged. A column marked ± also\n")
	w("has `<name>_err1` (upper, +) and `<name>_err2` (lower, −, stored negative)\n")
	w("in the same unit; one marked ≤ also has `<name>_lim`, the archive's limit\n")
	w("flag (1 upper limit, −1 lower limit, 0 a measurement).\n\n")
	w("| column | type | unit | description | source columns by mission |\n|---|---|---|---|---|\n")
	for _, c := range d.Columns {
		name := "`" + c.Name + "`"
		if len(c.Errors) > 0 {
			name += " ±"
		}
		if c.Limit != "" {
			name += " ≤"
		}
		desc := c.Description
		if c.FilledBy != "" {
			desc += fmt.Sprintf("; derived by `%s` when the catalog has none (`%s_source`)", c.FilledBy, c.Name)
		}
		if len(c.Constant) > 0 {
			desc += "; constant " + joinMap(c.Constant, func(k, v string) string { return k + ": " + v })
		}
		w("| %s | %s | %s | %s | %s |\n", name, c.Type, unitCell(c.Unit), cell(desc), cell(d.sourcesText(c)))
	}
	w("\n")
	for _, c := range d.Columns {
		if len(c.Values) == 0 {
			continue
		}
		w("`%s` values are mapped from the source (upper-cased, trimmed): %s.\n\n", c.Name,
			joinMap(c.Values, func(k, v string) string { return k + " → " + v }))
	}
}

// sourcesText prints a column's source columns, grouping missions that
// share the same list, with their source units.
func (d *Dictionary) sourcesText(c DictColumn) string {
	var groups [][2]string // {missions, aliases}
	for _, m := range missionOrder(d, c.Sources) {
		if m == GenericMission {
			continue
		}
		as := "`" + strings.Join(c.Sources[m], "`, `") + "`"
		if u, ok := c.SourceUnits[m]; ok {
			as += " [" + u + "]"
		}
		if i := slices.IndexFunc(groups, func(g [2]string) bool { return g[1] == as }); i >= 0 {
			groups[i][0] += "/" + m
			continue
		}
		groups = append(groups, [2]string{m, as})
	}
	var parts []string
	for _, g := range groups {
		parts = append(parts, g[0]+": "+g[1])
	}
	if g := c.Sources[GenericMission]; len(g) > 0 {
		parts = append(parts, "generic: `"+strings.Join(g, "`, `")+"`")
	}
	for _, m := range missionOrder(d, c.SourceUnits) {
		if _, ok := c.Sources[m]; !ok {
			parts = append(parts, m+" unit: "+c.SourceUnits[m])
		}
	}
	if len(parts) == 0 {
		return "generated"
	}
	return strings.Join(parts, "; ")
}

func (d *Dictionary) metricsMD(w mdWriter) {
	w("## Derived metrics (configs/metrics.yaml)\n\n")
	w("Computed in this order; a metric may read canonical columns and earlier\n")
	w("metrics. Inputs are guarded (no square root of a negative, no division by\n")
	w("zero) and NaN or ±Inf become NULL.\n\n")
	w("| metric | unit | description | formula | fills |\n|---|---|---|---|---|\n")
	for _, m := range d.Metrics {
		fills := ""
		if m.Fills != "" {
			fills = fmt.Sprintf("`%s` (`%s`)", m.Fills, m.SourceColumn)
		}
		w("| `%s` | %s | %s | %s | %s |\n", m.Name, unitCell(m.Unit), cell(m.Description), code(m.Formula), fills)
	}
	w("\n### Parameters\n\nA run may override these (`--albedo`, or `\"albedo\"` in the API).\n\n")
	w("| parameter | default | range | unit | description |\n|---|---|---|---|---|\n")
	for _, p := range d.Parameters {
		w("| `%s` | %g | %s | %s | %s |\n", p.Name, p.Value, rangeText(p.Min, p.Max), unitCell(p.Unit), cell(p.Description))
	}
	w("\n")
}

func (d *Dictionary) outputsMD(w mdWriter) {
	w("## Columns the pipeline adds\n\n| column | description |\n|---|---|\n")
	for _, o := range d.Outputs {
		w("| `%s` | %s |\n", o.Name, cell(o.Description))
	}
	w("\n## Flags (configs/rules.yaml)\n\n| flag | meaning |\n|---|---|\n")
	for _, f := range d.Flags {
		w("| `%s` | %s |\n", f.Name, cell(f.Description))
	}
	w("\n## Categories, in order of precedence (configs/rules.yaml)\n\n| category | meaning |\n|---|---|\n")
	for _, c := range d.Categories {
		w("| `%s` | %s |\n", c.Name, cell(c.Description))
	}
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// code prints text as inline code in a table cell.
func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`) + "`"
}

// unitCell prints a unit, or nothing for a dimensionless or text column.
func unitCell(u string) string {
	if u == "" {
		return ""
	}
	return cell(u)
}

// rangeText prints [min, max] with open ends shown as ….
func rangeText(lo, hi *float64) string {
	if lo == nil && hi == nil {
		return ""
	}
	f := func(p *float64) string {
		if p == nil {
			return "…"
		}
		return fmt.Sprintf("%g", *p)
	}
	return "[" + f(lo) + ", " + f(hi) + "]"
}

// joinMap prints a map in sorted key order.
func joinMap(m map[string]string, f func(k, v string) string) string {
	keys := sortedKeys(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = f(k, m[k])
	}
	return strings.Join(parts, ", ")
}

// missionOrder returns the keys of a per-mission map in the order of the
// missions in schemas/columns.yaml, then any others by name.
func missionOrder[V any](d *Dictionary, m map[string]V) []string {
	var out []string
	for _, ms := range d.Missions {
		if _, ok := m[ms.Name]; ok {
			out = append(out, ms.Name)
		}
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}
