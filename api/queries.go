package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
	"github.com/exohunter/exohunter/engine/spec"
)

// storedOptions are the query-string keys of GET /api/queries/{name} that
// are request options rather than parameters of the stored query.
var storedOptions = map[string]bool{"limit": true, "timeout_ms": true, "query_id": true}

// handleQueryList answers GET /api/queries: every stored query of
// configs/queries.yaml with its documentation, parameters (name, type,
// default, description, min, max, values) and SQL.
func (s *Server) handleQueryList(c *fiber.Ctx) error {
	items := s.eng.StoredQueries()
	if items == nil {
		items = []spec.Query{}
	}
	return c.JSON(fiber.Map{"items": items})
}

// handleQueryRun answers GET /api/queries/{name}?param=value&limit=&
// timeout_ms=&query_id= with the console's result shape (plus "name" and
// the "params" it ran with). Values are bound, never spliced into the SQL;
// an unknown parameter, a bad type or a value out of range is a 400, an
// unknown name a 404.
func (s *Server) handleQueryRun(c *fiber.Ctx) error {
	v, err := queryValues(c)
	if err != nil {
		return err
	}
	req := engine.StoredRequest{Name: param(c, "name"), Params: map[string]string{}, QueryID: v.Get("query_id")}
	if req.Limit, err = queryInt(c, "limit", 0, 0, 1<<30); err != nil {
		return err
	}
	if req.TimeoutMS, err = queryInt(c, "timeout_ms", 0, 0, 1<<30); err != nil {
		return err
	}
	for k, vals := range v {
		if len(vals) > 1 {
			return engine.Errorf(engine.BadRequest, "Parameter %s is given %d times; give it once.", k, len(vals))
		}
		if !storedOptions[k] && len(vals) > 0 {
			req.Params[k] = vals[0]
		}
	}
	res, err := s.eng.RunStored(c.UserContext(), req)
	if err != nil {
		return err
	}
	return c.JSON(res)
}
