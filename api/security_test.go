package api

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

func TestToken(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withToken("s3cret-token"))
	tiny := mustReadFile(t, tinyKOI)
	upload, ct := multipartBody(t, [][2]string{{"name", "tiny"}}, "koi_tiny.csv", tiny)
	auth := func(v string) map[string]string { return map[string]string{"Authorization": v} }
	withCT := func(h map[string]string) map[string]string { h["Content-Type"] = ct; return h }

	env.run(t, []scenario{
		{name: "upload without token", method: "POST", url: "/api/datasets", body: upload, header: withCT(map[string]string{}),
			wantStatus: 401, wantContains: []string{`"code":"unauthorized"`}, wantHeader: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "upload with a wrong token", method: "POST", url: "/api/datasets", body: upload, header: withCT(auth("Bearer s3cret-tokem")),
			wantStatus: 403, wantContains: []string{`"code":"forbidden"`}},
		{name: "upload with a longer wrong token", method: "POST", url: "/api/datasets", body: upload, header: withCT(auth("Bearer s3cret-token-and-more")),
			wantStatus: 403},
		{name: "basic auth is not a bearer token", method: "POST", url: "/api/datasets", body: upload, header: withCT(auth("Basic czNjcmV0LXRva2Vu")),
			wantStatus: 401},
		{name: "nothing stored without a token", method: "GET", url: "/api/datasets", wantStatus: 200, wantContains: []string{`"items":[]`}},
		{name: "upload with the token", method: "POST", url: "/api/datasets", body: upload, header: withCT(auth("Bearer s3cret-token")),
			wantStatus: 201},
		{name: "reads stay open", method: "GET", url: "/api/datasets/tiny", wantStatus: 200},
		{name: "console stays open", method: "POST", url: "/api/query", body: `{"sql":"SELECT 1"}`, wantStatus: 200},
		{name: "run without token", method: "POST", url: "/api/datasets/tiny/runs", body: `{}`, wantStatus: 401},
		{name: "delete without token", method: "DELETE", url: "/api/datasets/tiny", wantStatus: 401},
		{name: "delete with a wrong token", method: "DELETE", url: "/api/datasets/tiny", header: auth("Bearer nope"), wantStatus: 403},
		{name: "legacy upload without token", method: "POST", url: "/api/upload", body: `{"url":"https://example.org/x.csv"}`, wantStatus: 401},
		{name: "legacy process without token", method: "POST", url: "/api/process", body: `{"file_id":"tiny"}`, wantStatus: 401},
		{name: "delete with the token", method: "DELETE", url: "/api/datasets/tiny", header: auth("bearer s3cret-token"), wantStatus: 204},
	})
}

func TestToken_ProtectReads(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withToken("tok"), withConfig(func(c *Config) { c.ProtectReads, c.ProtectConsole = true, true }))
	auth := map[string]string{"Authorization": "Bearer tok"}
	env.run(t, []scenario{
		{name: "read without token", method: "GET", url: "/api/datasets", wantStatus: 401},
		{name: "read with the token", method: "GET", url: "/api/datasets", header: auth, wantStatus: 200},
		{name: "console without token", method: "POST", url: "/api/query", body: `{"sql":"SELECT 1"}`, wantStatus: 401},
		{name: "console with a wrong token", method: "GET", url: "/api/query?sql=SELECT+1", header: map[string]string{"Authorization": "Bearer x"}, wantStatus: 403},
		{name: "console with the token", method: "GET", url: "/api/query?sql=SELECT+1", header: auth, wantStatus: 200},
		{name: "dashboard files stay public", method: "GET", url: "/", wantStatus: 200},
		{name: "liveness probe stays public", method: "GET", url: "/api/health", wantStatus: 200},
		{name: "readiness probe stays public", method: "GET", url: "/api/ready", wantStatus: 200},
		{name: "legacy probe stays public", method: "GET", url: "/healthz", wantStatus: 200},
	})
}

func TestCORS(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withConfig(func(c *Config) { c.CORSOrigins = []string{"http://lab.example:3000"} }))
	env.run(t, []scenario{
		{name: "allowed origin", method: "GET", url: "/api/health", header: map[string]string{"Origin": "http://lab.example:3000"},
			wantStatus: 200, wantHeader: map[string]string{"Access-Control-Allow-Origin": "http://lab.example:3000"}},
		{name: "preflight", method: "OPTIONS", url: "/api/datasets", wantStatus: 204,
			header:     map[string]string{"Origin": "http://lab.example:3000", "Access-Control-Request-Method": "POST"},
			wantHeader: map[string]string{"Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "Authorization"}},
	})
	res, _ := env.do(t, "GET", "/api/health", "", map[string]string{"Origin": "http://evil.example"})
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("other origin allowed: %q", got)
	}
	// note: without configured origins there is no CORS at all.
	plain := MustEnv(t)
	res, _ = plain.do(t, "GET", "/api/health", "", map[string]string{"Origin": "http://lab.example:3000"})
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("CORS header without configured origins: %q", got)
	}
}

