package api

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// tagFeatures groups the feature-store routes in the OpenAPI document.
const tagFeatures = "features"

// featureBuildTimeout bounds a feature build started through the API.
const featureBuildTimeout = 15 * time.Minute

// FeatureEngine is what the feature-store routes need from the engine.
// *engine.Engine satisfies it; a Server whose engine does not answers
// these routes with 501.
type FeatureEngine interface {
	BuildFeatures(ctx context.Context, in engine.FeatureBuildInput) (*engine.FeatureBuild, error)
	FeatureSets(ctx context.Context) (*engine.FeatureSetList, error)
	FeaturePage(ctx context.Context, q engine.FeatureQuery) (*engine.FeaturePage, error)
	FeatureRow(ctx context.Context, version, objectID string) (*engine.FeatureObject, error)
	OpenFeatureExport(ctx context.Context, version string, f engine.ExportFormat) (*engine.ExportFile, error)
}

var _ FeatureEngine = (*engine.Engine)(nil)

// featureEngine returns the engine's feature-store side.
func (s *Server) featureEngine() (FeatureEngine, error) {
	if f, ok := s.eng.(FeatureEngine); ok {
		return f, nil
	}
	return nil, fiber.NewError(fiber.StatusNotImplemented, "The feature store is not available on this server.")
}

// handleFeatureList answers GET /api/features: {"items":[manifest...]}.
func (s *Server) handleFeatureList(c *fiber.Ctx) error {
	fe, err := s.featureEngine()
	if err != nil {
		return err
	}
	list, err := fe.FeatureSets(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(list)
}

// featureBuildRequest is the body of POST /api/features.
type featureBuildRequest struct {
	Version string `json:"version"`
	RunID   string `json:"run_id"`
	Dataset string `json:"dataset"`
}

// handleFeatureBuild answers POST /api/features {"version","run_id"?,
// "dataset"?}: 201 with the manifest when the version was created, 200
// when it already existed with the same content, 409 with different
// content; with ?background=true, 202 with a job whose result is the
// manifest.
func (s *Server) handleFeatureBuild(c *fiber.Ctx) error {
	fe, err := s.featureEngine()
	if err != nil {
		return err
	}
	var req featureBuildRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req, true); err != nil {
		return err
	}
	in := engine.FeatureBuildInput{Version: req.Version, Run: req.RunID, Dataset: req.Dataset}
	ctx := c.UserContext()
	if started, err := s.startBackground(c, func(mj modelJobs) (*engine.Job, error) { return mj.StartFeatures(ctx, in) }); started || err != nil {
		return err
	}
	b, err := fe.BuildFeatures(ctx, in)
	if err != nil {
		return err
	}
	if b.Status == engine.FeatureUnchanged {
		return c.JSON(b)
	}
	c.Location("/api/features/" + b.Version)
	return created(c, b)
}

// handleFeaturePage answers GET /api/features/{version}?q=&page=&page_size=&columns=.
func (s *Server) handleFeaturePage(c *fiber.Ctx) error {
	fe, err := s.featureEngine()
	if err != nil {
		return err
	}
	if err := checkQuery(c, "q", "page", "page_size", "columns"); err != nil {
		return err
	}
	page, err := queryInt(c, "page", 1, 1, 1<<30)
	if err != nil {
		return err
	}
	size, err := queryInt(c, "page_size", 0, 1, engine.MaxFeaturePageSize)
	if err != nil {
		return err
	}
	q := engine.FeatureQuery{Version: param(c, "version"), Q: c.Query("q"), Page: page, PageSize: size}
	for _, col := range strings.Split(c.Query("columns"), ",") {
		if col = strings.TrimSpace(col); col != "" {
			q.Columns = append(q.Columns, col)
		}
	}
	p, err := fe.FeaturePage(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// handleFeatureRow answers GET /api/features/{version}/{object_id}.
func (s *Server) handleFeatureRow(c *fiber.Ctx) error {
	fe, err := s.featureEngine()
	if err != nil {
		return err
	}
	o, err := fe.FeatureRow(c.UserContext(), param(c, "version"), param(c, "object_id"))
	if err != nil {
		return err
	}
	return c.JSON(o)
}

// handleFeatureDownload answers GET /api/features/{version}/download?format=parquet|csv.
func (s *Server) handleFeatureDownload(c *fiber.Ctx) error {
	fe, err := s.featureEngine()
	if err != nil {
		return err
	}
	if err := checkQuery(c, "format"); err != nil {
		return err
	}
	f, err := engine.ParseExportFormat(c.Query("format", string(engine.Parquet)))
	if err != nil {
		return err
	}
	x, err := fe.OpenFeatureExport(c.UserContext(), param(c, "version"), f)
	if err != nil {
		return err
	}
	return s.sendFile(c, x)
}

func init() {
	for k, v := range map[string]opDoc{
		"GET /api/features":  {okSchema: "Object"},
		"POST /api/features": {body: "FeatureBuildRequest", ok: 201, okSchema: "Object", errors: []int{400, 404, 409, 422}},
		"GET /api/features/{version}": {query: []string{"q: object_id or star_id contains this (any case)",
			"page: 1-based page (default 1)", "page_size: rows per page (default 50, at most 1000)",
			"columns: comma-separated projection (id columns always included)"}, okSchema: "Object", errors: []int{400, 404}},
		"GET /api/features/{version}/download": {query: []string{"format: parquet (default) or csv (also json, ndjson)"},
			produces: "application/vnd.apache.parquet, text/csv", errors: []int{400, 404}},
		"GET /api/features/{version}/{object_id}": {okSchema: "Object", errors: []int{404}},
	} {
		opDocs[k] = v
	}
}
