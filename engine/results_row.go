package engine

import (
	"context"
	"strings"

	sq "github.com/Masterminds/squirrel"
)

// maxObjectRows caps the parameter sets returned for one object (the
// Planetary Systems table has a few dozen at most).
const maxObjectRows = 1000

// ObjectResult is the answer of GET /api/runs/{id}/results/{object_id}:
// every row of one object with every column. An object has one row, except
// in multi-parameter-set tables (k2pandc, ps) where it has one per
// parameter set: all of them are returned, the default set (is_default)
// first, then by row_id.
type ObjectResult struct {
	RunID    string   `json:"run_id"`
	ObjectID string   `json:"object_id"`
	Rows     []Record `json:"rows"`
	// Provenance maps each column that has a <column>_source companion to
	// its source in the first (default) row: catalog, derived or missing.
	Provenance map[string]string `json:"provenance"`
}

// ResultRow returns every row of one object of a run (see ObjectResult),
// or NotFound when the run has no such object_id.
func (e *Engine) ResultRow(ctx context.Context, runID, objectID string) (*ObjectResult, error) {
	r, err := e.resultRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	cols, _ := r.projection(nil)
	order := []string{ident("row_id")}
	if r.has("is_default") {
		order = []string{ident("is_default") + " DESC NULLS LAST", ident("row_id")}
	}
	// note: in two steps like a results page: the row_ids from the
	// object_id column alone, then every column only in their row groups
	// (one query over all columns decoded whole row groups of a 10M-row
	// run to find one object).
	sel, read := []string{ident("row_id")}, []string{"row_id", "object_id", "is_default"}
	if r.has("category") {
		sel, read = append(sel, ident("category")), append(read, "category")
	}
	stmt, args, err := sq.Select(sel...).From(r.source(read...)).
		Where(sq.Expr(ident("object_id")+" = ?", objectID)).
		OrderBy(order...).Limit(maxObjectRows).PlaceholderFormat(sq.Question).ToSql()
	if err != nil {
		return nil, err
	}
	release, err := slot(ctx, e.results().reads)
	if err != nil {
		return nil, err
	}
	defer release()
	var ids []pageKey
	rows, err := e.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, e.queryError(ctx, err, "read object "+objectID)
	}
	for rows.Next() {
		var k pageKey
		dst := []any{&k.rowID}
		if len(sel) > 1 {
			dst = append(dst, &k.category)
		}
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return nil, e.queryError(ctx, err, "read object "+objectID)
		}
		ids = append(ids, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, e.queryError(ctx, err, "read object "+objectID)
	}
	if len(ids) == 0 {
		return nil, Errorf(NotFound, "Run %s has no object %q.", runID, objectID)
	}
	recs, err := e.rowsByID(ctx, r, cols, ids)
	if err != nil {
		return nil, err
	}
	return &ObjectResult{RunID: runID, ObjectID: objectID, Rows: recs, Provenance: provenance(recs[0])}, nil
}

// provenance reads the <column>_source columns of a row.
func provenance(rec Record) map[string]string {
	out := map[string]string{}
	for i, c := range rec.Columns {
		base, ok := strings.CutSuffix(c, "_source")
		if !ok || base == "" {
			continue
		}
		if _, has := rec.Get(base); !has {
			continue
		}
		if s, ok := rec.Values[i].(string); ok {
			out[base] = s
		}
	}
	return out
}

func quoteAll(cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = ident(c)
	}
	return out
}
