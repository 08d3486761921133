package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/exohunter/exohunter/engine"
)

func TestFeatures(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	env.MustIngest(t, tinyKOI, "tiny")
	env.MustProcess(t, "tiny")
	res, body := env.do(t, "POST", "/api/features", `{"version":"v1"}`, nil)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("build: %d %s", res.StatusCode, body)
	}
	var b engine.FeatureBuild
	mustJSON(t, body, &b)
	env.vars["hash"] = b.ContentHash

	env.run(t, []scenario{
		{name: "rebuild is a no-op", method: "POST", url: "/api/features", body: `{"version":"v1","run_id":"{run}"}`, wantStatus: 200,
			wantContains: []string{`"status":"unchanged"`, `"content_hash":"{hash}"`}},
		{name: "second version, same hash", method: "POST", url: "/api/features", body: `{"version":"v2","dataset":"tiny"}`, wantStatus: 201,
			wantContains: []string{`"status":"created"`, `"content_hash":"{hash}"`, `"source":{"dataset":"tiny","run_id":"{run}"}`}},
		{name: "unsafe version", method: "POST", url: "/api/features", body: `{"version":"../x"}`, wantStatus: 400},
		{name: "unknown run", method: "POST", url: "/api/features", body: `{"version":"v3","run_id":"nope"}`, wantStatus: 404},

		{name: "list", method: "GET", url: "/api/features", wantStatus: 200,
			wantContains: []string{`"items":[{"version":"v1"`, `"version":"v2"`, `"stats":{`, `"role":"label"`}},
		{name: "page", method: "GET", url: "/api/features/v1?page_size=2&page=2", wantStatus: 200,
			wantContains: []string{`"total":8`, `"page":2`, `"object_id":"K00114.01"`}},
		{name: "search and project", method: "GET", url: "/api/features/v1?q=k00087&columns=koi_prad,stellar_type_G", wantStatus: 200,
			wantContains: []string{`"total":1`, `"rows":[{"row_id":1,"object_id":"K00087.01","star_id":"10593626","koi_prad":`, `"stellar_type_G":1}`}},
		{name: "unknown column", method: "GET", url: "/api/features/v1?columns=koi_score", wantStatus: 400},
		{name: "bad page size", method: "GET", url: "/api/features/v1?page_size=0", wantStatus: 400},
		{name: "unknown parameter", method: "GET", url: "/api/features/v1?sort=x", wantStatus: 400},
		{name: "unknown version", method: "GET", url: "/api/features/v9", wantStatus: 404},
		{name: "one object", method: "GET", url: "/api/features/v1/K00087.01", wantStatus: 200,
			wantContains: []string{`"version":"v1","object_id":"K00087.01","row":{`, `"koi_disposition":"CONFIRMED"`}},
		{name: "unknown object", method: "GET", url: "/api/features/v1/K99999.01", wantStatus: 404},
		{name: "download parquet", method: "GET", url: "/api/features/v1/download", wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": "application/vnd.apache.parquet", "Content-Disposition": `filename="features-v1.parquet"`}},
		{name: "download csv", method: "GET", url: "/api/features/v1/download?format=csv", wantStatus: 200,
			wantContains: []string{"row_id,object_id,star_id,koi_disposition,koi_period,", "K00001.01,11446443,CONFIRMED,"},
			wantHeader:   map[string]string{"Content-Type": "text/csv"}},
		{name: "download bad format", method: "GET", url: "/api/features/v1/download?format=xlsx", wantStatus: 400},
		{name: "console sees the view", method: "POST", url: "/api/query", body: `{"sql":"SELECT count(*) AS n FROM features.v1"}`, wantStatus: 200,
			wantContains: []string{`8`}},
		{name: "background build of an unsafe version, refused before a job", method: "POST", url: "/api/features?background=true",
			body: `{"version":"../x"}`, wantStatus: 400},
		{name: "background build of an unknown run, refused before a job", method: "POST", url: "/api/features?background=true",
			body: `{"version":"v4","run_id":"nope"}`, wantStatus: 404},
	})

	// In the background: 202 with a job whose result is the manifest the
	// waiting call answers, for a new version and for an unchanged one.
	for _, tc := range []struct{ version, wantBuild string }{{"v3", engine.FeatureCreated}, {"v1", engine.FeatureUnchanged}} {
		res, body := env.do(t, "POST", "/api/features?background=true", `{"version":"`+tc.version+`"}`, nil)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("background build %s: %d %s", tc.version, res.StatusCode, body)
		}
		var job jobStart
		mustJSON(t, body, &job)
		if job.Kind != engine.JobKindFeatures || job.JobID != job.ID {
			t.Fatalf("background build %s answered %s", tc.version, body)
		}
		done, err := env.jobs.Wait(context.Background(), job.ID)
		if err != nil || done.Status != engine.JobComplete {
			t.Fatalf("background build %s: %+v, %v", tc.version, done, err)
		}
		var got engine.FeatureBuild
		if err := json.Unmarshal(done.Result, &got); err != nil || got.Version != tc.version || got.ContentHash != b.ContentHash || got.Status != tc.wantBuild {
			t.Errorf("background build %s result %s: %v", tc.version, done.Result, err)
		}
	}
	env.run(t, []scenario{
		{name: "the background version is listed", method: "GET", url: "/api/features/v3/K00087.01", wantStatus: 200},
	})
}
