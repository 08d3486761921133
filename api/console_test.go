package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestConsole(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	env.MustIngest(t, tinyKOI, "tiny")
	long := `{"sql":"SELECT ` + strings.Repeat("1+", 40_000) + `1"}`
	slow := `{"sql":"SELECT count(*) FROM range(100000000000) a","timeout_ms":200}`

	env.run(t, []scenario{
		{name: "query", method: "POST", url: "/api/query", body: `{"sql":"SELECT kepoi_name, koi_prad FROM raw.tiny ORDER BY kepoi_name","limit":2}`,
			wantStatus: 200, wantContains: []string{`"columns":[{"name":"kepoi_name","type":"VARCHAR"}`, `"rows":[["K00001.01",13.04]`,
				`"truncated":true`, `"query_id":"`}},
		{name: "query by url", method: "GET", url: "/api/query?sql=" + url.QueryEscape("SELECT 42 AS answer"), wantStatus: 200,
			wantContains: []string{`"rows":[[42]]`, `"truncated":false`}},
		{name: "client query id", method: "POST", url: "/api/query", body: `{"sql":"SELECT 1","query_id":"mine-1"}`, wantStatus: 200,
			wantContains: []string{`"query_id":"mine-1"`}},
		{name: "write refused", method: "POST", url: "/api/query", body: `{"sql":"DROP TABLE meta.datasets"}`, wantStatus: 400,
			wantContains: []string{`"code":"invalid_parameter"`}},
		{name: "file read refused", method: "POST", url: "/api/query", body: `{"sql":"SELECT * FROM read_csv('/etc/passwd')"}`, wantStatus: 400},
		{name: "stacked statements refused", method: "POST", url: "/api/query", body: `{"sql":"SELECT 1; SELECT 2"}`, wantStatus: 400},
		{name: "empty query", method: "POST", url: "/api/query", body: `{"sql":""}`, wantStatus: 400, wantContains: []string{"empty"}},
		{name: "empty query by url", method: "GET", url: "/api/query", wantStatus: 400},
		{name: "bad limit by url", method: "GET", url: "/api/query?sql=SELECT+1&limit=lots", wantStatus: 400},
		{name: "limit above the ceiling", method: "POST", url: "/api/query", body: `{"sql":"SELECT 1","limit":100000000}`, wantStatus: 400},
		{name: "query too long", method: "POST", url: "/api/query", body: long, wantStatus: 413, wantContains: []string{`"code":"too_large"`}},
		{name: "timeout", method: "POST", url: "/api/query", body: slow, wantStatus: 504, wantContains: []string{`"code":"timeout"`}},
		{name: "usable after a timeout", method: "POST", url: "/api/query", body: `{"sql":"SELECT 1 AS one"}`, wantStatus: 200},
		{name: "cancel unknown query", method: "DELETE", url: "/api/query/nope", wantStatus: 404},
		{name: "download csv", method: "GET", url: "/api/query?format=csv&sql=" + url.QueryEscape("SELECT kepoi_name, '=1+1' AS f FROM raw.tiny ORDER BY 1"),
			wantStatus: 200, wantContains: []string{"kepoi_name,f\n", "K00001.01,'=1+1"},
			wantHeader: map[string]string{"Content-Type": "text/csv", "Content-Disposition": `attachment; filename="query-`, "X-Rows": "8"}},
		{name: "download csv as is", method: "GET", url: "/api/query?format=csv&spreadsheet_safe=false&sql=" + url.QueryEscape("SELECT '-11d50m16.05s' AS decstr"),
			wantStatus: 200, wantContains: []string{"decstr\n-11d50m16.05s\n"}},
		{name: "download csv spreadsheet safe", method: "GET", url: "/api/query?format=csv&spreadsheet_safe=true&sql=" + url.QueryEscape("SELECT '=1+1' AS f, -2.5 AS x"),
			wantStatus: 200, wantContains: []string{"f,x\n'=1+1,-2.5\n"}},
		{name: "download csv spreadsheet_safe not a boolean", method: "GET", url: "/api/query?format=csv&spreadsheet_safe=yes&sql=SELECT+1",
			wantStatus: 400, wantContains: []string{"spreadsheet_safe must be true or false"}},
		{name: "download parquet", method: "GET", url: "/api/query?format=parquet&sql=SELECT+42+AS+answer", wantStatus: 200,
			wantContains: []string{"PAR1"}, wantHeader: map[string]string{"Content-Type": "application/vnd.apache.parquet"}},
		{name: "download unknown format", method: "GET", url: "/api/query?format=xlsx&sql=SELECT+1", wantStatus: 400},
		{name: "download refused statement", method: "GET", url: "/api/query?format=csv&sql=" + url.QueryEscape("COPY meta.datasets TO 'x.csv'"), wantStatus: 400},
	})
}

