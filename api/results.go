package api

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// exportTimeout bounds writing an export file (DuckDB's COPY); streaming
// it afterwards is bounded by Config.StreamIdleTimeout between writes.
const exportTimeout = 15 * time.Minute

// resultsQuery parses the result filters of the request's query string
// (engine.ParseResultsQuery documents them). Unknown parameters and
// operators are a 400 naming each.
func resultsQuery(c *fiber.Ctx, runID string) (engine.ResultsQuery, error) {
	v, err := queryValues(c)
	if err != nil {
		return engine.ResultsQuery{}, err
	}
	return engine.ParseResultsQuery(runID, v)
}

// handleResults answers GET /api/runs/{id}/results with
// {"rows","total","next_cursor","columns"}.
func (s *Server) handleResults(c *fiber.Ctx) error {
	q, err := resultsQuery(c, param(c, "id"))
	if err != nil {
		return err
	}
	page, err := s.eng.Results(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// handleResultRow answers GET /api/runs/{id}/results/{object_id}: every
// row of the object with every column, and the provenance of derived
// values.
func (s *Server) handleResultRow(c *fiber.Ctx) error {
	obj, err := s.eng.ResultRow(c.UserContext(), param(c, "id"), param(c, "object_id"))
	if err != nil {
		return err
	}
	return c.JSON(obj)
}

// handlePoints answers GET /api/runs/{id}/points?x=&y=&limit= plus the
// result filters: the dashboard's scatter data, sampled beyond the limit.
func (s *Server) handlePoints(c *fiber.Ctx) error {
	id := param(c, "id")
	q, err := resultsQuery(c, id)
	if err != nil {
		return err
	}
	limit := q.Limit
	q.Limit = 0 // note: limit is the point budget here, not a page size
	page, err := s.eng.Points(c.UserContext(), id, c.Query("x", "koi_period"), c.Query("y", "koi_prad"), q, limit)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// handleExport answers GET /api/runs/{id}/export?format=csv|json|ndjson|
// parquet with the same filters as the results (and sort; paging does not
// apply). The engine writes the file with DuckDB first, so errors still
// get a status; the file then streams from disk with its length.
func (s *Server) handleExport(c *fiber.Ctx) error {
	id := param(c, "id")
	f, err := engine.ParseExportFormat(c.Query("format", string(engine.CSV)))
	if err != nil {
		return err
	}
	q, err := resultsQuery(c, id)
	if err != nil {
		return err
	}
	for _, k := range []string{"limit", "offset", "cursor"} {
		if c.Context().QueryArgs().Has(k) {
			return engine.ExportPagingError(k)
		}
	}
	x, err := s.eng.OpenRunExport(c.UserContext(), id, f, q)
	if err != nil {
		return err
	}
	return s.sendFile(c, x)
}

// sendFile streams an export with its download headers (STYLE rule 32),
// extending the write deadline as long as bytes move; fasthttp closes the
// file when the response is done or the client goes away.
func (s *Server) sendFile(c *fiber.Ctx, x *engine.ExportFile) error {
	c.Set(fiber.HeaderContentType, x.Format.ContentType())
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", x.Name))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	body := &deadlineReader{ReadCloser: x, conn: c.Context().Conn(), idle: s.cfg.StreamIdleTimeout}
	c.Context().SetBodyStream(body, int(x.Size))
	return nil
}

// deadlineReader extends the connection's write deadline each time the
// server reads the next chunk of a streamed response body.
type deadlineReader struct {
	io.ReadCloser
	conn net.Conn
	idle time.Duration
}

// Read implements io.Reader.
func (d *deadlineReader) Read(p []byte) (int, error) {
	extendWrite(d.conn, d.idle)
	return d.ReadCloser.Read(p)
}
