package api

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/exohunter/exohunter/engine"
)

func TestLabels(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	env.MustIngest(t, tinyKOI, "tiny")
	env.MustProcess(t, "tiny")
	res, body := env.do(t, "POST", "/api/labels", `{"object_id":"K00753.01","dataset":"tiny","label":"rocky_candidate","annotator":"ann","note":"small?"}`, nil)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create label: %d %s", res.StatusCode, body)
	}
	var l engine.Label
	mustJSON(t, body, &l)
	env.vars["label"] = fmt.Sprint(l.ID)

	env.run(t, []scenario{
		{name: "create", method: "POST", url: "/api/labels", wantStatus: 201,
			body:         `{"object_id":"K00087.01","dataset":"tiny","run_id":"{run}","label":"confirmed","annotator":"ann"}`,
			wantContains: []string{`"label":"CONFIRMED"`, `"source":"human"`, `"run_id":"{run}"`, `"created_at":"`, `"id":`}},
		{name: "unknown label", method: "POST", url: "/api/labels", wantStatus: 400,
			body: `{"object_id":"K00087.01","dataset":"tiny","label":"planet","annotator":"ann"}`, wantContains: []string{`Unknown label \"planet\"`}},
		{name: "unknown source", method: "POST", url: "/api/labels", wantStatus: 400,
			body: `{"object_id":"K00087.01","dataset":"tiny","label":"candidate","source":"oracle","annotator":"ann"}`, wantContains: []string{"source"}},
		{name: "nasa source is the catalog's", method: "POST", url: "/api/labels", wantStatus: 400,
			body: `{"object_id":"K00087.01","dataset":"tiny","label":"CONFIRMED","source":"nasa"}`, wantContains: []string{"come from the catalog's disposition"}},
		{name: "annotator not UTF-8", method: "POST", url: "/api/labels", wantStatus: 400,
			body: "{\"object_id\":\"K00087.01\",\"dataset\":\"tiny\",\"label\":\"candidate\",\"annotator\":\"bob\xff\xfe\"}", wantContains: []string{"not valid UTF-8"}},
		{name: "unknown object", method: "POST", url: "/api/labels", wantStatus: 400,
			body: `{"object_id":"K99999.01","dataset":"tiny","label":"candidate","annotator":"ann"}`, wantContains: []string{`no object \"K99999.01\"`}},
		{name: "unknown dataset", method: "POST", url: "/api/labels", wantStatus: 400,
			body: `{"object_id":"K00087.01","dataset":"nope","label":"candidate","annotator":"ann"}`},
		{name: "unknown field", method: "POST", url: "/api/labels", wantStatus: 400,
			body:         `{"object":"K00087.01","dataset":"tiny","label":"candidate","annotator":"ann"}`,
			wantContains: []string{`"message":"Unknown field \"object\"; the fields are object_id, dataset, run_id, label, source, annotator, note."`}},
		{name: "array body", method: "POST", url: "/api/labels", body: `[]`, wantStatus: 400,
			wantContains: []string{`"message":"The request body must be a JSON object, not an array."`}},
		{name: "wrong-typed field", method: "POST", url: "/api/labels", wantStatus: 400,
			body:         `{"object_id":87.01,"dataset":"tiny","label":"candidate","annotator":"ann"}`,
			wantContains: []string{`"message":"The field \"object_id\" must be a JSON string, not a number."`}},
		{name: "no body", method: "POST", url: "/api/labels", wantStatus: 400},

		{name: "import nasa", method: "POST", url: "/api/labels/import", body: `{"source":"nasa","dataset":"tiny"}`, wantStatus: 201,
			wantContains: []string{`"inserted":8`, `"labeled_objects":8`}},
		{name: "import run", method: "POST", url: "/api/labels/import", body: `{"source":"heuristic","run_id":"{run}"}`, wantStatus: 201,
			wantContains: []string{`"inserted":8`}},
		{name: "import unknown run", method: "POST", url: "/api/labels/import", body: `{"source":"heuristic","run_id":"nope"}`, wantStatus: 404},
		{name: "import bad body", method: "POST", url: "/api/labels/import", body: `{"source":"nasa","run_id":"{run}"}`, wantStatus: 400},

		{name: "list", method: "GET", url: "/api/labels?limit=5", wantStatus: 200,
			wantContains: []string{`"items":[{"id":{label},"object_id":"K00753.01"`, `"next_cursor":"`}},
		{name: "list filtered", method: "GET", url: "/api/labels?source=human&annotator=ann&dataset=tiny&review_status=pending", wantStatus: 200,
			wantContains: []string{`"K00753.01"`, `"K00087.01"`, `"next_cursor":null`}},
		{name: "list by label", method: "GET", url: "/api/labels?source=nasa&label=FALSE%20POSITIVE", wantStatus: 200,
			wantContains: []string{`"K00754.01"`, `"K00114.01"`}},
		{name: "list bad limit", method: "GET", url: "/api/labels?limit=100001", wantStatus: 400},
		{name: "list bad cursor", method: "GET", url: "/api/labels?cursor=x", wantStatus: 400},
		{name: "list bad status", method: "GET", url: "/api/labels?review_status=maybe", wantStatus: 400},
		{name: "list unknown parameter", method: "GET", url: "/api/labels?colour=red", wantStatus: 400},

		{name: "review", method: "POST", url: "/api/labels/{label}/review", body: `{"status":"accept","reviewer":"rev","note":"ok"}`, wantStatus: 201,
			wantContains: []string{`"status":"accepted"`, `"label_id":{label}`}},
		{name: "reviewed", method: "GET", url: "/api/labels?review_status=accepted", wantStatus: 200, wantContains: []string{`"id":{label}`}},
		{name: "review unknown label", method: "POST", url: "/api/labels/999999/review", body: `{"status":"accept","reviewer":"rev"}`, wantStatus: 404},
		{name: "review bad id", method: "POST", url: "/api/labels/abc/review", body: `{"status":"accept","reviewer":"rev"}`, wantStatus: 404},
		{name: "review bad status", method: "POST", url: "/api/labels/{label}/review", body: `{"status":"maybe","reviewer":"rev"}`, wantStatus: 400},

		{name: "review queue", method: "GET", url: "/api/labels/review?dataset=tiny", wantStatus: 200,
			wantContains: []string{`"pending":[`, `"object_id":"K00087.01"`, `"disagreements":[`, `"pending_total":1`}},
		{name: "stats", method: "GET", url: "/api/labels/stats?dataset=tiny", wantStatus: 200,
			wantContains: []string{`"tables":[{"a":"human","b":"nasa","objects":2`, `"a":"heuristic","b":"nasa","objects":8`, `"classes":["CONFIRMED","CANDIDATE","FALSE POSITIVE"`}},

		{name: "queue peek", method: "GET", url: "/api/labels/queue", wantStatus: 200,
			wantContains: []string{`"items":[]`, `"strategy":"priority"`}}, // the one CANDIDATE has a human label
		{name: "queue bad strategy", method: "GET", url: "/api/labels/queue?strategy=loudest", wantStatus: 400},
		{name: "queue unknown run", method: "GET", url: "/api/labels/queue?run=nope", wantStatus: 404},
		{name: "queue unknown run_id", method: "GET", url: "/api/labels/queue?run_id=nope", wantStatus: 404},
		{name: "queue run_id", method: "GET", url: "/api/labels/queue?run_id={run}", wantStatus: 200, wantContains: []string{`"items":[]`}},
		{name: "queue run_id and run differ", method: "GET", url: "/api/labels/queue?run_id={run}&run=nope", wantStatus: 400,
			wantContains: []string{"name different runs"}},
		{name: "queue unknown dataset", method: "GET", url: "/api/labels/queue?dataset=nope", wantStatus: 404,
			wantContains: []string{`no dataset named \"nope\"`}},
		{name: "queue bad limit", method: "GET", url: "/api/labels/queue?limit=0", wantStatus: 400},

		{name: "export parquet", method: "GET", url: "/api/labels/export", wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": "application/vnd.apache.parquet", "Content-Disposition": `attachment; filename="labels-`,
				"X-Exohunter-Manifest": ".manifest.json", "X-Content-Type-Options": "nosniff"}},
		{name: "export csv", method: "GET", url: "/api/labels/export?format=csv&source=human", wantStatus: 200,
			wantContains: []string{"dataset,object_id,run_id,source,label,label_class", "tiny,K00753.01,", ",human,rocky_candidate,CANDIDATE,ann,small?"},
			wantHeader:   map[string]string{"Content-Type": "text/csv"}},
		{name: "export bad format", method: "GET", url: "/api/labels/export?format=xlsx", wantStatus: 400},
		{name: "export bad source", method: "GET", url: "/api/labels/export?source=oracle", wantStatus: 400},
	})
}

// TestLabels_queueClaims: concurrent requests with different annotators
// get different items; a peek claims nothing.
func TestLabels_queueClaims(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	// note: every KOI of the fixture made a CANDIDATE, so that none is
	// excluded by its NASA disposition.
	data := strings.NewReplacer(",CONFIRMED,", ",CANDIDATE,", ",FALSE POSITIVE,", ",CANDIDATE,").
		Replace(string(mustReadFile(t, "../engine/testdata/koi_small_commented.csv")))
	path := filepath.Join(t.TempDir(), "koi_candidates.csv")
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	env.MustIngest(t, path, "koi")
	env.MustProcess(t, "koi")
	env.run(t, []scenario{
		{name: "peek", method: "GET", url: "/api/labels/queue?limit=5&strategy=uncertainty", wantStatus: 200,
			wantContains: []string{`"object_id":"K00753.01"`, `"reason":{"category_weight":`, `"flags":[`}},
	})
	const n = 5
	var wg sync.WaitGroup
	got := make([][]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, body := env.do(t, "GET", fmt.Sprintf("/api/labels/queue?limit=2&annotator=a%d", i), "", nil)
			if res.StatusCode != http.StatusOK {
				t.Errorf("annotator %d: %d %s", i, res.StatusCode, body)
				return
			}
			var q engine.Queue
			mustJSON(t, body, &q)
			for _, it := range q.Items {
				got[i] = append(got[i], it.ObjectID)
				if it.ClaimedUntil == nil {
					t.Errorf("annotator %d: item %s not claimed", i, it.ObjectID)
				}
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, items := range got {
		if len(items) != 2 {
			t.Errorf("annotator %d got %v, want 2 items", i, items)
		}
		for _, o := range items {
			if seen[o] {
				t.Errorf("annotator %d got %s, already handed out", i, o)
			}
			seen[o] = true
		}
	}
}

// TestLabels_token: with a token, label writes and queue claims need it;
// reads and peeks do not.
func TestLabels_token(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withToken("s3cret"))
	env.MustIngest(t, tinyKOI, "tiny")
	env.MustProcess(t, "tiny")
	auth := map[string]string{"Authorization": "Bearer s3cret"}
	label := `{"object_id":"K00753.01","dataset":"tiny","label":"candidate","annotator":"ann"}`
	env.run(t, []scenario{
		{name: "write without token", method: "POST", url: "/api/labels", body: label, wantStatus: 401},
		{name: "write with wrong token", method: "POST", url: "/api/labels", body: label, wantStatus: 403,
			header: map[string]string{"Authorization": "Bearer nope"}},
		{name: "write with token", method: "POST", url: "/api/labels", body: label, wantStatus: 201, header: auth},
		{name: "read without token", method: "GET", url: "/api/labels", wantStatus: 200},
		{name: "peek without token", method: "GET", url: "/api/labels/queue", wantStatus: 200},
		{name: "claim without token", method: "GET", url: "/api/labels/queue?annotator=ann", wantStatus: 401},
		{name: "claim with wrong token", method: "GET", url: "/api/labels/queue?annotator=ann", wantStatus: 403,
			header: map[string]string{"Authorization": "Bearer nope"}},
		{name: "claim with token", method: "GET", url: "/api/labels/queue?annotator=ann", wantStatus: 200, header: auth},
		{name: "build without token", method: "POST", url: "/api/features", body: `{"version":"v1"}`, wantStatus: 401},
	})
}
