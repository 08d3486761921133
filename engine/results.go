package engine

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	sq "github.com/Masterminds/squirrel"
)

// Results, one object, exports and chart points of a run: the engine side
// of GET /api/runs/{id}/results, /results/{object_id}, /export and /points.
//
// Reads go to the run's results index when it is built and holds every
// column the query reads (serve mode; engine/results_index.go: a native
// copy of the run sorted by category), and otherwise straight to the
// run's Parquet file (DATA/runs/<id>.parquet, written once in row_id
// order). The design follows the performance targets of a 10M-row run:
//   - the default sort is row_id, the file's own order, and pages after the
//     first use a keyset cursor (row_id > last), so DuckDB skips whole row
//     groups by their min/max statistics instead of counting past an offset;
//   - any other sort is a top-N (ORDER BY ... LIMIT) that DuckDB runs with a
//     bounded heap, and its cursor is a keyset too: (value, row_id);
//   - the total of a filter is counted once per (run, filter) and cached,
//     concurrently with the first page, never once per page;
//   - a first page reads the keys of its first windowRows rows in one
//     top-N and caches them, so the cursor pages after it read no keys
//     (a top-N on another column scans the whole run: at 10M rows that is
//     the cost of a page, shared by 32 clients on 2 cores);
//   - nothing unbounded reaches Go: pages are capped at MaxResultsLimit and
//     exports are written by DuckDB's COPY to a file that is then streamed.

// Record is one result row: column names and JSON-ready values (converted
// by JSONValue) in column order. Records of one page share Columns.
type Record struct {
	Columns []string
	Values  []any
}

// Get returns the value of a column and whether the record has it.
func (r Record) Get(name string) (any, bool) {
	for i, c := range r.Columns {
		if c == name {
			return r.Values[i], true
		}
	}
	return nil, false
}

// Map returns the record as a map (column order is lost).
func (r Record) Map() map[string]any {
	m := make(map[string]any, len(r.Columns))
	for i, c := range r.Columns {
		m[c] = r.Values[i]
	}
	return m
}

// MarshalJSON renders the record as one JSON object in column order.
func (r Record) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, c := range r.Columns {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(r.Values[i])
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c, err)
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// ResultsPage is the answer of GET /api/runs/{id}/results (Contracts):
// {"rows":[{column:value}],"total":n,"next_cursor":string|null}, plus the
// run's columns with their DuckDB types, so that a client can offer sorts
// and range filters without a second request.
type ResultsPage struct {
	Rows []Record `json:"rows"`
	// Total counts every row that matches the filters, not just this page.
	Total int64 `json:"total"`
	// NextCursor continues after this page (with the same filters and
	// sort), or is nil on the last page. Offset pages get one too.
	NextCursor *string `json:"next_cursor"`
	// Columns are all the run's columns (not only the projected ones).
	Columns []Column `json:"columns"`
}

// Results answers one page of a run's rows: filtered, sorted (default
// row_id), projected, paged by cursor or offset, with the total count.
// Unknown columns, bad values and a cursor from another sort are a
// BadRequest; an unknown run is NotFound and a run still processing a
// Conflict.
func (e *Engine) Results(ctx context.Context, q ResultsQuery) (*ResultsPage, error) {
	if err := q.checkShape(MaxResultsLimit); err != nil {
		return nil, err
	}
	r, err := e.resultRun(ctx, q.RunID)
	if err != nil {
		return nil, err
	}
	plan, err := r.plan(q)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultResultsLimit
	}

	type counted struct {
		n   int64
		err error
	}
	total := make(chan counted, 1)
	go func() {
		n, err := e.total(ctx, r, plan.filter)
		total <- counted{n, err}
	}()

	page, err := e.page(ctx, r, plan, limit, q.Offset)
	t := <-total
	if err != nil {
		return nil, err
	}
	if t.err != nil {
		return nil, e.queryError(ctx, t.err, "count the results of run "+r.id)
	}
	page.Total = t.n
	page.Columns = r.cols
	return page, nil
}

// resultsPlan is a validated query over one run.
type resultsPlan struct {
	filter *resultsFilter
	order  resultsOrder
	after  sq.Sqlizer // keyset condition of the cursor, or nil
	afterR int64      // the cursor's row_id, when after is set
	cols   []string   // output columns
}

