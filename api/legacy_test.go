package api

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLegacy(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	tiny := mustReadFile(t, tinyKOI)
	upload, ct := multipartBody(t, [][2]string{{"name", "tiny"}}, "koi_tiny.csv", tiny)
	mp := map[string]string{"Content-Type": ct}

	env.run(t, []scenario{
		{name: "latest before any run", method: "GET", url: "/api/result/latest", wantStatus: 404},
		{name: "download before any run", method: "GET", url: "/api/result/download/csv", wantStatus: 404},
		{name: "upload", method: "POST", url: "/api/upload", body: upload, header: mp, wantStatus: 200,
			wantContains: []string{`"file_id":"tiny"`, `"path":"raw/tiny/`, `"original_name":"koi_tiny.csv"`, `"engine":"duckdb"`, `"rows":8`,
				`"detected_columns":[{"detected":"kepid","mapped_to":"star_id","status":"mapped"}`}},
		{name: "upload again", method: "POST", url: "/api/upload", body: upload, header: mp, wantStatus: 200,
			wantContains: []string{`"duplicate_of":"tiny"`}},
		{name: "upload bad url", method: "POST", url: "/api/upload", body: `{"url":"ftp://x/y.csv"}`, wantStatus: 400},
		{name: "upload without a body", method: "POST", url: "/api/upload", wantStatus: 400,
			wantContains: []string{`"message":"The request has no body: POST /api/upload takes the catalog as multipart/form-data in the field \"file\"`}},
		{name: "index", method: "GET", url: "/api/upload/index", wantStatus: 200, wantContains: []string{`"files":[{"file_id":"tiny"`}},
		{name: "meta", method: "GET", url: "/api/upload/tiny/meta", wantStatus: 200, wantContains: []string{`"file_id":"tiny"`, `"columns":[`}},
		{name: "meta unknown", method: "GET", url: "/api/upload/nope/meta", wantStatus: 404},
		{name: "process", method: "POST", url: "/api/process", body: `{"file_id":"tiny","assumptions":{"albedo":0.3},"options":{"auto_derive":true}}`,
			wantStatus: 200, wantContains: []string{`"csv_path":"outputs/tiny-`, `.csv"`, `"json_path":"outputs/tiny-`, `"rows":8`, `"engine":"duckdb"`, `"run_id":"tiny-`}},
		{name: "process without file_id", method: "POST", url: "/api/process", body: `{}`, wantStatus: 400},
		{name: "process unknown file", method: "POST", url: "/api/process", body: `{"file_id":"nope"}`, wantStatus: 404},
		{name: "process bad albedo", method: "POST", url: "/api/process", body: `{"file_id":"tiny","assumptions":{"albedo":7}}`, wantStatus: 400},
		{name: "latest", method: "GET", url: "/api/result/latest", wantStatus: 200,
			wantContains: []string{`"rows":[{`, `"timestamp":"`, `"object_id":"K00087.01"`}},
		{name: "latest filtered", method: "GET", url: "/api/result/latest?category=confirmed_planet&columns=object_id,category", wantStatus: 200,
			wantContains: []string{`"category":"confirmed_planet"`}},
		{name: "latest unknown category", method: "GET", url: "/api/result/latest?category=bogus", wantStatus: 400,
			wantContains: []string{`"field":"category"`, `Unknown category \"bogus\"`}},
		{name: "latest unknown parameter", method: "GET", url: "/api/result/latest?categry=candidate", wantStatus: 400,
			wantContains: []string{`Unknown parameter \"categry\"`}},
		{name: "files", method: "GET", url: "/api/result/files", wantStatus: 200, wantContains: []string{`"files":[{"name":"tiny-`, `"path":"outputs/`}},
		{name: "download csv", method: "GET", url: "/api/result/download/csv", wantStatus: 200, wantContains: []string{"K00087.01"},
			wantHeader: map[string]string{"Content-Type": "text/csv", "Content-Disposition": "attachment"}},
		{name: "download json", method: "GET", url: "/api/result/download/json", wantStatus: 200, wantContains: []string{`"object_id":"K00087.01"`}},
		{name: "download other format", method: "GET", url: "/api/result/download/xml", wantStatus: 400},
		{name: "healthz", method: "GET", url: "/healthz", wantStatus: 200, wantContains: []string{`"status":"ok"`}},
		{name: "ping", method: "GET", url: "/api/health/ping", wantStatus: 200, wantContains: []string{`"pong"`}},
		{name: "ready", method: "GET", url: "/api/health/ready", wantStatus: 200, wantContains: []string{`"datasets":1`}},
	})
	// note: the legacy route refuses a bad filter exactly as the current one.
	_, latest := env.do(t, "GET", "/api/result/latest", "", nil)
	var run struct {
		RunID string `json:"run_id"`
	}
	mustJSON(t, latest, &run)
	type refusal struct {
		Error struct {
			Code, Message string
			Details       []struct{ Field, Message string }
		}
	}
	var legacy, current refusal
	resL, bodyL := env.do(t, "GET", "/api/result/latest?category=bogus", "", nil)
	resC, bodyC := env.do(t, "GET", "/api/runs/"+run.RunID+"/results?category=bogus", "", nil)
	mustJSON(t, bodyL, &legacy)
	mustJSON(t, bodyC, &current)
	if resL.StatusCode != 400 || resC.StatusCode != 400 || current.Error.Message == "" {
		t.Fatalf("category=bogus: legacy %d %s, current %d %s", resL.StatusCode, bodyL, resC.StatusCode, bodyC)
	}
	if diff := cmp.Diff(current.Error, legacy.Error); diff != "" {
		t.Errorf("legacy refusal differs from /api/runs/{id}/results (-current +legacy):\n%s", diff)
	}
	// note: the paths the prototype's scripts read are real files under the
	// data dir.
	matches, _ := filepath.Glob(filepath.Join(env.eng.DataDir(), "outputs", "tiny-*"))
	if len(matches) != 2 {
		t.Fatalf("outputs: %v, want a csv and a json", matches)
	}
	for _, m := range matches {
		if st, err := os.Stat(m); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", m, err)
		}
	}
}
