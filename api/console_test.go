package api

import (
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
		{name: "download csv as is", method: "GET", url: "/api/query?format=csv&spreadsheet_safe=false&sql=" + url.QueryEscape("SELECT '=1+1' AS f"),
			wantStatus: 200, wantContains: []string{"f\n=1+1"}},
		{name: "download parquet", method: "GET", url: "/api/query?format=parquet&sql=SELECT+42+AS+answer", wantStatus: 200,
			wantContains: []string{"PAR1"}, wantHeader: map[string]string{"Content-Type": "application/vnd.apache.parquet"}},
		{name: "download unknown format", method: "GET", url: "/api/query?format=xlsx&sql=SELECT+1", wantStatus: 400},
		{name: "download refused statement", method: "GET", url: "/api/query?format=csv&sql=" + url.QueryEscape("COPY meta.datasets TO 'x.csv'"), wantStatus: 400},
	})
}

// TestConsole_Cancel cancels a running query by the id the client chose:
// DELETE answers 204 and the query answers 400 at once.
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
		if a.status != http.StatusBadRequest || !strings.Contains(a.body, "cancelled") {
			t.Errorf("cancelled query answered %d %s", a.status, a.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled query did not answer")
	}
}
