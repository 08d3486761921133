package engine

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseQuery reads result filters from a query string.
func parseQuery(tb testing.TB, runID, query string) ResultsQuery {
	tb.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		tb.Fatal(err)
	}
	q, err := ParseResultsQuery(runID, v)
	if err != nil {
		tb.Fatalf("ParseResultsQuery(%s): %v", query, err)
	}
	return q
}

// tally counts rows by the value of col (every element for lists), largest
// count first, then by value, as Counts sorts them (nil last).
func tally(rows []map[string]any, col string) []CountItem {
	n := map[any]int64{}
	for _, r := range rows {
		if xs, ok := r[col].([]any); ok {
			for _, x := range xs {
				n[x]++
			}
			continue
		}
		n[r[col]]++
	}
	out := make([]CountItem, 0, len(n))
	for v, c := range n {
		out = append(out, CountItem{Value: v, Count: c})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Value == nil || b.Value == nil {
			return b.Value == nil && a.Value != nil
		}
		return fmt.Sprint(a.Value) < fmt.Sprint(b.Value)
	})
	return out
}

func TestEngine_Counts(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	rows := allRows(t, e, run.RunID)
	tests := []struct {
		name, by, query string
		col             string
		keep            func(map[string]any) bool
	}{
		{"category", "", "", "category", nil},
		{"tag", "tag", "", "tags", nil},
		{"flag", "flag", "", "flags", nil},
		{"disposition with missing", "koi_disposition", "", "koi_disposition", nil},
		{"disposition_compare", "disposition_compare", "", "disposition_compare", nil},
		{"filtered", "category", "disposition=CONFIRMED&koi_prad__lt=4", "category", func(r map[string]any) bool {
			p, ok := num64(r["koi_prad"])
			return r["koi_disposition"] == "CONFIRMED" && ok && p < 4
		}},
		{"filtered by flag", "tag", "flag=FLAG_HZ_CONSERVATIVE", "tags", func(r map[string]any) bool { return listHas(r["flags"], "FLAG_HZ_CONSERVATIVE") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := rows
			if tc.keep != nil {
				want = where(rows, tc.keep)
			}
			got, err := e.Counts(context.Background(), parseQuery(t, run.RunID, tc.query), tc.by)
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != int64(len(want)) {
				t.Errorf("total %d, want %d", got.Total, len(want))
			}
			if d := cmp.Diff(tally(want, tc.col), got.Counts); d != "" {
				t.Errorf("counts (-want +got):\n%s", d)
			}
		})
	}
	for name, c := range map[string]struct {
		run, by, query string
		code           Code
	}{
		"unknown grouping": {run.RunID, "colour", "", BadRequest},
		"unknown column":   {run.RunID, "category", "koi_prd__lt=2", BadRequest},
		"unknown run":      {"nope", "category", "", NotFound},
	} {
		q := parseQuery(t, c.run, c.query)
		if _, err := e.Counts(context.Background(), q, c.by); ErrorCode(err) != c.code {
			t.Errorf("%s: code %q (%v), want %q", name, ErrorCode(err), err, c.code)
		}
	}
}

