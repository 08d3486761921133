package api

import (
	"bytes"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/exohunter/exohunter/engine"
	"github.com/exohunter/exohunter/remote"
)

// Bucket and URL ingest are tested in package remote; here only the API's
// side: a remote success is a 201 and each remote failure a clear 4xx.

// withFetcher points the engine's downloads at test servers.
func withFetcher(tb testing.TB, cfg remote.Config) envOption {
	f, err := remote.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return func(_ *Config, o *engine.Options) { o.Fetcher = f }
}

func TestDatasets_Remote(t *testing.T) {
	t.Parallel()
	tiny := mustReadFile(t, tinyKOI)

	// a real S3-protocol server in process (anonymous access)
	backend := s3mem.New()
	if err := backend.CreateBucket("catalogs"); err != nil {
		t.Fatal(err)
	}
	if _, err := backend.PutObject("catalogs", "kepler/koi_tiny.csv", map[string]string{"Content-Type": "text/csv"},
		bytes.NewReader(tiny), int64(len(tiny)), nil); err != nil {
		t.Fatal(err)
	}
	s3 := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(s3.Close)

	// a NASA TAP sync endpoint that answers the tiny fixture, or a VOTable
	// error for a query it cannot run
	var mu sync.Mutex
	var queries []string
	tap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("query")
		mu.Lock()
		queries = append(queries, q)
		mu.Unlock()
		if r.URL.Path != "/TAP/sync" || r.URL.Query().Get("format") != "csv" {
			http.NotFound(w, r)
			return
		}
		if strings.Contains(q, "from pscomppars") {
			// the archive is down: the request was fine
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("maintenance"))
			return
		}
		if strings.Contains(q, "nonsense") {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`<VOTABLE><RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">Column nonsense does not exist</INFO></RESOURCE></VOTABLE>`))
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		w.Write(tiny[bytes.Index(tiny, []byte("kepid,")):])
	}))
	t.Cleanup(tap.Close)

	// BlockPrivate as serve sets it: the configured endpoints (both on
	// loopback here) stay trusted, a URL the client names does not.
	env := MustEnv(t, withFetcher(t, remote.Config{S3Endpoint: s3.URL, S3Anonymous: true, S3Region: "us-east-1", NASABaseURL: tap.URL,
		BlockPrivate: true}))
	env.run(t, []scenario{
		{name: "http url on the server's own network", method: "POST", url: "/api/datasets", body: `{"url":"` + tap.URL + `/koi.csv"}`,
			wantStatus: 400, wantContains: []string{"private or local network", "EXOHUNTER_ALLOW_PRIVATE_URLS"}},
		{name: "s3 object", method: "POST", url: "/api/datasets", body: `{"url":"s3://catalogs/kepler/koi_tiny.csv","name":"from_s3"}`,
			wantStatus: 201, wantContains: []string{`"name":"from_s3"`, `"rows":8`, `"original_name":"koi_tiny.csv"`, `"source":"s3://catalogs/kepler/koi_tiny.csv"`}},
		{name: "s3 missing object", method: "POST", url: "/api/datasets", body: `{"url":"s3://catalogs/kepler/nope.csv"}`,
			wantStatus: 404, wantContains: []string{`"code":"not_found"`, "s3://catalogs/kepler/nope.csv"}},
		{name: "s3 missing bucket", method: "POST", url: "/api/datasets", body: `{"url":"s3://no-such-bucket/koi.csv"}`,
			wantStatus: 404, wantContains: []string{"bucket"}},
		{name: "s3 url without key", method: "POST", url: "/api/datasets", body: `{"url":"s3://catalogs"}`, wantStatus: 400},
		{name: "nasa import", method: "POST", url: "/api/datasets", body: `{"nasa":"cumulative","where":"koi_prad < 3","select":"*"}`,
			wantStatus: 201, wantContains: []string{`"name":"cumulative"`, `"original_name":"cumulative.csv"`, `"mission":"koi"`,
				`"source":"` + tap.URL + `/TAP/sync?format=csv\u0026query=select+%2A+from+cumulative+where+koi_prad+%3C+3"`}},
		{name: "nasa query refused by the archive", method: "POST", url: "/api/datasets", body: `{"nasa":"toi","where":"nonsense > 1"}`,
			wantStatus: 400, wantContains: []string{"Column nonsense does not exist"}},
		{name: "archive down", method: "POST", url: "/api/datasets", body: `{"nasa":"pscomppars"}`,
			wantStatus: 502, wantContains: []string{`"code":"upstream_unavailable"`, "cannot fetch"}},
		{name: "nasa clause with a line break", method: "POST", url: "/api/datasets", body: `{"nasa":"toi","where":"a\nb"}`, wantStatus: 400},
		{name: "nothing half-registered", method: "GET", url: "/api/datasets", wantStatus: 200,
			wantContains: []string{`"name":"from_s3"`, `"name":"cumulative"`}},
	})
	mu.Lock()
	defer mu.Unlock()
	if len(queries) == 0 || queries[0] != "select * from cumulative where koi_prad < 3" {
		t.Errorf("TAP queries %q", queries)
	}
}

