package api

import (
	"math"
	"time"

	"github.com/gofiber/fiber/v2"
)

// handleHealth answers GET /api/health (and the legacy /healthz): the
// process is up. It touches nothing else, so it stays cheap under load.
func (s *Server) handleHealth(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{
		"status":         "ok",
		"version":        s.cfg.Version,
		"uptime_seconds": math.Round(time.Since(s.started).Seconds()),
	})
}

// handleReady answers GET /api/ready: the database answers a query.
// 503 otherwise.
func (s *Server) handleReady(c *fiber.Ctx) error {
	list, err := s.eng.Datasets(c.UserContext())
	if err != nil {
		s.log.Error("readiness check failed", "request_id", requestID(c), "err", err)
		return fiber.NewError(fiber.StatusServiceUnavailable, "The database is not answering.")
	}
	return c.JSON(fiber.Map{"status": "ready", "datasets": len(list)})
}

// handleLegacyPing answers the prototype's GET /api/health/ping.
func (s *Server) handleLegacyPing(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok", "message": "pong"})
}
