package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func TestServer(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	env.run(t, []scenario{
		{name: "health", method: "GET", url: "/api/health", wantStatus: 200, wantContains: []string{`"status":"ok"`},
			wantHeader: map[string]string{"X-Request-Id": "", "X-Content-Type-Options": "nosniff"}},
		{name: "ready", method: "GET", url: "/api/ready", wantStatus: 200, wantContains: []string{`"status":"ready"`, `"datasets":0`}},
		{name: "client request id is echoed", method: "GET", url: "/api/health", header: map[string]string{"X-Request-ID": "abc-123"},
			wantStatus: 200, wantHeader: map[string]string{"X-Request-Id": "abc-123"}},
		{name: "hostile request id is replaced", method: "GET", url: "/api/nope", header: map[string]string{"X-Request-ID": "a b\u00e9<script>"},
			wantStatus: 404, wantContains: []string{`"request_id":"`}},
		{name: "unknown api route is json", method: "GET", url: "/api/nope", wantStatus: 404,
			wantContains: []string{`{"error":{"code":"not_found","message":"Cannot GET /api/nope","details":[]`},
			wantHeader:   map[string]string{"Content-Type": "application/json", "Content-Security-Policy": "default-src 'none'"}},
		{name: "dictionary", method: "GET", url: "/api/dictionary", wantStatus: 200,
			wantContains: []string{`"columns":[`, `"name":"koi_prad"`, `"unit":"R_earth"`, `"metrics":[`, `"formula":`,
				`"flags":[`, `"categories":[`, `"name":"habitable_zone_candidate"`}},
		{name: "thresholds", method: "GET", url: "/api/thresholds", wantStatus: 200,
			wantContains: []string{`"thresholds":[{"key":"`, `{"key":"planet_radius.rocky_max","value":2,"unit":"R_earth","description":"rocky_candidate below this radius"}`,
				`"albedo":{"name":"albedo","value":0.3`}},
		{name: "openapi", method: "GET", url: "/api/openapi.json", wantStatus: 200,
			wantContains: []string{`"openapi":"3.0.3"`, `"/api/runs/{id}/results"`}},
		{name: "dashboard", method: "GET", url: "/", wantStatus: 200, wantContains: []string{"<title>ExoHunter</title>"},
			wantHeader: map[string]string{"Cache-Control": "no-cache", "Content-Security-Policy": "script-src 'self'",
				"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Content-Type": "text/html; charset=utf-8"}},
		{name: "dashboard fallback", method: "GET", url: "/some/client/route", wantStatus: 200, wantContains: []string{"<title>ExoHunter</title>"}},
	})
}

// TestServer_Assets checks the long cache of hashed assets.
func TestServer_Assets(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	_, page := env.do(t, "GET", "/", "", nil)
	i := strings.Index(page, "assets/")
	if i < 0 {
		t.Fatal("the committed dashboard build (ui/dist) links no assets/: run make ui")
	}
	asset := "/" + page[i:i+strings.IndexAny(page[i:], `"'`)]
	env.run(t, []scenario{{name: "hashed asset", method: "GET", url: asset, wantStatus: 200,
		wantHeader: map[string]string{"Cache-Control": "max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}}})
}

// TestOpenAPI_Coverage checks that every route the app serves is in the
// OpenAPI document, with its method, and documented as an operation.
func TestOpenAPI_Coverage(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	_, body := env.do(t, "GET", "/api/openapi.json", "", nil)
	var doc struct {
		Paths map[string]map[string]struct {
			Summary   string                     `json:"summary"`
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	mustJSON(t, body, &doc)
	n := 0
	for _, r := range env.srv.App().GetRoutes(true) {
		if r.Method == fiber.MethodHead || r.Method == "USE" || r.Path == "/" {
			continue // note: HEAD mirrors GET; "/" is the middleware and the dashboard
		}
		n++
		op, ok := doc.Paths[openAPIPath(r.Path)][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s is served but not in the OpenAPI document", r.Method, r.Path)
			continue
		}
		if op.Summary == "" || len(op.Responses) == 0 {
			t.Errorf("%s %s: no summary or responses", r.Method, r.Path)
		}
	}
	if n < 30 {
		t.Errorf("only %d routes found; the app's route list looks wrong", n)
	}
	// Every route outside the legacy ones documents its statuses and
	// parameters (opDocs), not just the generic 200.
	for _, r := range env.srv.table {
		if _, ok := opDocs[r.method+" "+openAPIPath(r.path)]; !ok && r.tag != tagLegacy {
			t.Errorf("%s %s has no opDocs entry", r.method, r.path)
		}
	}
	// and the reverse: every documented operation is served.
	served := map[string]bool{}
	for _, r := range env.srv.App().GetRoutes(true) {
		served[strings.ToLower(r.Method)+" "+openAPIPath(r.Path)] = true
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !served[m+" "+p] {
				t.Errorf("%s %s is documented but not served", m, p)
			}
		}
	}
	// A JSON body is described by its fields, not a bare object (a client
	// generator would otherwise accept anything).
	var bodies struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	mustJSON(t, body, &bodies)
	for _, op := range []string{"post /api/labels", "post /api/labels/{id}/review", "post /api/features", "post /api/models/train", "post /api/snapshots"} {
		m, p, _ := strings.Cut(op, " ")
		ref := bodies.Paths[p][m].RequestBody.Content["application/json"].Schema.Ref
		if ref == "" || strings.HasSuffix(ref, "/Object") {
			t.Errorf("%s: request body schema %q, want one listing its fields", op, ref)
		}
	}
}
