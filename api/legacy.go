package api

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// The prototype's routes, mapped onto datasets and runs so that old scripts
// keep working. A file_id is a dataset name. Paths are relative to the data
// dir. Documented as legacy in the README and the OpenAPI document.

// legacyEngine is the "engine" every legacy answer names.
const legacyEngine = "duckdb"

// legacyLatestRows caps GET /api/result/latest (the prototype returned the
// whole result; a KOI run is about 9,600 rows).
const legacyLatestRows = engine.MaxResultsLimit

// legacyUpload is the prototype's upload answer.
type legacyUpload struct {
	FileID          string           `json:"file_id"`
	Path            string           `json:"path"`
	OriginalName    string           `json:"original_name"`
	DetectedColumns []legacyDetected `json:"detected_columns"`
	Engine          string           `json:"engine"`
	Rows            int64            `json:"rows"`
	Mission         string           `json:"mission"`
	CreatedAt       time.Time        `json:"created_at"`
	DuplicateOf     string           `json:"duplicate_of,omitempty"`
}

// legacyDetected is one source column and where it maps.
type legacyDetected struct {
	Detected string  `json:"detected"`
	MappedTo *string `json:"mapped_to"`
	Status   string  `json:"status"`
}

// toLegacyUpload converts a dataset.
func toLegacyUpload(ds *engine.Dataset) legacyUpload {
	out := legacyUpload{FileID: ds.Name, Path: ds.Path, OriginalName: ds.OriginalName, Engine: legacyEngine,
		Rows: ds.Rows, Mission: ds.Mission, CreatedAt: ds.CreatedAt, DuplicateOf: ds.DuplicateOf,
		DetectedColumns: make([]legacyDetected, 0, len(ds.Mapping))}
	for _, m := range ds.Mapping {
		d := legacyDetected{Detected: m.Source, Status: m.Status}
		if m.Canonical != "" {
			canon := m.Canonical
			d.MappedTo = &canon
		}
		out.DetectedColumns = append(out.DetectedColumns, d)
	}
	return out
}

// handleLegacyUpload answers POST /api/upload (multipart "file" or JSON
// {"url"}) with 200 and the prototype's shape.
func (s *Server) handleLegacyUpload(c *fiber.Ctx) error {
	ds, err := s.ingest(c)
	if err != nil {
		return err
	}
	return c.JSON(toLegacyUpload(ds))
}

// handleLegacyUploadIndex answers GET /api/upload/index: {"files":[...]}.
func (s *Server) handleLegacyUploadIndex(c *fiber.Ctx) error {
	list, err := s.eng.Datasets(c.UserContext())
	if err != nil {
		return err
	}
	files := make([]legacyUpload, len(list))
	for i, ds := range list {
		files[i] = toLegacyUpload(ds)
	}
	return c.JSON(fiber.Map{"files": files})
}

// handleLegacyUploadMeta answers GET /api/upload/{file_id}/meta.
func (s *Server) handleLegacyUploadMeta(c *fiber.Ctx) error {
	ds, err := s.eng.Dataset(c.UserContext(), param(c, "file_id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"upload": toLegacyUpload(ds), "columns": ds.Columns, "mapping": ds.Mapping,
		"file_id": ds.Name, "engine": legacyEngine})
}

// legacyProcessRequest is the prototype's POST /api/process body.
type legacyProcessRequest struct {
	FileID      string `json:"file_id"`
	Assumptions struct {
		Albedo *float64 `json:"albedo"`
	} `json:"assumptions"`
	Options struct {
		// AutoDerive is accepted and always on: missing values are derived.
		AutoDerive *bool `json:"auto_derive"`
	} `json:"options"`
}

