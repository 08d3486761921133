package api

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
	"github.com/exohunter/exohunter/engine/spec"
)

// The prototype's label and feature routes (issue 3, "Compatibility"),
// mapped onto the labels and feature-store engines. Where the prototype
// knew only one file at a time, "the dataset" is the one of the newest
// complete run and "the feature set" is the newest version. Documented as
// legacy in the OpenAPI document.

// legacyAnnotator names human labels whose legacy request gave no
// annotator (the prototype had none; the labels engine requires one).
const legacyAnnotator = "legacy-api"

// handleLegacyLabelConfig answers GET /api/labels/config: the label values,
// sources and queue strategies, and configs/labeling.yaml as loaded.
func (s *Server) handleLegacyLabelConfig(c *fiber.Ctx) error {
	if _, err := s.labelEngine(); err != nil {
		return err
	}
	return c.JSON(fiber.Map{
		"labels": engine.LabelValues(), "categories": spec.Categories,
		"dispositions": []string{spec.Confirmed, spec.Candidate, spec.FalsePositive},
		"sources":      engine.LabelSources, "strategies": spec.Strategies,
		"config": s.eng.Bundle().LabelingConfig(),
	})
}

// legacyQueueRequest is the body of POST /api/labels/queue. limit and
// batch_size are the same; run and run_id too.
type legacyQueueRequest struct {
	Strategy  string `json:"strategy"`
	Limit     int    `json:"limit"`
	BatchSize int    `json:"batch_size"`
	Annotator string `json:"annotator"`
	Run       string `json:"run"`
	RunID     string `json:"run_id"`
	Dataset   string `json:"dataset"`
	Seed      string `json:"seed"`
}

// handleLegacyLabelQueue answers POST /api/labels/queue (the GET form is
// the current route): the next objects to label, {"items":[...],"run_id",
// "strategy"}, claimed for the annotator when one is given.
func (s *Server) handleLegacyLabelQueue(c *fiber.Ctx) error {
	le, err := s.labelEngine()
	if err != nil {
		return err
	}
	var req legacyQueueRequest
	data, err := readBody(c, s.cfg.BodyLimit)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &req); err != nil {
			return jsonError(err, &req)
		}
	}
	if req.Limit == 0 {
		req.Limit = req.BatchSize
	}
	if req.Run == "" {
		req.Run = req.RunID
	}
	if req.Limit < 0 || req.Limit > spec.MaxBatchSize {
		return engine.Errorf(engine.BadRequest, "limit must be between 1 and %d (got %d).", spec.MaxBatchSize, req.Limit)
	}
	q, err := le.LabelQueue(c.UserContext(), engine.QueueRequest{Run: req.Run, Dataset: req.Dataset, Strategy: req.Strategy,
		Limit: req.Limit, Annotator: req.Annotator, Seed: req.Seed})
	if err != nil {
		return err
	}
	return c.JSON(q)
}

// legacyApplyRequest is the body of POST /api/labels/apply. The prototype
// sent object_id, label and notes; the rest is optional here.
type legacyApplyRequest struct {
	ObjectID  string `json:"object_id"`
	Label     string `json:"label"`
	Notes     string `json:"notes"`
	Dataset   string `json:"dataset"`
	RunID     string `json:"run_id"`
	Annotator string `json:"annotator"`
	Source    string `json:"source"`
}

// handleLegacyLabelApply answers POST /api/labels/apply with
// {"ok":true,"label":{...}}: one label recorded (committed before the
// answer). Without a dataset it labels an object of the newest complete
// run's dataset; without an annotator a human label is recorded as
// legacy-api.
func (s *Server) handleLegacyLabelApply(c *fiber.Ctx) error {
	le, err := s.labelEngine()
	if err != nil {
		return err
	}
	var req legacyApplyRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req, false); err != nil {
		return err
	}
	in := engine.LabelInput{ObjectID: req.ObjectID, Label: req.Label, Note: req.Notes, Dataset: req.Dataset,
		RunID: req.RunID, Annotator: req.Annotator, Source: req.Source}
	if strings.TrimSpace(in.Dataset) == "" {
		if in.Dataset, err = s.legacyDataset(c.UserContext(), in.RunID); err != nil {
			return err
		}
	}
	if in.Annotator == "" && (in.Source == "" || strings.EqualFold(in.Source, engine.SourceHuman)) {
		in.Annotator = legacyAnnotator
	}
	l, err := le.AddLabel(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ok": true, "label": l})
}

// legacyDataset is the dataset a legacy label refers to: the run's, else
// the newest complete run's, else the only dataset.
func (s *Server) legacyDataset(ctx context.Context, runID string) (string, error) {
	if runID != "" {
		r, err := s.eng.Run(ctx, runID)
		if err != nil {
			return "", err
		}
		return r.Dataset, nil
	}
	if r, err := s.latestRun(ctx); err == nil {
		return r.Dataset, nil
	}
	list, err := s.eng.Datasets(ctx)
	if err != nil {
		return "", err
	}
	if len(list) == 1 {
		return list[0].Name, nil
	}
	return "", engine.Errorf(engine.BadRequest, "Say which dataset the object belongs to (dataset): there is no complete run to take it from.")
}

// legacyLabelRow is one labeled object as GET /api/labels/results shows it.
type legacyLabelRow struct {
	ID           int64     `json:"id"`
	ObjectID     string    `json:"object_id"`
	Dataset      string    `json:"dataset"`
	RunID        *string   `json:"run_id"`
	Label        string    `json:"label"`
	Notes        string    `json:"notes"`
	Source       string    `json:"source"`
	Annotator    string    `json:"annotator"`
	ReviewStatus string    `json:"review_status"`
	CreatedAt    time.Time `json:"created_at"`
}

