package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Fixtures of the results tests (testdata/results/README.md).
const (
	resultsKOI = "testdata/results/koi.csv"
	resultsK2  = "testdata/results/k2.csv"
)

// MustProcessFile ingests a file and processes it with the default
// thresholds, returning the engine and the complete run.
func MustProcessFile(tb testing.TB, path string) (*Engine, *Run) {
	tb.Helper()
	e := MustOpenEngine(tb)
	ds := MustIngest(tb, e, IngestInput{Path: path})
	run, err := e.Process(context.Background(), ProcessInput{Dataset: ds.Name})
	if err != nil {
		tb.Fatalf("Process(%s): %v", ds.Name, err)
	}
	return e, run
}

// mustResults runs one results query given as a query string.
func mustResults(tb testing.TB, e *Engine, runID, query string) *ResultsPage {
	tb.Helper()
	page, err := resultsFor(e, runID, query)
	if err != nil {
		tb.Fatalf("Results(%s): %v", query, err)
	}
	return page
}

func resultsFor(e *Engine, runID, query string) (*ResultsPage, error) {
	v, err := url.ParseQuery(query)
	if err != nil {
		return nil, err
	}
	q, err := ParseResultsQuery(runID, v)
	if err != nil {
		return nil, err
	}
	return e.Results(context.Background(), q)
}

// allRows reads every row of a small run as maps, in row_id order.
func allRows(tb testing.TB, e *Engine, runID string) []map[string]any {
	tb.Helper()
	page := mustResults(tb, e, runID, fmt.Sprintf("limit=%d", MaxResultsLimit))
	if page.NextCursor != nil {
		tb.Fatalf("run %s has more than %d rows", runID, MaxResultsLimit)
	}
	out := make([]map[string]any, len(page.Rows))
	for i, r := range page.Rows {
		out[i] = r.Map()
	}
	return out
}

func ids(rows []map[string]any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i], _ = r["object_id"].(string)
	}
	return out
}

func recordIDs(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		v, _ := r.Get("object_id")
		out[i], _ = v.(string)
	}
	return out
}

