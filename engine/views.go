package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/exohunter/exohunter/engine/mapping"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// integerTypes are widened to DOUBLE in raw views: the sniffer sees only a
// sample, and a later row holding 1.5 must not fail a scan.
var integerTypes = []string{"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}

// pinTypes returns the column types a CSV raw view pins: id columns (from
// the mapping) and integer columns named like ids are VARCHAR, so TOI
// 1000.10 stays "1000.10" and 19-digit catalog ids keep every digit; other
// integer columns are DOUBLE; everything else keeps its sniffed type.
func pinTypes(cols []Column, ids []string) []Column {
	out := make([]Column, len(cols))
	for i, c := range cols {
		out[i] = c
		switch {
		case slices.Contains(ids, c.Name):
			out[i].Type = "VARCHAR"
		case slices.Contains(integerTypes, c.Type) && looksLikeID(c.Name):
			out[i].Type = "VARCHAR"
		case slices.Contains(integerTypes, c.Type):
			out[i].Type = "DOUBLE"
		}
	}
	return out
}

// servedTypes returns the columns as the raw view serves them: CSV columns
// pinned by pinTypes; Parquet columns with their own types, except ids,
// which the view casts to VARCHAR.
func servedTypes(format string, cols []Column, ids []string) []Column {
	if format == FormatCSV {
		return pinTypes(cols, ids)
	}
	out := slices.Clone(cols)
	for i := range out {
		if slices.Contains(ids, out[i].Name) {
			out[i].Type = "VARCHAR"
		}
	}
	return out
}

// looksLikeID reports a column name such as id, gaia_id, kepid or ticid.
func looksLikeID(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	return n == "id" || strings.HasSuffix(n, "_id") || (strings.HasSuffix(n, "id") && len(n) <= 6)
}

// rawSource renders the table function that reads a stored file with the
// dialect and types pinned at ingest. ids are cast to VARCHAR for Parquet
// (a CSV already pins them in its columns).
func rawSource(path string, ds *Dataset, ids []string) string {
	if ds.Format == FormatParquet {
		return "read_parquet(" + sqltmpl.Lit(path).String() + ")"
	}
	o := ds.CSV
	var b strings.Builder
	fmt.Fprintf(&b, "read_csv(%s,\n\tauto_detect = false, header = true, skip = %d, comment = '', compression = %s,\n\tdelim = %s, quote = %s, escape = %s",
		sqltmpl.Lit(path), o.Skip, sqltmpl.Lit(o.Compression), sqltmpl.Lit(o.Delimiter), sqltmpl.Lit(o.Quote), sqltmpl.Lit(o.Escape))
	if o.NewLine != "" {
		fmt.Fprintf(&b, ", new_line = %s", sqltmpl.Lit(o.NewLine))
	}
	if o.DateFormat != "" {
		fmt.Fprintf(&b, ", dateformat = %s", sqltmpl.Lit(o.DateFormat))
	}
	if o.TimestampFormat != "" {
		fmt.Fprintf(&b, ", timestampformat = %s", sqltmpl.Lit(o.TimestampFormat))
	}
	b.WriteString(",\n\tcolumns = {")
	for i, c := range ds.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s", sqltmpl.Lit(c.Name), sqltmpl.Lit(c.Type))
	}
	b.WriteString("})")
	return b.String()
}

// rawViewSQL renders CREATE OR REPLACE VIEW raw."D" over the stored file at
// its current absolute path.
func (e *Engine) rawViewSQL(ds *Dataset, ids []string) string {
	view := sqltmpl.QualifiedIdent{Schema: "raw", Name: sqltmpl.Ident(ds.Name)}
	sel := "*"
	if ds.Format == FormatParquet {
		var casts []string
		for _, c := range ds.Columns {
			if slices.Contains(ids, c.Name) {
				casts = append(casts, fmt.Sprintf("CAST(%s AS VARCHAR) AS %s", sqltmpl.Ident(c.Name), sqltmpl.Ident(c.Name)))
			}
		}
		if len(casts) > 0 {
			sel = "* REPLACE (" + strings.Join(casts, ", ") + ")"
		}
	}
	return fmt.Sprintf("CREATE OR REPLACE VIEW %s AS\nSELECT %s FROM %s;\n", view, sel, rawSource(e.abs(ds.Path), ds, ids))
}

