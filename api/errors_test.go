package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/exohunter/exohunter/engine"
)

// fakeEngine is a hand-written fake (STYLE rule 29): it embeds the
// interface, so only the methods a test sets exist; any other call panics.
type fakeEngine struct {
	Engine
	DatasetsFn func(ctx context.Context) ([]*engine.Dataset, error)
}

// Datasets implements Engine.
func (f *fakeEngine) Datasets(ctx context.Context) ([]*engine.Dataset, error) {
	return f.DatasetsFn(ctx)
}

// fakeJobs and fakeConsole stand in for the parts a test does not use.
type (
	fakeJobs    struct{ Jobs }
	fakeConsole struct{ Console }
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestErrorEnvelope renders one error of each code through the one status
// table, and checks that internals never reach the client.
func TestErrorEnvelope(t *testing.T) {
	t.Parallel()
	var next error
	fake := &fakeEngine{DatasetsFn: func(context.Context) ([]*engine.Dataset, error) {
		if next == nil {
			panic("a bug in a handler")
		}
		return nil, next
	}}
	logs := &syncBuffer{}
	srv, err := New(Config{Jobs: fakeJobs{}, Console: fakeConsole{}, Logger: slog.New(slog.NewTextHandler(logs, nil))}, fake)
	if err != nil {
		t.Fatal(err)
	}
	detail := []engine.Detail{{Field: "thresholds.x", Message: "unknown key"}}
	cases := []struct {
		err          error
		wantStatus   int
		wantContains []string
	}{
		{&engine.Error{Code: engine.Invalid, Msg: "configs/rules.yaml:3:5: bad rule", Details: detail}, 422,
			[]string{`"code":"invalid_config"`, `"details":[{"field":"thresholds.x","message":"unknown key"}]`}},
		{engine.Errorf(engine.BadRequest, "Bad input."), 400, []string{`"code":"invalid_parameter","message":"Bad input."`}},
		{engine.Errorf(engine.Unauthorized, "Token needed."), 401, []string{`"code":"unauthorized"`}},
		{engine.Errorf(engine.Forbidden, "Wrong token."), 403, []string{`"code":"forbidden"`}},
		{engine.Errorf(engine.NotFound, "No such thing."), 404, []string{`"code":"not_found"`}},
		{engine.Errorf(engine.Conflict, "Busy."), 409, []string{`"code":"conflict"`}},
		{engine.Errorf(engine.TooLarge, "Too big."), 413, []string{`"code":"too_large"`}},
		{engine.Wrap(engine.Timeout, context.DeadlineExceeded, "Too slow."), 504, []string{`"code":"timeout","message":"Too slow."`}},
		{fmt.Errorf("list: %w", context.DeadlineExceeded), 504, []string{`"code":"timeout"`}},
		{engine.Wrap(engine.Internal, errors.New("duckdb: /secret/path corrupt"), "disk"), 500,
			[]string{`"code":"internal","message":"internal error","details":[],"request_id":"`}},
		{errors.New("duckdb: /secret/path corrupt"), 500, []string{`"message":"internal error"`}},
		{nil, 500, []string{`"message":"internal error"`}}, // a panic
	}
	for _, tc := range cases {
		name := "panic"
		if tc.err != nil {
			name = tc.err.Error()
		}
		t.Run(name, func(t *testing.T) {
			next = tc.err
			res, err := srv.App().Test(httptest.NewRequest("GET", "/api/datasets", nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.ReadFrom(res.Body)
			body := b.String()
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.wantStatus, body)
			}
			for _, w := range tc.wantContains {
				if !strings.Contains(body, w) {
					t.Errorf("body %s does not contain %s", body, w)
				}
			}
			if strings.Contains(body, "secret") || strings.Contains(body, "panic") || strings.Contains(body, "a bug") {
				t.Errorf("internals leaked: %s", body)
			}
			if tc.wantStatus == 500 {
				rid := res.Header.Get("X-Request-Id")
				if !strings.Contains(body, rid) {
					t.Errorf("the body does not carry the request id %s", rid)
				}
				if n := strings.Count(logs.String(), "request_id="+rid); n != 1 {
					t.Errorf("the cause was logged %d times, want once:\n%s", n, logs.String())
				}
			}
		})
	}
}

// TestErrorEnvelope_HeadersTooLarge: a URL over the header limit, as a
// long GET /api/query?sql= makes, answers 431 in the envelope with a
// snake_case code and the way out (POST), over real HTTP.
func TestErrorEnvelope_HeadersTooLarge(t *testing.T) {
	t.Parallel()
	env := MustEnv(t)
	base := env.MustListen(t)
	res, err := http.Get(base + "/api/query?sql=" + url.QueryEscape("SELECT '"+strings.Repeat("x", 80<<10)+"'"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(string(b), `"code":"request_header_fields_too_large"`) ||
		!strings.Contains(string(b), "POST /api/query") {
		t.Errorf("status %d, body %s", res.StatusCode, b)
	}
}
