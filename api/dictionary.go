package api

import (
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
	"github.com/exohunter/exohunter/engine/spec"
)

// handleDictionary answers GET /api/dictionary: every canonical column,
// metric (with its formula), parameter, flag, category and pipeline output
// with its unit and description, from the spec bundle (spec.Dictionary,
// the same text as schemas/data_dictionary.md and the catalog).
func (s *Server) handleDictionary(c *fiber.Ctx) error {
	if s.eng.Bundle() == nil {
		return engine.Errorf(engine.NotFound, "This server was started without a pipeline configuration.")
	}
	return c.JSON(s.eng.Dictionary())
}

// thresholdsDoc is GET /api/thresholds: the defaults a run may override
// with dotted keys, and the metric parameters (albedo).
type thresholdsDoc struct {
	Thresholds []spec.Threshold `json:"thresholds"`
	Albedo     *spec.DictParam  `json:"albedo,omitempty"`
	Parameters []spec.DictParam `json:"parameters"`
}

// handleThresholds answers GET /api/thresholds.
func (s *Server) handleThresholds(c *fiber.Ctx) error {
	b := s.eng.Bundle()
	if b == nil || b.Thresholds == nil {
		return engine.Errorf(engine.NotFound, "This server was started without a pipeline configuration.")
	}
	doc := thresholdsDoc{Thresholds: b.Thresholds.All(), Parameters: s.eng.Dictionary().Parameters}
	if doc.Thresholds == nil {
		doc.Thresholds = []spec.Threshold{}
	}
	sort.SliceStable(doc.Parameters, func(i, j int) bool { return doc.Parameters[i].Name < doc.Parameters[j].Name })
	for i := range doc.Parameters {
		if doc.Parameters[i].Name == "albedo" {
			doc.Albedo = &doc.Parameters[i]
		}
	}
	return c.JSON(doc)
}
