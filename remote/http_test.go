package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// MustHTTPServer starts a local server for the test.
func MustHTTPServer(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// catalogHandler serves a generic web host: a real catalog file, small
// files, and a set of failures.
func catalogHandler(tb testing.TB, koiPath string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/data/koi.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("ETag", `"koi-2025"`)
		http.ServeFile(w, r, koiPath)
	})
	mux.HandleFunc("/download", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="toi_2025.csv"`)
		io.WriteString(w, "toi,tid\n")
	})
	mux.HandleFunc("/chunked.csv", func(w http.ResponseWriter, r *http.Request) {
		// NB: flushing before the end forces chunked encoding, so the size
		// is unknown up front and only the streaming bound can stop it.
		for range 100 {
			io.WriteString(w, strings.Repeat("x", 99)+"\n")
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/truncated.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "kepoi_name\n")
		// note: returning early closes the connection short of 1000 bytes.
	})
	mux.HandleFunc("/stall.csv", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "kepoi_name\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/slow-headers.csv", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/loop.csv", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop.csv?n="+r.URL.Query().Get("n")+"1", http.StatusFound)
	})
	mux.HandleFunc("/to-s3.csv", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "s3://exohunter/koi.csv?X-Amz-Signature=abc123", http.StatusFound)
	})
	mux.HandleFunc("/to-file.csv", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusMovedPermanently)
	})
	for path, status := range map[string]int{"/forbidden.csv": 403, "/login.csv": 401, "/bad.csv": 400, "/error.csv": 500, "/busy.csv": 503, "/ratelimited.csv": 429} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, http.StatusText(status), status)
		})
	}
	return mux
}

func TestFetcher_FetchHTTP(t *testing.T) {
	t.Parallel()
	koi := MustDataFile(t, "koi_cumulative_2025.csv")
	st, err := os.Stat(koi)
	if err != nil {
		t.Fatal(err)
	}
	srv := MustHTTPServer(t, catalogHandler(t, koi))
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name     string
		url      string
		cfg      Config
		wantInfo Info
		wantSHA  string
		wantErr  error
	}{
		{
			name:     "200_real_catalog",
			url:      srv.URL + "/data/koi.csv?release=2025#top",
			wantInfo: Info{Name: "koi.csv", Size: st.Size(), ContentType: "text/csv", ETag: `"koi-2025"`},
			wantSHA:  MustSHA256File(t, koi),
		},
		{
			name:     "content_disposition_name",
			url:      srv.URL + "/download?id=7",
			wantInfo: Info{Name: "toi_2025.csv", Size: 8, ContentType: "text/plain; charset=utf-8"},
		},
		{
			name:     "chunked_within_limit",
			url:      srv.URL + "/chunked.csv",
			cfg:      Config{MaxBytes: 10000},
			wantInfo: Info{Name: "chunked.csv", Size: 10000, ContentType: "text/plain; charset=utf-8"},
		},
		{name: "404", url: srv.URL + "/missing.csv", wantErr: ErrObjectNotFound},
		{name: "404_with_password_in_URL", url: "http://scientist:hunter2@" + host + "/missing.csv?X-Amz-Signature=abc123", wantErr: ErrNotFound},
		{name: "500", url: srv.URL + "/error.csv", wantErr: ErrUpstream},
		{name: "503", url: srv.URL + "/busy.csv", wantErr: ErrUpstream},
		{name: "429", url: srv.URL + "/ratelimited.csv", wantErr: ErrUpstream},
		{name: "403", url: srv.URL + "/forbidden.csv", wantErr: ErrAccessDenied},
		{name: "401", url: srv.URL + "/login.csv", wantErr: ErrAccessDenied},
		{name: "400", url: srv.URL + "/bad.csv", wantErr: ErrBadURL},
		{name: "ErrTooLarge/known_size", url: srv.URL + "/data/koi.csv", cfg: Config{MaxBytes: 4096}, wantErr: ErrTooLarge},
		{name: "ErrTooLarge/chunked", url: srv.URL + "/chunked.csv", cfg: Config{MaxBytes: 9999}, wantErr: ErrTooLarge},
		{name: "truncated", url: srv.URL + "/truncated.csv", wantErr: ErrUpstream},
		{name: "stalled", url: srv.URL + "/stall.csv", cfg: Config{IdleTimeout: 100 * time.Millisecond}, wantErr: ErrUpstream},
		{name: "header_timeout", url: srv.URL + "/slow-headers.csv", cfg: Config{HeaderTimeout: 100 * time.Millisecond}, wantErr: ErrUpstream},
		{name: "connection_refused", url: closedURL(t) + "/koi.csv", wantErr: ErrUpstream},
		{name: "ErrBadURL/no_host", url: "https:///koi.csv", wantErr: ErrBadURL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := MustNewFetcher(t, tc.cfg)
			w := newHashWriter()
			info, err := f.Fetch(context.Background(), tc.url, w)
			checkErr(t, err, tc.wantErr, "hunter2", "abc123")
			if max := f.Config().MaxBytes; w.n > max {
				t.Errorf("wrote %d bytes, over the %d limit", w.n, max)
			}
			if tc.wantErr != nil {
				return
			}
			if diff := cmp.Diff(tc.wantInfo, info); diff != "" {
				t.Errorf("Info (-want +got):\n%s", diff)
			}
			if tc.wantSHA != "" && w.sum() != tc.wantSHA {
				t.Errorf("sha256 = %s, want %s", w.sum(), tc.wantSHA)
			}
		})
	}
}

// TestFetcher_FetchPermanent: failures that trying again will not mend,
// because the address leads nowhere a download can go (a redirect loop, a
// redirect to another scheme, a certificate this machine does not trust),
// are ErrBadURL (400) with a message that says what happened, not
// ErrUpstream's "network error" (502, try later).
func TestFetcher_FetchPermanent(t *testing.T) {
	t.Parallel()
	srv := MustHTTPServer(t, catalogHandler(t, "unused"))
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "kepoi_name\nK1\n") }))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // note: the refused handshake is expected
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	tests := []struct {
		name    string
		url     string
		wantMsg []string
	}{
		{name: "redirect_loop", url: srv.URL + "/loop.csv", wantMsg: []string{"redirected 10 times", "loop"}},
		{name: "redirect_to_s3", url: srv.URL + "/to-s3.csv", wantMsg: []string{"redirected to s3://exohunter/koi.csv", "ingest that address"}},
		{name: "redirect_to_file", url: srv.URL + "/to-file.csv", wantMsg: []string{"redirected to a file:// address"}},
		{name: "unknown_certificate_authority", url: tlsSrv.URL + "/koi.csv", wantMsg: []string{"certificate", "unknown authority", "SSL_CERT_FILE"}},
	}
	f := MustNewFetcher(t, Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.Fetch(context.Background(), tc.url, io.Discard)
			checkErr(t, err, ErrBadURL, "abc123")
			for _, want := range tc.wantMsg {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "network error") {
				t.Errorf("message %q blames the network", err)
			}
		})
	}
}

// TestFetcher_FetchContext checks that the caller's context ends a download
// with the context's own error, which the engine maps to a timeout.
func TestFetcher_FetchContext(t *testing.T) {
	t.Parallel()
	srv := MustHTTPServer(t, catalogHandler(t, "unused"))
	f := MustNewFetcher(t, Config{})
	tests := []struct {
		name    string
		path    string
		wantErr error
	}{
		{name: "deadline_before_headers", path: "/slow-headers.csv", wantErr: context.DeadlineExceeded},
		{name: "deadline_during_body", path: "/stall.csv", wantErr: context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := f.Fetch(ctx, srv.URL+tc.path, io.Discard)
			checkErr(t, err, tc.wantErr)
		})
	}
}

// TestFetcher_FetchWriteError checks that a failing destination (a full
// disk) is reported as such, not blamed on the remote side.
func TestFetcher_FetchWriteError(t *testing.T) {
	t.Parallel()
	srv := MustHTTPServer(t, catalogHandler(t, "unused"))
	f := MustNewFetcher(t, Config{})
	errDisk := errors.New("no space left on device")
	_, err := f.Fetch(context.Background(), srv.URL+"/download", failWriter{errDisk})
	if !errors.Is(err, errDisk) || errors.Is(err, ErrUpstream) {
		t.Fatalf("err = %v, want the writer's error and not ErrUpstream", err)
	}
}

// gcsHandler answers like the GCS XML API for public objects.
func gcsHandler(koiPath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/exo-public/kepler/koi_cumulative_2025.csv":
			w.Header().Set("Content-Type", "text/csv")
			w.Header().Set("ETag", `"gcs-etag"`)
			http.ServeFile(w, r, koiPath)
		case "/exo-public/tess/toi 2025#1.csv":
			w.Header().Set("Content-Type", "text/csv")
			io.WriteString(w, "toi\n1000.01\n")
		case "/exo-private/kepler/koi.csv":
			writeS3Error(w, http.StatusForbidden, "AccessDenied", "Access denied.")
		default:
			if strings.HasPrefix(r.URL.Path, "/exo-public/") {
				writeS3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
				return
			}
			writeS3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.")
		}
	})
}

func TestFetcher_FetchGCS(t *testing.T) {
	t.Parallel()
	koi := MustDataFile(t, "koi_cumulative_2025.csv")
	st, err := os.Stat(koi)
	if err != nil {
		t.Fatal(err)
	}
	srv := MustHTTPServer(t, gcsHandler(koi))
	f := MustNewFetcher(t, Config{GCSBaseURL: srv.URL + "/"})
	tests := []struct {
		name     string
		url      string
		wantInfo Info
		wantSHA  string
		wantErr  error
	}{
		{
			name:     "success",
			url:      "gs://exo-public/kepler/koi_cumulative_2025.csv",
			wantInfo: Info{Name: "koi_cumulative_2025.csv", Size: st.Size(), ContentType: "text/csv", ETag: `"gcs-etag"`},
			wantSHA:  MustSHA256File(t, koi),
		},
		{
			name:     "key_needs_escaping",
			url:      "gs://exo-public/tess/toi 2025#1.csv",
			wantInfo: Info{Name: "toi 2025#1.csv", Size: 12, ContentType: "text/csv"},
		},
		{name: "ErrObjectNotFound", url: "gs://exo-public/kepler/missing.csv", wantErr: ErrObjectNotFound},
		{name: "ErrBucketNotFound", url: "gs://no-such-bucket/kepler/koi.csv", wantErr: ErrBucketNotFound},
		{name: "ErrAccessDenied/private", url: "gs://exo-private/kepler/koi.csv", wantErr: ErrAccessDenied},
		{name: "ErrBadURL/dot_segments", url: "gs://exo-public/../exo-private/kepler/koi.csv", wantErr: ErrBadURL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newHashWriter()
			info, err := f.Fetch(context.Background(), tc.url, w)
			checkErr(t, err, tc.wantErr)
			if tc.wantErr != nil {
				return
			}
			if diff := cmp.Diff(tc.wantInfo, info); diff != "" {
				t.Errorf("Info (-want +got):\n%s", diff)
			}
			if tc.wantSHA != "" && w.sum() != tc.wantSHA {
				t.Errorf("sha256 = %s, want %s", w.sum(), tc.wantSHA)
			}
		})
	}
}

func ExampleFetcher_Fetch() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "kepoi_name,koi_prad\nK00001.01,13.04\n")
	}))
	defer srv.Close()
	f, _ := New(Config{MaxBytes: 1 << 20})
	var sb strings.Builder
	info, err := f.Fetch(context.Background(), srv.URL+"/koi.csv", &sb)
	fmt.Println(info.Name, info.Size, err)
	// Output: koi.csv 36 <nil>
}

// TestFetch_BlockPrivate: with BlockPrivate a URL on a loopback or private
// address is refused at the connection, named in a sentence, and nothing
// is written; the same fetch succeeds without it, and the checked ranges
// cover the usual internal targets.
func TestFetch_BlockPrivate(t *testing.T) {
	t.Parallel()
	srv := MustHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "kepoi_name\nK1\n") }))
	open, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if _, err := open.Fetch(context.Background(), srv.URL+"/x.csv", &sb); err != nil || sb.String() != "kepoi_name\nK1\n" {
		t.Fatalf("without BlockPrivate: %q, %v", sb.String(), err)
	}
	blocked, err := New(Config{BlockPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{srv.URL + "/x.csv", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/x.csv"} {
		var got strings.Builder
		_, err := blocked.Fetch(context.Background(), u, &got)
		if !errors.Is(err, ErrBadURL) || !strings.Contains(err.Error(), "private or local network") || got.Len() != 0 {
			t.Errorf("Fetch(%s) = %v (wrote %d bytes), want ErrBadURL naming the private address", u, err, got.Len())
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1:80": true, "10.1.2.3:80": true, "192.168.0.1:443": true, "169.254.169.254:80": true,
		"[::1]:80": true, "[fd00::1]:80": true, "100.64.0.1:80": true, "0.0.0.0:80": true, "198.18.0.1:80": true, "240.0.0.1:80": true, "[64:ff9b::7f00:1]:80": true, "[2002:7f00:1::1]:80": true, "93.184.216.34:443": false, "[2606:4700::1]:443": false} {
		if err := refusePrivate("tcp", addr, nil); (err != nil) != want {
			t.Errorf("refusePrivate(%s) = %v, want refused %v", addr, err, want)
		}
	}
}

// TestNetworkError_unknownHost: a name that does not resolve is a bad URL
// (a typo, which trying later will not mend); a refused connection stays
// a remote failure. For a service the caller did not name (the NASA
// archive, the S3 endpoint) both are outages, and the message names it.
func TestNetworkError_unknownHost(t *testing.T) {
	t.Parallel()
	f := MustNewFetcher(t, Config{})
	ctx := context.Background()
	typo := &url.Error{Op: "Get", URL: "https://exoplanetarchive.ipac.caltec.edu/x.csv", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &net.DNSError{Err: "no such host", Name: "exoplanetarchive.ipac.caltec.edu", IsNotFound: true}}}
	err := f.networkError(ctx, "https://exoplanetarchive.ipac.caltec.edu/x.csv", "", "", typo)
	if !errors.Is(err, ErrBadURL) || !strings.Contains(err.Error(), "no host named exoplanetarchive.ipac.caltec.edu") {
		t.Errorf("unknown host: %v", err)
	}
	refused := &url.Error{Op: "Get", URL: "https://example.org/x.csv", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	if err := f.networkError(ctx, "https://example.org/x.csv", "", "", refused); !errors.Is(err, ErrUpstream) {
		t.Errorf("refused connection: %v", err)
	}

	offline := &url.Error{Op: "Get", URL: DefaultNASABaseURL + "/TAP/sync?query=x", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &net.DNSError{Err: "no such host", Name: "exoplanetarchive.ipac.caltech.edu", IsNotFound: true}}}
	err = f.networkError(ctx, DefaultNASABaseURL+"/TAP/sync", "the NASA Exoplanet Archive", "", offline)
	want := "cannot fetch " + DefaultNASABaseURL + "/TAP/sync: the NASA Exoplanet Archive cannot be reached from this server: there is no host named exoplanetarchive.ipac.caltech.edu"
	if !errors.Is(err, ErrUpstream) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("archive host unresolvable:\n got %v\nwant ErrUpstream, %s…", err, want)
	}
	endpointDown := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/exo/toi.csv", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}}
	err = f.networkError(ctx, "s3://exo/toi.csv", "the S3 endpoint http://127.0.0.1:1", "", endpointDown)
	if want := "cannot fetch s3://exo/toi.csv: the S3 endpoint http://127.0.0.1:1 cannot be reached from this server: connection refused"; !errors.Is(err, ErrUpstream) || err.Error() != want {
		t.Errorf("endpoint down:\n got %v\nwant ErrUpstream, %s", err, want)
	}
}

// TestFetcher_NASAUnreachable: an archive that cannot be reached is an
// outage (ErrUpstream) named as the archive, not an address to check.
func TestFetcher_NASAUnreachable(t *testing.T) {
	t.Parallel()
	f := MustNewFetcher(t, Config{NASABaseURL: closedURL(t)})
	_, err := f.NASA(context.Background(), TAPQuery{Table: "toi"}, io.Discard)
	if !errors.Is(err, ErrUpstream) || !strings.Contains(err.Error(), "the NASA Exoplanet Archive cannot be reached from this server: connection refused") {
		t.Errorf("NASA with the archive down = %v, want ErrUpstream naming the archive", err)
	}
}
