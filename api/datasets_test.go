package api

import (
	"bytes"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func TestDatasets(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	tiny := mustReadFile(t, tinyKOI)
	upload, uploadCT := multipartBody(t, [][2]string{{"name", "tiny"}}, "koi_tiny.csv", tiny)
	changed := bytes.Replace(tiny, []byte("289.8623"), []byte("289.8624"), 1)
	conflict, conflictCT := multipartBody(t, [][2]string{{"name", "tiny"}}, "koi_tiny.csv", changed)
	noFile, noFileCT := multipartBody(t, [][2]string{{"name", "x"}}, "", nil)
	empty, emptyCT := multipartBody(t, nil, "empty.csv", []byte{})
	late := bytes.Replace(tiny, []byte("289.8623"), []byte("289.8625"), 1)
	fileFirst, fileFirstCT := multipartFileFirst(t, "koi_tiny.csv", late, [][2]string{{"name", "late_name"}, {"mission", "koi"}}, 1)
	twoFiles, twoFilesCT := multipartFileFirst(t, "koi_tiny.csv", bytes.Replace(tiny, []byte("289.8623"), []byte("289.8626"), 1), nil, 2)
	huge := `{"url":"` + strings.Repeat("a", DefaultBodyLimit) + `"}`
	ct := func(v string) map[string]string { return map[string]string{"Content-Type": v} }

	env.run(t, []scenario{
		{name: "list empty", method: "GET", url: "/api/datasets", wantStatus: 200, wantContains: []string{`"items":[]`}},
		{name: "upload", method: "POST", url: "/api/datasets", body: upload, header: ct(uploadCT), wantStatus: 201,
			wantContains: []string{`"name":"tiny"`, `"mission":"koi"`, `"rows":8`, `"mapping":[`, `"canonical":"koi_prad"`}},
		{name: "same bytes answer the existing dataset", method: "POST", url: "/api/datasets", body: upload, header: ct(uploadCT),
			wantStatus: 200, wantContains: []string{`"duplicate_of":"tiny"`}},
		{name: "taken name", method: "POST", url: "/api/datasets", body: conflict, header: ct(conflictCT), wantStatus: 409,
			wantContains: []string{`"code":"conflict"`, "already exists"}},
		{name: "fields after the file apply to it", method: "POST", url: "/api/datasets", body: fileFirst, header: ct(fileFirstCT),
			wantStatus: 201, wantContains: []string{`"name":"late_name"`, `"mission":"koi"`}},
		{name: "two file parts", method: "POST", url: "/api/datasets", body: twoFiles, header: ct(twoFilesCT), wantStatus: 400,
			wantContains: []string{`two \"file\" parts`}},
		{name: "no file part", method: "POST", url: "/api/datasets", body: noFile, header: ct(noFileCT), wantStatus: 400,
			wantContains: []string{`no \"file\" part`}},
		{name: "empty file", method: "POST", url: "/api/datasets", body: empty, header: ct(emptyCT), wantStatus: 400,
			wantContains: []string{"empty"}},
		{name: "multipart without boundary", method: "POST", url: "/api/datasets", body: "x", header: ct("multipart/form-data"),
			wantStatus: 400, wantContains: []string{"boundary"}},
		{name: "unsupported content type", method: "POST", url: "/api/datasets", body: "a,b\n1,2\n", header: ct("text/csv"),
			wantStatus: 415, wantContains: []string{`"code":"unsupported_media_type"`}},
		{name: "json without url or nasa", method: "POST", url: "/api/datasets", body: `{}`, wantStatus: 400,
			wantContains: []string{`needs \"url\"`}},
		{name: "json both url and nasa", method: "POST", url: "/api/datasets", body: `{"url":"https://x/y.csv","nasa":"toi"}`,
			wantStatus: 400, wantContains: []string{"not both"}},
		{name: "json unknown field", method: "POST", url: "/api/datasets", body: `{"urll":"https://x/y.csv"}`, wantStatus: 400,
			wantContains: []string{`"message":"Unknown field \"urll\"; the fields are url, nasa, where, select, name, mission, units."`}},
		{name: "json array body", method: "POST", url: "/api/datasets", body: `[]`, wantStatus: 400,
			wantContains: []string{`"message":"The request body must be a JSON object, not an array."`}},
		{name: "json wrong-typed field", method: "POST", url: "/api/datasets", body: `{"nasa":["toi"]}`, wantStatus: 400,
			wantContains: []string{`"message":"The field \"nasa\" must be a JSON string, not an array."`}},
		{name: "json wrong-typed map value", method: "POST", url: "/api/datasets", body: `{"url":"s3://b/k.csv","units":{"koi_depth":1}}`, wantStatus: 400,
			wantContains: []string{`"message":"The field \"units\" must be a JSON object whose values are strings, not a number."`}},
		{name: "json malformed", method: "POST", url: "/api/datasets", body: `{"url":`, wantStatus: 400,
			wantContains: []string{"not valid JSON"}},
		{name: "json body too large", method: "POST", url: "/api/datasets", body: huge, wantStatus: 413,
			wantContains: []string{`"code":"too_large"`}},
		{name: "unsupported url scheme", method: "POST", url: "/api/datasets", body: `{"url":"ftp://example.org/koi.csv"}`,
			wantStatus: 400, wantContains: []string{"ftp"}},
		{name: "unknown nasa table", method: "POST", url: "/api/datasets", body: `{"nasa":"bogus"}`, wantStatus: 400,
			wantContains: []string{"unknown table", "cumulative"}},
		{name: "get one with its dictionary", method: "GET", url: "/api/datasets/tiny", wantStatus: 200,
			wantContains: []string{`"dictionary":[`, `"name":"koi_prad","type":"DOUBLE","label":"Planetary Radius","unit":"Earth radii","canonical":"koi_prad"`,
				`"canonical_unit":"R_earth"`, `"description":"Planet radius"`, `"nasa_header":`}},
		{name: "get unknown", method: "GET", url: "/api/datasets/nope", wantStatus: 404, wantContains: []string{`"code":"not_found"`, `"details":[]`}},
		{name: "get traversal name", method: "GET", url: "/api/datasets/..%2F..%2Fetc%2Fpasswd", wantStatus: 404},
		{name: "list one", method: "GET", url: "/api/datasets", wantStatus: 200, wantContains: []string{`"name":"tiny"`}},
		{name: "delete", method: "DELETE", url: "/api/datasets/tiny", wantStatus: 204},
		{name: "deleted is gone", method: "GET", url: "/api/datasets/tiny", wantStatus: 404},
		{name: "delete unknown", method: "DELETE", url: "/api/datasets/tiny", wantStatus: 404},
	})
}

// TestUpload_TooLarge checks the upload limit: the declared length is
// refused before anything is read, and the whole request stays a 413.
func TestUpload_TooLarge(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withConfig(func(c *Config) { c.UploadLimit = 1 << 10 }))
	body, ct := multipartBody(t, nil, "big.csv", bytes.Repeat([]byte("a,b\n1,2\n"), 300_000))
	// note: the request is over the limit, the file is not: the field is.
	bigField, bigFieldCT := multipartBody(t, [][2]string{{"name", strings.Repeat("n", 3<<20)}}, "small.csv", []byte("a,b\n1,2\n"))
	env.run(t, []scenario{
		{name: "declared length over the limit", method: "POST", url: "/api/datasets", body: body,
			header: map[string]string{"Content-Type": ct}, wantStatus: 413,
			wantContains: []string{`"code":"too_large"`, "upload limit of 1 KiB"}},
		{name: "oversized field before a small file", method: "POST", url: "/api/datasets", body: bigField,
			header: map[string]string{"Content-Type": bigFieldCT}, wantStatus: 400,
			wantContains: []string{`"message":"The form field \"name\" is too long`}},
		{name: "nothing was stored", method: "GET", url: "/api/datasets", wantStatus: 200, wantContains: []string{`"items":[]`}},
	})
}

