package engine

import (
	"context"
	"fmt"
	"math"
	"strings"

	sq "github.com/Masterminds/squirrel"
)

// Aggregates of a run for the dashboard's charts: GET /api/runs/{id}/counts
// and /histogram. Both take the result filters (ResultsQuery, built by the
// same filter builder as Results) and compute in DuckDB over the run file,
// so a chart of a 10M-row run is a single scan and a handful of numbers.

// CountsBy lists the groupings of Counts: the primary category, each tag or
// flag of the lists (a row counts once for every value it holds), the
// catalog disposition and how the category compares with it.
var CountsBy = []string{"category", "tag", "flag", "koi_disposition", "disposition_compare"}

// countsColumns maps a grouping to its column and whether it is a list.
var countsColumns = map[string]struct {
	col  string
	list bool
}{
	"category": {"category", false}, "tag": {"tags", true}, "flag": {"flags", true},
	"koi_disposition": {"koi_disposition", false}, "disposition_compare": {"disposition_compare", false},
}

// maxCountGroups caps the groups of one answer (the groupings above have
// at most a few dozen values).
const maxCountGroups = 1000

// CountItem is one group: a value (nil for rows without one) and its rows.
type CountItem struct {
	Value any   `json:"value"`
	Count int64 `json:"count"`
}

// CountsPage is the answer of GET /api/runs/{id}/counts:
// {"by","counts":[{"value","count"}],"total"}. Counts are sorted by count,
// largest first, then by value. Total is the number of rows that match
// the filters; for tag and flag a row may count under several values (or
// none), so the counts need not add up to it.
type CountsPage struct {
	By     string      `json:"by"`
	Counts []CountItem `json:"counts"`
	Total  int64       `json:"total"`
}

// Counts counts the rows of a run that match q's filters by one of
// CountsBy (default category). q's sort and paging do not apply. An
// unknown grouping or filter is a BadRequest.
func (e *Engine) Counts(ctx context.Context, q ResultsQuery, by string) (*CountsPage, error) {
	if by == "" {
		by = "category"
	}
	g, ok := countsColumns[by]
	if !ok {
		return nil, &Error{Code: BadRequest, Msg: fmt.Sprintf("Cannot count by %q: use one of %s.", by, strings.Join(CountsBy, ", ")),
			Details: []Detail{{Field: "by", Message: "one of " + strings.Join(CountsBy, ", ")}}}
	}
	r, err := e.resultRun(ctx, q.RunID)
	if err != nil {
		return nil, err
	}
	if _, err := r.col("by", g.col); err != nil {
		return nil, err
	}
	f, err := r.filter(q)
	if err != nil {
		return nil, err
	}
	total, err := e.total(ctx, r, f)
	if err != nil {
		return nil, e.queryError(ctx, err, "count the results of run "+r.id)
	}
	value := ident(g.col)
	if g.list {
		value = "unnest(" + value + ")"
	}
	inner := sq.Select(value + " AS " + ident("value")).From(r.from())
	if f.sql != "" {
		inner = inner.Where(f.conds)
	}
	stmt, args, err := sq.Select(ident("value"), "count(*) AS "+ident("n")).FromSelect(inner, "g").
		GroupBy(ident("value")).OrderBy(ident("n")+" DESC", ident("value")+" NULLS LAST").
		Limit(maxCountGroups).PlaceholderFormat(sq.Question).ToSql()
	if err != nil {
		return nil, fmt.Errorf("render counts: %w", err)
	}
	rows, err := e.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, e.queryError(ctx, err, "count the results of run "+r.id)
	}
	defer rows.Close()
	recs, _, err := scanRecords(rows, 2, maxCountGroups)
	if err != nil {
		return nil, e.queryError(ctx, err, "count the results of run "+r.id)
	}
	page := &CountsPage{By: by, Counts: make([]CountItem, len(recs)), Total: total}
	for i, rec := range recs {
		n, _ := rec.Values[1].(int64)
		page.Counts[i] = CountItem{Value: rec.Values[0], Count: n}
	}
	return page, nil
}

