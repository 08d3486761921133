package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// handleConsoleQuery answers POST /api/query ({"sql","limit","timeout_ms",
// "query_id"}) and GET /api/query?sql=&limit=&timeout_ms=&query_id= with
// {"columns","rows","truncated","elapsed_ms","query_id"}. The engine
// enforces read-only, the row and byte caps and the deadline; a query
// cancelled with DELETE /api/query/{id} answers 400.
func (s *Server) handleConsoleQuery(c *fiber.Ctx) error {
	req, err := s.bindConsole(c)
	if err != nil {
		return err
	}
	if f := c.Query("format"); f != "" {
		return engine.Errorf(engine.BadRequest, "Downloads (format=%s) are not available on this server yet; run the query without format.", f)
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
