package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// tagLabels groups the label routes in the OpenAPI document.
const tagLabels = "labels"

// LabelEngine is what the label routes need from the engine.
// *engine.Engine satisfies it; a Server whose engine does not answers
// these routes with 501.
type LabelEngine interface {
	AddLabel(ctx context.Context, in engine.LabelInput) (*engine.Label, error)
	Labels(ctx context.Context, f engine.LabelFilter) (*engine.LabelPage, error)
	ReviewLabel(ctx context.Context, labelID int64, in engine.ReviewInput) (*engine.Review, error)
	LabelQueue(ctx context.Context, req engine.QueueRequest) (*engine.Queue, error)
	ReviewQueue(ctx context.Context, dataset string, limit int) (*engine.ReviewQueue, error)
	LabelStats(ctx context.Context, dataset string) (*engine.LabelStats, error)
	OpenLabelExport(ctx context.Context, in engine.LabelExportInput) (*engine.ExportFile, *engine.LabelExportManifest, error)
	ImportNASALabels(ctx context.Context, dataset string) (*engine.LabelImport, error)
	ImportRunLabels(ctx context.Context, runID string) (*engine.LabelImport, error)
}

var _ LabelEngine = (*engine.Engine)(nil)

// labelEngine returns the engine's label side.
func (s *Server) labelEngine() (LabelEngine, error) {
	if l, ok := s.eng.(LabelEngine); ok {
		return l, nil
	}
	return nil, fiber.NewError(fiber.StatusNotImplemented, "Labels are not available on this server.")
}

