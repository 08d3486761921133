package api

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// TestOrigin_CSRF: without a token, a page of another site cannot make
// the browser change anything (a text/plain POST is sent without a
// preflight); the dashboard's own origin, a listed origin and programs
// without an Origin header still can, and reads are untouched.
func TestOrigin_CSRF(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withConfig(func(c *Config) { c.CORSOrigins = []string{"http://lab.example:3000"} }))
	evil := map[string]string{"Origin": "https://evil.example", "Content-Type": "text/plain"}
	env.run(t, []scenario{
		{name: "cross-site run", method: "POST", url: "/api/datasets/koi/runs", body: `{"albedo":0.77}`, header: evil,
			wantStatus: 403, wantContains: []string{`"code":"forbidden"`, "another site (https://evil.example)"}},
		{name: "cross-site label, Sec-Fetch-Site only", method: "POST", url: "/api/labels", body: `{"object_id":"K1","dataset":"koi","label":"FALSE POSITIVE"}`,
			header: map[string]string{"Sec-Fetch-Site": "cross-site"}, wantStatus: 403},
		{name: "null origin (sandboxed page)", method: "POST", url: "/api/labels", body: `{}`, header: map[string]string{"Origin": "null"}, wantStatus: 403},
		{name: "a look-alike of the listed origin", method: "POST", url: "/api/labels", body: `{}`, header: map[string]string{"Origin": "http://lab.example:3000.evil.example"}, wantStatus: 403},
		{name: "cross-site delete", method: "DELETE", url: "/api/datasets/koi", header: evil, wantStatus: 403},
		{name: "cross-site read is left to CORS", method: "GET", url: "/api/datasets", header: evil, wantStatus: 200},
		{name: "an <img> claiming queue items", method: "GET", url: "/api/labels/queue?annotator=x", header: map[string]string{"Sec-Fetch-Site": "cross-site"}, wantStatus: 403},
		{name: "an <img> writing an export", method: "GET", url: "/api/labels/export", header: map[string]string{"Sec-Fetch-Site": "cross-site"}, wantStatus: 403},
	})
	// The same requests from the dashboard (its own origin), from a listed
	// origin and from curl reach the handler: 404 for the missing dataset,
	// 400 for the incomplete label, never 403.
	for _, h := range []map[string]string{{"Origin": "http://example.com"}, {"Origin": "http://lab.example:3000"}, {"Sec-Fetch-Site": "same-origin"}, {}} {
		res, body := env.do(t, "POST", "/api/datasets/koi/runs", `{"albedo":0.5}`, h)
		if res.StatusCode == 403 || res.StatusCode/100 == 2 {
			t.Errorf("run from %v: %d %s, want the handler's own answer", h, res.StatusCode, body)
		}
		if res, body := env.do(t, "POST", "/api/labels", `{}`, h); res.StatusCode != 400 {
			t.Errorf("label from %v: %d %s, want 400", h, res.StatusCode, body)
		}
	}
}

// TestHost_rebinding: a loopback server answers only requests naming this
// machine, so a page whose name was pointed at 127.0.0.1 can neither read
// nor write; names listed by the operator are accepted too.
func TestHost_rebinding(t *testing.T) {
	t.Parallel()
	env := MustEnv(t, withConfig(func(c *Config) { c.AllowedHosts = append(append([]string{}, LoopbackHosts...), "exo.lab") }))
	for host, want := range map[string]int{
		"127.0.0.1:8080": 200, "localhost:8080": 200, "[::1]:8080": 200, "LOCALHOST": 200, "exo.lab:443": 200,
		"127.0.0.2:8080": 200, "192.168.1.5": 200, "localhost.:8080": 200,
		"attacker.example:8080": 403, "127.0.0.1.attacker.example": 403,
	} {
		res, body := env.do(t, "GET", "/api/datasets", "", map[string]string{"Host": host})
		if res.StatusCode != want || want == 403 && !strings.Contains(body, "EXOHUNTER_ALLOWED_HOSTS") {
			t.Errorf("Host %q: %d %s, want %d", host, res.StatusCode, body, want)
		}
	}
}

