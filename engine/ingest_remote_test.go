package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
