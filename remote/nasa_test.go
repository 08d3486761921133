package remote

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tapServer answers like the archive's TAP sync endpoint: it records the
// query parameters it receives and serves a real catalog file as CSV, or a
// VOTable error for queries that mention "bogus".
type tapServer struct {
	csvPath string
	mu      sync.Mutex
	got     []url.Values
	paths   []string
}

func (s *tapServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.got = append(s.got, r.URL.Query())
	s.paths = append(s.paths, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	q := r.URL.Query().Get("query")
	switch {
	case r.URL.Path != "/TAP/sync":
		http.NotFound(w, r)
	case strings.Contains(q, "bogus400"):
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, votableError(`column "bogus400" does not exist`))
	case strings.Contains(q, "bogus200"):
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, votableError(`ADQL syntax error near "bogus200"`))
	case strings.Contains(q, "crash"):
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
	default:
		w.Header().Set("Content-Type", "text/csv")
		http.ServeFile(w, r, s.csvPath)
	}
}

// last returns the query parameters and path of the last request.
func (s *tapServer) last() (url.Values, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.got) == 0 {
		return nil, ""
	}
	return s.got[len(s.got)-1], s.paths[len(s.paths)-1]
}

// votableError is the shape of a TAP error document (IVOA DALI).
func votableError(msg string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
  <RESOURCE type="results">
    <INFO name="QUERY_STATUS" value="ERROR">` + msg + `</INFO>
  </RESOURCE>
</VOTABLE>`
}

func TestFetcher_NASA(t *testing.T) {
	t.Parallel()
	toi := MustDataFile(t, "toi_2025.csv")
	st, err := os.Stat(toi)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		q         TAPQuery
		wantQuery string // the ADQL the server must receive; "" when no request is expected
		wantInfo  Info
		wantSHA   string
		wantErr   error
	}{
		{
			name:      "whole_table",
			q:         TAPQuery{Table: "toi"},
			wantQuery: "select * from toi",
			wantInfo:  Info{Name: "toi.csv", Size: st.Size(), ContentType: "text/csv"},
			wantSHA:   MustSHA256File(t, toi),
		},
		{
			name:      "select_and_where",
			q:         TAPQuery{Table: " TOI ", Select: "toi,tid,pl_rade", Where: "WHERE tfopwg_disp = 'PC' and pl_rade < 2"},
			wantQuery: "select toi,tid,pl_rade from toi where tfopwg_disp = 'PC' and pl_rade < 2",
			wantInfo:  Info{Name: "toi.csv", Size: st.Size(), ContentType: "text/csv"},
		},
		{name: "ErrBadQuery/archive_400", q: TAPQuery{Table: "ps", Where: "bogus400 > 1"}, wantQuery: "select * from ps where bogus400 > 1", wantErr: ErrBadQuery},
		{name: "ErrBadQuery/archive_200_votable", q: TAPQuery{Table: "ps", Where: "bogus200"}, wantQuery: "select * from ps where bogus200", wantErr: ErrBadQuery},
		{name: "ErrUpstream/503", q: TAPQuery{Table: "pscomppars", Where: "crash = 1"}, wantQuery: "select * from pscomppars where crash = 1", wantErr: ErrUpstream},
		{name: "ErrBadQuery/unknown_table", q: TAPQuery{Table: "koi; drop table x"}, wantErr: ErrBadQuery},
		{name: "ErrBadQuery/control_characters", q: TAPQuery{Table: "cumulative", Where: "koi_prad < 2\n;"}, wantErr: ErrBadQuery},
		{name: "ErrBadQuery/too_long", q: TAPQuery{Table: "k2pandc", Select: strings.Repeat("pl_name,", 600)}, wantErr: ErrBadQuery},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := &tapServer{csvPath: toi}
			hs := MustHTTPServer(t, srv)
			f := MustNewFetcher(t, Config{NASABaseURL: hs.URL + "/"})
			w := newHashWriter()
			info, err := f.NASA(context.Background(), tc.q, w)
			checkErr(t, err, tc.wantErr)

			got, path := srv.last()
			if tc.wantQuery == "" {
				if got != nil {
					t.Errorf("a refused query reached the server: %v", got)
				}
			} else {
				want := url.Values{"query": {tc.wantQuery}, "format": {"csv"}}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("query parameters (-want +got):\n%s", diff)
				}
				if path != "GET /TAP/sync" {
					t.Errorf("request = %q, want GET /TAP/sync", path)
				}
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

func TestTAPQuery_ADQL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		q       TAPQuery
		want    string
		wantErr error
	}{
		{name: "every_table", q: TAPQuery{Table: "pscomppars"}, want: "select * from pscomppars"},
		{name: "select_keyword_dropped", q: TAPQuery{Table: "ps", Select: "select pl_name, pl_rade"}, want: "select pl_name, pl_rade from ps"},
		{name: "where_keyword_only_as_prefix", q: TAPQuery{Table: "ps", Where: "whereabouts = 1"}, want: "select * from ps where whereabouts = 1"},
		{name: "unicode_kept", q: TAPQuery{Table: "ps", Where: "hostname = 'τ Ceti'"}, want: "select * from ps where hostname = 'τ Ceti'"},
		{name: "ErrBadQuery/empty_table", q: TAPQuery{}, wantErr: ErrBadQuery},
		{name: "ErrBadQuery/other_archive_table", q: TAPQuery{Table: "keplernames"}, wantErr: ErrBadQuery},
		{name: "ErrBadQuery/tab", q: TAPQuery{Table: "ps", Select: "pl_name,\tpl_rade"}, wantErr: ErrBadQuery},
		{name: "ErrBadQuery/nul", q: TAPQuery{Table: "ps", Where: "a = 1\x00"}, wantErr: ErrBadQuery},
		{name: "ErrBadQuery/invalid_utf8", q: TAPQuery{Table: "ps", Where: "a = '\xff'"}, wantErr: ErrBadQuery},
		{name: "ErrBadQuery/too_long", q: TAPQuery{Table: "ps", Where: strings.Repeat("a", MaxADQLClause+1)}, wantErr: ErrBadQuery},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.q.ADQL()
			checkErr(t, err, tc.wantErr)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ADQL (-want +got):\n%s", diff)
			}
		})
	}
}
