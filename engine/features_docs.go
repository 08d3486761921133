package engine

import (
	"fmt"
	"strings"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// featureComments describes a feature set's view and columns from its
// manifest: what each feature reads, its unit before the transform, how
// it was imputed and transformed. A feature keeps the name of the column
// it reads, but not its meaning (features.v1.koi_period is ln(1+P), not
// days), so the dictionary entry for that name would be wrong here.
func (e *Engine) featureComments(m *FeatureManifest) sqltmpl.RelationComment {
	r := sqltmpl.RelationComment{Schema: "features", Name: m.Version, View: true,
		Text: fmt.Sprintf("Feature set %s from the feature store (built from run %s of dataset %s): one row per object", m.Version, m.Source.RunID, m.Source.Dataset)}
	dict := map[string]spec.ColumnDoc{}
	for _, d := range spec.BuildDictionary(e.bundle).ColumnDocs() {
		dict[d.Name] = d
	}
	texts := map[string]string{
		"row_id":          "Row of the source run (runs.results.row_id)",
		"object_id":       "Object id (KOI, TOI, planet name)",
		"star_id":         "Host star id: the group key of the grouped splits",
		"koi_disposition": "NASA disposition of the object: the label, never a feature",
	}
	if fs := m.Spec; fs != nil {
		for _, f := range fs.All() {
			texts[f.Name] = featureText(f, dict[f.Name])
			if f.MissingIndicator {
				texts[f.MissingName()] = "1 where the input of " + f.Name + " was missing (before imputation), else 0"
			}
		}
		for i := range fs.Categorical {
			c := &fs.Categorical[i]
			for _, v := range c.Values {
				texts[c.OneHotName(v)] = fmt.Sprintf("1 when %s is %s, else 0 (one-hot%s)", c.Name, v, orSuffix(c.Description))
			}
		}
	}
	for _, c := range m.Columns {
		if t := texts[c.Name]; t != "" {
			r.Columns = append(r.Columns, sqltmpl.ColumnComment{Name: c.Name, Text: t})
		}
	}
	return r
}

// featureText is one numeric or derived feature's description: what it
// reads (its own description, else the dictionary's for the column),
// the input's unit, the imputation and the transform.
func featureText(f *spec.Feature, d spec.ColumnDoc) string {
	desc, unit := f.Description, f.Unit
	if desc == "" {
		desc = d.Description
	}
	if desc == "" {
		desc = "Run column " + f.Name
	}
	if unit == "" {
		unit = d.Unit
	}
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(desc, "."))
	if unit != "" {
		fmt.Fprintf(&b, " [input in %s]", unit)
	}
	switch f.Impute {
	case "none":
		b.WriteString("; missing values stay NULL")
	case "constant", "zero":
		v := 0.0
		if f.Value != nil {
			v = *f.Value
		}
		fmt.Fprintf(&b, "; missing values set to %g", v)
	case "mean":
		b.WriteString("; missing values imputed with the mean")
	default:
		b.WriteString("; missing values imputed with the median")
	}
	switch f.Transform {
	case "log1p":
		b.WriteString("; stored as sign(x)·ln(1+|x|)")
	case "standardize":
		b.WriteString("; stored standardized, (x − mean) / std over the build's rows (manifest stats)")
	default:
		b.WriteString("; stored as is")
	}
	return b.String()
}

// orSuffix is ": s" for a non-empty s.
func orSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + strings.TrimSuffix(s, ".")
}
