package reliability

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// operation is one route of the OpenAPI document.
type operation struct {
	Method, Path string
	Tags         []string
	Secured      bool // declares the bearer security requirement
}

// String prints "POST /api/labels".
func (o operation) String() string { return o.Method + " " + o.Path }

// url fills the path parameters with a harmless value.
func (o operation) url() string {
	return regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(o.Path, "zz-none")
}

// isConsole reports whether the route belongs to the SQL console.
func (o operation) isConsole() bool {
	for _, t := range o.Tags {
		if t == "console" {
			return true
		}
	}
	return false
}

// isProbe reports whether the route is a liveness or readiness probe,
// which stays open in every mode: orchestrators call it without a token.
func (o operation) isProbe() bool {
	switch o.Path {
	case "/api/health", "/api/ready", "/healthz", "/api/health/ping", "/api/health/ready":
		return true
	}
	return false
}

// operations reads every route from the server's OpenAPI document, so that
// routes added later are covered without touching the tests.
func operations(t *testing.T, c *Client) []operation {
	t.Helper()
	res, err := c.Get(ctxFor(t, time.Minute), "/api/openapi.json")
	if err != nil || res.Status != 200 {
		t.Fatalf("GET /api/openapi.json: %v %v", res, err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Tags     []string         `json:"tags"`
			Security []map[string]any `json:"security"`
		} `json:"paths"`
	}
	if err := res.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var ops []operation
	for p, methods := range doc.Paths {
		for m, op := range methods {
			switch m {
			case "get", "post", "put", "patch", "delete":
				ops = append(ops, operation{Method: strings.ToUpper(m), Path: p, Tags: op.Tags, Secured: len(op.Security) > 0})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].String() < ops[j].String() })
	if len(ops) < 20 {
		t.Fatalf("only %d operations in the OpenAPI document", len(ops))
	}
	return ops
}

// tokenCases are the credentials a write must refuse, with the status.
var tokenCases = []struct {
	name, header string
	status       int
}{
	{"no header", "", 401},
	{"empty bearer", "Bearer ", 401},
	{"basic auth with the token", "Basic dG9rLXJlbGlhYmlsaXR5", 401},
	{"the token without a scheme", "tok-reliability", 401},
	{"wrong token", "Bearer nope", 403},
	{"token prefix", "Bearer tok-reliabilit", 403},
	{"token with a suffix", "Bearer tok-reliability2", 403},
	{"token in other case", "Bearer TOK-RELIABILITY", 403},
}

