package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exohunter/exohunter/engine"
)

// repoRoot holds configs/ and schemas/; sharedData the real NASA catalogs
// (used in place, never copied).
const (
	repoRoot   = ".."
	sharedData = "../../shared/data"
	tinyKOI    = "testdata/koi_tiny.csv"
)

// testEnv is a server over a real engine on a temporary data dir.
type testEnv struct {
	eng  *engine.Engine
	jobs *engine.Jobs
	srv  *Server
	dir  string
	// vars are substituted for {name} in scenario URLs and bodies.
	vars map[string]string
}

// envOption adjusts the API config and the engine options of MustEnv.
type envOption func(*Config, *engine.Options)

// MustEnv opens an engine (locked, as serve runs it) and builds the server;
// both close when the test ends.
func MustEnv(tb testing.TB, opts ...envOption) *testEnv {
	tb.Helper()
	dir := tb.TempDir()
	eo := engine.Options{
		DataDir: filepath.Join(dir, "data"), FeatureStore: filepath.Join(dir, "feature_store"),
		Config: os.DirFS(repoRoot), MemoryLimit: "512MB", Threads: 2, Lock: true,
	}
	var cfg Config
	for _, o := range opts {
		o(&cfg, &eo)
	}
	e, err := engine.Open(context.Background(), eo)
	if err != nil {
		tb.Fatalf("engine.Open: %v", err)
	}
	tb.Cleanup(func() { e.Close() })
	jobs := engine.NewJobs(e)
	tb.Cleanup(func() { jobs.Close(context.Background()) })
	cfg.Jobs, cfg.Console = jobs, e.Console()
	srv, err := New(cfg, e)
	if err != nil {
		tb.Fatalf("api.New: %v", err)
	}
	return &testEnv{eng: e, jobs: jobs, srv: srv, dir: dir, vars: map[string]string{}}
}

// withScoreBatch lowers the rows scored at a time, so that a small run
// takes scoring's batched path (matrix file, batch reads).
func withScoreBatch(n int) envOption {
	return func(_ *Config, o *engine.Options) { o.ScoreBatch = n }
}

// withToken sets the API token.
func withToken(tok string) envOption {
	return func(c *Config, _ *engine.Options) { c.Token = tok }
}

// withConfig adjusts the API config.
func withConfig(f func(*Config)) envOption {
	return func(c *Config, _ *engine.Options) { f(c) }
}

// MustIngest ingests a file by path and remembers its name as {dataset}.
func (env *testEnv) MustIngest(tb testing.TB, path, name string) *engine.Dataset {
	tb.Helper()
	ds, err := env.eng.Ingest(context.Background(), engine.IngestInput{Path: path, Name: name})
	if err != nil {
		tb.Fatalf("Ingest(%s): %v", path, err)
	}
	env.vars["dataset"] = ds.Name
	return ds
}

// MustProcess runs a dataset and remembers the run as {run}.
func (env *testEnv) MustProcess(tb testing.TB, dataset string) *engine.Run {
	tb.Helper()
	run, err := env.eng.Process(context.Background(), engine.ProcessInput{Dataset: dataset})
	if err != nil {
		tb.Fatalf("Process(%s): %v", dataset, err)
	}
	env.vars["run"] = run.RunID
	return run
}

// expand substitutes {name} variables.
func (env *testEnv) expand(s string) string {
	for k, v := range env.vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// scenario is one API call and what it must answer (STYLE rule 40).
type scenario struct {
	name         string
	method       string
	url          string
	body         string
	wantStatus   int
	wantContains []string
	// header adds request headers; a body starting with { or [ is sent as
	// JSON unless Content-Type is given here.
	header map[string]string
	// wantHeader checks response headers (value substrings).
	wantHeader map[string]string
}

// run executes the scenarios in order (later ones may depend on earlier
// ones, e.g. a duplicate upload after the first).
func (env *testEnv) run(t *testing.T, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			res, body := env.do(t, sc.method, env.expand(sc.url), env.expand(sc.body), sc.header)
			if res.StatusCode != sc.wantStatus {
				t.Fatalf("%s %s: status %d, want %d; body: %.600s", sc.method, sc.url, res.StatusCode, sc.wantStatus, body)
			}
			for _, want := range sc.wantContains {
				if !strings.Contains(body, env.expand(want)) {
					t.Errorf("%s %s: body does not contain %q: %.600s", sc.method, sc.url, want, body)
				}
			}
			for k, want := range sc.wantHeader {
				if got, want := res.Header.Get(k), env.expand(want); !strings.Contains(got, want) {
					t.Errorf("%s %s: header %s = %q, want it to contain %q", sc.method, sc.url, k, got, want)
				}
			}
		})
	}
}

// do sends one request through app.Test and returns the response and its
// body as text.
func (env *testEnv) do(tb testing.TB, method, url, body string, header map[string]string) (*http.Response, string) {
	tb.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, url, r)
	if t := strings.TrimSpace(body); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
		if k == "Host" {
			req.Host = v
		}
	}
	res, err := env.srv.App().Test(req, -1)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return res, string(b)
}

// mustJSON decodes a JSON body.
func mustJSON(tb testing.TB, body string, v any) {
	tb.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		tb.Fatalf("decode %.300s: %v", body, err)
	}
}

// multipartBody builds a multipart/form-data body with text fields (in
// order) and one file part. filename is written raw into the header, so
// tests can send hostile names.
func multipartBody(tb testing.TB, fields [][2]string, filename string, content []byte) (body, contentType string) {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			tb.Fatal(err)
		}
	}
	if content != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+strings.ReplaceAll(filename, `"`, `\"`)+`"`)
		h.Set("Content-Type", "text/csv")
		part, err := w.CreatePart(h)
		if err != nil {
			tb.Fatal(err)
		}
		part.Write(content)
	}
	w.Close()
	return buf.String(), w.FormDataContentType()
}

// multipartFileFirst builds a body whose file part comes first and its text
// fields after it, as curl sends -F file=@x -F name=y; files beyond the
// first are extra file parts.
func multipartFileFirst(tb testing.TB, filename string, content []byte, fields [][2]string, files int) (body, contentType string) {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for range max(files, 1) {
		part, err := w.CreateFormFile("file", filename)
		if err != nil {
			tb.Fatal(err)
		}
		part.Write(content)
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			tb.Fatal(err)
		}
	}
	w.Close()
	return buf.String(), w.FormDataContentType()
}

// mustReadFile reads a fixture.
func mustReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// MustListen serves the app on a loopback port (for streams, SSE and
// timeouts, which app.Test cannot show) and returns its base URL.
func (env *testEnv) MustListen(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go env.srv.Serve(ln)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		env.srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}
