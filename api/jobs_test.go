package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exohunter/exohunter/engine"
)

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	name string
	job  engine.Job
}

// readEvents reads an SSE stream until it ends, sending each event.
func readEvents(t *testing.T, res *http.Response, out chan<- sseEvent) {
	defer close(out)
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.job); err != nil {
				t.Errorf("event data: %v", err)
			}
		case line == "" && ev.name != "":
			out <- ev
			ev = sseEvent{}
		}
	}
}

// openEvents connects to a job's event stream.
func openEvents(t *testing.T, base, jobID string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/jobs/"+jobID+"/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		t.Fatalf("events: status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("events: Content-Type %q", ct)
	}
	events := make(chan sseEvent, 64)
	go readEvents(t, res, events)
	return res, events
}

// TestJobEvents follows a job step by step: the stream opens with the
// current state, carries each update, ends with "complete", then closes.
func TestJobEvents(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	base := env.MustListen(t)
	step := make(chan struct{})
	job, err := env.jobs.Start(context.Background(), "test", func(ctx context.Context, report func(float64, string)) (any, error) {
		<-step
		report(0.25, "first quarter")
		<-step
		report(0.5, "half way")
		<-step
		return map[string]int{"answer": 42}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, events := openEvents(t, base, job.ID)
	next := func() sseEvent {
		t.Helper()
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended early")
			}
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10 s")
		}
		return sseEvent{}
	}
	first := next()
	if first.name != "progress" || first.job.ID != job.ID || first.job.Done() {
		t.Fatalf("first event %+v, want the running job", first)
	}
	for _, want := range []struct {
		progress float64
		message  string
	}{{0.25, "first quarter"}, {0.5, "half way"}} {
		step <- struct{}{}
		ev := next()
		for ev.job.Progress < want.progress && ev.name == "progress" {
			ev = next() // note: the queued→running update may come first
		}
		if ev.name != "progress" || ev.job.Progress != want.progress || ev.job.Message != want.message {
			t.Fatalf("event %s %+v, want progress %v %q", ev.name, ev.job, want.progress, want.message)
		}
	}
	step <- struct{}{}
	last := next()
	if last.name != "complete" || last.job.Status != engine.JobComplete || string(last.job.Result) != `{"answer":42}` {
		t.Fatalf("last event %s %+v", last.name, last.job)
	}
	select {
	case ev, ok := <-events:
		if ok {
			t.Fatalf("event after the end: %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end with the job")
	}
	env.run(t, []scenario{
		{name: "recorded", method: "GET", url: "/api/jobs/" + job.ID, wantStatus: 200,
			wantContains: []string{`"status":"complete"`, `"result":{"answer":42}`}},
		{name: "ended: the final event, then the end", method: "GET", url: "/api/jobs/" + job.ID + "/events", wantStatus: 200,
			wantContains: []string{"id: 1\nevent: complete\ndata: {", `"status":"complete"`, `"result":{"answer":42}`},
			wantHeader:   map[string]string{"Content-Type": "text/event-stream"}},
		{name: "unknown job", method: "GET", url: "/api/jobs/nope/events", wantStatus: 404},
	})
}

// TestJobEvents_Failed ends a stream with "failed" and the error.
func TestJobEvents_Failed(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	base := env.MustListen(t)
	step := make(chan struct{})
	job, err := env.jobs.Start(context.Background(), "test", func(ctx context.Context, report func(float64, string)) (any, error) {
		<-step
		return nil, engine.Errorf(engine.BadRequest, "The file could not be read to the end.")
	})
	if err != nil {
		t.Fatal(err)
	}
	_, events := openEvents(t, base, job.ID)
	<-events
	close(step)
	var last sseEvent
	for ev := range events {
		last = ev
	}
	if last.name != "failed" || last.job.Error == nil || last.job.Error.Code != engine.BadRequest || last.job.Message != "The file could not be read to the end." {
		t.Fatalf("last event %s %+v", last.name, last.job)
	}
	// note: a listener that comes after the end gets the same final event.
	_, late := openEvents(t, base, job.ID)
	var got []sseEvent
	for ev := range late {
		got = append(got, ev)
	}
	if len(got) != 1 || got[0].name != "failed" || got[0].job.Message != last.job.Message {
		t.Errorf("late listener got %+v", got)
	}
}

// TestJobEvents_Run follows a real run of the KOI catalog through the API.
func TestJobEvents_Run(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the 9,564-row KOI catalog")
	}
	t.Parallel()
	env := MustEnv(t, withConfig(func(c *Config) { c.RunWait = time.Nanosecond }))
	env.MustIngest(t, filepath.Join(sharedData, "koi_cumulative_2025.csv"), "koi")
	base := env.MustListen(t)
	res, body := env.do(t, "POST", "/api/datasets/koi/runs", `{"albedo":0.3}`, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %d %s", res.StatusCode, body)
	}
	var start engine.RunStart
	mustJSON(t, body, &start)
	_, events := openEvents(t, base, start.JobID)
	var names []string
	var last sseEvent
	for ev := range events {
		names = append(names, ev.name)
		last = ev
	}
	if last.name != "complete" || len(names) < 2 {
		t.Fatalf("events %v, last %+v", names, last.job)
	}
	var run engine.Run
	if err := json.Unmarshal(last.job.Result, &run); err != nil || run.Rows != 9564 || run.RunID != start.RunID {
		t.Errorf("result %s (%v)", last.job.Result, err)
	}
}