// viewStatements renders a dataset's CREATE VIEW statements, raw first,
// and the view created last.
func (e *Engine) viewStatements(ds *Dataset, m *mapping.Mapping) (stmts []string, last string, err error) {
	stmts = []string{e.rawViewSQL(ds, m.IDColumns())}
	last = quoteView("raw", ds.Name)
	if e.bundle != nil {
		more, err := e.pipelineViews(ds, m)
		if err != nil {
			return nil, "", fmt.Errorf("render views of %s: %w", ds.Name, err)
		}
		stmts = append(stmts, more...)
		last = quoteView(datasetSchemas[len(datasetSchemas)-1], ds.Name)
	}
	return stmts, last, nil
}

// viewsFingerprint identifies the exact statements that created a
// dataset's views. It is stored as the comment of the last view, so that
// Open can tell views that are already current from views to re-create.
func viewsFingerprint(stmts []string) string {
	sum := sha256.Sum256([]byte(strings.Join(stmts, "\x00")))
	return sqltmpl.ViewsFingerprintPrefix + hex.EncodeToString(sum[:12])
}

// createViews (re)creates a dataset's raw view and, with a config, its
// normalized, metrics and classified views, and records their fingerprint.
func (e *Engine) createViews(ctx context.Context, q queryer, ds *Dataset, m *mapping.Mapping) error {
	stmts, last, err := e.viewStatements(ds, m)
	if err != nil {
		return err
	}
	stmts = append(stmts, "COMMENT ON VIEW "+last+" IS "+sqltmpl.Lit(viewsFingerprint(stmts)).String())
	for _, s := range stmts {
		if _, err := q.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("create views of %s: %w", ds.Name, err)
		}
	}
	return nil
}

// restoreViews re-creates, at Open, the views of every dataset whose views
// are not current: the data dir may have moved (paths are absolute) and the
// config may have changed. Views whose fingerprint matches are left alone,
// so a CLI command does not pay for binding every dataset's views. A
// dataset whose views cannot be created (its file is gone, its columns no
// longer map) is logged and skipped so that one broken dataset does not
// keep the server down.
// It returns how many datasets had their views re-created.
func (e *Engine) restoreViews(ctx context.Context) (int, error) {
	list, err := e.Datasets(ctx)
	if err != nil {
		return 0, err
	}
	current, err := e.viewComments(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ds := range list {
		m, err := e.mapColumns(ds.Columns, IngestInput{Mission: ds.Mission, Units: ds.Units})
		if err == nil {
			stmts, last, rerr := e.viewStatements(ds, m)
			if rerr == nil && current[last] == viewsFingerprint(stmts) {
				continue
			}
			err = e.inTx(ctx, func(tx *sql.Tx) error { return e.createViews(ctx, tx, ds, m) })
			n++
		}
		if err != nil {
			e.log.Warn("cannot restore the views of a dataset", "dataset", ds.Name, "err", err)
		}
	}
	return n, nil
}

// viewComments returns the comment of every dataset view, keyed by its
// quoted schema.name.
func (e *Engine) viewComments(ctx context.Context) (map[string]string, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT schema_name, view_name, coalesce(comment, '') FROM duckdb_views()
WHERE NOT internal AND schema_name IN ('raw', 'normalized', 'metrics', 'classified')`)
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var schema, name, comment string
		if err := rows.Scan(&schema, &name, &comment); err != nil {
			return nil, err
		}
		out[quoteView(schema, name)] = comment
	}
	return out, rows.Err()
}
