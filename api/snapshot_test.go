package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/exohunter/exohunter/engine"
)

// TestSnapshotRoutes covers GET /api/schema, GET /api/snapshot and the
// named snapshots, one scenario per status.
func TestSnapshotRoutes(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	env.MustIngest(t, tinyKOI, "koi")
	env.MustProcess(t, "koi")
	env.run(t, []scenario{
		{name: "schema", method: "GET", url: "/api/schema", wantStatus: 200,
			wantContains: []string{`"schemas":[{"name":"raw"`, `"name":"koi_prad","type":"DOUBLE","unit":"R_earth","description":"Planet radius"`, `"name":"latest_koi","kind":"view"`}},
		{name: "download", method: "GET", url: "/api/snapshot", wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": "application/octet-stream", "Content-Disposition": `attachment; filename="exohunter-`,
				"X-Snapshot-Storage-Version": engine.SnapshotStorageVersion}, wantContains: []string{"DUCK"}},
		{name: "download_bad_part", method: "GET", url: "/api/snapshot?include=models", wantStatus: 400, wantContains: []string{"models"}},
		{name: "download_unknown_run", method: "GET", url: "/api/snapshot?runs=nope", wantStatus: 404, wantContains: []string{`no run \"nope\"`}},
		{name: "create_bad_name", method: "POST", url: "/api/snapshots", body: `{"name":"../x"}`, wantStatus: 400},
		{name: "create_unknown_field", method: "POST", url: "/api/snapshots", body: `{"nam":"x"}`, wantStatus: 400},
		{name: "create_unknown_run", method: "POST", url: "/api/snapshots", body: `{"name":"typo","runs":"bogus"}`, wantStatus: 404},
		{name: "create", method: "POST", url: "/api/snapshots", body: `{"name":"nb","runs":"all","include":["labels"]}`, wantStatus: 202,
			wantContains: []string{`"kind":"snapshot"`, `"job_id":"`}},
		{name: "get_missing", method: "GET", url: "/api/snapshots/missing", wantStatus: 404},
	})
	waitJobs(t, env)
	env.run(t, []scenario{
		{name: "create_taken", method: "POST", url: "/api/snapshots", body: `{"name":"nb"}`, wantStatus: 409},
		{name: "list", method: "GET", url: "/api/snapshots", wantStatus: 200, wantContains: []string{`"name":"nb"`, `"path":"snapshots/nb.duckdb"`}},
		{name: "get", method: "GET", url: "/api/snapshots/nb", wantStatus: 200,
			wantHeader: map[string]string{"Content-Disposition": `filename="nb.duckdb"`}, wantContains: []string{"DUCK"}},
	})
}

// waitJobs waits until no job runs.
func waitJobs(t *testing.T, env *testEnv) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for env.jobs.Running() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("jobs still running")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSnapshotJob_Progress follows a snapshot job to its result.
func TestSnapshotJob_Progress(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	env.MustIngest(t, tinyKOI, "koi")
	run := env.MustProcess(t, "koi")
	res, body := env.do(t, "POST", "/api/snapshots", `{"runs":["`+run.RunID+`"]}`, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	var job engine.Job
	mustJSON(t, body, &job)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done, err := env.jobs.Wait(ctx, job.ID)
	if err != nil || done.Status != engine.JobComplete {
		t.Fatalf("job = %+v, %v", done, err)
	}
	var out engine.SnapshotResult
	mustJSON(t, string(done.Result), &out)
	if !strings.HasPrefix(out.Path, "snapshots/snapshot-") || len(out.Runs) != 1 || out.Runs[0] != run.RunID || out.Bytes == 0 {
		t.Errorf("result = %+v", out)
	}
}
