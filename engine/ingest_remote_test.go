package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/exohunter/exohunter/remote"
)

// TestRemoteError_Timeout: a download stopped by a time limit says so and
// names the settings that bound the wait.
func TestRemoteError_Timeout(t *testing.T) {
	t.Parallel()
	err := remoteError(fmt.Errorf("fetch: %w", context.DeadlineExceeded))
	if ErrorCode(err) != Timeout {
		t.Errorf("code %s, want Timeout", ErrorCode(err))
	}
	for _, want := range []string{"took too long", "EXOHUNTER_FETCH_HEADER_TIMEOUT", "exohunter ingest URL"} {
		if !strings.Contains(ErrorMessage(err), want) {
			t.Errorf("message %q does not say %q", ErrorMessage(err), want)
		}
	}
}

// TestEngine_IngestURL_Document: a server that answers 200 with a JSON or
// XML document in place of the file gets a message that says so and
// quotes the answer's first bytes, not one about headers or columns.
func TestEngine_IngestURL_Document(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json.csv":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"error":"rate limited"}`)
		case "/s3.csv":
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		case "/votable.csv":
			io.WriteString(w, `<VOTABLE><RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">Column nonsense does not exist</INFO></RESOURCE></VOTABLE>`)
		}
	}))
	t.Cleanup(srv.Close)
	f, err := remote.New(remote.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := MustOpenEngine(t, func(o *Options) { o.Fetcher = f })
	tests := []struct {
		name, path string
		want       string
	}{
		{name: "JSON", path: "/json.csv?token=t0k", want: `The server answered ` + srv.URL + `/json.csv?token=REDACTED with JSON, not a catalog table; it begins: {"error":"rate limited"}.`},
		{name: "S3 error document", path: "/s3.csv", want: `with XML (a <Error> document), not a catalog table; it begins: <?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>`},
		{name: "VOTable error", path: "/votable.csv", want: `with XML (a <VOTABLE> document), not a catalog table; it begins: <VOTABLE><RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">Column nonsense does not exist`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Ingest(context.Background(), IngestInput{URL: srv.URL + tc.path})
			if ErrorCode(err) != BadRequest || !strings.Contains(ErrorMessage(err), tc.want) {
				t.Errorf("got %s %q\nwant BadRequest containing %q", ErrorCode(err), ErrorMessage(err), tc.want)
			}
			if strings.Contains(ErrorMessage(err), "t0k") {
				t.Errorf("message leaks the token: %s", ErrorMessage(err))
			}
		})
	}
	assertNoLeftovers(t, e)
}

// TestEngine_IngestURL_Source: a dataset fetched from a URL records where
// it came from, secrets redacted, so two files of the same name from two
// folders stay told apart; a local file records none (NULL).
func TestEngine_IngestURL_Source(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// note: each year's file differs, so neither is a duplicate.
		io.WriteString(w, koiHeader+strings.Replace(koiRow, "2.47", r.URL.Path[1:5], 1))
	}))
	t.Cleanup(srv.Close)
	f, err := remote.New(remote.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := MustOpenEngine(t, func(o *Options) { o.Fetcher = f })
	ctx := context.Background()
	first := MustIngest(t, e, IngestInput{URL: srv.URL + "/2024/koi.csv"})
	second := MustIngest(t, e, IngestInput{URL: srv.URL + "/2025/koi.csv?X-Amz-Signature=s1g"})
	local := MustIngest(t, e, IngestInput{Reader: strings.NewReader(koiHeader + koiRow), OriginalName: "koi.csv"})
	for _, tc := range []struct {
		ds         *Dataset
		wantSource string
	}{
		{first, srv.URL + "/2024/koi.csv"},
		{second, srv.URL + "/2025/koi.csv?X-Amz-Signature=REDACTED"},
		{local, ""},
	} {
		got, err := e.Dataset(ctx, tc.ds.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got.Source != tc.wantSource || tc.ds.Source != tc.wantSource || got.OriginalName != "koi.csv" {
			t.Errorf("dataset %s: source %q (at ingest %q), original name %q; want %q, koi.csv", got.Name, got.Source, tc.ds.Source, got.OriginalName, tc.wantSource)
		}
	}
	if n := mustQueryInt(t, e, "SELECT count(*) FROM meta.datasets WHERE source IS NULL"); n != 1 {
		t.Errorf("%d datasets without a source, want 1 (the upload)", n)
	}
}

// TestEngine_IngestURL_NameTakenBeforeFetch: an explicit name that a
// dataset from elsewhere holds is refused before anything is fetched (a
// stalling or huge download would otherwise be waited for, then thrown
// away); the same source under the same name is fetched, and answers as
// a duplicate when its bytes are the same.
func TestEngine_IngestURL_NameTakenBeforeFetch(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path)
		mu.Unlock()
		// note: every answer differs from the others and from the upload,
		// so that none is a duplicate.
		period := "9.5"
		if r.URL.Path != "/TAP/sync" {
			period = r.URL.Path[1:5]
		}
		io.WriteString(w, koiHeader+strings.Replace(koiRow, "2.47", period, 1))
	}))
	t.Cleanup(srv.Close)
	requests := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
	f, err := remote.New(remote.Config{NASABaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	e := MustOpenEngine(t, func(o *Options) { o.Fetcher = f })
	ctx := context.Background()
	MustIngest(t, e, IngestInput{Reader: strings.NewReader(koiHeader + koiRow), OriginalName: "koi.csv", Name: "local"})
	remoteDS := MustIngest(t, e, IngestInput{URL: srv.URL + "/2024/koi.csv", Name: "from_url"})

	for _, tc := range []struct {
		name   string
		ingest func() error
	}{
		{"url onto an upload's name", func() error {
			_, err := e.Ingest(ctx, IngestInput{URL: srv.URL + "/2025/koi.csv", Name: "local"})
			return err
		}},
		{"url onto another url's name", func() error {
			_, err := e.Ingest(ctx, IngestInput{URL: srv.URL + "/2025/koi.csv", Name: "from_url"})
			return err
		}},
		{"nasa import onto a taken name", func() error {
			_, err := e.IngestNASA(ctx, NASAQuery{Table: "cumulative"}, IngestInput{Name: "local"})
			return err
		}},
	} {
		before := len(requests())
		err := tc.ingest()
		if ErrorCode(err) != Conflict || !strings.Contains(ErrorMessage(err), "Nothing was downloaded") {
			t.Errorf("%s: %s %v, want a Conflict before the download", tc.name, ErrorCode(err), err)
		}
		if after := requests(); len(after) != before {
			t.Errorf("%s: the server got %v after the refusal", tc.name, after[before:])
		}
	}
	again, err := e.Ingest(ctx, IngestInput{URL: srv.URL + "/2024/koi.csv", Name: "from_url"})
	if err != nil || again.DuplicateOf != remoteDS.Name {
		t.Errorf("the same URL under its own name: %+v, %v; want a duplicate of %s", again, err, remoteDS.Name)
	}
	assertNoLeftovers(t, e)
}
