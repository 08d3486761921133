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

// jobCancelWait is how long DELETE /api/jobs/{id} waits for the job to
// stop before answering: a training stops between two boosting rounds, a
// query at once, so most answers carry the ended job.
const jobCancelWait = 5 * time.Second

// jobList is the answer of GET /api/jobs.
type jobList struct {
	Items []engine.Job `json:"items"`
}

// handleJobList answers GET /api/jobs?status=&limit=: the jobs that have
// not ended, newest first, then the most recent ended ones.
func (s *Server) handleJobList(c *fiber.Ctx) error {
	if err := checkQuery(c, "status", "limit"); err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 100, 1, engine.MaxJobsList)
	if err != nil {
		return err
	}
	items, err := s.jobs.List(c.UserContext(), c.Query("status"), limit)
	if err != nil {
		return err
	}
	return c.JSON(jobList{Items: items})
}

// handleJobCancel answers DELETE /api/jobs/{id}: it cancels a queued or
// running job and answers 200 with the job once it has stopped (failed,
// error code cancelled), or 202 with it while it is still stopping. An
// ended job is a 409, an unknown one a 404.
func (s *Server) handleJobCancel(c *fiber.Ctx) error {
	job, err := s.jobs.Cancel(c.UserContext(), param(c, "id"), jobCancelWait)
	if err != nil {
		return err
	}
	if !job.Done() {
		c.Status(fiber.StatusAccepted)
	}
	return c.JSON(job)
}

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
// event, and the stream ends. A job that has already ended answers 200
// with just that final event and closes at once, so a client that lost
// the race with a short job still learns the outcome (and a browser's
// EventSource logs no error); no long-lived stream is opened for it.
func (s *Server) handleJobEvents(c *fiber.Ctx) error {
	id := param(c, "id")
	updates, stop, err := s.jobs.Subscribe(c.UserContext(), id)
	if engine.ErrorCode(err) == engine.Conflict {
		if job, gerr := s.jobs.Get(c.UserContext(), id); gerr == nil && job.Done() {
			updates, stop, err = endedJob(*job), func() {}, nil
		}
	}
	if err != nil {
		return err
	}
	release, err := holdStream(c)
	if err != nil {
		stop()
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	conn, idle := c.Context().Conn(), s.cfg.StreamIdleTimeout
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer release()
		defer stop()
		streamJob(w, updates, func() { extendWrite(conn, idle) })
	})
	return nil
}

// endedJob is the update channel of a job that has already ended: its
// final state, then closed.
func endedJob(job engine.Job) <-chan engine.Job {
	ch := make(chan engine.Job, 1)
	ch <- job
	close(ch)
	return ch
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