// TestClientLimiter holds one client at its limit and checks that the next
// request gets 429 while other clients are served.
func TestClientLimiter(t *testing.T) {
	t.Parallel()
	l := newClientLimiter(2, 2)
	release := make(chan struct{})
	var entered sync.WaitGroup
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		var fe *fiber.Error
		if errors.As(err, &fe) {
			return c.Status(fe.Code).SendString(fe.Message)
		}
		return err
	}})
	app.Use(l.limit)
	app.Get("/slow", func(c *fiber.Ctx) error { entered.Done(); <-release; return c.SendString("ok") })
	app.Get("/fast", func(c *fiber.Ctx) error { return c.SendString("ok") })
	entered.Add(2)
	results := make(chan int, 2)
	for range 2 {
		go func() {
			res, err := app.Test(mustRequest(t, "/slow"), -1)
			if err != nil {
				results <- 0
				return
			}
			results <- res.StatusCode
		}()
	}
	entered.Wait()
	res, err := app.Test(mustRequest(t, "/fast"), -1)
	if err != nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third concurrent request: %v %v, want 429", res.StatusCode, err)
	}
	if res.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	close(release)
	for range 2 {
		if got := <-results; got != http.StatusOK {
			t.Errorf("held request answered %d", got)
		}
	}
	if res, _ := app.Test(mustRequest(t, "/fast"), -1); res.StatusCode != http.StatusOK {
		t.Errorf("after release: %d, want 200", res.StatusCode)
	}
}

// mustRequest builds a GET request.
func mustRequest(tb testing.TB, url string) *http.Request {
	tb.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// TestSlowLoris opens a connection that trickles its headers: the server's
// read timeout cuts it off, and normal requests keep working.
func TestSlowLoris(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withConfig(func(c *Config) { c.ReadTimeout = 300 * time.Millisecond }))
	base := env.MustListen(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		// note: the reader sees EOF (or an error) when the server hangs up.
		_, _ = io.Copy(io.Discard, conn)
		closed <- time.Since(start)
	}()
	lines := []string{"GET /api/health HTTP/1.1\r\n", "Host: x\r\n", "X-A: 1\r\n", "X-B: 2\r\n", "X-C: 3\r\n", "X-D: 4\r\n", "X-E: 5\r\n", "X-F: 6\r\n"}
	for _, l := range lines {
		if _, err := conn.Write([]byte(l)); err != nil {
			break
		}
		select {
		case d := <-closed:
			t.Logf("cut off after %v", d)
			if d > 2*time.Second {
				t.Errorf("cut off after %v, want about the 300ms read timeout", d)
			}
			assertServes(t, base)
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
	select {
	case d := <-closed:
		if d > 3*time.Second {
			t.Errorf("cut off after %v", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a client trickling headers for 2 s was not cut off")
	}
	assertServes(t, base)
}

// assertServes checks that the server answers a normal request.
func assertServes(t *testing.T, base string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/health", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("server not serving after the slow client: %v", err)
	}
	defer res.Body.Close()
	line, _ := bufio.NewReader(res.Body).ReadString('}')
	if res.StatusCode != http.StatusOK || !strings.Contains(line, "ok") {
		t.Fatalf("health after the slow client: %d %s", res.StatusCode, line)
	}
}

// rawExchange writes req on one connection and reads every response the
// server sends until it closes the connection or stays silent for wait.
// It returns the status lines in order.
func rawExchange(t *testing.T, base, req string, wait time.Duration) []string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	var status []string
	br := bufio.NewReader(conn)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(wait))
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			return status
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		status = append(status, res.Status)
	}
}

// TestPipelining: a small POST and a GET sent together on one connection
// get their two answers. With fasthttp reading less than 8 KiB of a body
// before the handler (a BodyLimit of 1 byte), its first read took the
// GET's bytes too, the body stream ran past Content-Length and panicked:
// one 500 and no answer to the GET.
func TestPipelining(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	base := env.MustListen(t)
	body := `{"sql":"SELECT 42 AS x"}`
	req := "POST /api/query HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body +
		"GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	if got := rawExchange(t, base, req, 5*time.Second); len(got) != 2 || got[0] != "200 OK" || got[1] != "200 OK" {
		t.Errorf("answers %q, want two 200 OK", got)
	}
}

// TestRefusedBody_notARequest: the body of a refused request is read and
// thrown away (or the connection closed), never parsed as the next
// request: here a cross-site POST whose body ends with a whole GET. Its
// refusal (403) came before the body was drained, so with a small first
// read the GET ran as a request of its own, past the Origin check.
func TestRefusedBody_notARequest(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	base := env.MustListen(t)
	smuggled := "GET /api/health?smuggled=1 HTTP/1.1\r\nHost: localhost\r\n\r\n"
	body := strings.Repeat("x", 70<<10) + smuggled
	req := "POST /api/query HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\nContent-Type: text/plain\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if got := rawExchange(t, base, req, 3*time.Second); len(got) != 1 || got[0] != "403 Forbidden" {
		t.Errorf("answers %q, want one 403 Forbidden (the body's tail is no request)", got)
	}
}