func TestEngine_Histogram(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	rows := allRows(t, e, run.RunID)
	ctx := context.Background()
	tests := []struct {
		name  string
		req   HistogramRequest
		query string
		keep  func(map[string]any) bool
	}{
		{"linear", HistogramRequest{Column: "koi_prad", Bins: 5}, "", nil},
		{"log", HistogramRequest{Column: "koi_period", Bins: 7, Scale: ScaleLog}, "", nil},
		{"log with non-positive values", HistogramRequest{Column: "hz_position", Bins: 4, Scale: ScaleLog}, "", nil},
		{"default bins", HistogramRequest{Column: "score"}, "", nil},
		{"filtered", HistogramRequest{Column: "koi_prad", Bins: 3}, "category=confirmed_planet", func(r map[string]any) bool { return r["category"] == "confirmed_planet" }},
		{"one value", HistogramRequest{Column: "koi_prad", Bins: 10}, "q=K00752.01", func(r map[string]any) bool { return r["object_id"] == "K00752.01" }},
		{"no value", HistogramRequest{Column: "koi_prad", Bins: 10}, "category=no_result", func(r map[string]any) bool { return r["category"] == "no_result" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := rows
			if tc.keep != nil {
				want = where(rows, tc.keep)
			}
			var vals []float64
			var nulls, excluded int64
			for _, r := range want {
				v, ok := num64(r[tc.req.Column])
				switch {
				case !ok:
					nulls++
				case tc.req.Scale == ScaleLog && v <= 0:
					excluded++
				default:
					vals = append(vals, v)
				}
			}
			h, err := e.Histogram(ctx, parseQuery(t, run.RunID, tc.query), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if h.Total != int64(len(vals)) || h.Nulls != nulls || h.Excluded != excluded {
				t.Fatalf("total %d nulls %d excluded %d, want %d %d %d", h.Total, h.Nulls, h.Excluded, len(vals), nulls, excluded)
			}
			if len(vals) == 0 {
				if len(h.Bins) != 0 || h.Min != nil {
					t.Errorf("bins %v min %v for no values", h.Bins, h.Min)
				}
				return
			}
			sort.Float64s(vals)
			if *h.Min != vals[0] || *h.Max != vals[len(vals)-1] {
				t.Errorf("range [%v, %v], want [%v, %v]", *h.Min, *h.Max, vals[0], vals[len(vals)-1])
			}
			wantBins := tc.req.Bins
			if wantBins == 0 {
				wantBins = DefaultHistogramBins
			}
			if vals[0] == vals[len(vals)-1] {
				wantBins = 1
			}
			if len(h.Bins) != wantBins {
				t.Fatalf("%d bins, want %d", len(h.Bins), wantBins)
			}
			var sum int64
			for i, b := range h.Bins {
				sum += b.Count
				var n int64
				for _, v := range vals {
					if v >= b.Lo*(1-1e-12) && (v < b.Hi || i == len(h.Bins)-1 && v <= b.Hi*(1+1e-12)) {
						n++
					}
				}
				if n != b.Count {
					t.Errorf("bin %d [%v, %v): %d, want %d", i, b.Lo, b.Hi, b.Count, n)
				}
				if i > 0 && math.Abs(b.Lo-h.Bins[i-1].Hi) > 1e-9*math.Abs(b.Lo) {
					t.Errorf("bin %d starts at %v, the previous ends at %v", i, b.Lo, h.Bins[i-1].Hi)
				}
				if tc.req.Scale == ScaleLog && i > 0 {
					r0, r1 := h.Bins[0].Hi/h.Bins[0].Lo, b.Hi/b.Lo
					if math.Abs(r0-r1) > 1e-9*r0 {
						t.Errorf("log bins: ratio %v in bin %d, %v in bin 0", r1, i, r0)
					}
				}
			}
			if sum != h.Total {
				t.Errorf("bins hold %d, total %d", sum, h.Total)
			}
		})
	}
	for name, c := range map[string]struct {
		req  HistogramRequest
		code Code
	}{
		"text column":    {HistogramRequest{Column: "category"}, BadRequest},
		"list column":    {HistogramRequest{Column: "flags"}, BadRequest},
		"unknown column": {HistogramRequest{Column: "koi_prd"}, BadRequest},
		"no column":      {HistogramRequest{}, BadRequest},
		"bad scale":      {HistogramRequest{Column: "koi_prad", Scale: "sqrt"}, BadRequest},
		"too many bins":  {HistogramRequest{Column: "koi_prad", Bins: MaxHistogramBins + 1}, BadRequest},
	} {
		if _, err := e.Histogram(ctx, ResultsQuery{RunID: run.RunID}, c.req); ErrorCode(err) != c.code {
			t.Errorf("%s: code %q (%v), want %q", name, ErrorCode(err), err, c.code)
		}
	}
}
