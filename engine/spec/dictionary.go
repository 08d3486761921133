package spec

//go:generate go run ./cmd/dictgen -root ../..

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DictionaryFile is where the generated data dictionary is committed,
// relative to the repository root (the config FS root).
const DictionaryFile = "schemas/data_dictionary.md"

// Dictionary is the data dictionary: every canonical column, metric,
// parameter, flag, category and pipeline output with its unit and
// description. It is built from a loaded Bundle only, so GET
// /api/dictionary, schemas/data_dictionary.md and the engine's catalog all
// say the same thing. Slices are never nil (JSON shows []).
type Dictionary struct {
	Missions   []DictEntry  `json:"missions"`
	Columns    []DictColumn `json:"columns"`
	Metrics    []DictMetric `json:"metrics"`
	Parameters []DictParam  `json:"parameters"`
	Outputs    []DictEntry  `json:"outputs"`
	Flags      []DictEntry  `json:"flags"`
	Categories []DictEntry  `json:"categories"`
}

// DictColumn is one canonical column of the normalized view.
type DictColumn struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Role        string `json:"role,omitempty"`
	Unit        string `json:"unit"`
	Description string `json:"description"`
	// Errors names the uncertainty companions (<name>_err1, <name>_err2).
	Errors []string `json:"errors,omitempty"`
	// Limit names the limit companion (<name>_lim), if any.
	Limit string `json:"limit,omitempty"`
	// Sources lists, per mission, the source columns tried first (the
	// mission's own aliases or those of the mission it is like), and under
	// "generic" the fallbacks every mission tries after the canonical name.
	Sources map[string][]string `json:"sources,omitempty"`
	// SourceUnits says, per mission, which unit the source stores the
	// column in and how it is converted, e.g. "percent (x10000)".
	SourceUnits map[string]string `json:"source_units,omitempty"`
	// Values maps source values to canonical values (dispositions).
	Values map[string]string `json:"values,omitempty"`
	// Constant is the value per mission when no source column maps.
	Constant map[string]string `json:"constant,omitempty"`
	// FilledBy names the metric that fills the column when the catalog
	// has no value; <name>_source then records the provenance.
	FilledBy string `json:"filled_by,omitempty"`
}

// DictMetric is one derived quantity of the metrics view.
type DictMetric struct {
	Name        string `json:"name"`
	Unit        string `json:"unit"`
	Description string `json:"description"`
	Formula     string `json:"formula"`
	// Fills names the canonical column the metric completes; SourceColumn
	// is the provenance column (catalog, derived or missing).
	Fills        string `json:"fills,omitempty"`
	SourceColumn string `json:"source_column,omitempty"`
	// SQL is the DuckDB expression that computes it.
	SQL string `json:"sql"`
}

