package api

import (
	"bufio"
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

// TestClientLimiter_keptSlot: a stream that outlives its handler (a job's
// events) keeps its client's slot until it ends, so one client cannot
// open streams past its limit.
func TestClientLimiter_keptSlot(t *testing.T) {
	t.Parallel()
	l := newClientLimiter(1)
	app := fiber.New()
	app.Use(l.limit)
	done := make(chan struct{})
	app.Get("/stream", func(c *fiber.Ctx) error {
		release := keepSlot(c)
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
	if res, err := http.Get(base + "/x"); err != nil || res.StatusCode != 429 {
		t.Errorf("second request while the stream is open: %v %v, want 429", res, err)
	}
	close(done)
	io.Copy(io.Discard, stream.Body)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		res, err := http.Get(base + "/x")
		if err == nil && res.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the stream ended: %v %v, want 200", res, err)
		}
	}
}

// TestClientLimiter_panic: a handler's panic gives its slot back; with a
// limit of 1, two panics used to lock the client out.
func TestClientLimiter_panic(t *testing.T) {
	t.Parallel()
	l := newClientLimiter(1)
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
