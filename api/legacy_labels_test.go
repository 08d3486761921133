package api

import (
	"context"
	"testing"

	"github.com/exohunter/exohunter/engine"
)

// TestLegacyLabelsAndFeatures drives the prototype's label and feature
// routes over the new engines, with one scenario per status.
func TestLegacyLabelsAndFeatures(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withToken("s3cret"))
	env.MustIngest(t, tinyKOI, "tiny")
	auth := map[string]string{"Authorization": "Bearer s3cret"}

	env.run(t, []scenario{
		{name: "features meta before any build", method: "GET", url: "/api/features/meta", wantStatus: 404,
			wantContains: []string{"There is no feature set yet"}},
		{name: "features page before any build", method: "GET", url: "/api/features/", wantStatus: 404},
		{name: "apply before any run: the only dataset", method: "POST", url: "/api/labels/apply", header: auth,
			body: `{"object_id":"K00087.01","label":"candidate"}`, wantStatus: 200, wantContains: []string{`"dataset":"tiny"`}},
	})
	run := env.MustProcess(t, "tiny")
	if _, err := env.eng.BuildFeatures(context.Background(), engine.FeatureBuildInput{Version: "v1", Run: run.RunID}); err != nil {
		t.Fatalf("BuildFeatures: %v", err)
	}

	env.run(t, []scenario{
		{name: "label config", method: "GET", url: "/api/labels/config", wantStatus: 200,
			wantContains: []string{`"labels":["no_result",`, `"FALSE POSITIVE"]`, `"strategies":["priority","random","uncertainty"]`,
				`"config":{"version":1,"batch":{"size":50`}},
		{name: "queue by POST, a peek", method: "POST", url: "/api/labels/queue", header: auth, wantStatus: 200,
			wantContains: []string{`"items":[{"object_id":"`, `"run_id":"{run}"`}},
		{name: "queue by POST with a body", method: "POST", url: "/api/labels/queue", header: auth,
			body: `{"batch_size":2,"strategy":"random","annotator":"ann","run_id":"{run}"}`, wantStatus: 200,
			wantContains: []string{`"strategy":"random"`}},
		{name: "queue by POST, limit too large", method: "POST", url: "/api/labels/queue", header: auth, body: `{"limit":5000}`, wantStatus: 400},
		{name: "queue by POST, bad JSON", method: "POST", url: "/api/labels/queue", header: auth, body: `{"limit":"many"}`, wantStatus: 400},
		{name: "queue by POST needs the token", method: "POST", url: "/api/labels/queue", wantStatus: 401},
		{name: "queue by GET is the current route", method: "GET", url: "/api/labels/queue?limit=1", wantStatus: 200,
			wantContains: []string{`"items":[`}},
		{name: "apply", method: "POST", url: "/api/labels/apply", header: auth,
			body: `{"object_id":"K00087.01","label":"habitable_zone_candidate","notes":"in the zone"}`, wantStatus: 200,
			wantContains: []string{`"ok":true`, `"label":{"id":`, `"object_id":"K00087.01"`, `"dataset":"tiny"`,
				`"annotator":"legacy-api"`, `"note":"in the zone"`, `"source":"human"`}},
		{name: "apply as an annotator, in disposition spelling", method: "POST", url: "/api/labels/apply", header: auth,
			body: `{"object_id":"K00754.01","label":"false_positive","annotator":"ana","run_id":"{run}"}`, wantStatus: 200,
			wantContains: []string{`"label":"FALSE POSITIVE"`, `"annotator":"ana"`, `"run_id":"{run}"`}},
		{name: "apply an unknown label", method: "POST", url: "/api/labels/apply", header: auth,
			body: `{"object_id":"K00087.01","label":"planet-ish"}`, wantStatus: 400, wantContains: []string{"Unknown label"}},
		{name: "apply to an unknown object", method: "POST", url: "/api/labels/apply", header: auth,
			body: `{"object_id":"K99999.01","label":"candidate"}`, wantStatus: 400, wantContains: []string{"has no object"}},
		{name: "apply to an unknown run", method: "POST", url: "/api/labels/apply", header: auth,
			body: `{"object_id":"K00087.01","label":"candidate","run_id":"nope"}`, wantStatus: 404},
		{name: "apply without a body", method: "POST", url: "/api/labels/apply", header: auth, wantStatus: 400},
		{name: "apply needs the token", method: "POST", url: "/api/labels/apply", body: `{"object_id":"K00087.01","label":"candidate"}`, wantStatus: 401},
		{name: "apply with a wrong token", method: "POST", url: "/api/labels/apply", header: map[string]string{"Authorization": "Bearer x"},
			body: `{"object_id":"K00087.01","label":"candidate"}`, wantStatus: 403},
		{name: "label results", method: "GET", url: "/api/labels/results", wantStatus: 200,
			wantContains: []string{`"results":[{"id":`, `"notes":"in the zone"`, `"label":"FALSE POSITIVE"`, `"count":3`, `"next_cursor":null`}},
		{name: "label results paged", method: "GET", url: "/api/labels/results?limit=1&dataset=tiny", wantStatus: 200,
			wantContains: []string{`"count":1`, `"next_cursor":"`}},
		{name: "label results, unknown parameter", method: "GET", url: "/api/labels/results?colour=red", wantStatus: 400},
		{name: "features meta", method: "GET", url: "/api/features/meta", wantStatus: 200,
			wantContains: []string{`"version":"v1"`, `"versions":["v1"]`, `"manifest":{"version":"v1"`, `"columns":[`}},
		{name: "features page of the newest set", method: "GET", url: "/api/features/?page=2&page_size=3&q=K00", wantStatus: 200,
			wantContains: []string{`"version":"v1"`, `"page":2`, `"page_size":3`, `"rows":[{`}},
		{name: "features page, bad page", method: "GET", url: "/api/features/?page=0", wantStatus: 400},
		{name: "features list stays the current route", method: "GET", url: "/api/features", wantStatus: 200,
			wantContains: []string{`"items":[{"version":"v1"`}},
		{name: "features of one version", method: "GET", url: "/api/features/v1?page_size=1", wantStatus: 200,
			wantContains: []string{`"version":"v1"`, `"page_size":1`}},
		{name: "features of one object, the legacy way", method: "GET", url: "/api/features/K00087.01", wantStatus: 200,
			wantContains: []string{`"version":"v1"`, `"object_id":"K00087.01"`, `"row":{`}},
		{name: "features of one object, the current way", method: "GET", url: "/api/features/v1/K00087.01", wantStatus: 200,
			wantContains: []string{`"object_id":"K00087.01"`}},
		{name: "neither a version nor an object", method: "GET", url: "/api/features/K99999.01", wantStatus: 404,
			wantContains: []string{`There is no feature set \"K99999.01\", and the newest feature set (v1) has no object`}},
		{name: "unknown version with a query", method: "GET", url: "/api/features/v9?page=1", wantStatus: 404,
			wantContains: []string{`There is no feature set \"v9\".`}},
	})
}
