package api

import (
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
	"github.com/exohunter/exohunter/engine/spec"
)

// dictionary is GET /api/dictionary: everything a result column can be,
// from the spec bundle (schemas/columns.yaml, configs/metrics.yaml,
// configs/rules.yaml). Slices are never nil.
type dictionary struct {
	Columns    []dictColumn `json:"columns"`
	Metrics    []dictMetric `json:"metrics"`
	Parameters []dictParam  `json:"parameters"`
	Flags      []dictEntry  `json:"flags"`
	Categories []dictEntry  `json:"categories"`
	Outputs    []dictEntry  `json:"outputs"`
}

// dictColumn is one canonical column, with the source column names each
// mission maps to it.
type dictColumn struct {
	Name        string              `json:"name"`
	Type        string              `json:"type"`
	Role        string              `json:"role,omitempty"`
	Unit        string              `json:"unit"`
	Description string              `json:"description"`
	Errors      []string            `json:"errors,omitempty"`
	Sources     map[string][]string `json:"sources,omitempty"`
}

// dictMetric is one derived quantity with its formula.
type dictMetric struct {
	Name        string `json:"name"`
	Unit        string `json:"unit"`
	Description string `json:"description"`
	Formula     string `json:"formula"`
	// Fills names the canonical column the metric completes; Source is the
	// provenance column (catalog, derived or missing).
	Fills  string `json:"fills,omitempty"`
	Source string `json:"source_column,omitempty"`
}

// dictParam is a metric parameter a run may override, such as albedo.
type dictParam struct {
	Name        string   `json:"name"`
	Value       float64  `json:"value"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	Unit        string   `json:"unit,omitempty"`
	Description string   `json:"description,omitempty"`
}

// dictEntry is a named thing with a description (flag, category, output).
type dictEntry struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// classifyOutputs describes the columns the classified view adds.
var classifyOutputs = map[string]string{
	"flags":               "Machine names (FLAG_…) of every check that fired on the row",
	"tags":                "Every category that applies to the row",
	"category":            "The one primary category, by precedence",
	"score":               "Confidence in [0, 1] that the object is a real planet of its category",
	"disposition_compare": "match, mismatch or missing: the category against the catalog disposition",
}

// handleDictionary answers GET /api/dictionary.
func (s *Server) handleDictionary(c *fiber.Ctx) error {
	b := s.eng.Bundle()
	if b == nil {
		return engine.Errorf(engine.NotFound, "This server was started without a pipeline configuration.")
	}
	return c.JSON(buildDictionary(b))
}

// buildDictionary reads the bundle, keeping YAML order.
func buildDictionary(b *spec.Bundle) dictionary {
	d := dictionary{Columns: []dictColumn{}, Metrics: []dictMetric{}, Parameters: []dictParam{},
		Flags: []dictEntry{}, Categories: []dictEntry{}, Outputs: []dictEntry{}}
	if b.Columns != nil {
		for _, col := range b.Columns.Columns {
			d.Columns = append(d.Columns, dictColumn{Name: col.Name, Type: col.Type, Role: col.Role, Unit: col.Unit,
				Description: col.Description, Errors: col.ErrorNames(), Sources: col.Aliases})
		}
	}
	if b.Metrics != nil {
		for _, m := range b.Metrics.Metrics {
			d.Metrics = append(d.Metrics, dictMetric{Name: m.Name, Unit: m.Unit, Description: m.Description,
				Formula: m.Formula, Fills: m.Fills, Source: m.SourceColumn()})
		}
		for _, p := range b.Metrics.Parameters {
			d.Parameters = append(d.Parameters, dictParam(p))
		}
	}
	if b.Rules != nil {
		for _, f := range b.Rules.Flags {
			d.Flags = append(d.Flags, dictEntry{Name: f.Name, Description: f.Description})
		}
		for _, cat := range b.Rules.Categories {
			d.Categories = append(d.Categories, dictEntry{Name: cat.Name, Description: cat.Description})
		}
	}
	for _, name := range spec.ClassifyOutputs {
		d.Outputs = append(d.Outputs, dictEntry{Name: name, Description: classifyOutputs[name]})
	}
	return d
}

// thresholdsDoc is GET /api/thresholds: the defaults a run may override
// with dotted keys, and the albedo.
type thresholdsDoc struct {
	Thresholds []spec.Threshold `json:"thresholds"`
	Albedo     *dictParam       `json:"albedo,omitempty"`
	Parameters []dictParam      `json:"parameters"`
}

// handleThresholds answers GET /api/thresholds.
func (s *Server) handleThresholds(c *fiber.Ctx) error {
	b := s.eng.Bundle()
	if b == nil || b.Thresholds == nil {
		return engine.Errorf(engine.NotFound, "This server was started without a pipeline configuration.")
	}
	doc := thresholdsDoc{Thresholds: b.Thresholds.All(), Parameters: []dictParam{}}
	if b.Metrics != nil {
		for _, p := range b.Metrics.Parameters {
			dp := dictParam(p)
			doc.Parameters = append(doc.Parameters, dp)
			if p.Name == "albedo" {
				doc.Albedo = &dp
			}
		}
	}
	if doc.Thresholds == nil {
		doc.Thresholds = []spec.Threshold{}
	}
	sort.SliceStable(doc.Parameters, func(i, j int) bool { return doc.Parameters[i].Name < doc.Parameters[j].Name })
	return c.JSON(doc)
}