// Histogram scales.
const (
	ScaleLinear = "linear"
	ScaleLog    = "log"
)

// Histogram bin counts.
const (
	DefaultHistogramBins = 40
	MaxHistogramBins     = 1000
)

// HistogramRequest says what to bin: a numeric column, the number of bins
// (0 means DefaultHistogramBins) and the scale (linear, the default, or
// log: log-spaced edges over the positive values).
type HistogramRequest struct {
	Column string
	Bins   int
	Scale  string
}

// HistogramBin is one bin [Lo, Hi) (the last one includes Hi).
type HistogramBin struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Count int64   `json:"count"`
}

// Histogram is the answer of GET /api/runs/{id}/histogram:
// {"column","scale","bins":[{"lo","hi","count"}],"total","nulls",
// "excluded","min","max"}. Total counts the rows in the bins (matching the
// filters, with a value); Nulls the matching rows without a value;
// Excluded the matching rows a log scale cannot place (zero or negative).
// Min and Max are the range of the binned values, null when there are
// none (then Bins is empty).
type Histogram struct {
	Column   string         `json:"column"`
	Scale    string         `json:"scale"`
	Bins     []HistogramBin `json:"bins"`
	Total    int64          `json:"total"`
	Nulls    int64          `json:"nulls"`
	Excluded int64          `json:"excluded"`
	Min      *float64       `json:"min"`
	Max      *float64       `json:"max"`
}

// Histogram bins a numeric column of the rows of a run that match q's
// filters: equal-width bins between the smallest and largest value, or on
// a log scale equal widths of log10 between the smallest and largest
// positive value. A column that is not numeric, a scale other than linear
// or log and bins outside 1..MaxHistogramBins are a BadRequest.
func (e *Engine) Histogram(ctx context.Context, q ResultsQuery, h HistogramRequest) (*Histogram, error) {
	h, err := h.check()
	if err != nil {
		return nil, err
	}
	r, err := e.resultRun(ctx, q.RunID)
	if err != nil {
		return nil, err
	}
	c, err := r.col("column", h.Column)
	if err != nil {
		return nil, err
	}
	if !isNumericType(c.Type) {
		msg := fmt.Sprintf("Column %s is %s, not numeric: it cannot be binned.", h.Column, c.Type)
		return nil, &Error{Code: BadRequest, Msg: msg, Details: []Detail{{Field: "column", Message: msg}}}
	}
	f, err := r.filter(q)
	if err != nil {
		return nil, err
	}
	out := &Histogram{Column: h.Column, Scale: h.Scale, Bins: []HistogramBin{}}
	// note: DOUBLE so that integer and DECIMAL columns bin alike; the
	// log scale reads log10 only of positive values (log10(0) would abort).
	x := "CAST(" + ident(h.Column) + " AS DOUBLE)"
	usable, v := x+" IS NOT NULL", x
	if h.Scale == ScaleLog {
		usable, v = x+" > 0", "log10(CASE WHEN "+x+" > 0 THEN "+x+" END)"
	}
	lo, hi, err := e.histogramRange(ctx, r, f, x, usable, v, out)
	if err != nil || out.Total == 0 {
		return out, err
	}
	width := (hi - lo) / float64(h.Bins)
	if width <= 0 || math.IsNaN(width) || math.IsInf(width, 0) {
		// note: one distinct value: a single bin holds every row.
		h.Bins, width = 1, 1
	}
	counts, err := e.histogramCounts(ctx, r, f, usable, v, lo, width, h.Bins)
	if err != nil {
		return nil, err
	}
	edge := func(i int) float64 {
		if i == h.Bins {
			return hi
		}
		return lo + float64(i)*width
	}
	for i := 0; i < h.Bins; i++ {
		b := HistogramBin{Lo: edge(i), Hi: edge(i + 1), Count: counts[i]}
		if h.Scale == ScaleLog {
			b.Lo, b.Hi = math.Pow(10, b.Lo), math.Pow(10, b.Hi)
		}
		out.Bins = append(out.Bins, b)
	}
	if h.Bins == 1 {
		out.Bins[0].Lo, out.Bins[0].Hi = *out.Min, *out.Max
	}
	return out, nil
}

