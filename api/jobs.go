package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/exohunter/exohunter/engine"
)

// ssePing is how often an idle event stream sends a comment line, so that
// proxies keep it open and a gone client is noticed.
const ssePing = 15 * time.Second

// handleJobGet answers GET /api/jobs/{id}.
func (s *Server) handleJobGet(c *fiber.Ctx) error {
	job, err := s.jobs.Get(c.UserContext(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(job)
}

// handleJobEvents answers GET /api/jobs/{id}/events with Server-Sent
// Events while the job runs: one "progress" event per update (data: the
// job as GET /api/jobs/{id} shows it), then one "complete" or "failed"
// event, and the stream ends. A job that has already ended is a 409: its
// state is at GET /api/jobs/{id}.
func (s *Server) handleJobEvents(c *fiber.Ctx) error {
	updates, stop, err := s.jobs.Subscribe(c.UserContext(), param(c, "id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	conn, idle := c.Context().Conn(), s.cfg.StreamIdleTimeout
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer stop()
		streamJob(w, updates, func() { extendWrite(conn, idle) })
	})
	return nil
}

// streamJob writes job updates as SSE until the job ends or the client
// goes away (a failed flush). beforeWrite extends the write deadline.
func streamJob(w *bufio.Writer, updates <-chan engine.Job, beforeWrite func()) {
	ping := time.NewTicker(ssePing)
	defer ping.Stop()
	seq := 0
	for {
		select {
		case job, ok := <-updates:
			if !ok {
				return
			}
			seq++
			beforeWrite()
			if writeEvent(w, seq, job) != nil {
				return
			}
		case <-ping.C:
			beforeWrite()
			if _, err := w.WriteString(": ping\n\n"); err != nil || w.Flush() != nil {
				return
			}
		}
	}
}

// writeEvent writes one SSE event and flushes it.
func writeEvent(w *bufio.Writer, seq int, job engine.Job) error {
	name := "progress"
	if job.Done() {
		name = job.Status
	}
	data, err := json.Marshal(job)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", seq, name, data); err != nil {
		return err
	}
	return w.Flush()
}

// extendWrite pushes a streaming response's write deadline forward: the
// server's WriteTimeout would otherwise cut every long stream.
func extendWrite(conn net.Conn, idle time.Duration) {
	if conn != nil {
		_ = conn.SetWriteDeadline(time.Now().Add(idle))
	}
}