// handleLegacyLabelResults answers GET /api/labels/results?dataset=&source=
// &limit=&cursor= with {"results":[...],"count","next_cursor"}: the
// recorded labels (human ones unless source says otherwise), oldest first.
func (s *Server) handleLegacyLabelResults(c *fiber.Ctx) error {
	le, err := s.labelEngine()
	if err != nil {
		return err
	}
	if err := checkQuery(c, "dataset", "source", "limit", "cursor"); err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 0, 1, engine.MaxLabelsLimit)
	if err != nil {
		return err
	}
	page, err := le.Labels(c.UserContext(), engine.LabelFilter{Dataset: c.Query("dataset"),
		Source: c.Query("source", engine.SourceHuman), Limit: limit, Cursor: c.Query("cursor")})
	if err != nil {
		return err
	}
	rows := make([]legacyLabelRow, len(page.Items))
	for i, l := range page.Items {
		rows[i] = legacyLabelRow{ID: l.ID, ObjectID: l.ObjectID, Dataset: l.Dataset, RunID: l.RunID, Label: l.Label,
			Notes: l.Note, Source: l.Source, Annotator: l.Annotator, ReviewStatus: l.ReviewStatus, CreatedAt: l.CreatedAt}
	}
	return c.JSON(fiber.Map{"results": rows, "count": len(rows), "next_cursor": page.NextCursor})
}

// latestFeatureSet is the newest feature-set version, or NotFound.
func latestFeatureSet(ctx context.Context, fe FeatureEngine) (*engine.FeatureManifest, error) {
	list, err := fe.FeatureSets(ctx)
	if err != nil {
		return nil, err
	}
	if len(list.Items) == 0 {
		return nil, engine.Errorf(engine.NotFound, "There is no feature set yet: build one with POST /api/features or `exohunter features build`.")
	}
	return list.Items[len(list.Items)-1], nil
}

// handleLegacyFeatureMeta answers GET /api/features/meta: the newest
// feature set's manifest (columns, stats, source run) and every version.
func (s *Server) handleLegacyFeatureMeta(c *fiber.Ctx) error {
	fe, err := s.featureEngine()
	if err != nil {
		return err
	}
	m, err := latestFeatureSet(c.UserContext(), fe)
	if err != nil {
		return err
	}
	list, err := fe.FeatureSets(c.UserContext())
	if err != nil {
		return err
	}
	versions := make([]string, len(list.Items))
	for i, it := range list.Items {
		versions[i] = it.Version
	}
	return c.JSON(fiber.Map{"version": m.Version, "manifest": m, "columns": m.Columns, "rows": m.Rows, "versions": versions})
}

// handleLegacyFeaturePage answers GET /api/features/ (trailing slash, the
// prototype's listing) with a page of the newest feature set: q, page,
// page_size and columns as GET /api/features/{version} takes them.
// GET /api/features without the slash is the current list of versions:
// the router treats both paths alike, so this handler passes that one on.
func (s *Server) handleLegacyFeaturePage(c *fiber.Ctx) error {
	if !strings.HasSuffix(c.Path(), "/") {
		return c.Next()
	}
	fe, err := s.featureEngine()
	if err != nil {
		return err
	}
	m, err := latestFeatureSet(c.UserContext(), fe)
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
	q := engine.FeatureQuery{Version: m.Version, Q: c.Query("q"), Page: page, PageSize: size}
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

// handleFeaturePageOrObject answers GET /api/features/{version} (a page of
// that feature set) and, for the prototype's GET /api/features/{object_id},
// the features of that object in the newest feature set when {version}
// names no feature set and the request has no query parameters.
func (s *Server) handleFeaturePageOrObject(c *fiber.Ctx) error {
	err := s.handleFeaturePage(c)
	if engine.ErrorCode(err) != engine.NotFound || len(c.Request().URI().QueryString()) > 0 {
		return err
	}
	fe, ferr := s.featureEngine()
	if ferr != nil {
		return err
	}
	m, ferr := latestFeatureSet(c.UserContext(), fe)
	if ferr != nil {
		return err
	}
	o, ferr := fe.FeatureRow(c.UserContext(), m.Version, param(c, "version"))
	if ferr != nil {
		if engine.ErrorCode(ferr) == engine.NotFound {
			return engine.Errorf(engine.NotFound, "There is no feature set %q, and the newest feature set (%s) has no object %q.",
				param(c, "version"), m.Version, param(c, "version"))
		}
		return ferr
	}
	return c.JSON(o)
}

func init() {
	for k, v := range map[string]opDoc{
		"GET /api/labels/config": {okSchema: "Object", errors: []int{501}},
		"POST /api/labels/queue": {body: "Object", okSchema: "Object", errors: []int{400, 404, 409}},
		"POST /api/labels/apply": {body: "Object", okSchema: "Object", errors: []int{400, 404, 413}},
		"GET /api/labels/results": {query: []string{"dataset: one dataset", "source: human (default), heuristic, nasa or model",
			"limit: page size (default 100)", "cursor: next_cursor of the previous page"}, okSchema: "Object", errors: []int{400}},
		"GET /api/features/meta": {okSchema: "Object", errors: []int{404}},
		"GET /api/features/": {query: []string{"q: object_id or star_id contains this (any case)", "page: 1-based page (default 1)",
			"page_size: rows per page (default 50, at most 1000)", "columns: comma-separated projection"}, okSchema: "Object", errors: []int{400, 404}},
	} {
		opDocs[k] = v
	}
}
