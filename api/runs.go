package api

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// runRequest is the body of POST /api/datasets/{name}/runs (Contracts):
// {"thresholds":{"planet_radius.rocky_max":2.2},"albedo":0.3}.
type runRequest struct {
	Thresholds map[string]json.RawMessage `json:"thresholds"`
	Albedo     *float64                   `json:"albedo"`
}

// handleRunCreate answers POST /api/datasets/{name}/runs with
// {run_id, job_id, status}: 201 when the run already ended (small inputs),
// 202 while its job still runs.
func (s *Server) handleRunCreate(c *fiber.Ctx) error {
	in, err := s.bindRun(c)
	if err != nil {
		return err
	}
	start, err := s.jobs.StartRun(c.UserContext(), in, s.cfg.RunWait)
	if err != nil {
		return err
	}
	status := fiber.StatusAccepted
	if start.Status == engine.RunComplete || start.Status == engine.RunFailed {
		status = fiber.StatusCreated
	}
	c.Location("/api/runs/" + start.RunID)
	return c.Status(status).JSON(start)
}

// bindRun reads the run request. An empty body means the defaults.
func (s *Server) bindRun(c *fiber.Ctx) (engine.ProcessInput, error) {
	in := engine.ProcessInput{Dataset: param(c, "name")}
	if c.Request().Header.ContentLength() == 0 {
		return in, nil
	}
	var req runRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req, true); err != nil {
		return in, err
	}
	over, err := thresholdOverrides(req.Thresholds)
	if err != nil {
		return in, err
	}
	in.Overrides, in.Albedo = over, req.Albedo
	return in, nil
}

// thresholdOverrides checks that every override is a JSON number and turns
// them into the engine's text form. The engine refuses unknown keys.
func thresholdOverrides(raw map[string]json.RawMessage) (map[string]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(raw))
	var bad []engine.Detail
	for _, k := range keys {
		// note: json.Unmarshal takes null as "leave f alone", which would
		// set the threshold to 0 without a word.
		var f float64
		if err := json.Unmarshal(raw[k], &f); err != nil || strings.TrimSpace(string(raw[k])) == "null" {
			bad = append(bad, engine.Detail{Field: "thresholds." + k, Message: "must be a number, not " + string(raw[k])})
			continue
		}
		out[k] = strconv.FormatFloat(f, 'g', -1, 64)
	}
	if len(bad) > 0 {
		return nil, &engine.Error{Code: engine.BadRequest, Details: bad,
			Msg: "Threshold overrides must be numbers: " + bad[0].Field + " " + bad[0].Message + "."}
	}
	return out, nil
}

// handleRunList answers GET /api/runs[?dataset=D]: {"items":[run...]}.
func (s *Server) handleRunList(c *fiber.Ctx) error {
	runs, err := s.eng.Runs(c.UserContext(), c.Query("dataset"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": runs})
}

// handleRunGet answers GET /api/runs/{id}.
func (s *Server) handleRunGet(c *fiber.Ctx) error {
	run, err := s.eng.Run(c.UserContext(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(run)
}
