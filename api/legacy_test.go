package api

import (
	"os"
	"path/filepath"
	"testing"
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
		{name: "files", method: "GET", url: "/api/result/files", wantStatus: 200, wantContains: []string{`"files":[{"name":"tiny-`, `"path":"outputs/`}},
		{name: "download csv", method: "GET", url: "/api/result/download/csv", wantStatus: 200, wantContains: []string{"K00087.01"},
			wantHeader: map[string]string{"Content-Type": "text/csv", "Content-Disposition": "attachment"}},
		{name: "download json", method: "GET", url: "/api/result/download/json", wantStatus: 200, wantContains: []string{`"object_id":"K00087.01"`}},
		{name: "download other format", method: "GET", url: "/api/result/download/xml", wantStatus: 400},
		{name: "healthz", method: "GET", url: "/healthz", wantStatus: 200, wantContains: []string{`"status":"ok"`}},
		{name: "ping", method: "GET", url: "/api/health/ping", wantStatus: 200, wantContains: []string{`"pong"`}},
		{name: "ready", method: "GET", url: "/api/health/ready", wantStatus: 200, wantContains: []string{`"datasets":1`}},
	})
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