func where(rows []map[string]any, keep func(map[string]any) bool) []map[string]any {
	var out []map[string]any
	for _, r := range rows {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func listHas(v any, s string) bool {
	xs, _ := v.([]any)
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func num64(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok
}

func TestParseResultsQuery(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	tests := []struct {
		name  string
		query string
		want  ResultsQuery
	}{
		{"empty", "", ResultsQuery{RunID: "r"}},
		{"lists repeated and comma-separated", "category=a,b&category=c&tag=t&flag=F1,F2&disposition=CONFIRMED",
			ResultsQuery{RunID: "r", Category: []string{"a", "b", "c"}, Tag: []string{"t"}, Flag: []string{"F1", "F2"}, Disposition: []string{"CONFIRMED"}}},
		{"scores, search, sort, paging, projection", "min_score=0.25&max_score=1&q=K007&sort=koi_prad&order=DESC&limit=10&offset=20&columns=object_id,koi_prad",
			ResultsQuery{RunID: "r", MinScore: f(0.25), MaxScore: f(1), Q: "K007", Sort: "koi_prad", Order: "desc", Limit: 10, Offset: 20, Columns: []string{"object_id", "koi_prad"}}},
		{"ranges, sorted by parameter name", "koi_prad__lt=4&koi_period__gte=1&koi_period__lte=10&a__b__eq=x",
			ResultsQuery{RunID: "r", Ranges: []RangeFilter{{"a__b", "eq", "x"}, {"koi_period", "gte", "1"}, {"koi_period", "lte", "10"}, {"koi_prad", "lt", "4"}}}},
		{"cursor", "cursor=abc", ResultsQuery{RunID: "r", Cursor: "abc"}},
		{"parameters of sibling endpoints pass", "format=csv&x=koi_period&y=koi_prad", ResultsQuery{RunID: "r"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.query)
			got, err := ParseResultsQuery("r", v)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestParseResultsQuery_BadRequest(t *testing.T) {
	tests := []struct {
		name, query, field string
	}{
		{"unknown parameter", "koi_prad=3", "koi_prad"},
		{"unknown operator", "koi_prad__between=1", "koi_prad__between"},
		{"score not a number", "min_score=high", "min_score"},
		{"score NaN", "max_score=NaN", "max_score"},
		{"order", "order=sideways", "order"},
		{"limit too large", fmt.Sprintf("limit=%d", MaxPointsLimit+1), "limit"},
		{"negative limit", "limit=-1", "limit"},
		{"offset too deep", fmt.Sprintf("offset=%d", MaxResultsOffset+1), "offset"},
		{"cursor and offset", "cursor=x&offset=5", "cursor"},
		{"min above max", "min_score=0.9&max_score=0.1", "min_score"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.query)
			_, err := ParseResultsQuery("r", v)
			if ErrorCode(err) != BadRequest {
				t.Fatalf("code = %q (%v), want %q", ErrorCode(err), err, BadRequest)
			}
			if !hasDetail(err, tc.field) {
				t.Errorf("details %+v lack field %q", ErrorDetails(err), tc.field)
			}
		})
	}
	t.Run("every problem is reported", func(t *testing.T) {
		v, _ := url.ParseQuery("foo=1&koi_prad__x=2&limit=abc")
		_, err := ParseResultsQuery("r", v)
		if n := len(ErrorDetails(err)); n != 3 {
			t.Errorf("got %d details, want 3: %+v", n, ErrorDetails(err))
		}
	})
}

func hasDetail(err error, field string) bool {
	for _, d := range ErrorDetails(err) {
		if d.Field == field {
			return true
		}
	}
	return false
}

// TestEngine_Results checks every filter against the same predicate
// evaluated in Go over all the rows of the fixture run.
func TestEngine_Results(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	rows := allRows(t, e, run.RunID)
	if len(rows) != 18 {
		t.Fatalf("fixture run has %d rows, want 18", len(rows))
	}
	prad := func(r map[string]any) (float64, bool) { return num64(r["koi_prad"]) }
	somePrad, _ := num64(rows[0]["koi_prad"])
	tests := []struct {
		name  string
		query string
		keep  func(map[string]any) bool
	}{
		{"no filter", "", func(map[string]any) bool { return true }},
		{"category", "category=confirmed_planet", func(r map[string]any) bool { return r["category"] == "confirmed_planet" }},
		{"categories", "category=rocky_candidate,candidate", func(r map[string]any) bool {
			return r["category"] == "rocky_candidate" || r["category"] == "candidate"
		}},
		{"tag", "tag=habitable_zone_candidate", func(r map[string]any) bool { return listHas(r["tags"], "habitable_zone_candidate") }},
		{"flag", "flag=FLAG_RADIUS_TOO_LARGE", func(r map[string]any) bool { return listHas(r["flags"], "FLAG_RADIUS_TOO_LARGE") }},
		{"flag as the dashboard shows it", "flag=radius_too_large", func(r map[string]any) bool { return listHas(r["flags"], "FLAG_RADIUS_TOO_LARGE") }},
		{"flags", "flag=FLAG_RADIUS_TOO_LARGE&flag=FLAG_MISSING_PRAD", func(r map[string]any) bool {
			return listHas(r["flags"], "FLAG_RADIUS_TOO_LARGE") || listHas(r["flags"], "FLAG_MISSING_PRAD")
		}},
		{"disposition, any spelling", "disposition=false_positive", func(r map[string]any) bool { return r["koi_disposition"] == "FALSE POSITIVE" }},
		{"disposition missing", "disposition=MISSING", func(r map[string]any) bool { return r["koi_disposition"] == nil }},
		{"dispositions", "disposition=CONFIRMED,missing", func(r map[string]any) bool {
			return r["koi_disposition"] == nil || r["koi_disposition"] == "CONFIRMED"
		}},
		{"min_score", "min_score=0.5", func(r map[string]any) bool { s, ok := num64(r["score"]); return ok && s >= 0.5 }},
		{"max_score", "max_score=0.5", func(r map[string]any) bool { s, ok := num64(r["score"]); return ok && s <= 0.5 }},
		{"score band", "min_score=0.1&max_score=0.9", func(r map[string]any) bool {
			s, ok := num64(r["score"])
			return ok && s >= 0.1 && s <= 0.9
		}},
		{"q object id, any case", "q=k00752", func(r map[string]any) bool {
			return strings.Contains(strings.ToLower(r["object_id"].(string)), "k00752")
		}},
		{"q star id", "q=10872983", func(r map[string]any) bool { return r["star_id"] == "10872983" }},
		{"q kepler name", "q=kepler-228", func(r map[string]any) bool {
			s, _ := r["kepler_name"].(string)
			return strings.Contains(strings.ToLower(s), "kepler-228")
		}},
		{"gte", "koi_prad__gte=2", func(r map[string]any) bool { p, ok := prad(r); return ok && p >= 2 }},
		{"gt", "koi_prad__gt=2", func(r map[string]any) bool { p, ok := prad(r); return ok && p > 2 }},
		{"lte", "koi_prad__lte=2", func(r map[string]any) bool { p, ok := prad(r); return ok && p <= 2 }},
		{"lt", "koi_prad__lt=2", func(r map[string]any) bool { p, ok := prad(r); return ok && p < 2 }},
		{"eq", fmt.Sprintf("koi_prad__eq=%g", somePrad), func(r map[string]any) bool { p, ok := prad(r); return ok && p == somePrad }},
		{"ne", fmt.Sprintf("koi_prad__ne=%g", somePrad), func(r map[string]any) bool { p, ok := prad(r); return ok && p != somePrad }},
		{"range pair", "koi_period__gte=5&koi_period__lt=20", func(r map[string]any) bool {
			p, ok := num64(r["koi_period"])
			return ok && p >= 5 && p < 20
		}},
		{"negative bound", "koi_period_err2__lt=-0.0001", func(r map[string]any) bool {
			p, ok := num64(r["koi_period_err2"])
			return ok && p < -0.0001
		}},
		{"text eq", "koi_pdisposition__eq=CANDIDATE", func(r map[string]any) bool { return r["koi_pdisposition"] == "CANDIDATE" }},
		{"text ne", "koi_pdisposition__ne=CANDIDATE", func(r map[string]any) bool {
			return r["koi_pdisposition"] != nil && r["koi_pdisposition"] != "CANDIDATE"
		}},
		{"boolean eq", "is_default__eq=true", func(r map[string]any) bool { return r["is_default"] == true }},
		{"combined", "category=confirmed_planet&koi_period__lt=10&min_score=0.5", func(r map[string]any) bool {
			p, ok := num64(r["koi_period"])
			s, _ := num64(r["score"])
			return r["category"] == "confirmed_planet" && ok && p < 10 && s >= 0.5
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := ids(where(rows, tc.keep))
			page := mustResults(t, e, run.RunID, tc.query+"&limit=1000")
			if d := cmp.Diff(want, recordIDs(page.Rows)); d != "" {
				t.Errorf("rows (-want +got)\n%s", d)
			}
			if page.Total != int64(len(want)) {
				t.Errorf("total = %d, want %d", page.Total, len(want))
			}
			if page.NextCursor != nil {
				t.Errorf("next_cursor = %q on the last page", *page.NextCursor)
			}
			// note: KOI rows are all default parameter sets, so the boolean
			// filter keeps every row; the other filters must split the rows.
			if tc.name != "no filter" && tc.name != "boolean eq" && (len(want) == 0 || len(want) == len(rows)) {
				t.Errorf("the fixture does not exercise this filter: %d of %d rows match", len(want), len(rows))
			}
		})
	}
}

// compareRows orders rows as Results does: column (NULLs last either way),
// then row_id.
func compareRows(col string, desc bool) func(a, b map[string]any) int {
	return func(a, b map[string]any) int {
		va, vb := a[col], b[col]
		switch {
		case va == nil && vb == nil:
		case va == nil:
			return 1
		case vb == nil:
			return -1
		default:
			c := compareValues(va, vb)
			if desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return compareValues(a["row_id"], b["row_id"])
	}
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case float64:
		y := b.(float64)
		return cmpOrd(x, y)
	case int64:
		return cmpOrd(x, b.(int64))
	case string:
		return strings.Compare(x, b.(string))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	panic(fmt.Sprintf("cannot compare %T", a))
}

func cmpOrd[T int64 | float64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// TestEngine_Results_Paging walks every sort by cursor and by offset with a
// small page: the pages concatenate to exactly the sorted rows, with no
// duplicate and no gap.
func TestEngine_Results_Paging(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	rows := allRows(t, e, run.RunID)
	for _, col := range []string{"row_id", "koi_prad", "koi_period", "score", "category", "object_id", "koi_disposition", "is_default", "kepler_name"} {
		for _, order := range []string{"asc", "desc"} {
			want := append([]map[string]any(nil), rows...)
			sort.SliceStable(want, func(i, j int) bool { return compareRows(col, order == "desc")(want[i], want[j]) < 0 })
			base := fmt.Sprintf("sort=%s&order=%s&limit=4", col, order)
			t.Run(base+"/cursor", func(t *testing.T) {
				var got []string
				cursor := ""
				for pages := 0; ; pages++ {
					if pages > len(rows) {
						t.Fatal("cursor paging does not end")
					}
					q := base
					if cursor != "" {
						q += "&cursor=" + url.QueryEscape(cursor)
					}
					page := mustResults(t, e, run.RunID, q)
					if page.Total != int64(len(rows)) {
						t.Fatalf("total = %d, want %d", page.Total, len(rows))
					}
					got = append(got, recordIDs(page.Rows)...)
					if page.NextCursor == nil {
						break
					}
					cursor = *page.NextCursor
				}
				if d := cmp.Diff(ids(want), got); d != "" {
					t.Errorf("(-want +got)\n%s", d)
				}
			})
			t.Run(base+"/offset", func(t *testing.T) {
				var got []string
				for off := 0; off < len(rows)+4; off += 4 {
					got = append(got, recordIDs(mustResults(t, e, run.RunID, fmt.Sprintf("%s&offset=%d", base, off)).Rows)...)
				}
				if d := cmp.Diff(ids(want), got); d != "" {
					t.Errorf("(-want +got)\n%s", d)
				}
			})
		}
	}
	t.Run("offset page continues by cursor", func(t *testing.T) {
		page := mustResults(t, e, run.RunID, "sort=koi_prad&order=desc&limit=4&offset=4")
		next := mustResults(t, e, run.RunID, "sort=koi_prad&order=desc&limit=4&cursor="+url.QueryEscape(*page.NextCursor))
		all := mustResults(t, e, run.RunID, "sort=koi_prad&order=desc&limit=12")
		if d := cmp.Diff(recordIDs(all.Rows[4:12]), append(recordIDs(page.Rows), recordIDs(next.Rows)...)); d != "" {
			t.Errorf("(-want +got)\n%s", d)
		}
	})
	t.Run("filtered cursor paging", func(t *testing.T) {
		want := where(rows, func(r map[string]any) bool { return r["koi_disposition"] != "FALSE POSITIVE" })
		sort.SliceStable(want, func(i, j int) bool { return compareRows("koi_prad", true)(want[i], want[j]) < 0 })
		var got []string
		q := "disposition=CONFIRMED,CANDIDATE,MISSING&sort=koi_prad&order=desc&limit=3"
		for cursor := ""; ; {
			page := mustResults(t, e, run.RunID, q+"&cursor="+url.QueryEscape(cursor))
			if page.Total != int64(len(want)) {
				t.Fatalf("total = %d, want %d", page.Total, len(want))
			}
			got = append(got, recordIDs(page.Rows)...)
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		if d := cmp.Diff(ids(want), got); d != "" {
			t.Errorf("(-want +got)\n%s", d)
		}
	})
}

// TestEngine_Results_PagingKOI pages through the whole real KOI table
// (9,564 rows) by cursor under a filter and two sorts.
func TestEngine_Results_PagingKOI(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, filepath.Join(sharedData, "koi_cumulative_2025.csv"))
	for _, q := range []string{
		"limit=700",
		"disposition=CONFIRMED,CANDIDATE&sort=koi_prad&order=desc&limit=500",
		"flag=FLAG_DERIVED_SMASS&sort=koi_period&limit=999&columns=object_id",
	} {
		t.Run(q, func(t *testing.T) {
			seen := map[string]bool{}
			var total int64 = -1
			var prev *ResultsPage
			for cursor := ""; ; {
				page := mustResults(t, e, run.RunID, q+"&cursor="+url.QueryEscape(cursor))
				if total >= 0 && page.Total != total {
					t.Fatalf("total changed from %d to %d", total, page.Total)
				}
				total = page.Total
				for _, id := range recordIDs(page.Rows) {
					if seen[id] {
						t.Fatalf("%s appears twice", id)
					}
					seen[id] = true
				}
				if page.NextCursor == nil {
					break
				}
				prev, cursor = page, *page.NextCursor
			}
			_ = prev
			if int64(len(seen)) != total || total == 0 {
				t.Errorf("saw %d distinct rows, total %d", len(seen), total)
			}
		})
	}
	// Small pages start in the cached key window of their first page and
	// go on past its windowRows rows: the sequence must be the one a
	// single page (which bypasses the window) shows.
	for _, q := range []string{
		"disposition=CONFIRMED,CANDIDATE&sort=koi_prad&order=desc&columns=object_id&limit=",
		"category=likely_false_positive&columns=object_id&limit=",
		"sort=koi_period&order=desc&columns=object_id&limit=",
	} {
		t.Run("window "+q, func(t *testing.T) {
			want := recordIDs(mustResults(t, e, run.RunID, q+"10000").Rows)
			if len(want) <= windowRows {
				t.Fatalf("only %d rows: the pages do not leave the window", len(want))
			}
			var got []string
			for cursor := ""; ; {
				page := mustResults(t, e, run.RunID, q+"60&cursor="+url.QueryEscape(cursor))
				got = append(got, recordIDs(page.Rows)...)
				if page.NextCursor == nil {
					break
				}
				cursor = *page.NextCursor
			}
			if !slices.Equal(got, want) {
				t.Errorf("cursor pages show %d rows, not the %d of one page in the same order", len(got), len(want))
			}
		})
	}
	t.Run("unfiltered total is the run's row count", func(t *testing.T) {
		if page := mustResults(t, e, run.RunID, "limit=1"); page.Total != run.Rows || page.Total != 9564 {
			t.Errorf("total = %d, run rows = %d, want 9564", page.Total, run.Rows)
		}
	})
}

func TestEngine_Results_Projection(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	page := mustResults(t, e, run.RunID, "columns=score,object_id&sort=koi_prad&limit=5")
	for _, r := range page.Rows {
		if d := cmp.Diff([]string{"score", "object_id"}, r.Columns); d != "" {
			t.Fatalf("columns (-want +got)\n%s", d)
		}
	}
	if page.NextCursor == nil {
		t.Fatal("no next cursor")
	}
	// note: the cursor needs koi_prad and row_id, which the projection hides.
	next := mustResults(t, e, run.RunID, "columns=score,object_id&sort=koi_prad&limit=5&cursor="+url.QueryEscape(*page.NextCursor))
	full := mustResults(t, e, run.RunID, "sort=koi_prad&limit=10")
	if d := cmp.Diff(recordIDs(full.Rows), append(recordIDs(page.Rows), recordIDs(next.Rows)...)); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	if len(page.Columns) < 50 {
		t.Errorf("page lists %d run columns, want all of them", len(page.Columns))
	}
	b, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(`{"rows":[{"score":`)) || !bytes.Contains(b, []byte(`"total":18,"next_cursor":"`)) {
		t.Errorf("JSON shape: %.200s", b)
	}
	last := mustResults(t, e, run.RunID, "limit=1000")
	if b, _ := json.Marshal(last); !bytes.Contains(b, []byte(`"next_cursor":null`)) {
		t.Errorf("last page JSON lacks next_cursor null: %.100s", b)
	}
}

func TestEngine_Results_BadRequest(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	other := mustResults(t, e, run.RunID, "sort=koi_prad&limit=2").NextCursor
	tests := []struct {
		name, query, field string
	}{
		{"unknown range column", "koi_pradd__gt=1", "koi_pradd__gt"},
		{"range value not a number", "koi_prad__gt=big", "koi_prad__gt"},
		{"range value infinite", "koi_prad__gt=Inf", "koi_prad__gt"},
		{"text column with gte", "koi_pdisposition__gte=A", "koi_pdisposition__gte"},
		{"boolean not a boolean", "is_default__eq=maybe", "is_default__eq"},
		{"list column in a range", "flags__eq=x", "flags__eq"},
		{"unknown sort column", "sort=radius", "sort"},
		{"sort by a list", "sort=flags", ""},
		{"unknown projection column", "columns=object_id,nope", "columns"},
		{"unknown disposition", "disposition=maybe", "disposition"},
		{"unknown category", "category=rocky", "category"},
		{"unknown tag", "tag=hot_jupiter", "tag"},
		{"cursor garbage", "cursor=%%%", "cursor"},
		{"cursor of another sort", "sort=koi_period&cursor=" + url.QueryEscape(*other), "cursor"},
		{"cursor of another order", "sort=koi_prad&order=desc&cursor=" + url.QueryEscape(*other), "cursor"},
		// Forged cursors whose value does not fit the column: text for a
		// DOUBLE once reached DuckDB as a failed cast (a 500).
		{"cursor with text for a number", "sort=koi_prad&cursor=" + forgedCursor(`{"s":"koi_prad","v":"abc","r":2}`), "cursor"},
		{"cursor with a boolean for a number", "sort=koi_prad&cursor=" + forgedCursor(`{"s":"koi_prad","v":true,"r":2}`), "cursor"},
		{"cursor with a number for text", "sort=koi_pdisposition&cursor=" + forgedCursor(`{"s":"koi_pdisposition","v":1,"r":2}`), "cursor"},
		{"page beyond the page limit", fmt.Sprintf("limit=%d", MaxResultsLimit+1), "limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				v = url.Values{"cursor": {"%%%"}}
			}
			q, err := ParseResultsQuery(run.RunID, v)
			if err == nil {
				_, err = e.Results(context.Background(), q)
			}
			if ErrorCode(err) != BadRequest {
				t.Fatalf("code = %q (%v), want %q", ErrorCode(err), err, BadRequest)
			}
			if tc.field != "" && !hasDetail(err, tc.field) {
				t.Errorf("details %+v lack field %q", ErrorDetails(err), tc.field)
			}
		})
	}
	t.Run("typo suggestion", func(t *testing.T) {
		_, err := resultsFor(e, run.RunID, "koi_pradd__gt=1")
		if !strings.Contains(ErrorMessage(err), `did you mean "koi_prad"`) {
			t.Errorf("message %q lacks the suggestion", ErrorMessage(err))
		}
	})
	t.Run("unknown run", func(t *testing.T) {
		_, err := e.Results(context.Background(), ResultsQuery{RunID: "nope"})
		if ErrorCode(err) != NotFound {
			t.Errorf("code = %q (%v), want %q", ErrorCode(err), err, NotFound)
		}
	})
}

func TestEngine_ResultRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("one row with provenance", func(t *testing.T) {
		t.Parallel()
		e, run := MustProcessFile(t, resultsKOI)
		obj, err := e.ResultRow(ctx, run.RunID, "K00752.01")
		if err != nil {
			t.Fatal(err)
		}
		if len(obj.Rows) != 1 {
			t.Fatalf("%d rows, want 1", len(obj.Rows))
		}
		if v, _ := obj.Rows[0].Get("object_id"); v != "K00752.01" {
			t.Errorf("object_id = %v", v)
		}
		if len(obj.Rows[0].Columns) < 80 {
			t.Errorf("%d columns, want every column", len(obj.Rows[0].Columns))
		}
		want := map[string]string{"koi_smass": "derived", "koi_sma": "derived", "koi_insol": "catalog", "koi_teq": "catalog"}
		for col, src := range want {
			if obj.Provenance[col] != src {
				t.Errorf("provenance[%s] = %q, want %q (all: %v)", col, obj.Provenance[col], src, obj.Provenance)
			}
		}
		if _, err := e.ResultRow(ctx, run.RunID, "K99999.99"); ErrorCode(err) != NotFound {
			t.Errorf("missing object: code %q (%v), want %q", ErrorCode(err), err, NotFound)
		}
		if _, err := e.ResultRow(ctx, "nope", "K00752.01"); ErrorCode(err) != NotFound {
			t.Errorf("missing run: code %q (%v), want %q", ErrorCode(err), err, NotFound)
		}
	})
	t.Run("parameter sets, default first", func(t *testing.T) {
		t.Parallel()
		e, run := MustProcessFile(t, resultsK2)
		obj, err := e.ResultRow(ctx, run.RunID, "K2-18 b")
		if err != nil {
			t.Fatal(err)
		}
		if len(obj.Rows) != 4 {
			t.Fatalf("%d rows, want 4", len(obj.Rows))
		}
		var defaults []any
		var rowIDs []int64
		for _, r := range obj.Rows {
			d, _ := r.Get("is_default")
			defaults = append(defaults, d)
			id, _ := r.Get("row_id")
			rowIDs = append(rowIDs, id.(int64))
		}
		if d := cmp.Diff([]any{true, false, false, false}, defaults); d != "" {
			t.Errorf("is_default (-want +got)\n%s", d)
		}
		if !sort.SliceIsSorted(rowIDs[1:], func(i, j int) bool { return rowIDs[1+i] < rowIDs[1+j] }) || rowIDs[0] < rowIDs[1] {
			t.Errorf("row ids %v: want the default (last in the file) first, then row_id order", rowIDs)
		}
	})
}

func TestCountCache(t *testing.T) {
	t.Parallel()
	c := newCountCache(2)
	var calls atomic.Int64
	release := make(chan struct{})
	count := func(context.Context) (int64, error) {
		calls.Add(1)
		<-release
		return 42, nil
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := c.get(context.Background(), "run\x00a", count); n != 42 || err != nil {
				t.Errorf("get = %d, %v", n, err)
			}
		}()
	}
	for calls.Load() == 0 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("16 concurrent requests counted %d times, want once", n)
	}
	fail := func(context.Context) (int64, error) { calls.Add(1); return 0, fmt.Errorf("boom") }
	if _, err := c.get(context.Background(), "run\x00b", fail); err == nil {
		t.Error("error not returned")
	}
	if _, err := c.get(context.Background(), "run\x00b", func(context.Context) (int64, error) { return 7, nil }); err != nil {
		t.Errorf("a failed count was remembered: %v", err)
	}
	c.get(context.Background(), "run\x00c", func(context.Context) (int64, error) { return 1, nil })
	c.mu.Lock()
	n := len(c.items)
	c.mu.Unlock()
	if n > 2 {
		t.Errorf("cache holds %d entries, max 2", n)
	}
	c.dropRun("run")
	if len(c.items) != 0 {
		t.Errorf("dropRun left %d entries", len(c.items))
	}
}

