package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// handleCounts answers GET /api/runs/{id}/counts?by=category|tag|flag|
// koi_disposition|disposition_compare plus the result filters with
// {"by","counts":[{"value","count"}],"total"}: the dashboard's category
// chart under the current filters.
func (s *Server) handleCounts(c *fiber.Ctx) error {
	q, err := resultsQuery(c, param(c, "id"))
	if err != nil {
		return err
	}
	page, err := s.eng.Counts(c.UserContext(), q, c.Query("by"))
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// handleHistogram answers GET /api/runs/{id}/histogram?column=&bins=&
// scale=linear|log plus the result filters with {"column","scale","bins":
// [{"lo","hi","count"}],"total","nulls","excluded","min","max"}.
func (s *Server) handleHistogram(c *fiber.Ctx) error {
	q, err := resultsQuery(c, param(c, "id"))
	if err != nil {
		return err
	}
	bins, err := queryInt(c, "bins", 0, 1, engine.MaxHistogramBins)
	if err != nil {
		return err
	}
	h, err := s.eng.Histogram(c.UserContext(), q, engine.HistogramRequest{Column: c.Query("column"), Bins: bins, Scale: c.Query("scale")})
	if err != nil {
		return err
	}
	return c.JSON(h)
}