// plan validates every part of q against the run, reporting all problems
// of the filters at once.
func (r *resultRun) plan(q ResultsQuery) (*resultsPlan, error) {
	f, err := r.filter(q)
	if err != nil {
		return nil, err
	}
	o, err := r.order(q)
	if err != nil {
		return nil, err
	}
	p := &resultsPlan{filter: f, order: o}
	if q.Cursor != "" {
		if p.after, p.afterR, err = o.after(q.Cursor); err != nil {
			return nil, err
		}
	}
	if p.cols, err = r.projection(q.Columns); err != nil {
		return nil, err
	}
	return p, nil
}

// projection validates the requested columns, or returns all of them.
func (r *resultRun) projection(cols []string) ([]string, error) {
	if len(cols) == 0 {
		out := make([]string, len(r.cols))
		for i, c := range r.cols {
			out[i] = c.Name
		}
		return out, nil
	}
	pe := &paramErrors{}
	seen := map[string]bool{}
	out := make([]string, 0, len(cols))
	for _, c := range cols {
		if _, err := r.col("columns", c); err != nil {
			pe.addErr(err)
			continue
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, pe.err()
}

// total counts the rows that match f: the run's row count without a
// filter, else one cached count per (run, filter).
func (e *Engine) total(ctx context.Context, r *resultRun, f *resultsFilter) (int64, error) {
	if f.sql == "" {
		return r.rows, nil
	}
	return e.results().counts.get(ctx, f.key(r.id), func(ctx context.Context) (int64, error) {
		release, err := slot(ctx, e.results().reads)
		if err != nil {
			return 0, err
		}
		defer release()
		b := sq.Select("count(*)").From(r.source(f.cols...)).Where(f.conds).PlaceholderFormat(sq.Question)
		stmt, args, err := b.ToSql()
		if err != nil {
			return 0, err
		}
		var n int64
		err = e.db.QueryRowContext(ctx, stmt, args...).Scan(&n)
		return n, err
	})
}

// page reads one page in two steps, a late materialization that DuckDB
// does not do by itself over Parquet: first the row_ids (and sort values)
// of the page, reading only the filter and sort columns; then the page's
// rows by row_id, so that the other columns are decoded only in the row
// groups that hold them. The next cursor comes from the last row shown.
func (e *Engine) page(ctx context.Context, r *resultRun, p *resultsPlan, limit, offset int) (*ResultsPage, error) {
	release, err := slot(ctx, e.results().reads)
	if err != nil {
		return nil, err
	}
	defer release()
	keys, err := e.windowKeys(ctx, r, p, limit, offset)
	if err != nil {
		return nil, err
	}
	page := &ResultsPage{Rows: []Record{}}
	if len(keys) > limit {
		keys = keys[:limit]
		last := keys[limit-1]
		c, err := encodeCursor(p.order, JSONValue(last.sort, p.order.col.Type), last.rowID)
		if err != nil {
			return nil, err
		}
		page.NextCursor = &c
	}
	if len(keys) == 0 {
		return page, nil
	}
	if page.Rows, err = e.rowsByID(ctx, r, p.cols, keys); err != nil {
		return nil, err
	}
	return page, nil
}

// pageKey is the position of one row of a page.
type pageKey struct {
	rowID int64
	sort  any // raw sort value; nil for NULL or when sorting by row_id
	// category lets rowsByID find the row in its category's part of the
	// results index; nil when the run has no category column.
	category any
}

// Page windows: the keys of the first rows of a (run, filter, sort).
const (
	// windowRows is the keys a first page reads and caches: 20 pages of
	// the default size. A top-N of 1,000 costs about what one of 51 does,
	// since the scan dominates.
	windowRows = 1000
	// windowCacheSize bounds the cached windows (each about 40 kB). A
	// window only serves the cursor pages that follow its first page, so
	// the recent ones are enough: 128 hold about 5 MB.
	windowCacheSize = 128
)

// keyWindow is the first keys of a (run, filter, sort) in order; complete
// when they are all of its rows.
type keyWindow struct {
	keys     []pageKey
	complete bool
}

// windowKeys returns the keys of a page plus one row, from the cached
// window of its (run, filter, sort) when the page lies inside it. A first
// page computes the window (shared by concurrent requests); a cursor page
// outside it, an offset page or a large page reads its keys directly.
func (e *Engine) windowKeys(ctx context.Context, r *resultRun, p *resultsPlan, limit, offset int) ([]pageKey, error) {
	if offset > 0 || limit+1 > windowRows/2 {
		return e.pageKeys(ctx, r, p, limit, offset)
	}
	st := e.results()
	key := p.filter.key(r.id, strconv.FormatUint(r.gen, 10), p.order.col.Name, strconv.FormatBool(p.order.desc))
	if p.after != nil {
		if w, ok := st.windows.peek(key); ok {
			if keys, ok := w.after(p.afterR, limit); ok {
				return keys, nil
			}
		}
		return e.pageKeys(ctx, r, p, limit, 0)
	}
	w, err := st.windows.get(ctx, key, func(ctx context.Context) (*keyWindow, error) {
		keys, err := e.pageKeys(ctx, r, p, windowRows-1, 0)
		if err != nil {
			return nil, err
		}
		return &keyWindow{keys: keys, complete: len(keys) < windowRows}, nil
	})
	if err != nil && ctx.Err() != nil {
		return nil, e.queryError(ctx, err, "read the results of run "+r.id)
	}
	if err != nil {
		return nil, err // note: pageKeys described it already
	}
	return w.keys[:min(len(w.keys), limit+1)], nil
}

// after returns the keys of the page after the row rowID plus one row,
// if the window holds them all.
func (w *keyWindow) after(rowID int64, limit int) ([]pageKey, bool) {
	for i, k := range w.keys {
		if k.rowID != rowID {
			continue
		}
		rest := w.keys[i+1:]
		if len(rest) > limit || w.complete {
			return rest[:min(len(rest), limit+1)], true
		}
		return nil, false
	}
	return nil, false
}

// pageKeys returns the row_ids and sort values of a page plus one row (to
// know whether a next page exists).
func (e *Engine) pageKeys(ctx context.Context, r *resultRun, p *resultsPlan, limit, offset int) ([]pageKey, error) {
	sel := []string{ident("row_id")}
	read := append([]string{"row_id", p.order.col.Name}, p.filter.cols...)
	sortAt, catAt := -1, -1
	if !p.order.isRowID() {
		sortAt = len(sel)
		sel = append(sel, ident(p.order.col.Name))
	}
	if r.has("category") {
		catAt = len(sel)
		sel = append(sel, ident("category"))
		read = append(read, "category")
	}
	b := sq.Select(sel...).From(r.source(read...)).OrderBy(p.order.sql()...).Limit(uint64(limit) + 1).PlaceholderFormat(sq.Question)
	if p.filter.sql != "" {
		b = b.Where(p.filter.conds)
	}
	if p.after != nil {
		b = b.Where(p.after)
	}
	if offset > 0 {
		b = b.Offset(uint64(offset))
	}
	stmt, args, err := b.ToSql()
	if err != nil {
		return nil, fmt.Errorf("render results page: %w", err)
	}
	rows, err := e.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, e.queryError(ctx, err, "read the results of run "+r.id)
	}
	defer rows.Close()
	keys := make([]pageKey, 0, limit+1)
	for rows.Next() {
		var k pageKey
		dst := make([]any, len(sel))
		dst[0] = &k.rowID
		if sortAt > 0 {
			dst[sortAt] = &k.sort
		}
		if catAt > 0 {
			dst[catAt] = &k.category
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, e.queryError(ctx, err, "read the results of run "+r.id)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, e.queryError(ctx, err, "read the results of run "+r.id)
	}
	return keys, nil
}

// rowsByID reads the rows of these keys (at most MaxResultsLimit), in this
// order. Each statement bounds row_id by BETWEEN, so DuckDB skips every
// row group outside the page by its min/max statistics. From the results
// index, which is clustered by category, the keys are read per category (one
// UNION ALL branch each): the rows of a page sorted by another column lie
// all over the run, and without the category every part of the index
// would be scanned (280 ms instead of 28 ms at 10M rows, measured).
func (e *Engine) rowsByID(ctx context.Context, r *resultRun, cols []string, keys []pageKey) ([]Record, error) {
	sel := quoteAll(cols)
	ridAt := indexOf(cols, "row_id")
	if ridAt < 0 {
		ridAt = len(sel)
		sel = append(sel, ident("row_id"))
	}
	from := r.source(append(slices.Clip(cols), "row_id", "category")...)
	groups := [][]pageKey{keys}
	byCat := r.index != nil && from == r.index.table && r.has("category")
	if byCat {
		groups = byCategory(keys)
	}
	var parts []string
	var args []any
	for _, g := range groups {
		b := sq.Select(sel...).From(from).Where(rowIDsIn(g)).PlaceholderFormat(sq.Question)
		if byCat {
			if g[0].category == nil {
				b = b.Where(ident("category") + " IS NULL")
			} else {
				b = b.Where(sq.Eq{ident("category"): g[0].category})
			}
		}
		stmt, a, err := b.ToSql()
		if err != nil {
			return nil, err
		}
		parts, args = append(parts, stmt), append(args, a...)
	}
	rows, err := e.db.QueryContext(ctx, strings.Join(parts, "\nUNION ALL\n"), args...)
	if err != nil {
		return nil, e.queryError(ctx, err, "read the results of run "+r.id)
	}
	defer rows.Close()
	recs, raw, err := scanRecords(rows, len(cols), len(keys))
	if err != nil {
		return nil, e.queryError(ctx, err, "read the results of run "+r.id)
	}
	at := make(map[int64]int, len(keys))
	for i, k := range keys {
		at[k.rowID] = i
	}
	out := make([]Record, len(keys))
	found := 0
	for i, rec := range recs {
		rid, ok := raw[i][ridAt].(int64)
		if !ok {
			return nil, fmt.Errorf("row_id of run %s is %T, not BIGINT", r.id, raw[i][ridAt])
		}
		if j, ok := at[rid]; ok {
			out[j] = rec
			found++
		}
	}
	if found != len(keys) {
		return nil, fmt.Errorf("run %s: %d of %d rows found by row_id", r.id, found, len(keys))
	}
	return out, nil
}

// rowIDsIn is row_id IN (...) AND row_id BETWEEN min AND max over keys.
func rowIDsIn(keys []pageKey) sq.Sqlizer {
	lo, hi := keys[0].rowID, keys[0].rowID
	args := make([]any, 0, len(keys)+2)
	for _, k := range keys {
		lo, hi = min(lo, k.rowID), max(hi, k.rowID)
		args = append(args, k.rowID)
	}
	args = append(args, lo, hi)
	return sq.Expr(ident("row_id")+" IN ("+sq.Placeholders(len(keys))+") AND "+ident("row_id")+" BETWEEN ? AND ?", args...)
}

// byCategory groups keys by category, in order of first appearance.
func byCategory(keys []pageKey) [][]pageKey {
	var groups [][]pageKey
	at := map[any]int{}
	for _, k := range keys {
		i, ok := at[k.category]
		if !ok {
			i = len(groups)
			at[k.category] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], k)
	}
	return groups
}

// scanRecords reads up to max rows; the first n columns become records (with
// JSONValue conversion), and every row's raw values are kept for cursors.
func scanRecords(rows *sql.Rows, n, max int) ([]Record, [][]any, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, n)
	dbTypes := make([]string, len(types))
	for i, t := range types {
		if i < n {
			names[i] = t.Name()
		}
		dbTypes[i] = t.DatabaseTypeName()
	}
	recs := make([]Record, 0, min(max, 256))
	var raws [][]any
	for rows.Next() && len(recs) < max {
		raw := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		vals := make([]any, n)
		for i := 0; i < n; i++ {
			vals[i] = JSONValue(raw[i], dbTypes[i])
		}
		recs = append(recs, Record{Columns: names, Values: vals})
		raws = append(raws, raw)
	}
	return recs, raws, rows.Err()
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

// queryError classifies a failed results query: a cancelled or timed-out
// request is a Timeout, anything else Internal (the request was validated,
// so DuckDB failing is the engine's problem).
func (e *Engine) queryError(ctx context.Context, err error, what string) error {
	if ctx.Err() != nil {
		return Wrap(Timeout, err, "The request was cancelled or timed out before it could %s.", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}