// TestDatasets_RemoteUnreachable: when the archive or the configured S3
// endpoint cannot be reached, the request was fine: a 502 that names the
// service, not a 400 asking the client to check an address it never gave.
func TestDatasets_RemoteUnreachable(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // note: its port now refuses connections
	env := MustEnv(t, withFetcher(t, remote.Config{S3Endpoint: down.URL, S3Anonymous: true, S3Region: "us-east-1",
		NASABaseURL: down.URL, BlockPrivate: true}))
	env.run(t, []scenario{
		{name: "archive unreachable", method: "POST", url: "/api/datasets", body: `{"nasa":"toi"}`, wantStatus: 502,
			wantContains: []string{`"code":"upstream_unavailable"`, "the NASA Exoplanet Archive cannot be reached from this server: connection refused"}},
		{name: "s3 endpoint unreachable", method: "POST", url: "/api/datasets", body: `{"url":"s3://catalogs/koi.csv"}`, wantStatus: 502,
			wantContains: []string{`"code":"upstream_unavailable"`, "the S3 endpoint " + down.URL + " cannot be reached from this server: connection refused"}},
	})
}

// TestDatasets_RemotePermanent: a URL that can never be fetched as written
// (a redirect loop, a certificate this machine does not trust) is the
// request's fault: 400 with what to do, not 502 "network error".
func TestDatasets_RemotePermanent(t *testing.T) {
	t.Parallel()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(web.Close)
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // note: the refused handshake is expected
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	// note: no BlockPrivate, as for a local store, so the loopback test
	// servers can be reached.
	env := MustEnv(t, withFetcher(t, remote.Config{}))
	env.run(t, []scenario{
		{name: "redirect loop", method: "POST", url: "/api/datasets", body: `{"url":"` + web.URL + `/koi.csv"}`, wantStatus: 400,
			wantContains: []string{`"code":"invalid_parameter"`, "redirect loop"}},
		{name: "unknown certificate authority", method: "POST", url: "/api/datasets", body: `{"url":"` + tlsSrv.URL + `/koi.csv"}`, wantStatus: 400,
			wantContains: []string{`"code":"invalid_parameter"`, "certificate signed by unknown authority", "SSL_CERT_FILE"}},
	})
}

// TestDatasets_RemoteSecrets: secrets in a URL's query (a password, a
// session id, a signature pasted after a gs:// key) appear neither in the
// error body nor in the server's log.
func TestDatasets_RemoteSecrets(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // note: its port now refuses connections
	gcs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(gcs.Close)
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := MustEnv(t, withFetcher(t, remote.Config{GCSBaseURL: gcs.URL}), withConfig(func(c *Config) { c.Logger = logger }))
	secrets := []string{"PW1", "PW2", "PW3", "SESS4", "SESS5", "TOK6", "SIGZZ2"}
	for _, tc := range []struct {
		name, url string
		want      []string
	}{
		{name: "password and session in an https query", url: down.URL + "/koi.csv?user=ann&pass=PW1&pwd=PW2&password=PW3&sessionid=SESS4&PHPSESSID=SESS5#access_token=TOK6",
			want: []string{"pass=REDACTED", "sessionid=REDACTED", "user=ann"}},
		{name: "signature after a gs key", url: "gs://cat/k?x-goog-signature=SIGZZ2", want: []string{"gs://cat/k?x-goog-signature=REDACTED"}},
	} {
		resp, body := env.do(t, "POST", "/api/datasets", `{"url":"`+tc.url+`"}`, nil)
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("%s: status %d, want 502; body %s", tc.name, resp.StatusCode, body)
		}
		for _, want := range tc.want {
			if !strings.Contains(body, want) {
				t.Errorf("%s: body %s does not say %q", tc.name, body, want)
			}
		}
		for _, secret := range secrets {
			if strings.Contains(body, secret) {
				t.Errorf("%s: body holds %q: %s", tc.name, secret, body)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "request failed") {
		t.Fatalf("the server logged no failed request:\n%s", logs.String())
	}
	for _, secret := range secrets {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the server log holds %q:\n%s", secret, logs.String())
		}
	}
}

// lockedWriter serializes writes to a buffer shared with the test.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