// TestAccess_Token starts the binary with EXOHUNTER_TOKEN and sends every
// write route of the OpenAPI document (every non-GET route outside the
// read-only console) without a token, with a wrong one and with malformed
// ones: 401 or 403 with the error envelope, and nothing changes. The right
// token passes. Reads and the console stay open by default.
func TestAccess_Token(t *testing.T) {
	t.Parallel()
	const token = "tok-reliability"
	e := newEnv(t, func(o *Options) { o.Env = append(o.Env, "EXOHUNTER_TOKEN="+token) })
	f := e.useFixture()
	e.start()
	ctx := ctxFor(t, 5*time.Minute)
	before := readState(t, e.c, append(stateOf("small", f.smallRun), "/api/datasets", "/api/runs", "/api/labels", "/api/features", "/api/snapshots")...)
	var writes []string
	for _, op := range operations(t, e.c) {
		if op.Method == "GET" || op.isConsole() {
			continue
		}
		writes = append(writes, op.String())
		if !op.Secured {
			t.Errorf("%s: the OpenAPI document does not declare the bearer token", op)
		}
		for _, tc := range tokenCases {
			h := map[string]string{"Content-Type": "application/json"}
			if tc.header != "" {
				h["Authorization"] = tc.header
			}
			res, err := e.c.Do(ctx, op.Method, op.url(), `{"version":"v9","object_id":"K200000000.01","dataset":"small","label":"candidate","url":"https://example.org/x.csv","file_id":"small"}`, h)
			if err != nil {
				t.Fatalf("%s %s: %v", op, tc.name, err)
			}
			if res.Status != tc.status || (tc.status == 401 && res.ErrorCode() != "unauthorized") || (tc.status == 403 && res.ErrorCode() != "forbidden") {
				t.Errorf("%s with %s: %s, want %d", op, tc.name, res, tc.status)
			}
			if tc.status == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s with %s: 401 without WWW-Authenticate: Bearer", op, tc.name)
			}
		}
	}
	t.Logf("write routes checked: %v", writes)
	if len(writes) < 8 {
		t.Errorf("only %d write routes found: %v", len(writes), writes)
	}
	assertSameState(t, e.c, before)

	// A multipart upload without the token is refused before its bytes
	// are stored, and the client reads the answer (not a reset).
	res, err := e.c.Upload(ctx, "", "koi.csv", strings.NewReader(KOIString(50_000, 21)))
	if err != nil || res.Status != 401 {
		t.Errorf("8 MB upload without the token: %v %v, want 401", res, err)
	}
	if left := glob(t, e.opts.DataDir, "raw/.incoming/*"); len(left) > 0 {
		t.Errorf("an unauthorised upload left %v", left)
	}

	authed := NewClient(e.srv.Base)
	authed.Token = token
	for p, body := range map[string]string{"/api/datasets/small/runs": `{}`,
		"/api/labels": `{"object_id":"K200000000.01","dataset":"small","label":"candidate","annotator":"tok"}`} {
		res, err := authed.Post(ctx, p, body)
		if err != nil || res.Status/100 != 2 {
			t.Errorf("POST %s with the token: %v %v", p, res, err)
		}
	}
	for _, p := range []string{"/api/datasets", "/api/runs/" + f.smallRun + "/results?limit=1", "/api/labels", "/api/openapi.json"} {
		if res, err := e.c.Get(ctx, p); err != nil || res.Status != 200 {
			t.Errorf("read %s without the token: %v %v", p, res, err)
		}
	}
	if _, res, err := e.c.Query(ctx, "SELECT 42"); err != nil || res.Status != 200 {
		t.Errorf("console without the token: %v %v", res, err)
	}
}

// TestAccess_ProtectReads: with EXOHUNTER_PROTECT_READS and
// EXOHUNTER_PROTECT_CONSOLE every API route (from the OpenAPI document)
// needs the token, except the health probes; with only
// EXOHUNTER_PROTECT_CONSOLE the console does and reads do not. The
// dashboard's files stay public (they hold no data).
func TestAccess_ProtectReads(t *testing.T) {
	t.Parallel()
	const token = "tok-reliability"
	for _, mode := range []struct {
		name                string
		env                 []string
		readsNeed, consNeed bool
	}{
		{"reads and console", []string{"EXOHUNTER_PROTECT_READS=true", "EXOHUNTER_PROTECT_CONSOLE=true"}, true, true},
		{"console only", []string{"EXOHUNTER_PROTECT_CONSOLE=true"}, false, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Env = append(append(o.Env, "EXOHUNTER_TOKEN="+token), mode.env...) })
			e.start()
			ctx := ctxFor(t, 5*time.Minute)
			authed := NewClient(e.srv.Base)
			authed.Token = token
			var open []string
			for _, op := range operations(t, authed) {
				need := op.Method != "GET" || mode.readsNeed
				if op.isConsole() {
					need = mode.consNeed
				}
				if op.isProbe() {
					need = false
				}
				res, err := e.c.Do(ctx, op.Method, op.url(), nil, map[string]string{"Authorization": "Bearer wrong"})
				if err != nil {
					t.Fatal(err)
				}
				if need && res.Status != 403 {
					t.Errorf("%s with a wrong token: %s, want 403", op, res)
				}
				if !need {
					open = append(open, op.String())
					if res.Status == 401 || res.Status == 403 {
						t.Errorf("%s is not protected in this mode but answered %s", op, res)
					}
				}
				if res, err := e.c.Do(ctx, op.Method, op.url(), nil, nil); err == nil && need && res.Status != 401 {
					t.Errorf("%s without a token: %s, want 401", op, res)
				}
			}
			t.Logf("open without a token: %v", open)
			for _, p := range []string{"/", "/datasets"} {
				res, err := e.c.Get(ctx, p)
				if err != nil || res.Status != 200 || !strings.Contains(string(res.Body), "<html") {
					t.Errorf("dashboard %s without the token: %v %v", p, res, err)
				}
			}
		})
	}
}

