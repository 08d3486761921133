package api

import (
	"encoding/json"
	"testing"
)

// TestRunAggregates: the chart aggregates of a run, filtered like the
// results, and one scenario per error status.
func TestRunAggregates(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	env.MustIngest(t, tinyKOI, "tiny")
	env.MustProcess(t, "tiny")
	env.run(t, []scenario{
		{name: "counts by category", method: "GET", url: "/api/runs/{run}/counts?by=category", wantStatus: 200,
			wantContains: []string{`"by":"category"`, `"counts":[{"value":"confirmed_planet","count":`, `"total":8`}},
		{name: "counts default to category", method: "GET", url: "/api/runs/{run}/counts", wantStatus: 200,
			wantContains: []string{`"by":"category"`}},
		{name: "counts filtered", method: "GET", url: "/api/runs/{run}/counts?by=koi_disposition&disposition=FALSE%20POSITIVE", wantStatus: 200,
			wantContains: []string{`"counts":[{"value":"FALSE POSITIVE","count":2}]`, `"total":2`}},
		{name: "counts by tag", method: "GET", url: "/api/runs/{run}/counts?by=tag&category=confirmed_planet", wantStatus: 200,
			wantContains: []string{`{"value":"confirmed_planet","count":5}`}},
		{name: "counts by flag", method: "GET", url: "/api/runs/{run}/counts?by=flag", wantStatus: 200, wantContains: []string{`"value":"FLAG_`}},
		{name: "counts by disposition_compare", method: "GET", url: "/api/runs/{run}/counts?by=disposition_compare", wantStatus: 200,
			wantContains: []string{`"value":"match"`}},
		{name: "counts by unknown", method: "GET", url: "/api/runs/{run}/counts?by=colour", wantStatus: 400, wantContains: []string{`"field":"by"`}},
		{name: "counts unknown filter", method: "GET", url: "/api/runs/{run}/counts?koi_prd__lt=2", wantStatus: 400},
		{name: "counts unknown parameter", method: "GET", url: "/api/runs/{run}/counts?colour=red", wantStatus: 400},
		{name: "counts unknown run", method: "GET", url: "/api/runs/nope/counts", wantStatus: 404},
		{name: "histogram log", method: "GET", url: "/api/runs/{run}/histogram?column=koi_prad&bins=4&scale=log", wantStatus: 200,
			wantContains: []string{`"column":"koi_prad"`, `"scale":"log"`, `"bins":[{"lo":`, `"total":8`, `"nulls":0`}},
		{name: "histogram filtered", method: "GET", url: "/api/runs/{run}/histogram?column=koi_period&bins=2&category=likely_false_positive", wantStatus: 200,
			wantContains: []string{`"total":2`, `"scale":"linear"`}},
		{name: "histogram text column", method: "GET", url: "/api/runs/{run}/histogram?column=category", wantStatus: 400, wantContains: []string{"not numeric"}},
		{name: "histogram no column", method: "GET", url: "/api/runs/{run}/histogram", wantStatus: 400},
		{name: "histogram bad bins", method: "GET", url: "/api/runs/{run}/histogram?column=koi_prad&bins=0", wantStatus: 400},
		{name: "histogram bad scale", method: "GET", url: "/api/runs/{run}/histogram?column=koi_prad&scale=sqrt", wantStatus: 400},
		{name: "histogram unknown run", method: "GET", url: "/api/runs/nope/histogram?column=koi_prad", wantStatus: 404},
	})
	res, body := env.do(t, "GET", env.expand("/api/runs/{run}/histogram?column=koi_prad&bins=5"), "", nil)
	var h struct {
		Bins []struct {
			Lo, Hi float64
			Count  int64
		}
		Total    int64
		Min, Max float64
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil || res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	var sum int64
	for _, b := range h.Bins {
		sum += b.Count
	}
	if len(h.Bins) != 5 || sum != h.Total || h.Bins[0].Lo != h.Min || h.Bins[4].Hi != h.Max {
		t.Errorf("histogram %s", body)
	}
}