// checkWriteToken enforces the write token inside a read route (a queue
// request that claims items), the way authorize does for write routes.
func (s *Server) checkWriteToken(c *fiber.Ctx) error {
	if s.cfg.Token == "" {
		return nil
	}
	scheme, tok, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="exohunter"`)
		return engine.Errorf(engine.Unauthorized, "Claiming queue items (annotator=) needs an API token: send the header \"Authorization: Bearer <token>\".")
	}
	got, want := sha256.Sum256([]byte(strings.TrimSpace(tok))), sha256.Sum256([]byte(s.cfg.Token))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return engine.Errorf(engine.Forbidden, "The API token is not valid.")
	}
	return nil
}

// checkQuery refuses query parameters a route does not know, so that a
// misspelled filter is a 400 rather than silently ignored.
func checkQuery(c *fiber.Ctx, known ...string) error {
	var bad []string
	c.Context().QueryArgs().VisitAll(func(k, _ []byte) {
		name := string(k)
		for _, kn := range known {
			if name == kn {
				return
			}
		}
		bad = append(bad, name)
	})
	if len(bad) > 0 {
		return engine.Errorf(engine.BadRequest, "Unknown query parameter %q; this route takes %s.", bad[0], strings.Join(known, ", "))
	}
	return nil
}

// handleLabelList answers GET /api/labels: {"items":[label...],"next_cursor"}.
func (s *Server) handleLabelList(c *fiber.Ctx) error {
	le, err := s.labelEngine()
	if err != nil {
		return err
	}
	if err := checkQuery(c, "source", "label", "annotator", "dataset", "review_status", "object_id", "run_id", "limit", "cursor"); err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 0, 1, engine.MaxLabelsLimit)
	if err != nil {
		return err
	}
	page, err := le.Labels(c.UserContext(), engine.LabelFilter{
		Source: c.Query("source"), Label: c.Query("label"), Annotator: c.Query("annotator"), Dataset: c.Query("dataset"),
		ReviewStatus: c.Query("review_status"), ObjectID: c.Query("object_id"), RunID: c.Query("run_id"),
		Limit: limit, Cursor: c.Query("cursor"),
	})
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// handleLabelCreate answers POST /api/labels with the stored label (201).
// The label has committed when the answer is sent.
func (s *Server) handleLabelCreate(c *fiber.Ctx) error {
	le, err := s.labelEngine()
	if err != nil {
		return err
	}
	var in engine.LabelInput
	if err := readJSON(c, s.cfg.BodyLimit, &in, true); err != nil {
		return err
	}
	l, err := le.AddLabel(c.UserContext(), in)
	if err != nil {
		return err
	}
	c.Location("/api/labels?object_id=" + url.QueryEscape(l.ObjectID))
	return created(c, l)
}

// handleLabelReview answers POST /api/labels/{id}/review with the review
// (201): {"status":"accept"|"reject","reviewer","note"}.
func (s *Server) handleLabelReview(c *fiber.Ctx) error {
	le, err := s.labelEngine()
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(param(c, "id"), 10, 64)
	if err != nil || id < 1 {
		return engine.Errorf(engine.NotFound, "There is no label %q.", param(c, "id"))
	}
	var in engine.ReviewInput
	if err := readJSON(c, s.cfg.BodyLimit, &in, true); err != nil {
		return err
	}
	r, err := le.ReviewLabel(c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return created(c, r)
}

// handleLabelQueue answers GET /api/labels/queue?strategy=&limit=&annotator=&run_id=&dataset=&seed=
// with {"items":[...]}; with an annotator the items are claimed. run is
// run_id's older name (the dashboard's), still accepted.
func (s *Server) handleLabelQueue(c *fiber.Ctx) error {
	le, err := s.labelEngine()
	if err != nil {
		return err
	}
	if err := checkQuery(c, "strategy", "limit", "annotator", "run_id", "run", "dataset", "seed"); err != nil {
		return err
	}
	run := c.Query("run_id")
	if old := c.Query("run"); old != "" && run != "" && old != run {
		return engine.Errorf(engine.BadRequest, "run_id %q and run %q name different runs: give run_id only.", run, old)
	} else if run == "" {
		run = old
	}
	limit, err := queryInt(c, "limit", 0, 1, 1000)
	if err != nil {
		return err
	}
	if c.Query("annotator") != "" {
		// note: claiming writes (labels.claims), so it needs the token a
		// write needs, while a peek stays a read.
		if err := s.checkWriteToken(c); err != nil {
			return err
		}
	}
	q, err := le.LabelQueue(c.UserContext(), engine.QueueRequest{
		Run: run, Dataset: c.Query("dataset"), Strategy: c.Query("strategy"), Limit: limit,
		Annotator: c.Query("annotator"), Seed: c.Query("seed"),
	})
	if err != nil {
		return err
	}
	return c.JSON(q)
}

// handleReviewQueue answers GET /api/labels/review?dataset=&limit= with the
// labels pending review and the objects whose sources disagree.
func (s *Server) handleReviewQueue(c *fiber.Ctx) error {
	le, err := s.labelEngine()
	if err != nil {
		return err
	}
	if err := checkQuery(c, "dataset", "limit"); err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 0, 1, engine.MaxLabelsLimit)
	if err != nil {
		return err
	}
	rq, err := le.ReviewQueue(c.UserContext(), c.Query("dataset"), limit)
	if err != nil {
		return err
	}
	return c.JSON(rq)
}

// handleLabelStats answers GET /api/labels/stats?dataset= with the
// confusion tables of human vs NASA, human vs heuristic and heuristic vs
// NASA labels.
func (s *Server) handleLabelStats(c *fiber.Ctx) error {
	le, err := s.labelEngine()
	if err != nil {
		return err
	}
	if err := checkQuery(c, "dataset"); err != nil {
		return err
	}
	st, err := le.LabelStats(c.UserContext(), c.Query("dataset"))
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// handleLabelExport answers GET /api/labels/export?format=parquet|csv&dataset=&source=
// with the labeled set; the file and its manifest are kept under
// DATA/labeled/ (the manifest's name is in X-Exohunter-Manifest).
func (s *Server) handleLabelExport(c *fiber.Ctx) error {
	le, err := s.labelEngine()
	if err != nil {
		return err
	}
	if err := checkQuery(c, "format", "dataset", "source"); err != nil {
		return err
	}
	f, err := engine.ParseExportFormat(c.Query("format", string(engine.Parquet)))
	if err != nil {
		return err
	}
	in := engine.LabelExportInput{Format: f, Dataset: c.Query("dataset")}
	for _, s := range strings.Split(c.Query("source"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			in.Sources = append(in.Sources, s)
		}
	}
	x, m, err := le.OpenLabelExport(c.UserContext(), in)
	if err != nil {
		return err
	}
	c.Set("X-Exohunter-Manifest", strings.TrimSuffix(m.File, "."+string(m.Format))+".manifest.json")
	return s.sendFile(c, x)
}

// labelImport is the body of POST /api/labels/import: NASA dispositions of
// a dataset ({"source":"nasa","dataset"}) or the categories of a run
// ({"source":"heuristic","run_id"}).
type labelImport struct {
	Source  string `json:"source"`
	Dataset string `json:"dataset"`
	RunID   string `json:"run_id"`
}

// handleLabelImport answers POST /api/labels/import with the import's
// counts (201).
func (s *Server) handleLabelImport(c *fiber.Ctx) error {
	le, err := s.labelEngine()
	if err != nil {
		return err
	}
	var in labelImport
	if err := readJSON(c, s.cfg.BodyLimit, &in, true); err != nil {
		return err
	}
	var res *engine.LabelImport
	switch {
	case in.Source == engine.SourceNASA && in.Dataset != "" && in.RunID == "":
		res, err = le.ImportNASALabels(c.UserContext(), in.Dataset)
	case in.Source == engine.SourceHeuristic && in.RunID != "" && in.Dataset == "":
		res, err = le.ImportRunLabels(c.UserContext(), in.RunID)
	default:
		return engine.Errorf(engine.BadRequest, `Import {"source":"nasa","dataset":D} (catalog dispositions) or {"source":"heuristic","run_id":R} (a run's categories).`)
	}
	if err != nil {
		return err
	}
	return created(c, res)
}

