package engine

import (
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Paging bounds of GET /api/runs/{id}/results. The driver materializes a
// whole result set in Go memory, so every read is capped.
const (
	// DefaultResultsLimit is the page size when none is asked for.
	DefaultResultsLimit = 50
	// MaxResultsLimit caps one page (about 100 columns per row).
	MaxResultsLimit = 10000
	// MaxResultsOffset caps offset paging: DuckDB keeps offset+limit sort
	// keys for a top-N, so deeper pages must use the cursor.
	MaxResultsOffset = 1_000_000
)

// Range operators of <column>__<op>=value filters and their SQL.
var rangeOps = map[string]string{
	"gte": ">=", "gt": ">", "lte": "<=", "lt": "<", "eq": "=", "ne": "<>",
}

// RangeOps lists the range operators in the order the API documents them.
var RangeOps = []string{"gte", "gt", "lte", "lt", "eq", "ne"}

// RangeFilter is one <column>__<op>=value filter. Value is the text of the
// query parameter; it is converted to the column's type (a finite number for
// numeric columns) when the query is built, and always bound as a parameter.
// Rows where the column is NULL never match.
type RangeFilter struct {
	Column string `json:"column"`
	Op     string `json:"op"`
	Value  string `json:"value"`
}

// ResultsQuery selects, sorts and pages the rows of one run. Values within
// one list are alternatives (OR); different fields must all hold (AND).
// The zero value (plus RunID) is the first page of every row in row_id
// order.
type ResultsQuery struct {
	RunID string `json:"run_id"`
	// Category matches the primary category exactly.
	Category []string `json:"category,omitempty"`
	// Tag matches rows whose tags contain one of the values.
	Tag []string `json:"tag,omitempty"`
	// Flag matches rows whose flags contain one of the values.
	Flag []string `json:"flag,omitempty"`
	// Disposition matches koi_disposition: CONFIRMED, CANDIDATE,
	// FALSE POSITIVE (case and _ for space do not matter), or MISSING for
	// rows without one.
	Disposition []string `json:"disposition,omitempty"`
	// MinScore and MaxScore bound score (inclusive) when set.
	MinScore *float64 `json:"min_score,omitempty"`
	MaxScore *float64 `json:"max_score,omitempty"`
	// Q searches object_id and star_id (and kepler_name when the run has
	// it) for a case-insensitive substring.
	Q string `json:"q,omitempty"`
	// Ranges are <column>__<op>=value filters.
	Ranges []RangeFilter `json:"ranges,omitempty"`
	// Sort is a column (default row_id); Order is asc (default) or desc.
	// NULLs sort last either way and row_id breaks ties, so the order is
	// total and cursor paging never skips or repeats a row.
	Sort  string `json:"sort,omitempty"`
	Order string `json:"order,omitempty"`
	// Limit is the page size: 0 means DefaultResultsLimit for Results and
	// Points, and no limit for ExportRun.
	Limit int `json:"limit,omitempty"`
	// Cursor is a previous page's next_cursor (keyset paging). It is
	// exclusive with Offset.
	Cursor string `json:"cursor,omitempty"`
	// Offset skips rows (at most MaxResultsOffset).
	Offset int `json:"offset,omitempty"`
	// Columns, when set, is the projection: only these columns, in this
	// order.
	Columns []string `json:"columns,omitempty"`
	// KeepFormulas (exports only, spreadsheet_safe=false) writes CSV text
	// cells as they are. By default a text cell that a spreadsheet would
	// run as a formula gets a leading ' (see SpreadsheetSafe), which also
	// marks harmless text such as pscomppars' decstr ("+17d47m35.71s").
	KeepFormulas bool `json:"keep_formulas,omitempty"`
}

// resultsPassThrough are parameters of endpoints that share the result
// filters (exports, points, counts, histograms) that ParseResultsQuery leaves
// to their handlers instead of refusing them.
var resultsPassThrough = map[string]bool{
	"format": true, "x": true, "y": true, "by": true, "column": true, "bins": true, "scale": true,
}

// ParseResultsQuery reads the query parameters of GET /api/runs/{id}/results
// (also used by the export and points endpoints): category, tag, flag,
// disposition (repeatable or comma-separated), min_score, max_score, q,
// <column>__<op> with op one of gte, gt, lte, lt, eq, ne, sort, order,
// limit, cursor, offset and columns (comma-separated). Unknown parameters and
// operators, and malformed numbers, are a BadRequest naming each problem.
// Column names are checked against the run's columns later, by Results,
// ExportRun and Points, which know the run.
func ParseResultsQuery(runID string, v url.Values) (ResultsQuery, error) {
	q := ResultsQuery{RunID: runID}
	p := &paramErrors{}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys) // note: deterministic Ranges and error order
	for _, k := range keys {
		vals := v[k]
		last := ""
		if len(vals) > 0 {
			last = strings.TrimSpace(vals[len(vals)-1])
		}
		switch k {
		case "category":
			q.Category = splitValues(vals)
		case "tag":
			q.Tag = splitValues(vals)
		case "flag":
			q.Flag = splitValues(vals)
		case "disposition":
			q.Disposition = splitValues(vals)
		case "min_score":
			q.MinScore = p.float(k, last)
		case "max_score":
			q.MaxScore = p.float(k, last)
		case "q":
			q.Q = last
		case "sort":
			q.Sort = last
		case "order":
			q.Order = strings.ToLower(last)
		case "limit":
			q.Limit = p.int(k, last)
		case "offset":
			q.Offset = p.int(k, last)
		case "cursor":
			q.Cursor = last
		case "columns":
			q.Columns = splitValues(vals)
		case "spreadsheet_safe":
			b, err := strconv.ParseBool(last)
			if err != nil {
				p.add(k, "spreadsheet_safe must be true or false, not %q.", last)
			}
			q.KeepFormulas = !b
		default:
			if resultsPassThrough[k] {
				continue
			}
			col, op, ok := cutRangeKey(k)
			if !ok {
				p.add(k, "Unknown parameter %q: filter a column with %s__gte=, __gt=, __lte=, __lt=, __eq= or __ne=.", k, k)
				continue
			}
			if _, known := rangeOps[op]; !known {
				p.add(k, "Unknown operator %q in %q: use gte, gt, lte, lt, eq or ne.", op, k)
				continue
			}
			for _, val := range vals {
				q.Ranges = append(q.Ranges, RangeFilter{Column: col, Op: op, Value: strings.TrimSpace(val)})
			}
		}
	}
	// note: the points endpoint reads limit as its point budget, which may
	// exceed a page; Results checks the page limit itself.
	if err := q.checkShape(max(MaxResultsLimit, MaxPointsLimit)); err != nil {
		p.addErr(err)
	}
	return q, p.err()
}