// TestConsole_Cancel cancels a running query by the id the client chose:
// DELETE answers 204 and the query answers 409 at once, naming the DELETE:
// nothing is wrong with the query (400 said so).
func TestConsole_Cancel(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	type answer struct {
		status int
		body   string
	}
	done := make(chan answer, 1)
	go func() {
		res, body := env.do(t, "POST", "/api/query", `{"sql":"SELECT count(*) FROM range(100000000000) a","timeout_ms":30000,"query_id":"slow-1"}`, nil)
		done <- answer{res.StatusCode, body}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, _ := env.do(t, "DELETE", "/api/query/slow-1", "", nil)
		if res.StatusCode == http.StatusNoContent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the query never became cancellable (last status %d)", res.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case a := <-done:
		if a.status != http.StatusConflict || !strings.Contains(a.body, "cancelled by DELETE /api/query/slow-1") {
			t.Errorf("cancelled query answered %d %s", a.status, a.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled query did not answer")
	}
}

// TestConsole_Starvation: with 16 slow console queries running over HTTP,
// results pages and label writes still answer promptly, because the console
// has its own small connection pool.
func TestConsole_Starvation(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	env.MustIngest(t, tinyKOI, "tiny")
	run := env.MustProcess(t, "tiny")
	const slow = 16
	done := make(chan int, slow)
	for i := range slow {
		go func() {
			res, _ := env.do(t, "POST", "/api/query",
				fmt.Sprintf(`{"sql":"SELECT count(*) FROM range(100000000000) a","timeout_ms":30000,"query_id":"starve-%d"}`, i), nil)
			done <- res.StatusCode
		}()
	}
	deadline := time.Now().Add(15 * time.Second)
	for env.eng.Console().Running() < slow && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := env.eng.Console().Running(); n < slow {
		t.Fatalf("%d console queries running, want %d", n, slow)
	}
	var slowest time.Duration
	for i := range 10 {
		start := time.Now()
		res, body := env.do(t, "GET", "/api/runs/"+run.RunID+"/results?category=confirmed_planet&limit=50", "", nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `"total"`) {
			t.Fatalf("results page while the console is busy: %d %s", res.StatusCode, body)
		}
		res, body = env.do(t, "POST", "/api/labels",
			fmt.Sprintf(`{"object_id":"K00753.01","dataset":"tiny","label":"rocky_candidate","annotator":"starve-%d"}`, i), nil)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("label write while the console is busy: %d %s", res.StatusCode, body)
		}
		slowest = max(slowest, time.Since(start))
	}
	if running := env.eng.Console().Running(); running < slow {
		t.Errorf("only %d console queries were still running at the end, want %d", running, slow)
	}
	for i := range slow {
		env.do(t, "DELETE", fmt.Sprintf("/api/query/starve-%d", i), "", nil)
	}
	for range slow {
		select {
		case code := <-done:
			if code != http.StatusConflict {
				t.Errorf("a cancelled console query answered %d, want 409", code)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("a cancelled console query did not answer")
		}
	}
	t.Logf("slowest results page + label write: %s with %d console queries running", slowest, slow)
	// note: sharing one pool, they would wait for a console query to end
	// (30 s); 10 s leaves room for a machine busy with other test packages.
	if slowest > 10*time.Second {
		t.Errorf("a results page and a label write took %s while the console was busy", slowest)
	}
}