// TestJobs_CloseCancels checks shutdown: running jobs are cancelled, end
// as failed, and new ones are refused.
func TestJobs_CloseCancels(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	started := make(chan struct{})
	job, err := env.jobs.Start(context.Background(), "test", func(ctx context.Context, _ func(float64, string)) (any, error) {
		close(started)
		<-ctx.Done()
		return nil, engine.Wrap(engine.Timeout, ctx.Err(), "The job was stopped by a shutdown.")
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env.jobs.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := env.jobs.Get(ctx, job.ID)
	if err != nil || got.Status != engine.JobFailed {
		t.Fatalf("job after Close: %+v %v", got, err)
	}
	_, err = env.jobs.Start(ctx, "test", func(context.Context, func(float64, string)) (any, error) { return nil, nil })
	if engine.ErrorCode(err) != engine.Conflict {
		t.Errorf("Start after Close: %v, want a conflict", err)
	}
}

// TestJobs_listAndCancel: GET /api/jobs lists the running job first and
// filters by status; DELETE /api/jobs/{id} (a write: token required)
// cancels it, answering the job failed with the code cancelled; an ended
// job is a 409 and an unknown one a 404. Before, the 429 for too many jobs
// pointed to GET /api/jobs, which was a 404, and a job could not be
// cancelled (405).
func TestJobs_listAndCancel(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withToken("tok"))
	ctx := context.Background()
	started := make(chan struct{})
	job, err := env.jobs.Start(ctx, engine.JobKindTrain, func(ctx context.Context, report func(float64, string)) (any, error) {
		report(0.25, "fold 1 of 5")
		close(started)
		<-ctx.Done()
		return nil, engine.Wrap(engine.Timeout, ctx.Err(), "Training was cancelled; no model was written.")
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	env.vars["job"] = job.ID
	auth := map[string]string{"Authorization": "Bearer tok"}
	env.run(t, []scenario{
		{name: "list", method: "GET", url: "/api/jobs", wantStatus: 200,
			wantContains: []string{`{"items":[{"id":"{job}","kind":"train","status":"running","progress":0.25,"message":"fold 1 of 5","result":null`}},
		{name: "list running", method: "GET", url: "/api/jobs?status=running&limit=5", wantStatus: 200, wantContains: []string{`"id":"{job}"`}},
		{name: "list failed", method: "GET", url: "/api/jobs?status=failed", wantStatus: 200, wantContains: []string{`{"items":[]}`}},
		{name: "bad status", method: "GET", url: "/api/jobs?status=done", wantStatus: 400, wantContains: []string{"Unknown job status"}},
		{name: "bad limit", method: "GET", url: "/api/jobs?limit=0", wantStatus: 400, wantContains: []string{"limit"}},
		{name: "cancel without the token", method: "DELETE", url: "/api/jobs/{job}", wantStatus: 401},
		{name: "cancel", method: "DELETE", url: "/api/jobs/{job}", header: auth, wantStatus: 200,
			wantContains: []string{`"status":"failed"`, `"error":{"code":"cancelled","message":"Cancelled by DELETE /api/jobs/{job}. Training was cancelled; no model was written."}`}},
		{name: "get cancelled", method: "GET", url: "/api/jobs/{job}", wantStatus: 200, wantContains: []string{`"code":"cancelled"`}},
		{name: "cancel again", method: "DELETE", url: "/api/jobs/{job}", header: auth, wantStatus: 409, wantContains: []string{"has already ended (failed)"}},
		{name: "cancel unknown", method: "DELETE", url: "/api/jobs/job-nope", header: auth, wantStatus: 404},
		{name: "list after", method: "GET", url: "/api/jobs?status=failed", wantStatus: 200, wantContains: []string{`"id":"{job}"`, `"code":"cancelled"`}},
	})
}