// cutRangeKey splits "koi_prad__gte" at its last "__".
func cutRangeKey(k string) (col, op string, ok bool) {
	i := strings.LastIndex(k, "__")
	if i <= 0 || i+2 >= len(k) {
		return "", "", false
	}
	return k[:i], strings.ToLower(k[i+2:]), true
}

// splitValues flattens repeated and comma-separated values, dropping
// empty ones.
func splitValues(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// checkShape validates what does not depend on the run: order, limit (at
// most maxLimit), offset and cursor together, operators and score bounds.
func (q ResultsQuery) checkShape(maxLimit int) error {
	p := &paramErrors{}
	switch q.Order {
	case "", "asc", "desc":
	default:
		p.add("order", "The order must be asc or desc, not %q.", q.Order)
	}
	if q.Limit < 0 || q.Limit > maxLimit {
		p.add("limit", "The limit must be between 1 and %d; got %d.", maxLimit, q.Limit)
	}
	if q.Offset < 0 || q.Offset > MaxResultsOffset {
		p.add("offset", "The offset must be between 0 and %d (use the cursor for deeper pages); got %d.", MaxResultsOffset, q.Offset)
	}
	if q.Cursor != "" && q.Offset > 0 {
		p.add("cursor", "Use either cursor or offset, not both.")
	}
	for _, r := range q.Ranges {
		if _, ok := rangeOps[r.Op]; !ok {
			p.add(r.Column+"__"+r.Op, "Unknown operator %q: use gte, gt, lte, lt, eq or ne.", r.Op)
		}
	}
	if q.MinScore != nil && q.MaxScore != nil && *q.MinScore > *q.MaxScore {
		p.add("min_score", "min_score (%g) is above max_score (%g).", *q.MinScore, *q.MaxScore)
	}
	return p.err()
}

// paramErrors collects every bad parameter of one request, so that a client
// learns all its mistakes at once.
type paramErrors struct{ details []Detail }

func (p *paramErrors) add(field, format string, args ...any) {
	p.details = append(p.details, Detail{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p *paramErrors) addErr(err error) {
	if e, ok := err.(*Error); ok && len(e.Details) > 0 {
		p.details = append(p.details, e.Details...)
		return
	}
	p.details = append(p.details, Detail{Message: ErrorMessage(err)})
}

// float parses a finite number, or records why not.
func (p *paramErrors) float(field, s string) *float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.add(field, "%s must be a finite number, not %q.", field, s)
		return nil
	}
	return &f
}

// int parses a non-negative integer, or records why not.
func (p *paramErrors) int(field, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		p.add(field, "%s must be a non-negative integer, not %q.", field, s)
		return 0
	}
	return n
}

// err is nil or one BadRequest whose message is the first problem and
// whose details list them all.
func (p *paramErrors) err() error {
	if len(p.details) == 0 {
		return nil
	}
	msg := p.details[0].Message
	if n := len(p.details); n > 1 {
		msg += fmt.Sprintf(" (and %d more problem%s in details)", n-1, plural(n-1))
	}
	return &Error{Code: BadRequest, Msg: msg, Details: p.details}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