// TestAccess_ProtectWithoutToken: asking to protect reads without a token
// is a configuration mistake: serve exits at once with a sentence.
func TestAccess_ProtectWithoutToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.Env = append(o.Env, "EXOHUNTER_TOKEN=", "EXOHUNTER_PROTECT_READS=true") })
	s, err := Start(e.opts)
	if err == nil {
		s.Kill()
		t.Fatal("serve started with EXOHUNTER_PROTECT_READS and no token")
	}
	if !strings.Contains(err.Error(), "EXOHUNTER_TOKEN") {
		t.Errorf("serve with PROTECT_READS and no token: %v", err)
	}
}

// TestAccess_ClientLimit holds 32 slow uploads open from 127.0.0.1 (the
// default per-client limit): the next request from that address gets 429
// with Retry-After, while a client on 127.0.0.2 is served. Once the uploads
// end, 127.0.0.1 is served again.
func TestAccess_ClientLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	release := make(chan struct{})
	var wg sync.WaitGroup
	// note: how each upload ended before the limit was seen, so that a
	// failure says why the uploads did not pile up (seen once in a full
	// make test, never alone).
	var endedMu sync.Mutex
	ended := map[string]int{}
	end := func(what string) {
		endedMu.Lock()
		ended[what]++
		endedMu.Unlock()
	}
	slow := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 64}}
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, ct := MultipartStream("", fmt.Sprintf("slow%d.csv", i), &SlowReader{R: strings.NewReader(KOIString(2000, uint64(200+i))), Chunk: 16, Every: 100 * time.Millisecond,
				Tick: func(int64) error {
					select {
					case <-release:
						return io.ErrUnexpectedEOF
					default:
						return nil
					}
				}})
			req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.Base+"/api/datasets", body)
			req.Header.Set("Content-Type", ct)
			res, err := slow.Do(req)
			if err != nil {
				end("error: " + err.Error())
				return
			}
			msg, _ := io.ReadAll(io.LimitReader(res.Body, 200))
			res.Body.Close()
			end(fmt.Sprintf("%d %s", res.StatusCode, msg))
		}()
	}
	var limited *Response
	health := map[string]int{}
	ok := waitUntil(ctx, time.Minute, func() bool {
		res, err := e.c.Get(ctx, "/api/health")
		switch {
		case err != nil:
			health["error: "+err.Error()]++
		case res.Status == 429:
			limited = res
		default:
			health[strconv.Itoa(res.Status)]++
		}
		return limited != nil
	})
	if !ok {
		endedMu.Lock()
		before := fmt.Sprint(ended)
		endedMu.Unlock()
		close(release)
		wg.Wait()
		t.Fatalf("40 slow uploads from one client never made it hit the limit (no 429); uploads ended before the release: %s; health answers: %v", before, health)
	}
	if limited.Header.Get("Retry-After") == "" || limited.ErrorCode() != "too_many_requests" {
		t.Errorf("429 answer: %s %v", limited, limited.Header)
	}
	other := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	res, err := other.Get(e.srv.Base + "/api/health")
	if err != nil {
		t.Errorf("another client while the first is at its limit: %v", err)
	} else {
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("another client while the first is at its limit: %d", res.StatusCode)
		}
	}
	close(release)
	wg.Wait()
	if !waitUntil(ctx, time.Minute, func() bool {
		res, err := e.c.Get(ctx, "/api/health")
		return err == nil && res.Status == 200
	}) {
		t.Error("the client is still limited after its uploads ended")
	}
}