// TestUpload_TraversalNames sends hostile file names: each is stored under a
// generated safe name inside DATA/raw, and nothing is written elsewhere.
func TestUpload_TraversalNames(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	tiny := mustReadFile(t, tinyKOI)
	names := []string{"../../../../evil.csv", `..\..\..\evil.csv`, "/etc/passwd.csv", "./../data/raw/x/../../../evil.csv", "..", "a/b/c/.hidden.csv"}
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			content := append(bytes.Clone(tiny), []byte(strings.Repeat("\n", i+1))...)
			body, ct := multipartBody(t, nil, name, content)
			res, out := env.do(t, "POST", "/api/datasets", body, map[string]string{"Content-Type": ct})
			if res.StatusCode != http.StatusCreated {
				t.Fatalf("status %d: %s", res.StatusCode, out)
			}
			var ds struct {
				Name, Path   string
				OriginalName string `json:"original_name"`
			}
			mustJSON(t, out, &ds)
			if want := "raw/" + ds.Name + "/"; !strings.HasPrefix(ds.Path, want) || strings.Contains(ds.Path, "..") {
				t.Errorf("stored at %q, want under %q", ds.Path, want)
			}
			if ds.OriginalName != name {
				t.Errorf("original_name %q, want the name as sent, %q", ds.OriginalName, name)
			}
		})
	}
	// note: every file the server wrote is inside the data dir (the feature
	// store is not written by uploads; it holds only the lock file every
	// engine keeps there).
	err := filepath.WalkDir(env.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".exohunter.lock" {
			return err
		}
		if rel, _ := filepath.Rel(env.dir, p); !strings.HasPrefix(rel, "data"+string(filepath.Separator)) {
			t.Errorf("file written outside the data dir: %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