// TestClientLimiter_streams: a stream that outlives its handler (a job's
// events) holds one of its client's stream slots until it ends, so one
// client cannot open streams past that budget; and it does not hold a
// request slot, so open streams never refuse the client's other requests.
func TestClientLimiter_streams(t *testing.T) {
	t.Parallel()
	l := newClientLimiter(1, 1)
	app := fiber.New()
	app.Use(l.limit)
	done := make(chan struct{})
	app.Get("/stream", func(c *fiber.Ctx) error {
		release, err := holdStream(c)
		if err != nil {
			return err
		}
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			defer release()
			w.WriteString("open\n")
			w.Flush()
			<-done
		})
		return nil
	})
	app.Get("/x", func(c *fiber.Ctx) error { return c.SendString("ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	defer app.Shutdown()
	base := "http://" + ln.Addr().String()
	stream, err := http.Get(base + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if line, err := bufio.NewReader(stream.Body).ReadString('\n'); err != nil || line != "open\n" {
		t.Fatalf("stream: %q %v", line, err)
	}
	if res, err := http.Get(base + "/x"); err != nil || res.StatusCode != 200 {
		t.Errorf("a request while the stream is open: %v %v, want 200", res, err)
	}
	if res, err := http.Get(base + "/stream"); err != nil || res.StatusCode != 429 {
		t.Errorf("second stream while the first is open: %v %v, want 429", res, err)
	}
	close(done)
	io.Copy(io.Discard, stream.Body)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		res, err := http.Get(base + "/stream")
		if err == nil && res.StatusCode == 200 {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a stream after the first ended: %v %v, want 200", res, err)
		}
	}
}

// TestClientLimiter_eventStreams: as many job event streams as a client
// may open (several scientists' dashboard tabs behind one proxy share an
// address), then one more, which is refused with a message; meanwhile the
// same client still reads the job and writes a label. Counted with the
// requests, the open streams answered every other request 429.
func TestClientLimiter_eventStreams(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	env.MustIngest(t, tinyKOI, "tiny")
	env.MustProcess(t, "tiny")
	base := env.MustListen(t)
	hold := make(chan struct{})
	defer close(hold)
	job, err := env.jobs.Start(context.Background(), "test", func(ctx context.Context, report func(float64, string)) (any, error) {
		<-hold
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for range DefaultMaxStreams {
		_, events := openEvents(t, base, job.ID)
		if ev := <-events; ev.name != "progress" {
			t.Fatalf("first event %+v, want the running job", ev)
		}
	}
	res, err := http.Get(base + "/api/jobs/" + job.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "job event streams open") || res.Header.Get("Retry-After") == "" {
		t.Errorf("one stream more than the budget: %d %s (Retry-After %q), want 429 saying why", res.StatusCode, body, res.Header.Get("Retry-After"))
	}
	res, err = http.Get(base + "/api/jobs/" + job.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET the job while its streams are open: %d %s, want 200", res.StatusCode, body)
	}
	res, err = http.Post(base+"/api/labels", "application/json",
		strings.NewReader(`{"object_id":"K00753.01","dataset":"tiny","label":"rocky_candidate","annotator":"ann"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Errorf("a label write while the streams are open: %d %s, want 201", res.StatusCode, body)
	}
}

// TestClientLimiter_panic: a handler's panic gives its slot back; with a
// limit of 1, two panics used to lock the client out.
func TestClientLimiter_panic(t *testing.T) {
	t.Parallel()
	l := newClientLimiter(1, 1)
	app := fiber.New()
	app.Use(recoverPanics, l.limit)
	app.Get("/panic", func(*fiber.Ctx) error { panic("boom") })
	app.Get("/x", func(c *fiber.Ctx) error { return c.SendString("ok") })
	for range 2 {
		if res, err := app.Test(httptest.NewRequest("GET", "/panic", nil), -1); err != nil || res.StatusCode != 500 {
			t.Fatalf("panicking request: %v %v", res, err)
		}
	}
	if res, err := app.Test(httptest.NewRequest("GET", "/x", nil), -1); err != nil || res.StatusCode != 200 {
		t.Errorf("after two panics: %v %v, want 200", res, err)
	}
}
