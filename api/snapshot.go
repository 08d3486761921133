package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// snapshotTimeout bounds writing a snapshot for GET /api/snapshot (DuckDB
// copies every relation first); streaming it is bounded by
// Config.StreamIdleTimeout between writes.
const snapshotTimeout = 30 * time.Minute

// snapshotEngine is what the snapshot routes need from the engine. *engine.Engine satisfies it; a fake Engine without it answers 404.
type snapshotEngine interface {
	OpenSnapshot(ctx context.Context, opts engine.SnapshotOptions) (*engine.SnapshotFile, error)
	Snapshots(ctx context.Context) ([]engine.SnapshotEntry, error)
	OpenSnapshotFile(name string) (*engine.SnapshotFile, error)
}

// snapshotJobs starts snapshot jobs. *engine.Jobs satisfies it.
type snapshotJobs interface {
	StartSnapshot(ctx context.Context, name string, opts engine.SnapshotOptions) (*engine.Job, error)
}

var (
	_ snapshotEngine = (*engine.Engine)(nil)
	_ snapshotJobs   = (*engine.Jobs)(nil)
)

// snapshots returns the engine's snapshot side, or a 404 for engines
// without it.
func (s *Server) snapshots() (snapshotEngine, error) {
	if se, ok := s.eng.(snapshotEngine); ok {
		return se, nil
	}
	return nil, engine.Errorf(engine.NotFound, "This server does not offer snapshots.")
}

// handleSnapshotDownload answers GET /api/snapshot?runs=latest|all|ID,...
// &include=raw,features,labels|none with one self-contained .duckdb file.
// It is written first (errors still get a status), then streamed from disk.
func (s *Server) handleSnapshotDownload(c *fiber.Ctx) error {
	se, err := s.snapshots()
	if err != nil {
		return err
	}
	opts, err := engine.ParseSnapshotOptions(c.Query("runs"), c.Query("include"))
	if err != nil {
		return err
	}
	f, err := se.OpenSnapshot(c.UserContext(), opts)
	if err != nil {
		return err
	}
	c.Set("X-Snapshot-Created-At", f.Result.CreatedAt.Format(time.RFC3339Nano))
	c.Set("X-Snapshot-Storage-Version", f.Result.StorageVersion)
	return s.sendSnapshot(c, f)
}

// sendSnapshot streams a snapshot file with its download headers.
func (s *Server) sendSnapshot(c *fiber.Ctx, f *engine.SnapshotFile) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEOctetStream)
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", f.Name))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	body := &deadlineReader{ReadCloser: f, conn: c.Context().Conn(), idle: s.cfg.StreamIdleTimeout}
	c.Context().SetBodyStream(body, int(f.Size))
	return nil
}

// snapshotRequest is the body of POST /api/snapshots. Runs is "latest",
// "all", a run id, or a list of run ids; Include lists raw, features,
// labels (absent: features and labels; [] none).
type snapshotRequest struct {
	Name    string          `json:"name"`
	Runs    json.RawMessage `json:"runs"`
	Include *[]string       `json:"include"`
}

// handleSnapshotCreate answers POST /api/snapshots with 202 and the job
// that writes DATA/snapshots/<name>.duckdb, as every started job is
// answered (jobStarted: job_id, Location /api/jobs/{id}).
func (s *Server) handleSnapshotCreate(c *fiber.Ctx) error {
	sj, ok := s.jobs.(snapshotJobs)
	if !ok {
		return engine.Errorf(engine.NotFound, "This server does not offer snapshots.")
	}
	var req snapshotRequest
	if c.Request().Header.ContentLength() != 0 {
		if err := readJSON(c, s.cfg.BodyLimit, &req, true); err != nil {
			return err
		}
	}
	runs, err := runsField(req.Runs)
	if err != nil {
		return err
	}
	include := ""
	if req.Include != nil {
		include = strings.Join(*req.Include, ",")
		if len(*req.Include) == 0 {
			include = "none"
		}
	}
	opts, err := engine.ParseSnapshotOptions(runs, include)
	if err != nil {
		return err
	}
	job, err := sj.StartSnapshot(c.UserContext(), req.Name, opts)
	return jobStarted(c, job, err)
}

// runsField reads "runs" as a string or a list of strings.
func runsField(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", engine.Errorf(engine.BadRequest, "runs must be \"latest\", \"all\" or a list of run ids.")
	}
	return strings.Join(list, ","), nil
}

// handleSnapshotList answers GET /api/snapshots with {"items":[...]}.
func (s *Server) handleSnapshotList(c *fiber.Ctx) error {
	se, err := s.snapshots()
	if err != nil {
		return err
	}
	items, err := se.Snapshots(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// handleSnapshotGet answers GET /api/snapshots/{name}: the file a snapshot
// job wrote.
func (s *Server) handleSnapshotGet(c *fiber.Ctx) error {
	se, err := s.snapshots()
	if err != nil {
		return err
	}
	f, err := se.OpenSnapshotFile(param(c, "name"))
	if err != nil {
		return err
	}
	return s.sendSnapshot(c, f)
}

// handleSchema answers GET /api/schema: the catalog grouped for the
// console's schema browser, {"schemas":[{"name","description","tables":
// [{"schema","name","kind","dataset","description","columns":[{"name",
// "type","unit","description"}]}]}]}.
func (s *Server) handleSchema(c *fiber.Ctx) error {
	cat, err := s.eng.Catalog(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(cat)
}