// waitUntil polls cond every 20 ms until it holds, d passes or ctx ends.
func waitUntil(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// TestAccess_SlowLoris opens raw TCP connections to the real binary that
// trickle a request: headers one line every 2 s, and a JSON body one byte
// per second after complete headers. The server's read timeout (15 s by
// default) cuts both off, and 100 such connections do not stop a normal
// client from being served meanwhile.
func TestAccess_SlowLoris(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	addr := strings.TrimPrefix(e.srv.Base, "http://")
	const cutWithin = 25 * time.Second // read timeout 15 s, plus slack for a loaded machine

	trickle := func(name, head string, each string, every time.Duration) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			closed := make(chan time.Duration, 1)
			go func() {
				_, _ = io.Copy(io.Discard, conn)
				closed <- time.Since(start)
			}()
			if _, err := conn.Write([]byte(head)); err != nil {
				t.Fatal(err)
			}
			tick := time.NewTicker(every)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case d := <-closed:
					t.Logf("cut off after %v", d.Round(time.Millisecond))
					return
				case <-tick.C:
					if time.Since(start) > cutWithin {
						t.Fatalf("a client trickling for %v was not cut off", cutWithin)
					}
					_, _ = conn.Write([]byte(fmt.Sprintf(each, i)))
				}
			}
		})
	}
	t.Run("group", func(t *testing.T) {
		trickle("headers", "GET /api/health HTTP/1.1\r\nHost: x\r\n", "X-Slow-%d: 1\r\n", 2*time.Second)
		trickle("body", "POST /api/labels HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{", " ", time.Second)
		t.Run("crowd", func(t *testing.T) {
			t.Parallel()
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for range 100 {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
				_, _ = c.Write([]byte("GET /api/health HTTP/1.1\r\nHost: x\r\nX-A: "))
			}
			client := &http.Client{Timeout: 10 * time.Second}
			for range 5 {
				start := time.Now()
				res, err := client.Get(e.srv.Base + "/api/ready")
				if err != nil {
					t.Fatalf("a normal client among 100 slow ones: %v", err)
				}
				line, _ := bufio.NewReader(res.Body).ReadString('}')
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Errorf("a normal client among 100 slow ones: %d %s", res.StatusCode, line)
				}
				t.Logf("served in %v among 100 slow connections", time.Since(start).Round(time.Millisecond))
				time.Sleep(time.Second)
			}
		})
	})
}

// TestAccess_SecurityHeaders reads the dashboard (index, a client-side
// route, a hashed asset) and an API answer from the real binary: a
// Content-Security-Policy whose every source is the server itself (no
// other origin, no wildcard, no scheme source except data: images),
// X-Content-Type-Options: nosniff, a Referrer-Policy, framing denied;
// and the index page references no other origin.
func TestAccess_SecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	ctx := ctxFor(t, time.Minute)
	index, err := e.c.Get(ctx, "/")
	if err != nil || index.Status != 200 {
		t.Fatalf("GET /: %v %v", index, err)
	}
	assets := regexp.MustCompile(`(?:src|href)="\.?(/assets/[^"]+)"`).FindAllStringSubmatch(string(index.Body), -1)
	if len(assets) == 0 {
		t.Fatalf("no asset in the index page:\n%s", clip(string(index.Body)))
	}
	if m := regexp.MustCompile(`(?i)(?:src|href|action)\s*=\s*["']?(?:https?:)?//`).FindString(string(index.Body)); m != "" {
		t.Errorf("the index page references another origin: %s", m)
	}
	paths := []string{"/", "/runs/some-run", assets[0][1]}
	for _, p := range paths {
		res, err := e.c.Get(ctx, p)
		if err != nil || res.Status != 200 {
			t.Errorf("GET %s: %v %v", p, res, err)
			continue
		}
		checkUIHeaders(t, p, res.Header)
	}
	res, err := e.c.Get(ctx, "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'none'") {
		t.Errorf("API CSP %q, want default-src 'none'", got)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("API answer without nosniff")
	}
}

