package api

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestServer_HangupCancels: a console download whose client closes the
// connection while the query runs is cancelled within a second or so,
// not left running until its timeout; a client that stays gets its
// answer (the peek does not disturb it).
func TestServer_HangupCancels(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	base := env.MustListen(t)
	host := strings.TrimPrefix(base, "http://")
	// note: 10^12 rows to sum: minutes on any machine, so only the
	// cancellation can end it within the waits below (or the 60 s timeout).
	slow := url.QueryEscape("SELECT sum(a.range * b.range) AS s FROM range(1000000) AS a, range(1000000) AS b")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /api/query?format=csv&timeout_ms=60000&sql=%s HTTP/1.1\r\nHost: %s\r\n\r\n", slow, host)
	console := env.eng.Console()
	waitFor(t, 10*time.Second, "the query to start", func() bool { return console.Running() == 1 })
	time.Sleep(2 * hangupPoll) // still running: the client is there
	if console.Running() != 1 {
		t.Fatalf("the query stopped while its client was connected")
	}
	conn.Close()
	t0 := time.Now()
	waitFor(t, 5*time.Second, "the query to be cancelled", func() bool { return console.Running() == 0 })
	t.Logf("cancelled %v after the client left", time.Since(t0))

	resp, body := env.do(t, "GET", base+"/api/query?format=csv&sql="+url.QueryEscape("SELECT 42 AS answer"), "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "42") {
		t.Errorf("a client that stays: %d %q", resp.StatusCode, body)
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("waited %v for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