// handleLegacyProcess answers POST /api/process: a synchronous run that
// also writes outputs/<run_id>.csv and .json, with
// {csv_path, json_path, rows, engine, run_id}.
func (s *Server) handleLegacyProcess(c *fiber.Ctx) error {
	var req legacyProcessRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req, false); err != nil {
		return err
	}
	if req.FileID == "" {
		return engine.Errorf(engine.BadRequest, "The body needs \"file_id\": the name returned by /api/upload.")
	}
	ctx := c.UserContext()
	run, err := s.eng.Process(ctx, engine.ProcessInput{Dataset: req.FileID, Albedo: req.Assumptions.Albedo})
	if err != nil {
		return err
	}
	paths := map[engine.ExportFormat]string{}
	for _, f := range []engine.ExportFormat{engine.CSV, engine.JSON} {
		rel := engine.DirOutputs + "/" + run.RunID + "." + string(f)
		if err := s.writeExport(ctx, run.RunID, f, filepath.Join(s.eng.DataDir(), filepath.FromSlash(rel))); err != nil {
			return err
		}
		paths[f] = rel
	}
	return c.JSON(fiber.Map{"csv_path": paths[engine.CSV], "json_path": paths[engine.JSON], "rows": run.Rows,
		"engine": legacyEngine, "run_id": run.RunID})
}

// writeExport writes a whole run to path (under DATA/outputs).
func (s *Server) writeExport(ctx context.Context, runID string, f engine.ExportFormat, path string) (err error) {
	x, err := s.eng.OpenRunExport(ctx, runID, f, engine.ResultsQuery{})
	if err != nil {
		return err
	}
	defer x.Close()
	out, err := os.Create(path)
	if err != nil {
		return engine.Wrap(engine.Internal, err, "Cannot write %s", filepath.Base(path))
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	_, err = out.ReadFrom(x)
	return err
}

// latestRun is the newest complete run of any dataset, or NotFound.
func (s *Server) latestRun(ctx context.Context) (*engine.Run, error) {
	runs, err := s.eng.Runs(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if r.Status == engine.RunComplete {
			return r, nil
		}
	}
	return nil, engine.Errorf(engine.NotFound, "There is no complete run yet: upload a catalog and process it first.")
}

// handleLegacyResultLatest answers GET /api/result/latest:
// {"rows":[...],"timestamp",...} of the newest complete run. It takes the
// filters of GET /api/runs/{id}/results, checked the same way (a filter
// that was ignored would answer every row as if it matched).
func (s *Server) handleLegacyResultLatest(c *fiber.Ctx) error {
	ctx := c.UserContext()
	q, err := resultsQuery(c, "")
	if err != nil {
		return err
	}
	run, err := s.latestRun(ctx)
	if err != nil {
		return err
	}
	q.RunID = run.RunID
	if q.Limit == 0 {
		q.Limit = legacyLatestRows
	}
	page, err := s.eng.Results(ctx, q)
	if err != nil {
		return err
	}
	ts := run.CreatedAt
	if run.FinishedAt != nil {
		ts = *run.FinishedAt
	}
	return c.JSON(fiber.Map{"rows": page.Rows, "timestamp": ts, "run_id": run.RunID, "dataset": run.Dataset,
		"total": page.Total, "truncated": page.NextCursor != nil, "engine": legacyEngine})
}

// legacyFile is one file of DATA/outputs.
type legacyFile struct {
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	Bytes    int64     `json:"bytes"`
	Modified time.Time `json:"modified"`
}

// handleLegacyResultFiles answers GET /api/result/files: the export files
// written under DATA/outputs, newest first.
func (s *Server) handleLegacyResultFiles(c *fiber.Ctx) error {
	dir := filepath.Join(s.eng.DataDir(), engine.DirOutputs)
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	files := []legacyFile{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		files = append(files, legacyFile{Name: e.Name(), Path: engine.DirOutputs + "/" + e.Name(),
			Bytes: info.Size(), Modified: info.ModTime().UTC()})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Modified.After(files[j].Modified) })
	return c.JSON(fiber.Map{"files": files})
}

// handleLegacyDownload answers GET /api/result/download/{csv|json}: the
// newest complete run, streamed.
func (s *Server) handleLegacyDownload(c *fiber.Ctx) error {
	f := engine.ExportFormat(param(c, "format"))
	if f != engine.CSV && f != engine.JSON {
		return engine.Errorf(engine.BadRequest, "Legacy downloads are csv or json; /api/runs/{id}/export offers every format.")
	}
	run, err := s.latestRun(c.UserContext())
	if err != nil {
		return err
	}
	x, err := s.eng.OpenRunExport(c.UserContext(), run.RunID, f, engine.ResultsQuery{})
	if err != nil {
		return err
	}
	return s.sendFile(c, x)
}