func init() {
	for k, v := range map[string]opDoc{
		"GET /api/labels": {query: []string{"source: human, heuristic, nasa or model", "label: a category or disposition",
			"annotator: who gave the label", "dataset: the object's dataset", "review_status: pending, accepted or rejected",
			"object_id: one object", "run_id: labels given on one run", "limit: page size (default 100, at most 100000)",
			"cursor: next_cursor of the previous page"}, okSchema: "Object", errors: []int{400}},
		"POST /api/labels":             {body: "LabelRequest", ok: 201, okSchema: "Object", errors: []int{400, 413}},
		"POST /api/labels/{id}/review": {body: "ReviewRequest", ok: 201, okSchema: "Object", errors: []int{400, 404}},
		"GET /api/labels/queue": {query: []string{"strategy: priority, random or uncertainty (default from configs/labeling.yaml)",
			"limit: items (default batch.size, at most 1000)", "annotator: claims the items for this annotator (without it: a peek)",
			"run: the run (default: the latest run of dataset, or of the only dataset)", "dataset: the dataset whose latest run to use",
			"seed: order of the random strategy"}, okSchema: "Object", errors: []int{400, 404, 409}},
		"GET /api/labels/review": {query: []string{"dataset: one dataset", "limit: items per list (default 100)"}, okSchema: "Object", errors: []int{400}},
		"GET /api/labels/stats":  {query: []string{"dataset: one dataset (default all)"}, okSchema: "Object", errors: []int{400}},
		"GET /api/labels/export": {query: []string{"format: parquet (default) or csv (also json, ndjson)", "dataset: one dataset",
			"source: comma-separated sources"}, produces: "application/vnd.apache.parquet, text/csv", errors: []int{400}},
		"POST /api/labels/import": {body: "Object", ok: 201, okSchema: "Object", errors: []int{400, 404, 409}},
	} {
		opDocs[k] = v
	}
}