// DictParam is a metric parameter a run may override, such as albedo.
type DictParam struct {
	Name        string   `json:"name"`
	Value       float64  `json:"value"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	Unit        string   `json:"unit,omitempty"`
	Description string   `json:"description,omitempty"`
}

// DictEntry is a named thing with a description (mission, flag, category,
// output column).
type DictEntry struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// OutputDescriptions describes the columns the pipeline adds besides
// canonical columns and metrics, in pipeline order.
var OutputDescriptions = []DictEntry{
	{"row_id", "Row number of the object in the stored file (1-based, file order); unique within a dataset"},
	{"flags", "Machine names (FLAG_…) of every check that fired on the row"},
	{"tags", "Every category that applies to the row"},
	{"category", "The one primary category, by precedence"},
	{"score", "Confidence in [0, 1] that the object is a real planet of its category"},
	{"disposition_compare", "match, mismatch or missing: the category against the catalog disposition"},
	{"run_id", "The run that produced the row (runs.results, runs.latest_<dataset>)"},
}

// BuildDictionary reads the bundle, keeping YAML order. A nil part of the
// bundle leaves its lists empty.
func BuildDictionary(b *Bundle) *Dictionary {
	d := &Dictionary{Missions: []DictEntry{}, Columns: []DictColumn{}, Metrics: []DictMetric{},
		Parameters: []DictParam{}, Outputs: slices.Clone(OutputDescriptions), Flags: []DictEntry{}, Categories: []DictEntry{}}
	if b == nil {
		return d
	}
	filledBy := map[string]string{}
	if b.Metrics != nil {
		for _, m := range b.Metrics.Metrics {
			if m.Fills != "" {
				filledBy[m.Fills] = m.Name
			}
			d.Metrics = append(d.Metrics, DictMetric{Name: m.Name, Unit: m.Unit, Description: describeParams(b, m.Description),
				Formula: m.Formula, Fills: m.Fills, SourceColumn: m.SourceColumn(), SQL: m.SQL})
		}
		for _, p := range b.Metrics.Parameters {
			d.Parameters = append(d.Parameters, DictParam{Name: p.Name, Value: p.Value, Min: p.Min, Max: p.Max,
				Unit: p.Unit, Description: p.Description})
		}
	}
	if b.Columns != nil {
		for _, m := range b.Columns.Missions {
			d.Missions = append(d.Missions, DictEntry{Name: m.Name, Description: m.Description})
		}
		for i := range b.Columns.Columns {
			d.Columns = append(d.Columns, dictColumn(b.Columns, &b.Columns.Columns[i], filledBy[b.Columns.Columns[i].Name]))
		}
	}
	if b.Rules != nil {
		for _, f := range b.Rules.Flags {
			d.Flags = append(d.Flags, DictEntry{Name: f.Name, Description: f.Description})
		}
		for _, c := range b.Rules.Categories {
			d.Categories = append(d.Categories, DictEntry{Name: c.Name, Description: c.Description})
		}
	}
	return d
}

// dictColumn resolves one canonical column's sources and units per
// mission, the way the mapper does (engine/mapping: candidates, convert).
func dictColumn(cs *Columns, c *Column, filledBy string) DictColumn {
	role := c.Role
	if role == "" {
		role = RoleMeasure
	}
	out := DictColumn{Name: c.Name, Type: c.Type, Role: role, Unit: c.Unit, Description: c.Description,
		Errors: c.ErrorNames(), Limit: c.LimitName(), Values: c.Values, Constant: c.Constant, FilledBy: filledBy}
	if out.Type == "" {
		out.Type = "DOUBLE"
	}
	for _, m := range cs.Missions {
		if m.Name == GenericMission {
			continue
		}
		lineage := cs.Lineage(m.Name)
		for _, l := range lineage {
			if as, ok := c.Aliases[l]; ok {
				setMap(&out.Sources, m.Name, slices.Clone(as))
				break
			}
		}
		for _, l := range lineage {
			if u, ok := c.SourceUnits[l]; ok {
				if u != c.Unit {
					setMap(&out.SourceUnits, m.Name, conversionText(u, c.Units[u]))
				}
				break
			}
		}
	}
	if as := c.Aliases[GenericMission]; len(as) > 0 {
		setMap(&out.Sources, GenericMission, slices.Clone(as))
	}
	return out
}

// setMap sets m[k] = v, creating the map on first use.
func setMap[V any](m *map[string]V, k string, v V) {
	if *m == nil {
		*m = map[string]V{}
	}
	(*m)[k] = v
}

// conversionText prints a source unit and its conversion, e.g.
// "percent (x10000)" or "BJD (-2454833)".
func conversionText(unit string, c Conversion) string {
	var parts []string
	if c.Factor != 1 && c.Factor != 0 {
		parts = append(parts, "x"+strconv.FormatFloat(c.Factor, 'g', -1, 64))
	}
	if c.Offset != 0 {
		parts = append(parts, strconv.FormatFloat(c.Offset, 'f', -1, 64))
	}
	if len(parts) == 0 {
		return unit
	}
	return unit + " (" + strings.Join(parts, ", ") + ")"
}

// ColumnDoc is the unit and description of one pipeline column name, as
// the engine's catalog and snapshot comments show it.
type ColumnDoc struct {
	Name string
	// Kind is canonical, uncertainty, limit, provenance, metric or output.
	Kind        string
	Unit        string
	Description string
	Formula     string
}

// ColumnDocs flattens the dictionary into one entry per column name the
// pipeline produces: canonical columns and their uncertainties, metrics,
// provenance columns and outputs, in pipeline order.
func (d *Dictionary) ColumnDocs() []ColumnDoc {
	var out []ColumnDoc
	for _, c := range d.Columns {
		desc := c.Description
		if c.FilledBy != "" {
			desc += " (catalog value; derived by " + c.FilledBy + " when missing, see " + c.Name + "_source)"
		}
		out = append(out, ColumnDoc{Name: c.Name, Kind: "canonical", Unit: c.Unit, Description: desc})
		for i, e := range c.Errors {
			side := "Upper (+) uncertainty of: "
			if i == 1 {
				side = "Lower (−) uncertainty, stored negative, of: "
			}
			out = append(out, ColumnDoc{Name: e, Kind: "uncertainty", Unit: c.Unit, Description: side + lowerFirst(c.Description)})
		}
		if c.Limit != "" {
			out = append(out, ColumnDoc{Name: c.Limit, Kind: "limit",
				Description: "1 when the catalog gives only an upper limit, −1 only a lower limit, 0 a measurement, of: " + lowerFirst(c.Description)})
		}
	}
	for _, m := range d.Metrics {
		out = append(out, ColumnDoc{Name: m.Name, Kind: "metric", Unit: m.Unit, Description: m.Description, Formula: m.Formula})
		if m.SourceColumn != "" {
			out = append(out, ColumnDoc{Name: m.SourceColumn, Kind: "provenance",
				Description: "Where " + m.Fills + " comes from: catalog, derived (by " + m.Name + ") or missing"})
		}
	}
	for _, o := range d.Outputs {
		out = append(out, ColumnDoc{Name: o.Name, Kind: "output", Description: o.Description})
	}
	return out
}

// lowerFirst lower-cases the first letter unless the word is an acronym.
func lowerFirst(s string) string {
	if len(s) < 2 || strings.ToUpper(s[:2]) == s[:2] {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// paramRef is a $parameter in a description.
var paramRef = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_.]*)`)

// describeParams writes each $parameter of a description as its default
// value, naming the parameter: the dictionary serves readers of every run
// ("Bond albedo $albedo" was printed as is), and a run that sets another
// value records it (meta.runs.albedo, thresholds).
func describeParams(b *Bundle, desc string) string {
	return paramRef.ReplaceAllStringFunc(desc, func(ref string) string {
		name := ref[1:]
		v, ok := b.Param(name)
		if !ok {
			return ref
		}
		return strconv.FormatFloat(v, 'g', -1, 64) + " (parameter " + name + ", default)"
	})
}
