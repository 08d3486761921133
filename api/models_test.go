package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/exohunter/exohunter/engine"
)

// koiEvery writes the header and every step-th row of the KOI table to a
// temporary file (the shared file is never copied into the repository).
func koiEvery(tb testing.TB, step int) string {
	tb.Helper()
	in, err := os.Open(filepath.Join(sharedData, "koi_cumulative_2025.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	var b strings.Builder
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for i := 0; sc.Scan(); i++ {
		if i == 0 || i%step == 0 {
			b.WriteString(sc.Text() + "\n")
		}
	}
	path := filepath.Join(tb.TempDir(), "koi_subset.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestModels trains through the API (a background job), lists and reads
// the model, scores a run with it and scores the run for anomalies, on a
// locked engine as serve runs it. Scoring goes 100 rows at a time, the
// path of a large run, whose matrix file a locked engine must be allowed
// to write and read.
func TestModels(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withScoreBatch(100))
	env.MustIngest(t, koiEvery(t, 12), "koi")
	run := env.MustProcess(t, "koi")
	if run.Rows <= 100 {
		t.Fatalf("the run has %d rows: scoring would not batch", run.Rows)
	}
	env.vars["rows"] = strconv.FormatInt(run.Rows, 10)
	res, body := env.do(t, "POST", "/api/models/train", `{"target":"confirmed_vs_fp","version":"v1"}`, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("train: %d %s", res.StatusCode, body)
	}
	var job struct {
		engine.Job
		JobID string `json:"job_id"`
	}
	mustJSON(t, body, &job)
	if job.JobID != job.ID || job.Kind != engine.JobKindTrain {
		t.Fatalf("train answer %s", body)
	}
	done, err := env.jobs.Wait(context.Background(), job.ID)
	if err != nil || done.Status != engine.JobComplete {
		t.Fatalf("train job: %+v, %v", done, err)
	}
	var tr engine.TrainResult
	if err := json.Unmarshal(done.Result, &tr); err != nil || tr.Model != "xgb_confirmed_vs_fp" || len(tr.Features) == 0 {
		t.Fatalf("job result %s: %v", done.Result, err)
	}
	env.vars["job"] = job.ID
	env.run(t, []scenario{
		{name: "job", method: "GET", url: "/api/jobs/{job}", wantStatus: 200,
			wantContains: []string{`"kind":"train"`, `"status":"complete"`, `"artifact_dir":`, `"features":["koi_period"`}},
		{name: "list", method: "GET", url: "/api/models", wantStatus: 200,
			wantContains: []string{`"items":[{"name":"xgb_confirmed_vs_fp","version":"v1","kind":"classifier","target":"confirmed_vs_fp","leaky":false`, `"metrics":{"rows":`}},
		{name: "one version", method: "GET", url: "/api/models/xgb_confirmed_vs_fp/v1", wantStatus: 200,
			wantContains: []string{`"card":"# Model card: xgb_confirmed_vs_fp / v1`, `"data_card":"# Data card`, `"oof":{`, `"holdout":{`,
				`"confusion_matrix":{"labels":["FALSE POSITIVE","CONFIRMED"],"matrix":[[`, `"per_class":{"CONFIRMED":{"precision":`}},
		{name: "unknown version", method: "GET", url: "/api/models/xgb_confirmed_vs_fp/v9", wantStatus: 404},
		{name: "unknown model", method: "GET", url: "/api/models/nope/v1", wantStatus: 404},
		{name: "taken version", method: "POST", url: "/api/models/train", body: `{"version":"v1"}`, wantStatus: 409},
		{name: "unknown target", method: "POST", url: "/api/models/train", body: `{"target":"habitability"}`, wantStatus: 400},
		{name: "unknown run, refused before a job", method: "POST", url: "/api/models/train", body: `{"run_id":"nosuch"}`, wantStatus: 404},
		{name: "unknown feature set, refused before a job", method: "POST", url: "/api/models/train", body: `{"features":"v9"}`, wantStatus: 404},
		{name: "unknown field", method: "POST", url: "/api/models/train", body: `{"targets":"x"}`, wantStatus: 400},
		{name: "score", method: "POST", url: "/api/models/xgb_confirmed_vs_fp/v1/score", body: `{"run_id":"{run}"}`, wantStatus: 200,
			wantContains: []string{`"run_id":"{run}"`, `"column":"p_model"`, `"rows":{rows}`}},
		{name: "score an unknown run", method: "POST", url: "/api/models/xgb_confirmed_vs_fp/v1/score", body: `{"run_id":"nope"}`, wantStatus: 404},
		{name: "anomalies", method: "POST", url: "/api/runs/{run}/anomalies", wantStatus: 200,
			wantContains: []string{`"run_id":"{run}"`, `"top":[{"object_id":`, `"anomaly_score_lof":`}},
		{name: "anomalies of an unknown run", method: "POST", url: "/api/runs/nope/anomalies", wantStatus: 404},
		{name: "results show the scores", method: "GET", url: "/api/runs/{run}/results?sort=anomaly_score&order=desc&limit=1&columns=object_id,p_model,anomaly_score",
			wantStatus: 200, wantContains: []string{`"rows":[{"object_id":"`, `"p_model":0.`, `"anomaly_score":0.`}},
		{name: "exports show the scores", method: "GET", url: "/api/runs/{run}/export?format=ndjson&min_score=0",
			wantStatus: 200, wantContains: []string{`"p_model":`, `"anomaly_score_lof":`}},
		{name: "console sees the scores", method: "POST", url: "/api/query",
			body:       `{"sql":"SELECT count(p_model) AS scored, count(anomaly_score) AS anomalies FROM runs.scored"}`,
			wantStatus: 200, wantContains: []string{`"rows":[[`}},
	})
	checkBackgroundModels(t, env, run.RunID)
	// With a second dataset and none named, the run is ambiguous: a 400 at
	// once, not a job that fails later.
	env.MustIngest(t, koiEvery(t, 50), "koi_b")
	env.run(t, []scenario{
		{name: "no run among several datasets, refused before a job", method: "POST", url: "/api/models/train", body: `{"target":"planet_vs_fp"}`,
			wantStatus: 400, wantContains: []string{"There are 2 datasets"}},
	})
}

// checkBackgroundModels scores the run and detects its anomalies again
// with ?background=true: each answers 202 with a job at once, and the
// job's result is what the waiting call answered. Bad requests are
// refused before any job starts.
func checkBackgroundModels(t *testing.T, env *testEnv, runID string) {
	t.Helper()
	sync := map[string]string{}
	for name, url := range map[string]string{"score": "/api/models/xgb_confirmed_vs_fp/v1/score", "anomalies": "/api/runs/" + runID + "/anomalies"} {
		res, body := env.do(t, "POST", url, `{"run_id":"`+runID+`"}`, nil)
		if name == "anomalies" {
			res, body = env.do(t, "POST", url, "", nil)
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", name, res.StatusCode, body)
		}
		sync[name] = body
	}
	for _, tc := range []struct{ kind, url, body string }{
		{engine.JobKindScore, "/api/models/xgb_confirmed_vs_fp/v1/score?background=true", `{"run_id":"` + runID + `"}`},
		{engine.JobKindAnomalies, "/api/runs/" + runID + "/anomalies?background=true", ""},
	} {
		res, body := env.do(t, "POST", tc.url, tc.body, nil)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("%s in the background: %d %s", tc.kind, res.StatusCode, body)
		}
		var job jobStart
		mustJSON(t, body, &job)
		if job.JobID == "" || job.JobID != job.ID || job.Kind != tc.kind || res.Header.Get("Location") != "/api/jobs/"+job.ID {
			t.Fatalf("%s answer %s (Location %q)", tc.kind, body, res.Header.Get("Location"))
		}
		done, err := env.jobs.Wait(context.Background(), job.ID)
		if err != nil || done.Status != engine.JobComplete || done.Progress != 1 {
			t.Fatalf("%s job: %+v, %v", tc.kind, done, err)
		}
		name := map[string]string{engine.JobKindScore: "score", engine.JobKindAnomalies: "anomalies"}[tc.kind]
		if got, want := string(done.Result), strings.TrimSpace(sync[name]); got != want {
			t.Errorf("%s job result:\n%s\nthe waiting call answered:\n%s", tc.kind, got, want)
		}
	}
	env.run(t, []scenario{
		{name: "background neither true nor false", method: "POST", url: "/api/runs/" + runID + "/anomalies?background=maybe",
			wantStatus: 400, wantContains: []string{"background must be true or false"}},
		{name: "background anomalies of an unknown run, refused before a job", method: "POST", url: "/api/runs/nope/anomalies?background=true", wantStatus: 404},
		{name: "background score with an unknown model, refused before a job", method: "POST", url: "/api/models/nope/v1/score?background=true",
			body: `{"run_id":"` + runID + `"}`, wantStatus: 404},
		{name: "background score of an unknown run, refused before a job", method: "POST", url: "/api/models/xgb_confirmed_vs_fp/v1/score?background=true",
			body: `{"run_id":"nope"}`, wantStatus: 404},
	})
}
