package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/exohunter/exohunter/engine"
)

func TestRuns(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withConfig(func(c *Config) { c.RunWait = time.Minute }))
	env.MustIngest(t, tinyKOI, "tiny")

	// note: the run is started through the API; its id feeds the later
	// scenarios.
	res, body := env.do(t, "POST", "/api/datasets/tiny/runs", `{"thresholds":{"planet_radius.rocky_max":2.2},"albedo":0.3}`, nil)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start run: %d %s", res.StatusCode, body)
	}
	var start engine.RunStart
	mustJSON(t, body, &start)
	if start.Status != engine.RunComplete || start.RunID == "" || start.JobID == "" {
		t.Fatalf("start run: %+v, want a complete run with ids", start)
	}
	env.vars["run"], env.vars["job"] = start.RunID, start.JobID

	env.run(t, []scenario{
		{name: "start with defaults (empty body)", method: "POST", url: "/api/datasets/tiny/runs", wantStatus: 201,
			wantContains: []string{`"status":"complete"`, `"run_id":"tiny-`, `"job_id":"job-`}},
		{name: "start unknown dataset", method: "POST", url: "/api/datasets/nope/runs", body: `{}`, wantStatus: 404},
		{name: "start unknown threshold", method: "POST", url: "/api/datasets/tiny/runs", body: `{"thresholds":{"planet_radius.nope":1}}`,
			wantStatus: 400, wantContains: []string{`"field":"planet_radius.nope"`}},
		{name: "start non-number threshold", method: "POST", url: "/api/datasets/tiny/runs", body: `{"thresholds":{"planet_radius.rocky_max":"2.2"}}`,
			wantStatus: 400, wantContains: []string{"must be a number"}},
		{name: "start null threshold", method: "POST", url: "/api/datasets/tiny/runs", body: `{"thresholds":{"planet_radius.rocky_max":null}}`,
			wantStatus: 400, wantContains: []string{"must be a number, not null"}},
		{name: "start bad albedo", method: "POST", url: "/api/datasets/tiny/runs", body: `{"albedo":1.5}`, wantStatus: 400,
			wantContains: []string{"albedo"}},
		{name: "start albedo not a number", method: "POST", url: "/api/datasets/tiny/runs", body: `{"albedo":"high"}`, wantStatus: 400,
			wantContains: []string{`field \"albedo\" must be a JSON number`}},
		{name: "start unknown field", method: "POST", url: "/api/datasets/tiny/runs", body: `{"treshold":{}}`, wantStatus: 400},
		{name: "start body too large", method: "POST", url: "/api/datasets/tiny/runs",
			body: `{"thresholds":{"` + strings.Repeat("x", DefaultBodyLimit) + `":1}}`, wantStatus: 413},

		{name: "list runs", method: "GET", url: "/api/runs", wantStatus: 200, wantContains: []string{`"items":[`, `"run_id":"{run}"`}},
		{name: "list runs of a dataset", method: "GET", url: "/api/runs?dataset=nope", wantStatus: 200, wantContains: []string{`"items":[]`}},
		{name: "get run", method: "GET", url: "/api/runs/{run}", wantStatus: 200,
			wantContains: []string{`"status":"complete"`, `"counts":{`, `"config_hash":`, `"planet_radius.rocky_max":2.2`, `"timings":{`}},
		{name: "get unknown run", method: "GET", url: "/api/runs/nope", wantStatus: 404},

		{name: "results", method: "GET", url: "/api/runs/{run}/results?limit=3", wantStatus: 200,
			wantContains: []string{`"total":8`, `"next_cursor":"`, `"object_id":"K00087.01"`}},
		{name: "results filtered and sorted", method: "GET", url: "/api/runs/{run}/results?disposition=CONFIRMED&koi_prad__lt=3&sort=koi_prad&order=desc&columns=object_id,koi_prad",
			wantStatus: 200, wantContains: []string{`"total":3`, `"next_cursor":null`, `{"object_id":"K00755.01","koi_prad":2.75}`}},
		{name: "results id search", method: "GET", url: "/api/runs/{run}/results?q=k00001", wantStatus: 200, wantContains: []string{`"total":1`}},
		{name: "results unknown column", method: "GET", url: "/api/runs/{run}/results?koi_pradd__lt=3", wantStatus: 400,
			wantContains: []string{"koi_pradd"}},
		{name: "results unknown operator", method: "GET", url: "/api/runs/{run}/results?koi_prad__approx=3", wantStatus: 400,
			wantContains: []string{"approx"}},
		{name: "results unknown parameter", method: "GET", url: "/api/runs/{run}/results?colour=red", wantStatus: 400},
		{name: "results unknown flag", method: "GET", url: "/api/runs/{run}/results?flag=RADIUS_TOO_LARGEE", wantStatus: 400,
			wantContains: []string{`Unknown flag \"RADIUS_TOO_LARGEE\"`, `"field":"flag"`}},
		{name: "results bad limit", method: "GET", url: "/api/runs/{run}/results?limit=-1", wantStatus: 400},
		{name: "results of unknown run", method: "GET", url: "/api/runs/nope/results", wantStatus: 404},

		{name: "one object", method: "GET", url: "/api/runs/{run}/results/K00087.01", wantStatus: 200,
			wantContains: []string{`"object_id":"K00087.01"`, `"provenance":{`, `"koi_sma":"derived"`}},
		{name: "one object with escaped id", method: "GET", url: "/api/runs/{run}/results/K00087%2E01", wantStatus: 200},
		{name: "unknown object", method: "GET", url: "/api/runs/{run}/results/K99999.01", wantStatus: 404},

		{name: "points", method: "GET", url: "/api/runs/{run}/points?x=koi_insol&y=koi_steff", wantStatus: 200,
			wantContains: []string{`"fields":["object_id","x","y","category","hz"]`, `"total":8`, `"sampled":false`}},
		{name: "points on a text column", method: "GET", url: "/api/runs/{run}/points?x=object_id&y=koi_steff", wantStatus: 400},

		{name: "export csv", method: "GET", url: "/api/runs/{run}/export?format=csv", wantStatus: 200,
			wantContains: []string{"object_id", "K00087.01"},
			wantHeader: map[string]string{"Content-Type": "text/csv", "Content-Disposition": `attachment; filename="{run}.csv"`,
				"X-Content-Type-Options": "nosniff"}},
		{name: "export filtered ndjson", method: "GET", url: "/api/runs/{run}/export?format=ndjson&disposition=FALSE_POSITIVE", wantStatus: 200,
			wantContains: []string{`"object_id":"K00754.01"`},
			wantHeader:   map[string]string{"Content-Type": "application/x-ndjson", "Content-Disposition": "-filtered.ndjson"}},
		{name: "export parquet", method: "GET", url: "/api/runs/{run}/export?format=parquet", wantStatus: 200,
			wantContains: []string{"PAR1"}, wantHeader: map[string]string{"Content-Type": "application/vnd.apache.parquet"}},
		{name: "export unknown format", method: "GET", url: "/api/runs/{run}/export?format=xlsx", wantStatus: 400,
			wantContains: []string{"xlsx"}},
		{name: "export unknown column", method: "GET", url: "/api/runs/{run}/export?nope__gt=1", wantStatus: 400},
		{name: "results with a bare percent", method: "GET", url: "/api/runs/{run}/results?q=50%", wantStatus: 400,
			wantContains: []string{"percent-encode", "%25"}},
		{name: "export with a page size", method: "GET", url: "/api/runs/{run}/export?format=csv&limit=1", wantStatus: 400,
			wantContains: []string{`"field":"limit"`, "drop limit"}},
		{name: "export with a zero page size", method: "GET", url: "/api/runs/{run}/export?format=csv&limit=0", wantStatus: 400,
			wantContains: []string{`"field":"limit"`, "drop limit"}},
		{name: "export with a cursor", method: "GET", url: "/api/runs/{run}/export?format=csv&cursor=abc", wantStatus: 400,
			wantContains: []string{`"field":"cursor"`}},
		{name: "export unknown run", method: "GET", url: "/api/runs/nope/export", wantStatus: 404},

		{name: "job", method: "GET", url: "/api/jobs/{job}", wantStatus: 200,
			wantContains: []string{`"id":"{job}"`, `"kind":"run"`, `"status":"complete"`, `"progress":1`, `"result":{"run_id":"{run}"`}},
		{name: "unknown job", method: "GET", url: "/api/jobs/nope", wantStatus: 404},
		{name: "events of an ended job", method: "GET", url: "/api/jobs/{job}/events", wantStatus: 200,
			wantContains: []string{"event: complete\ndata: {", `"id":"{job}"`, `"result":{"run_id":"{run}"`}},
		{name: "events of an unknown job", method: "GET", url: "/api/jobs/nope/events", wantStatus: 404},
	})
}

// TestRuns_Background checks a run that outlives its request: the answer
// is 202 with status running or queued, and the job ends complete.
func TestRuns_Background(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withConfig(func(c *Config) { c.RunWait = time.Nanosecond }))
	env.MustIngest(t, tinyKOI, "tiny")
	res, body := env.do(t, "POST", "/api/datasets/tiny/runs", "", nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	var start engine.RunStart
	mustJSON(t, body, &start)
	if start.Status != engine.RunQueued && start.Status != engine.RunRunning {
		t.Fatalf("status %q, want queued or running", start.Status)
	}
	if got := res.Header.Get("Location"); got != "/api/runs/"+start.RunID {
		t.Errorf("Location %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	job, err := env.jobs.Wait(ctx, start.JobID)
	if err != nil || job.Status != engine.JobComplete {
		t.Fatalf("job %+v, err %v", job, err)
	}
	var result engine.Run
	if err := json.Unmarshal(job.Result, &result); err != nil || result.RunID != start.RunID || result.Rows != 8 {
		t.Errorf("job result %s (%v)", job.Result, err)
	}
}