// check applies defaults and validates the request.
func (h HistogramRequest) check() (HistogramRequest, error) {
	p := &paramErrors{}
	if h.Column == "" {
		p.add("column", "Say which numeric column to bin: column=koi_prad, for example.")
	}
	switch h.Scale {
	case "":
		h.Scale = ScaleLinear
	case ScaleLinear, ScaleLog:
	default:
		p.add("scale", "The scale must be linear or log, not %q.", h.Scale)
	}
	switch {
	case h.Bins == 0:
		h.Bins = DefaultHistogramBins
	case h.Bins < 1 || h.Bins > MaxHistogramBins:
		p.add("bins", "bins must be between 1 and %d; got %d.", MaxHistogramBins, h.Bins)
	}
	return h, p.err()
}

// histogramRange reads, in one scan, the range of v over the usable rows
// and the totals of the histogram.
func (e *Engine) histogramRange(ctx context.Context, r *resultRun, f *resultsFilter, x, usable, v string, out *Histogram) (lo, hi float64, err error) {
	b := sq.Select(
		"min("+v+") FILTER (WHERE "+usable+")",
		"max("+v+") FILTER (WHERE "+usable+")",
		"min("+x+") FILTER (WHERE "+usable+")",
		"max("+x+") FILTER (WHERE "+usable+")",
		"count(*) FILTER (WHERE "+usable+")",
		"count(*) FILTER (WHERE "+x+" IS NULL)",
		"count(*) FILTER (WHERE "+x+" IS NOT NULL AND NOT ("+usable+"))",
	).From(r.from()).PlaceholderFormat(sq.Question)
	if f.sql != "" {
		b = b.Where(f.conds)
	}
	stmt, args, err := b.ToSql()
	if err != nil {
		return 0, 0, fmt.Errorf("render histogram range: %w", err)
	}
	var vlo, vhi, xlo, xhi *float64
	if err := e.db.QueryRowContext(ctx, stmt, args...).Scan(&vlo, &vhi, &xlo, &xhi, &out.Total, &out.Nulls, &out.Excluded); err != nil {
		return 0, 0, e.queryError(ctx, err, "bin the results of run "+r.id)
	}
	if out.Total == 0 || vlo == nil || vhi == nil {
		out.Total = 0
		return 0, 0, nil
	}
	out.Min, out.Max = xlo, xhi
	return *vlo, *vhi, nil
}

// histogramCounts counts the usable rows per bin index; the largest value
// falls in the last bin.
func (e *Engine) histogramCounts(ctx context.Context, r *resultRun, f *resultsFilter, usable, v string, lo, width float64, bins int) ([]int64, error) {
	bin := sq.Expr("greatest(0, least(?, CAST(floor(("+v+" - ?) / ?) AS BIGINT))) AS "+ident("bin"), int64(bins-1), lo, width)
	inner := sq.Select().Column(bin).From(r.from()).Where(usable)
	if f.sql != "" {
		inner = inner.Where(f.conds)
	}
	stmt, args, err := sq.Select(ident("bin"), "count(*)").FromSelect(inner, "b").GroupBy(ident("bin")).
		PlaceholderFormat(sq.Question).ToSql()
	if err != nil {
		return nil, fmt.Errorf("render histogram: %w", err)
	}
	rows, err := e.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, e.queryError(ctx, err, "bin the results of run "+r.id)
	}
	defer rows.Close()
	counts := make([]int64, bins)
	for rows.Next() {
		var i, n int64
		if err := rows.Scan(&i, &n); err != nil {
			return nil, e.queryError(ctx, err, "bin the results of run "+r.id)
		}
		if i >= 0 && i < int64(bins) {
			counts[i] = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, e.queryError(ctx, err, "bin the results of run "+r.id)
	}
	return counts, nil
}