// forgedCursor encodes a cursor's JSON the way the server does.
func forgedCursor(js string) string { return base64.RawURLEncoding.EncodeToString([]byte(js)) }

// TestEngine_Results_Times: DATE and TIMESTAMP columns filter with every
// operator (RFC 3339, DuckDB's form or a bare date) and sort, with NULLs
// last and cursor paging that visits each row once.
func TestEngine_Results_Times(t *testing.T) {
	t.Parallel()
	e, run := mustProcessCSV(t, "kepoi_name,koi_period,koi_prad,created,released\n"+
		"K00001.01,3.5,1.2,2019-07-24 15:58:33,2019-08-01\n"+
		"K00002.01,4.5,2.2,2020-01-02 03:04:05.25,2020-02-01\n"+
		"K00003.01,5.5,3.2,,2018-01-01\n"+
		"K00004.01,6.5,4.2,2019-07-24 15:58:33,\n"+
		"K00005.01,7.5,5.2,2021-03-04 00:00:00,2021-03-05\n")
	for query, want := range map[string][]string{
		"sort=created&order=desc":                          {"K00005.01", "K00002.01", "K00001.01", "K00004.01", "K00003.01"},
		"sort=released":                                    {"K00003.01", "K00001.01", "K00002.01", "K00005.01", "K00004.01"},
		"created__gte=2020-01-01&sort=row_id":              {"K00002.01", "K00005.01"},
		"created__lt=2019-07-24T15:58:34Z":                 {"K00001.01", "K00004.01"},
		"created__eq=2019-07-24 15:58:33":                  {"K00001.01", "K00004.01"},
		"released__lte=2019-08-01&released__ne=2018-01-01": {"K00001.01"},
	} {
		page := mustResults(t, e, run.RunID, query+"&columns=object_id")
		if d := cmp.Diff(want, recordIDs(page.Rows)); d != "" {
			t.Errorf("%s (-want +got):\n%s", query, d)
		}
	}
	var walked []string
	q := "sort=created&order=desc&limit=2&columns=object_id"
	for cursor := ""; ; {
		page := mustResults(t, e, run.RunID, q+"&cursor="+url.QueryEscape(cursor))
		walked = append(walked, recordIDs(page.Rows)...)
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if d := cmp.Diff([]string{"K00005.01", "K00002.01", "K00001.01", "K00004.01", "K00003.01"}, walked); d != "" {
		t.Errorf("cursor walk (-want +got):\n%s", d)
	}
	if _, err := resultsFor(e, run.RunID, "created__gt=yesterday"); ErrorCode(err) != BadRequest {
		t.Errorf("created__gt=yesterday: %v, want BadRequest", err)
	}
	if _, err := resultsFor(e, run.RunID, "tags__gte=1"); ErrorCode(err) != BadRequest || !strings.Contains(err.Error(), "is a list") {
		t.Errorf("tags__gte=1: %v, want BadRequest naming the list", err)
	}
}

// mustProcessCSV ingests and processes a small CSV written from text.
func mustProcessCSV(t *testing.T, text string) (*Engine, *Run) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "table.csv")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return MustProcessFile(t, path)
}

