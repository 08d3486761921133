package api

import (
	"encoding/json"
	"net/url"
	"testing"
)

// TestStoredQueries lists the stored queries and runs each one over a
// processed fixture, then every refusal.
func TestStoredQueries(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withToken("s3cret"), withConfig(func(c *Config) { c.ProtectConsole = true }))
	env.MustIngest(t, tinyKOI, "tiny")
	env.MustProcess(t, "tiny")
	auth := map[string]string{"Authorization": "Bearer s3cret"}

	res, body := env.do(t, "GET", "/api/queries", "", auth)
	if res.StatusCode != 200 {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}
	var list struct {
		Items []struct {
			Name   string `json:"name"`
			Params []struct {
				Name    string `json:"name"`
				Type    string `json:"type"`
				Default any    `json:"default"`
			} `json:"params"`
		} `json:"items"`
	}
	mustJSON(t, body, &list)
	if len(list.Items) < 8 {
		t.Fatalf("%d stored queries listed", len(list.Items))
	}
	var scenarios []scenario
	for _, q := range list.Items {
		scenarios = append(scenarios, scenario{name: "run " + q.Name + " with defaults", method: "GET", url: "/api/queries/" + q.Name,
			header: auth, wantStatus: 200, wantContains: []string{`"columns":[{"name":`, `"rows":[`, `"name":"` + q.Name + `"`, `"params":{`}})
	}
	env.run(t, scenarios)

	env.run(t, []scenario{
		{name: "list documents parameters", method: "GET", url: "/api/queries", header: auth, wantStatus: 200,
			wantContains: []string{`"name":"habitable_zone_rocky"`, `"title":"Rocky planets in the habitable zone"`,
				`{"name":"max_radius","type":"number","description":`, `"default":2,"min":0.1,"max":2.5}`,
				`"values":["any","M","K","G","F"]`, `"sql":"WITH chosen AS`}},
		{name: "one star", method: "GET", url: "/api/queries/star_system?star=10593626&dataset=tiny", header: auth, wantStatus: 200,
			wantContains: []string{`"K00087.01"`, `"params":{"dataset":"tiny","run":"","star":"10593626"}`, `"truncated":false`}},
		{name: "one run by id", method: "GET", url: "/api/queries/category_counts?run={run}", header: auth, wantStatus: 200,
			wantContains: []string{`"{run}"`, `"confirmed_planet"`}},
		{name: "value is bound, not spliced", method: "GET", url: "/api/queries/star_system?star=" + url.QueryEscape("' OR 1=1 --"), header: auth,
			wantStatus: 200, wantContains: []string{`"rows":[]`}},
		{name: "row cap and query id", method: "GET", url: "/api/queries/disposition_crosstab?limit=1&query_id=crosstab-1", header: auth,
			wantStatus: 200, wantContains: []string{`"truncated":true`, `"query_id":"crosstab-1"`}},
		{name: "unknown run", method: "GET", url: "/api/queries/category_counts?run=nonexistent_run", header: auth, wantStatus: 400,
			wantContains: []string{`"field":"run"`, `there is no run \"nonexistent_run\"`}},
		{name: "parameter given twice", method: "GET", url: "/api/queries/habitable_zone_rocky?max_radius=1&max_radius=2", header: auth, wantStatus: 400,
			wantContains: []string{"Parameter max_radius is given 2 times; give it once."}},
		{name: "unknown query", method: "GET", url: "/api/queries/no_such_query", header: auth, wantStatus: 404,
			wantContains: []string{`"code":"not_found"`, "GET /api/queries documents them", "star_system"}},
		{name: "unknown parameter", method: "GET", url: "/api/queries/multi_planet_systems?min_moons=2", header: auth, wantStatus: 400,
			wantContains: []string{`"field":"min_moons"`, "it takes min_planets, confirmed_only, dataset, run"}},
		{name: "bad type", method: "GET", url: "/api/queries/multi_planet_systems?min_planets=three", header: auth, wantStatus: 400,
			wantContains: []string{`"field":"min_planets"`, "must be an integer"}},
		{name: "out of range", method: "GET", url: "/api/queries/habitable_zone_rocky?max_radius=30", header: auth, wantStatus: 400,
			wantContains: []string{`"field":"max_radius"`, "want 0.1 to 2.5"}},
		{name: "not an allowed value", method: "GET", url: "/api/queries/habitable_zone_rocky?spectral_type=O", header: auth, wantStatus: 400,
			wantContains: []string{`"field":"spectral_type"`}},
		{name: "unknown dataset", method: "GET", url: "/api/queries/category_counts?dataset=nope", header: auth, wantStatus: 400,
			wantContains: []string{`there is no dataset named \"nope\"`}},
		{name: "bad limit", method: "GET", url: "/api/queries/category_counts?limit=lots", header: auth, wantStatus: 400},
		{name: "bad query id", method: "GET", url: "/api/queries/category_counts?query_id=" + url.QueryEscape("a b"), header: auth, wantStatus: 400},
		{name: "console token needed", method: "GET", url: "/api/queries/category_counts", wantStatus: 401},
		{name: "wrong token", method: "GET", url: "/api/queries", header: map[string]string{"Authorization": "Bearer nope"}, wantStatus: 403},
	})

	res, body = env.do(t, "GET", "/api/queries/star_system?star=10593626", "", auth)
	var out struct {
		Columns []struct{ Name string } `json:"columns"`
		Rows    [][]json.RawMessage     `json:"rows"`
	}
	mustJSON(t, body, &out)
	if res.StatusCode != 200 || len(out.Rows) != 1 || out.Columns[1].Name != "object_id" || string(out.Rows[0][1]) != `"K00087.01"` {
		t.Errorf("star_system: %d %s", res.StatusCode, body)
	}
}
