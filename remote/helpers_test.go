package remote

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dataDir holds the real NASA catalog files shared by the team. They are
// referenced in place, never copied into the repository.
var dataDir = filepath.Join("..", "..", "shared", "data")

// MustDataFile returns the path of a shared catalog file, skipping the test
// when the shared folder is not mounted.
func MustDataFile(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(dataDir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared data file not available: %v", err)
	}
	return p
}

// MustSHA256File returns the hex SHA-256 of a file.
func MustSHA256File(tb testing.TB, path string) string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// MustNewFetcher builds a Fetcher or fails the test.
func MustNewFetcher(tb testing.TB, cfg Config) *Fetcher {
	tb.Helper()
	f, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// hashWriter hashes and counts what it receives, so tests check large
// downloads without holding them.
type hashWriter struct {
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
	n int64
}

func newHashWriter() *hashWriter { return &hashWriter{h: sha256.New()} }

func (w *hashWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return w.h.Write(p)
}

func (w *hashWriter) sum() string { return hex.EncodeToString(w.h.Sum(nil)) }

// checkErr asserts that err wraps want (nil means success) and, for *Error
// values, that the message never leaks any of the secrets.
func checkErr(t *testing.T, err, want error, secrets ...string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v (%T) does not wrap %v", err, err, want)
	}
	t.Logf("message: %s", err)
	var re *Error
	if errors.As(err, &re) && re.Msg == "" {
		t.Errorf("error has an empty message: %#v", re)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("message leaks a secret %q: %s", s, err)
		}
	}
}

func TestCopyBounded(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("disk full")
	tests := []struct {
		name    string
		in      string
		max     int64
		w       io.Writer
		want    string
		wantErr error
	}{
		{name: "under", in: "abcdef", max: 10, want: "abcdef"},
		{name: "exactly_at_limit", in: "abcdef", max: 6, want: "abcdef"},
		{name: "over_limit", in: "abcdefg", max: 6, wantErr: errOverLimit},
		{name: "writer_fails", in: "abc", max: 6, w: failWriter{errDisk}, wantErr: errDisk},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := tc.w
			if w == nil {
				w = &buf
			}
			// note: iotest-style one-byte reads exercise the chunk boundary.
			_, err := copyBounded(w, &oneByteReader{strings.NewReader(tc.in)}, tc.max)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if int64(buf.Len()) > tc.max {
				t.Errorf("wrote %d bytes, over the %d limit", buf.Len(), tc.max)
			}
			if tc.wantErr == nil {
				if diff := cmp.Diff(tc.want, buf.String()); diff != "" {
					t.Errorf("copied (-want +got):\n%s", diff)
				}
			}
		})
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

type oneByteReader struct{ r io.Reader }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return r.r.Read(p[:1])
}
