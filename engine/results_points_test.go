package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEngine_Points(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	ctx := context.Background()
	rows := allRows(t, e, run.RunID)
	valid := where(rows, func(r map[string]any) bool { return r["koi_period"] != nil && r["koi_prad"] != nil })
	byID := map[string]map[string]any{}
	for _, r := range valid {
		byID[r["object_id"].(string)] = r
	}

	all, err := e.Points(ctx, run.RunID, "koi_period", "koi_prad", ResultsQuery{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if all.Sampled || all.Total != int64(len(valid)) || len(all.Points) != len(valid) {
		t.Fatalf("sampled %v, total %d, %d points; want all %d", all.Sampled, all.Total, len(all.Points), len(valid))
	}
	for _, p := range all.Points {
		r := byID[p[0].(string)]
		if r == nil || p[1] != r["koi_period"] || p[2] != r["koi_prad"] || p[3] != r["category"] || p[4] != listHas(r["tags"], "habitable_zone_candidate") {
			t.Errorf("point %v does not match its row", p)
		}
	}

	s1, err := e.Points(ctx, run.RunID, "koi_period", "koi_prad", ResultsQuery{}, 5)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := e.Points(ctx, run.RunID, "koi_period", "koi_prad", ResultsQuery{}, 5)
	if !s1.Sampled || s1.Total != int64(len(valid)) || len(s1.Points) != 5 {
		t.Errorf("sample: sampled %v, total %d, %d points", s1.Sampled, s1.Total, len(s1.Points))
	}
	if d := cmp.Diff(s1.Points, s2.Points); d != "" {
		t.Errorf("the sample changes between calls (-first +second)\n%s", d)
	}
	b, _ := json.Marshal(s1)
	if !bytes.Contains(b, []byte(`"fields":["object_id","x","y","category","hz"],"points":[["`)) || !bytes.Contains(b, []byte(`"sampled":true`)) {
		t.Errorf("JSON shape: %s", b)
	}

	f, err := e.Points(ctx, run.RunID, "koi_insol", "koi_steff", ResultsQuery{Category: []string{"confirmed_planet"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Points {
		if p[3] != "confirmed_planet" {
			t.Errorf("filtered point %v", p)
		}
	}
	if f.Total == 0 {
		t.Error("no confirmed planets with insolation and Teff")
	}

	for name, c := range map[string][2]string{"unknown axis": {"koi_period", "nope"}, "text axis": {"category", "koi_prad"}} {
		if _, err := e.Points(ctx, run.RunID, c[0], c[1], ResultsQuery{}, 0); ErrorCode(err) != BadRequest {
			t.Errorf("%s: code %q (%v), want %q", name, ErrorCode(err), err, BadRequest)
		}
	}
	if _, err := e.Points(ctx, run.RunID, "koi_period", "koi_prad", ResultsQuery{}, MaxPointsLimit+1); ErrorCode(err) != BadRequest {
		t.Errorf("limit: code %q, want %q", ErrorCode(err), BadRequest)
	}
}