// TestEngine_Results_searchWhole: an id or name typed whole shows just its
// objects, with the catalog prefixes scientists type; anything else is a
// substring search. On the real KOI and TOI tables.
func TestEngine_Results_searchWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := MustOpenEngine(t)
	koi := mustKOIRun(t, e, koiFull)
	MustIngest(t, e, IngestInput{Path: filepath.Join(sharedData, "toi_2025.csv"), Name: "toi"})
	toi, err := e.Process(ctx, ProcessInput{Dataset: "toi"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		run, q string
		want   []string // every object_id shown, in row order; nil: see min
		min    int      // else at least this many
	}{
		{koi.RunID, "Kepler-22", []string{"K00087.01"}, 0},
		{koi.RunID, "kepler-22 b", []string{"K00087.01"}, 0},
		{koi.RunID, "K00087", []string{"K00087.01"}, 0},
		{koi.RunID, "KOI-87", []string{"K00087.01"}, 0},
		{koi.RunID, "koi 87.01", []string{"K00087.01"}, 0},
		{koi.RunID, "10593626", []string{"K00087.01"}, 0}, // Kepler-22's star
		{koi.RunID, "K00752", []string{"K00752.01", "K00752.02"}, 0},
		{koi.RunID, "kepler-22", []string{"K00087.01"}, 0},
		{koi.RunID, "K0075", nil, 10}, // typing on: a substring search
		{koi.RunID, "epler-22", nil, 20},
		{toi.RunID, "TOI-700", []string{"700.01", "700.02", "700.03", "700.04"}, 0},
		{toi.RunID, "toi 700.02", []string{"700.02"}, 0},
		{toi.RunID, "700.01", []string{"700.01"}, 0},
		{toi.RunID, "TOI-70", nil, 10},        // typing on: TOIs whose number starts with 70
		{koi.RunID, "TOI-700", []string{}, 0}, // no TOI in the KOI table, not every id holding 700
	}
	MustIngest(t, e, IngestInput{Path: filepath.Join(sharedData, "pscomppars_2025.csv"), Name: "ps"})
	ps, err := e.Process(ctx, ProcessInput{Dataset: "ps"})
	if err != nil {
		t.Fatal(err)
	}
	tests = append(tests, []struct {
		run, q string
		want   []string
		min    int
	}{
		// The Planetary Systems table names planets as typed: TOI-700 is a host.
		{ps.RunID, "TOI-700", []string{"TOI-700 b", "TOI-700 c", "TOI-700 d", "TOI-700 e"}, 0},
		{ps.RunID, "toi-700 d", []string{"TOI-700 d"}, 0},
	}...)
	for _, tc := range tests {
		page, err := e.Results(ctx, ResultsQuery{RunID: tc.run, Q: tc.q, Limit: 500, Columns: []string{"object_id"}})
		if err != nil {
			t.Fatalf("q=%s: %v", tc.q, err)
		}
		var got []string
		for _, r := range page.Rows {
			v, _ := r.Get("object_id")
			got = append(got, v.(string))
		}
		switch {
		case tc.want != nil && !slices.Equal(got, tc.want):
			t.Errorf("q=%s shows %v, want %v", tc.q, got, tc.want)
		case tc.want == nil && len(got) < tc.min:
			t.Errorf("q=%s shows %d objects, want at least %d: %v", tc.q, len(got), tc.min, got)
		case int64(len(got)) != page.Total:
			t.Errorf("q=%s: total %d for %d rows", tc.q, page.Total, len(got))
		}
	}
	// Whether q matches whole is decided among the rows the other filters
	// keep: with a period range Kepler-22 b (289.9 d) is not in, the other
	// objects containing "Kepler-22" are shown, not nothing.
	page, err := e.Results(ctx, ResultsQuery{RunID: koi.RunID, Q: "Kepler-22", Ranges: []RangeFilter{{Column: "koi_period", Op: "lt", Value: "280"}},
		Limit: 500, Columns: []string{"object_id", "kepler_name", "koi_period"}})
	if err != nil || page.Total < 5 {
		t.Fatalf("q=Kepler-22 with koi_period < 280: %v, %+v", err, page)
	}
	for _, r := range page.Rows {
		name, _ := r.Get("kepler_name")
		p, _ := r.Get("koi_period")
		if n, _ := name.(string); !strings.Contains(strings.ToLower(n), "kepler-22") || p.(float64) >= 280 {
			t.Errorf("q=Kepler-22 with koi_period < 280 shows %v (%v d)", name, p)
		}
	}
}
