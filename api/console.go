package api

import (
	"fmt"
	"io"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// handleConsoleQuery answers POST /api/query ({"sql","limit","timeout_ms",
// "query_id"}) and GET /api/query?sql=&limit=&timeout_ms=&query_id= with
// {"columns","rows","truncated","elapsed_ms","query_id"}; with
// ?format=csv|ndjson|parquet it streams the full result as a download. The engine
// enforces read-only, the row and byte caps and the deadline; a query
// cancelled with DELETE /api/query/{id} answers 409, one that found every
// console connection busy for its whole time limit 429.
func (s *Server) handleConsoleQuery(c *fiber.Ctx) error {
	req, err := s.bindConsole(c)
	if err != nil {
		return err
	}
	if f := c.Query("format"); f != "" {
		return s.consoleDownload(c, req, f)
	}
	res, err := s.console.Query(c.UserContext(), req)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// bindConsole reads a console request from the JSON body (POST) or the
// query string (GET).
func (s *Server) bindConsole(c *fiber.Ctx) (engine.ConsoleRequest, error) {
	var req engine.ConsoleRequest
	if c.Method() == fiber.MethodPost {
		if err := readJSON(c, s.cfg.BodyLimit, &req, true); err != nil {
			return req, err
		}
	} else {
		req.SQL, req.QueryID = c.Query("sql"), c.Query("query_id")
		var err error
		if req.Limit, err = queryInt(c, "limit", 0, 0, 1<<30); err != nil {
			return req, err
		}
		if req.TimeoutMS, err = queryInt(c, "timeout_ms", 0, 0, 1<<30); err != nil {
			return req, err
		}
	}
	if req.SQL == "" {
		return req, engine.Errorf(engine.BadRequest, "The query is empty: send {\"sql\": \"SELECT ...\"} or ?sql=SELECT ...")
	}
	return req, nil
}

// handleConsoleCancel answers DELETE /api/query/{id}: 204 when a running
// query was cancelled, 404 when no query with that id is running.
func (s *Server) handleConsoleCancel(c *fiber.Ctx) error {
	id := param(c, "id")
	if !s.console.Cancel(id) {
		return engine.Errorf(engine.NotFound, "No console query with query_id %s is running.", strconv.Quote(id))
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// consoleDownload answers ?format=csv|ndjson|parquet: the query's full
// result (up to the download row cap) as a file. The engine spools it first,
// so every error still gets a status; the file then streams with its
// length. CSV text cells are neutralised for spreadsheets unless
// spreadsheet_safe=false.
func (s *Server) consoleDownload(c *fiber.Ctx, req engine.ConsoleRequest, format string) error {
	safe, err := boolQuery(c, "spreadsheet_safe", true)
	if err != nil {
		return err
	}
	d, err := s.console.Download(c.UserContext(), engine.ConsoleDownloadRequest{
		ConsoleRequest: req, Format: format, SpreadsheetSafe: safe,
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, d.ContentType)
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", d.Filename))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Query-Id", d.QueryID)
	c.Set("X-Rows", strconv.FormatInt(d.Rows, 10))
	c.Set("X-Truncated", d.TruncatedBy)
	pr, pw := io.Pipe()
	go func() {
		_, err := d.WriteTo(pw)
		_ = pw.CloseWithError(err)
		_ = d.Close()
	}()
	// note: fasthttp closes the pipe when the response ends or the client
	// goes away; the writer then stops and the spooled file is removed.
	c.Context().SetBodyStream(&deadlineReader{ReadCloser: pr, conn: c.Context().Conn(), idle: s.cfg.StreamIdleTimeout}, int(d.Size))
	return nil
}
