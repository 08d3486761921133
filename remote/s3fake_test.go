package remote

import (
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Credentials the fake S3 server accepts.
const (
	testAccessKey = "AKIDEXOHUNTERTEST"
	testSecretKey = "exohunter-test-secret-key"
	testRegion    = "us-east-1"
)

// fakeS3 is a real S3-protocol server in process: gofakes3 with its
// in-memory backend, behind a SigV4 check (gofakes3 accepts any signature)
// and a fault injector for 5xx answers.
type fakeS3 struct {
	URL     string
	backend *s3mem.Backend
	check   *sigV4Check
	// failKeys answers these "bucket/key" paths with HTTP 500.
	failKeys map[string]bool
	// stallKeys never answer these "bucket/key" paths: the request waits
	// until the client gives up.
	stallKeys map[string]bool
	// requests counts the requests that reached the server.
	requests atomic.Int64
}

// MustFakeS3 starts a fake S3 server for the test and stops it on cleanup.
func MustFakeS3(tb testing.TB) *fakeS3 {
	tb.Helper()
	backend := s3mem.New()
	faker := gofakes3.New(backend)
	fs := &fakeS3{backend: backend, failKeys: map[string]bool{}, stallKeys: map[string]bool{}}
	fs.check = &sigV4Check{key: testAccessKey, secret: testSecretKey, region: testRegion, next: faker.Server()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.requests.Add(1)
		if fs.stallKeys[strings.TrimPrefix(r.URL.Path, "/")] {
			<-r.Context().Done()
			return
		}
		if fs.failKeys[strings.TrimPrefix(r.URL.Path, "/")] {
			writeS3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error.")
			return
		}
		fs.check.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	fs.URL = srv.URL
	return fs
}

// MustPutFile stores a local file as bucket/key, creating the bucket.
func (fs *fakeS3) MustPutFile(tb testing.TB, bucket, key, path, contentType string) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	fs.mustPut(tb, bucket, key, f, st.Size(), contentType)
}

// MustPutString stores a small object, creating the bucket.
func (fs *fakeS3) MustPutString(tb testing.TB, bucket, key, body string) {
	tb.Helper()
	fs.mustPut(tb, bucket, key, strings.NewReader(body), int64(len(body)), "text/csv")
}

func (fs *fakeS3) mustPut(tb testing.TB, bucket, key string, r io.Reader, size int64, contentType string) {
	tb.Helper()
	if ok, _ := fs.backend.BucketExists(bucket); !ok {
		if err := fs.backend.CreateBucket(bucket); err != nil {
			tb.Fatal(err)
		}
	}
	meta := map[string]string{"Content-Type": contentType}
	if _, err := fs.backend.PutObject(bucket, key, meta, r, size, nil); err != nil {
		tb.Fatal(err)
	}
}

// sigV4Check verifies AWS Signature Version 4 headers before passing a
// request on. It recomputes the signature with the SDK's signer over exactly
// the headers the client listed as signed, so a wrong access key, a wrong
// secret or a tampered signed header is refused as S3 would refuse it.
// Unsigned (anonymous) requests are refused with AccessDenied, as for a
// private bucket.
type sigV4Check struct {
	key, secret, region string
	next                http.Handler

	mu         sync.Mutex
	lastSigned string // SignedHeaders of the last verified request
	lastAE     string // Accept-Encoding the last verified request carried
}

// signed returns what the last verified request signed and sent.
func (c *sigV4Check) signed() (signedHeaders, acceptEncoding string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastSigned, c.lastAE
}

func (c *sigV4Check) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	cred, signedHeaders, sig, ok := parseSigV4(auth)
	scope := strings.Split(cred, "/")
	if !ok || len(scope) != 5 || scope[3] != "s3" {
		writeS3Error(w, http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed.")
		return
	}
	if scope[0] != c.key {
		writeS3Error(w, http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
		return
	}
	if scope[2] != c.region {
		writeS3Error(w, http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed; the region is wrong.")
		return
	}
	want, err := c.expected(r, signedHeaders, scope[2])
	if err != nil || subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
		writeS3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	c.mu.Lock()
	c.lastSigned, c.lastAE = signedHeaders, r.Header.Get("Accept-Encoding")
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}

// expected re-signs a copy of r that holds only the signed headers and
// returns the signature the server's secret produces.
func (c *sigV4Check) expected(r *http.Request, signedHeaders, region string) (string, error) {
	t, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "", err
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	cp := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: http.Header{}}
	for _, h := range strings.Split(signedHeaders, ";") {
		if h != "host" {
			cp.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: c.key, SecretAccessKey: c.secret}
	if err := signer.SignHTTP(r.Context(), creds, cp, r.Header.Get("X-Amz-Content-Sha256"), "s3", region, t); err != nil {
		return "", err
	}
	_, gotSigned, sig, ok := parseSigV4(cp.Header.Get("Authorization"))
	if !ok || gotSigned != signedHeaders {
		return "", fmt.Errorf("signed headers differ: %q vs %q", gotSigned, signedHeaders)
	}
	return sig, nil
}

// parseSigV4 splits "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=...".
func parseSigV4(auth string) (cred, signedHeaders, sig string, ok bool) {
	rest, found := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !found {
		return "", "", "", false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			sig = v
		}
	}
	return cred, signedHeaders, sig, cred != "" && signedHeaders != "" && sig != ""
}

// writeS3Error answers like S3 does, with an XML error document.
func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

// closedURL returns the URL of a server that is no longer listening.
func closedURL(tb testing.TB) string {
	tb.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(srv.URL)
	srv.Close()
	return u.String()
}
