package remote

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// NASATables are the NASA Exoplanet Archive tables that ExoHunter imports:
// the Kepler KOI cumulative table, TESS TOIs, K2 planets and candidates, and
// the Planetary Systems tables.
var NASATables = []string{"cumulative", "toi", "k2pandc", "pscomppars", "ps"}

// MaxADQLClause caps the length of TAPQuery.Select and TAPQuery.Where, in
// bytes; longer text is refused before anything is sent.
const MaxADQLClause = 4000

// TAPQuery is an import from the NASA Exoplanet Archive's TAP service.
// Select and Where are ADQL fragments run by the archive, never by
// ExoHunter; they are checked only for control characters and length.
type TAPQuery struct {
	// Table is one of NASATables.
	Table string
	// Where is an optional ADQL condition, such as "tfopwg_disp = 'PC'".
	// A leading "where" keyword is accepted and dropped.
	Where string
	// Select is an optional column list; empty means "*".
	Select string
}

// ADQL validates q and returns the query text sent to the archive:
// "select <Select or *> from <Table> [where <Where>]". Errors wrap
// ErrBadQuery.
func (q TAPQuery) ADQL() (string, error) {
	table := strings.ToLower(strings.TrimSpace(q.Table))
	if !slices.Contains(NASATables, table) {
		return "", &Error{Kind: ErrBadQuery, Msg: fmt.Sprintf("cannot query the NASA Exoplanet Archive: unknown table %q; use one of %s", q.Table, strings.Join(NASATables, ", "))}
	}
	sel, err := clause("select", q.Select)
	if err != nil {
		return "", err
	}
	where, err := clause("where", q.Where)
	if err != nil {
		return "", err
	}
	if sel == "" {
		sel = "*"
	}
	adql := "select " + sel + " from " + table
	if where != "" {
		adql += " where " + where
	}
	return adql, nil
}

// clause trims and checks one ADQL fragment and drops its leading keyword
// if the user wrote it.
func clause(keyword, s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) error {
		return &Error{Kind: ErrBadQuery, Msg: fmt.Sprintf("cannot query the NASA Exoplanet Archive: the %s clause %s", keyword, why)}
	}
	switch {
	case len(s) > MaxADQLClause:
		return "", bad(fmt.Sprintf("is %d bytes long; the limit is %d", len(s), MaxADQLClause))
	case !utf8.ValidString(s):
		return "", bad("is not valid UTF-8 text")
	case hasControl(s):
		return "", bad("contains control characters such as tabs or line breaks; write it on one line")
	}
	if len(s) > len(keyword) && strings.EqualFold(s[:len(keyword)+1], keyword+" ") {
		s = strings.TrimSpace(s[len(keyword)+1:])
	}
	return s, nil
}

// TAPURL returns the address NASA fetches q from:
// <NASABaseURL>/TAP/sync?query=<ADQL>&format=csv. Errors wrap ErrBadQuery.
func (f *Fetcher) TAPURL(q TAPQuery) (string, error) {
	adql, err := q.ADQL()
	if err != nil {
		return "", err
	}
	params := url.Values{"query": {adql}, "format": {"csv"}}
	return f.cfg.NASABaseURL + "/TAP/sync?" + params.Encode(), nil
}

// NASA runs q against <NASABaseURL>/TAP/sync with format=csv and streams the
// CSV answer into w under the same limits as Fetch. Info.Name is
// "<table>.csv". A query the archive rejects fails with ErrBadQuery and the
// archive's own message.
func (f *Fetcher) NASA(ctx context.Context, q TAPQuery, w io.Writer) (Info, error) {
	target, err := f.TAPURL(q)
	if err != nil {
		return Info{}, err
	}
	u, _ := url.Parse(target) // NB: the base URL was validated by New
	// note: messages name the endpoint, not the encoded query, which the
	// scientist wrote and which reads badly once percent-encoded.
	loc := location{scheme: u.Scheme, u: u, display: Redact(f.cfg.NASABaseURL + "/TAP/sync"), service: "the NASA Exoplanet Archive"}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	resp, err := f.get(ctx, f.http, loc, target)
	if err != nil {
		return Info{}, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusBadRequest {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
			return Info{}, tapRejected(loc.display, body)
		}
		return Info{}, f.statusError(loc, resp)
	}
	// NB: TAP services may answer a failed query with 200 and a VOTable
	// error document; a CSV never starts with "<", so peek before copying.
	br := bufio.NewReaderSize(resp.Body, 4096)
	if head, _ := br.Peek(1024); bytes.HasPrefix(bytes.TrimSpace(head), []byte("<")) {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(br, errorBodyLimit))
		return Info{}, tapRejected(loc.display, body)
	}
	obj := object{
		body:        readCloser{br, resp.Body},
		size:        resp.ContentLength,
		name:        strings.ToLower(strings.TrimSpace(q.Table)) + ".csv",
		contentType: resp.Header.Get("Content-Type"),
		etag:        resp.Header.Get("ETag"),
	}
	return f.transfer(ctx, cancel, loc.display, obj, w)
}

// readCloser reads from a buffered reader and closes the underlying body.
type readCloser struct {
	io.Reader
	io.Closer
}

var (
	queryStatus = regexp.MustCompile(`(?is)<INFO[^>]*QUERY_STATUS[^>]*>(.*?)</INFO>`)
	markup      = regexp.MustCompile(`(?s)<[^>]*>`)
	spaces      = regexp.MustCompile(`\s+`)
)

// tapRejected builds the ErrBadQuery error for a query the archive refused,
// quoting the archive's message (from a VOTable QUERY_STATUS, or the text of
// the body) so the scientist can fix the ADQL.
func tapRejected(display string, body []byte) *Error {
	text := string(bytes.ToValidUTF8(body, nil))
	if m := queryStatus.FindStringSubmatch(text); m != nil {
		text = m[1]
	}
	text = strings.TrimSpace(spaces.ReplaceAllString(markup.ReplaceAllString(text, " "), " "))
	if r := []rune(text); len(r) > 300 {
		text = string(r[:300]) + "…"
	}
	if text == "" {
		text = "no reason given"
	}
	return &Error{
		URL:  display,
		Msg:  "the NASA Exoplanet Archive rejected the query: " + text,
		Kind: ErrBadQuery,
		Err:  fmt.Errorf("TAP error document: %.2000s", body),
	}
}
