package engine

import (
	"context"

	sq "github.com/Masterminds/squirrel"
)

// Point budget of GET /api/runs/{id}/points (the dashboard asks for 5000).
const (
	DefaultPointsLimit = 5000
	MaxPointsLimit     = 50000
)

// PointFields are the members of each point, in order.
var PointFields = []string{"object_id", "x", "y", "category", "hz"}

// PointsPage is the answer of GET /api/runs/{id}/points, the scatter data
// of the dashboard's charts: {"x","y","fields","points":[[object_id, x, y,
// category, hz]],"total","sampled"}. hz is true for habitable-zone
// candidates (tag habitable_zone_candidate).
type PointsPage struct {
	X      string   `json:"x"`
	Y      string   `json:"y"`
	Fields []string `json:"fields"`
	Points [][]any  `json:"points"`
	// Total counts every matching row with both x and y present.
	Total int64 `json:"total"`
	// Sampled is true when Total exceeds the limit and Points is a
	// uniform random sample of exactly limit rows.
	Sampled bool `json:"sampled"`
}

// Points returns the (x, y) pairs of the rows of a run that match q's
// filters and have both values: all of them when there are at most limit
// (default DefaultPointsLimit, at most MaxPointsLimit), in row_id order,
// else a uniform sample of limit rows. The sample is the limit rows with
// the smallest hash(row_id): pseudo-random, independent of the values, the
// same on every reload, and a bounded top-N for DuckDB rather than a sort.
// x and y must be numeric columns. q's sort and paging do not apply.
func (e *Engine) Points(ctx context.Context, runID, x, y string, q ResultsQuery, limit int) (*PointsPage, error) {
	q.RunID = runID
	switch {
	case limit == 0:
		limit = DefaultPointsLimit
	case limit < 0 || limit > MaxPointsLimit:
		return nil, Errorf(BadRequest, "The point limit must be between 1 and %d; got %d.", MaxPointsLimit, limit)
	}
	r, err := e.resultRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	pe := &paramErrors{}
	for _, a := range []struct{ param, col string }{{"x", x}, {"y", y}} {
		c, err := r.col(a.param, a.col)
		switch {
		case err != nil:
			pe.addErr(err)
		case !isNumericType(c.Type):
			pe.add(a.param, "Column %s is %s, not numeric: it cannot be an axis.", a.col, c.Type)
		}
	}
	if err := pe.err(); err != nil {
		return nil, err
	}
	f, err := r.filter(q)
	if err != nil {
		return nil, err
	}
	f.conds = append(f.conds, sq.Expr(ident(x)+" IS NOT NULL AND "+ident(y)+" IS NOT NULL"))
	if f.sql, f.args, err = f.conds.ToSql(); err != nil {
		return nil, err
	}
	total, err := e.results().counts.get(ctx, f.key(r.id, "points"), func(ctx context.Context) (int64, error) {
		release, err := slot(ctx, e.results().reads)
		if err != nil {
			return 0, err
		}
		defer release()
		stmt, args, err := sq.Select("count(*)").From(r.from()).Where(f.conds).PlaceholderFormat(sq.Question).ToSql()
		if err != nil {
			return 0, err
		}
		var n int64
		err = e.db.QueryRowContext(ctx, stmt, args...).Scan(&n)
		return n, err
	})
	if err != nil {
		return nil, e.queryError(ctx, err, "count the points of run "+r.id)
	}
	page := &PointsPage{X: x, Y: y, Fields: PointFields, Points: [][]any{}, Total: total, Sampled: total > int64(limit)}
	if total == 0 {
		return page, nil
	}
	sel := []string{optionalCol(r, "object_id"), ident(x), ident(y), optionalCol(r, "category"), "NULL"}
	if r.has("tags") {
		sel[4] = "list_contains(" + ident("tags") + ", 'habitable_zone_candidate')"
	}
	order := ident("row_id")
	if page.Sampled {
		order = "hash(" + ident("row_id") + "), " + ident("row_id")
	}
	stmt, args, err := sq.Select(sel...).From(r.from()).Where(f.conds).OrderBy(order).
		Limit(uint64(limit)).PlaceholderFormat(sq.Question).ToSql()
	if err != nil {
		return nil, err
	}
	release, err := slot(ctx, e.results().reads)
	if err != nil {
		return nil, err
	}
	defer release()
	rows, err := e.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, e.queryError(ctx, err, "read the points of run "+r.id)
	}
	defer rows.Close()
	recs, _, err := scanRecords(rows, len(sel), limit)
	if err != nil {
		return nil, e.queryError(ctx, err, "read the points of run "+r.id)
	}
	page.Points = make([][]any, len(recs))
	for i, rec := range recs {
		page.Points[i] = rec.Values
	}
	return page, nil
}

// optionalCol selects a column, or NULL when the run lacks it.
func optionalCol(r *resultRun, name string) string {
	if r.has(name) {
		return ident(name)
	}
	return "NULL"
}
