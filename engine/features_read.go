package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Feature page limits.
const (
	MaxFeaturePageSize     = 1000
	defaultFeaturePageSize = 50
)

// FeatureQuery asks for one page of a version.
type FeatureQuery struct {
	Version string
	// Q keeps rows whose object_id or star_id contains it (any case).
	Q string
	// Page is 1-based; PageSize 1 to MaxFeaturePageSize (default 50).
	Page     int
	PageSize int
	// Columns projects; the id columns are always included.
	Columns []string
}

// FeaturePage is the answer of GET /api/features/{version}.
type FeaturePage struct {
	Version  string          `json:"version"`
	Rows     []Record        `json:"rows"`
	Total    int64           `json:"total"`
	Page     int             `json:"page"`
	PageSize int             `json:"page_size"`
	Columns  []FeatureColumn `json:"columns"`
}

// FeaturePage pages through a version in object_id, row_id order.
func (e *Engine) FeaturePage(ctx context.Context, q FeatureQuery) (*FeaturePage, error) {
	if q.Page == 0 {
		q.Page = 1
	}
	if q.PageSize == 0 {
		q.PageSize = defaultFeaturePageSize
	}
	if q.Page < 1 || q.PageSize < 1 || q.PageSize > MaxFeaturePageSize {
		return nil, Errorf(BadRequest, "page must be at least 1 and page_size between 1 and %d.", MaxFeaturePageSize)
	}
	m, path, err := e.featureSet(ctx, q.Version)
	if err != nil {
		return nil, err
	}
	cols, err := projectFeatures(m, q.Columns)
	if err != nil {
		return nil, err
	}
	where, args := "true", []any{}
	if q.Q != "" {
		where = "(contains(lower(object_id), lower(?)) OR contains(lower(coalesce(star_id, '')), lower(?)))"
		args = append(args, q.Q, q.Q)
	}
	from := string(readParquetRel(path))
	page := &FeaturePage{Version: m.Version, Page: q.Page, PageSize: q.PageSize, Columns: cols}
	if err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM `+from+` WHERE `+where, args...).Scan(&page.Total); err != nil {
		return nil, e.queryError(ctx, err, "count feature rows")
	}
	sel := fmt.Sprintf(`SELECT %s FROM %s WHERE %s ORDER BY object_id, row_id LIMIT %d OFFSET %d`,
		columnList(cols), from, where, q.PageSize, (q.Page-1)*q.PageSize)
	rows, err := e.db.QueryContext(ctx, sel, args...)
	if err != nil {
		return nil, e.queryError(ctx, err, "read feature rows")
	}
	defer rows.Close()
	page.Rows, _, err = scanRecords(rows, len(cols), q.PageSize)
	if err != nil {
		return nil, e.queryError(ctx, err, "read feature rows")
	}
	return page, nil
}

// projectFeatures resolves a projection against the manifest's columns:
// the id columns, then the requested ones in manifest order. An unknown
// column is a BadRequest.
func projectFeatures(m *FeatureManifest, want []string) ([]FeatureColumn, error) {
	if len(want) == 0 {
		return m.Columns, nil
	}
	names := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		names[i] = c.Name
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			return nil, &Error{Code: BadRequest, Msg: fmt.Sprintf("Feature set %s has no column %q.", m.Version, w),
				Details: []Detail{{Field: "columns", Message: "one of " + strings.Join(names, ", ")}}}
		}
	}
	var out []FeatureColumn
	for _, c := range m.Columns {
		if c.Role == RoleID || slices.Contains(want, c.Name) {
			out = append(out, c)
		}
	}
	return out, nil
}

// columnList quotes column names for a SELECT list.
func columnList(cols []FeatureColumn) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = sqltmpl.Ident(c.Name).String()
	}
	return strings.Join(parts, ", ")
}

// FeatureObject is the answer of GET /api/features/{version}/{object_id}.
type FeatureObject struct {
	Version  string `json:"version"`
	ObjectID string `json:"object_id"`
	Row      Record `json:"row"`
}

// FeatureRow returns the feature row of one object (its first row by
// row_id), or NotFound.
func (e *Engine) FeatureRow(ctx context.Context, version, objectID string) (*FeatureObject, error) {
	m, path, err := e.featureSet(ctx, version)
	if err != nil {
		return nil, err
	}
	rows, err := e.db.QueryContext(ctx, `SELECT `+columnList(m.Columns)+` FROM `+string(readParquetRel(path))+
		` WHERE object_id = ? ORDER BY row_id LIMIT 1`, objectID)
	if err != nil {
		return nil, e.queryError(ctx, err, "read a feature row")
	}
	defer rows.Close()
	recs, _, err := scanRecords(rows, len(m.Columns), 1)
	if err != nil {
		return nil, e.queryError(ctx, err, "read a feature row")
	}
	if len(recs) == 0 {
		return nil, Errorf(NotFound, "Feature set %s has no object %q.", version, objectID)
	}
	return &FeatureObject{Version: version, ObjectID: objectID, Row: recs[0]}, nil
}

// OpenFeatureExport opens a version for download: Parquet is the stored
// file itself; CSV (formulas neutralized), JSON and NDJSON are written by
// DuckDB to a temporary file first.
func (e *Engine) OpenFeatureExport(ctx context.Context, version string, f ExportFormat) (*ExportFile, error) {
	if _, err := ParseExportFormat(string(f)); err != nil {
		return nil, err
	}
	_, path, err := e.featureSet(ctx, version)
	if err != nil {
		return nil, err
	}
	name := "features-" + version + "." + string(f)
	if f == Parquet {
		return openExportFile(path, name, f, false)
	}
	tmp, err := e.exportTempPath(f)
	if err != nil {
		return nil, err
	}
	if err := e.exportTo(ctx, exportSource{From: readParquet(path), OrderBy: "object_id, row_id"}, f, tmp); err != nil {
		return nil, err
	}
	return openExportFile(tmp, name, f, true)
}