// checkUIHeaders checks one dashboard answer's security headers.
func checkUIHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	if csp == "" {
		t.Errorf("%s: no Content-Security-Policy", path)
	}
	allowed := map[string]bool{"'self'": true, "'none'": true}
	seen := map[string]bool{}
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		seen[f[0]] = true
		for _, src := range f[1:] {
			switch {
			case allowed[src]:
			case src == "'unsafe-inline'" && f[0] == "style-src":
			case src == "data:" && f[0] == "img-src":
			default:
				t.Errorf("%s: CSP %s allows %s (want the server's own origin only)", path, f[0], src)
			}
		}
	}
	for _, d := range []string{"default-src", "script-src", "connect-src", "object-src", "frame-ancestors", "base-uri", "form-action"} {
		if !seen[d] {
			t.Errorf("%s: CSP has no %s: %q", path, d, csp)
		}
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", path, h.Get("X-Content-Type-Options"))
	}
	switch h.Get("Referrer-Policy") {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
	default:
		t.Errorf("%s: Referrer-Policy %q", path, h.Get("Referrer-Policy"))
	}
	if h.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%s: X-Frame-Options %q", path, h.Get("X-Frame-Options"))
	}
}

// TestAccess_ConsoleCaps checks the console's caps on the real binary: a
// million-row query answers its row cap and says it was truncated, a query
// over its time limit answers 504 soon after the limit, 100 MB of values
// are cut to the byte cap, and write statements are refused.
func TestAccess_ConsoleCaps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	ctx := ctxFor(t, 2*time.Minute)
	res, err := e.c.Post(ctx, "/api/query", `{"sql":"SELECT range AS n FROM range(1000000)"}`)
	if err != nil || res.Status != 200 {
		t.Fatalf("a million rows: %v %v", res, err)
	}
	var out struct {
		Rows      [][]any `json:"rows"`
		Truncated bool    `json:"truncated"`
		Limit     int     `json:"limit"`
	}
	if err := res.Decode(&out); err != nil {
		t.Fatal(err)
	}
	if !out.Truncated || len(out.Rows) != out.Limit || out.Limit > 10_000 {
		t.Errorf("a million rows: %d rows, truncated %v, limit %d", len(out.Rows), out.Truncated, out.Limit)
	}

	start := time.Now()
	res, err = e.c.Post(ctx, "/api/query", `{"sql":"SELECT count(*) FROM range(100000000000) a","timeout_ms":300}`)
	took := time.Since(start)
	if err != nil || res.Status != 504 || res.ErrorCode() != "timeout" {
		t.Errorf("a query over its time limit: %v %v, want 504", res, err)
	}
	if took > 10*time.Second {
		t.Errorf("a 300 ms time limit answered after %v", took)
	}
	t.Logf("time limit 300 ms: answered %d after %v", res.Status, took.Round(time.Millisecond))

	res, err = e.c.Post(ctx, "/api/query", `{"sql":"SELECT n, repeat('x', 2000000) AS big FROM range(50) t(n)","timeout_ms":60000}`)
	if err != nil || res.Status != 200 {
		t.Fatalf("100 MB of values: %v %v", res, err)
	}
	t.Logf("100 MB of values: %d, %d bytes", res.Status, len(res.Body))
	if len(res.Body) > 9<<20 || !strings.Contains(string(res.Body), `"truncated_values":[[`) {
		t.Errorf("100 MB of values answered %d bytes (%s)", len(res.Body), clip(string(res.Body[len(res.Body)-200:])))
	}

	for _, sql := range []string{"CREATE TABLE x AS SELECT 1", "COPY (SELECT 1) TO '/tmp/exohunter-console-escape.csv'", "ATTACH '/tmp/x.duckdb'", "SELECT 1; DROP SCHEMA meta CASCADE"} {
		res, err := e.c.Post(ctx, "/api/query", map[string]string{"sql": sql})
		if err != nil || res.Status != 400 {
			t.Errorf("%q: %v %v, want 400", sql, res, err)
		}
	}
	if res, err := e.c.Get(ctx, "/api/ready"); err != nil || res.Status != 200 {
		t.Errorf("ready after the console tests: %v %v", res, err)
	}
}
