package api

import (
	"context"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
	"github.com/exohunter/exohunter/engine/spec"
)

// datasetImport is the JSON body of POST /api/datasets: exactly one of URL
// (s3://, gs://, https://) and NASA (an archive table name).
type datasetImport struct {
	URL     string            `json:"url"`
	NASA    string            `json:"nasa"`
	Where   string            `json:"where"`
	Select  string            `json:"select"`
	Name    string            `json:"name"`
	Mission string            `json:"mission"`
	Units   map[string]string `json:"units"`
}

// handleDatasetList answers GET /api/datasets: {"items":[dataset...]}.
func (s *Server) handleDatasetList(c *fiber.Ctx) error {
	list, err := s.eng.Datasets(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": list})
}

// handleDatasetCreate answers POST /api/datasets: a multipart upload or a
// JSON import. 201 with the new dataset; 200 with the existing one and
// duplicate_of when these bytes are already stored.
func (s *Server) handleDatasetCreate(c *fiber.Ctx) error {
	ds, err := s.ingest(c)
	if err != nil {
		return err
	}
	return renderIngested(c, ds)
}

// ingest dispatches on the request's content type.
func (s *Server) ingest(c *fiber.Ctx) (*engine.Dataset, error) {
	mt, params, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	switch mt {
	case fiber.MIMEMultipartForm:
		return s.ingestUpload(c, params["boundary"])
	case fiber.MIMEApplicationJSON, "":
		if mt == "" && c.Request().Header.ContentLength() == 0 {
			// note: most often a form whose file was never attached; the
			// JSON form is the other way, not the one to suggest first.
			return nil, engine.Errorf(engine.BadRequest, "The request has no body: %s takes the catalog as multipart/form-data in the field \"file\" (curl -F file=@catalog.csv), or a JSON body {\"url\": ...} or {\"nasa\": ...}.", c.Method()+" "+c.Path())
		}
		var body datasetImport
		if err := readJSON(c, s.cfg.BodyLimit, &body, true); err != nil {
			return nil, err
		}
		return s.ingestImport(c.UserContext(), body)
	}
	return nil, fiber.NewError(fiber.StatusUnsupportedMediaType,
		"Send a catalog as multipart/form-data (field \"file\") or a JSON body {\"url\": ...} or {\"nasa\": ...}.")
}

// ingestImport runs a URL or NASA import.
func (s *Server) ingestImport(ctx context.Context, body datasetImport) (*engine.Dataset, error) {
	in := engine.IngestInput{Name: body.Name, Mission: body.Mission, Units: body.Units}
	ctx, cancel := context.WithTimeout(ctx, ingestTimeout)
	defer cancel()
	switch {
	case body.URL != "" && body.NASA != "":
		return nil, engine.Errorf(engine.BadRequest, "Give either \"url\" or \"nasa\", not both.")
	case body.URL != "":
		if body.Where != "" || body.Select != "" {
			return nil, engine.Errorf(engine.BadRequest, "\"where\" and \"select\" apply to NASA imports only.")
		}
		in.URL = strings.TrimSpace(body.URL)
		return s.eng.Ingest(ctx, in)
	case body.NASA != "":
		q := engine.NASAQuery{Table: body.NASA, Where: body.Where, Select: body.Select}
		return s.eng.IngestNASA(ctx, q, in)
	}
	return nil, engine.Errorf(engine.BadRequest, "The JSON body needs \"url\" (s3://, gs:// or https://) or \"nasa\" (one of %s).",
		strings.Join(engine.NASATables, ", "))
}

// renderIngested answers 201 for a new dataset, 200 for a duplicate.
func renderIngested(c *fiber.Ctx, ds *engine.Dataset) error {
	if ds.DuplicateOf != "" {
		return c.Status(fiber.StatusOK).JSON(ds)
	}
	return created(c, ds)
}

// datasetDetail is GET /api/datasets/{name}: the dataset plus a
// dictionary of its source columns.
type datasetDetail struct {
	*engine.Dataset
	Dictionary []columnEntry `json:"dictionary"`
}

// columnEntry describes one source column: its NASA header label and
// unit when the file had a # block, and the canonical column it maps to
// with that column's unit and description from the data dictionary.
type columnEntry struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Label         string `json:"label,omitempty"`
	Unit          string `json:"unit,omitempty"`
	Canonical     string `json:"canonical,omitempty"`
	CanonicalUnit string `json:"canonical_unit,omitempty"`
	Description   string `json:"description,omitempty"`
	Status        string `json:"status,omitempty"`
}

// handleDatasetGet answers GET /api/datasets/{name}.
func (s *Server) handleDatasetGet(c *fiber.Ctx) error {
	ds, err := s.eng.Dataset(c.UserContext(), param(c, "name"))
	if err != nil {
		return err
	}
	return c.JSON(datasetDetail{Dataset: ds, Dictionary: columnDictionary(ds, s.eng.Bundle())})
}

// columnDictionary joins a dataset's columns with its mapping report, its
// NASA header and the spec's canonical columns.
func columnDictionary(ds *engine.Dataset, b *spec.Bundle) []columnEntry {
	bySource := map[string]int{}
	for i, m := range ds.Mapping {
		if _, seen := bySource[m.Source]; !seen || m.Status == "mapped" {
			bySource[m.Source] = i
		}
	}
	out := make([]columnEntry, 0, len(ds.Columns))
	for _, col := range ds.Columns {
		e := columnEntry{Name: col.Name, Type: col.Type}
		if h, ok := ds.NASAHeader.Column(col.Name); ok {
			e.Label, e.Unit, e.Description = h.Label, h.Unit, h.Label
		}
		if i, ok := bySource[col.Name]; ok {
			m := ds.Mapping[i]
			e.Canonical, e.Status = m.Canonical, m.Status
			if b != nil && b.Columns != nil {
				if sc, ok := b.Columns.Column(m.Canonical); ok {
					e.CanonicalUnit = sc.Unit
					if sc.Description != "" {
						e.Description = sc.Description
					}
				}
			}
		}
		out = append(out, e)
	}
	return out
}

// handleDatasetDelete answers DELETE /api/datasets/{name} with 204.
func (s *Server) handleDatasetDelete(c *fiber.Ctx) error {
	if err := s.eng.DeleteDataset(c.UserContext(), param(c, "name")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
