package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	sqltmpl "github.com/exohunter/exohunter/sql"
	"github.com/exohunter/exohunter/sql/ducktype"
)

// ExportFormat is an export file format.
type ExportFormat string

// The export formats of runs, queries and labels.
const (
	CSV     ExportFormat = "csv"
	JSON    ExportFormat = "json"
	NDJSON  ExportFormat = "ndjson"
	Parquet ExportFormat = "parquet"
)

// ExportFormats lists every format, in the order the API documents them.
var ExportFormats = []ExportFormat{CSV, JSON, NDJSON, Parquet}

// ContentType is the HTTP Content-Type of the format.
func (f ExportFormat) ContentType() string {
	switch f {
	case CSV:
		return "text/csv; charset=utf-8"
	case JSON:
		return "application/json"
	case NDJSON:
		return "application/x-ndjson"
	}
	return "application/vnd.apache.parquet"
}

// copyOptions is the COPY option list DuckDB writes the format with.
func (f ExportFormat) copyOptions() sqltmpl.ExportFormat {
	switch f {
	case CSV:
		return sqltmpl.FormatCSV
	case JSON:
		return sqltmpl.FormatJSON
	case NDJSON:
		return sqltmpl.FormatNDJSON
	}
	return sqltmpl.FormatParquet
}

// ParseExportFormat accepts csv, json, ndjson or parquet.
func ParseExportFormat(s string) (ExportFormat, error) {
	for _, f := range ExportFormats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", Errorf(BadRequest, "Unknown export format %q: use csv, json, ndjson or parquet.", s)
}

// exportFormatOf picks the format from a file name's extension.
func exportFormatOf(path string) (ExportFormat, error) {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	f, err := ParseExportFormat(ext)
	if err != nil {
		return "", Errorf(BadRequest, "Cannot tell the format of %q from its extension: use .csv, .json, .ndjson or .parquet.", path)
	}
	return f, nil
}

// exportRunFile writes a whole run to out (CLI --out) in row_id order.
// Parquet is the run file itself, copied; the other formats are written by
// DuckDB.
func (e *Engine) exportRunFile(ctx context.Context, runFile, out string) error {
	f, err := exportFormatOf(out)
	if err != nil {
		return err
	}
	if f == Parquet {
		return writeFileAtomically(ctx, out, func(tmp string) error { return copyFile(runFile, tmp) })
	}
	src := exportSource{From: readParquet(runFile), OrderBy: "row_id", KeepFormulas: true}
	if ordered, err := e.fileInRowIDOrder(ctx, runFile); err == nil && ordered {
		src.OrderBy, src.InFileOrder = "", true
	}
	return e.exportToFile(ctx, src, f, out)
}

// errNoOrderedConn: no connection that preserves insertion order could
// be had; the export sorts instead.
var errNoOrderedConn = errors.New("no order-preserving connection")

// preserveOrder is the session setting of orderedDB's connections.
const preserveOrder = "SET SESSION preserve_insertion_order = true"

// primeOrderedConns opens every connection of orderedDB and sets its
// session to preserve insertion order, before serve locks the
// configuration; they stay open, idle, in the pool.
func (e *Engine) primeOrderedConns(ctx context.Context) error {
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range maxExportWrites {
		c, err := e.orderedDB.Conn(ctx)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		if _, err := c.ExecContext(ctx, preserveOrder); err != nil {
			return err
		}
	}
	return nil
}

// execCopy runs an export's COPY; inOrder runs it on an orderedDB
// connection, which keeps the scan order of its source. When the pool
// had to replace a connection after the configuration was locked, the new
// one cannot preserve order: errNoOrderedConn, and the caller sorts.
func (e *Engine) execCopy(ctx context.Context, stmt string, args []any, inOrder bool) error {
	if !inOrder {
		_, err := e.db.ExecContext(ctx, stmt, args...)
		return err
	}
	conn, err := e.orderedDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var on bool
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('preserve_insertion_order')").Scan(&on); err != nil {
		return err
	}
	if !on {
		if _, err := conn.ExecContext(ctx, preserveOrder); err != nil {
			e.log.Warn("export: a connection lost its insertion order and cannot get it back under the locked configuration; sorting instead", "err", err)
			return errNoOrderedConn
		}
	}
	_, err = conn.ExecContext(ctx, stmt, args...)
	return err
}

// fileInRowIDOrder reports whether a run file's rows lie in row_id order,
// so that an export in row_id order can stream it without a sort (a sort
// of 1M rows took 1.8 GB and 15 s where the ordered COPY took 0.5 GB and
// 8 s; at 10M it also spilled about 10 GB). The pipeline writes them so
// (row_id is row_number() OVER (), which DuckDB numbers in one ordered
// stream), but that is DuckDB's behaviour, not a promise, so each file is
// checked once (0.1 s at 1M rows, 1.6 s at 10M).
func (e *Engine) fileInRowIDOrder(ctx context.Context, path string) (bool, error) {
	return e.results().inOrder.get(ctx, path, func(ctx context.Context) (bool, error) {
		var ordered bool
		err := e.db.QueryRowContext(ctx, "SELECT coalesce(bool_and(row_id = file_row_number + 1), true) FROM read_parquet(?, file_row_number = true)", path).Scan(&ordered)
		return ordered, err
	})
}

// exportToFile is exportTo for a file the user named (--out): the rows go
// to a temporary file beside it, which replaces out only when complete, so
// a failure or an interrupt leaves an existing out as it was. Callers keep
// CSV text as it is (KeepFormulas): a file written on the command line is
// the scientist's own, like `query --format csv`; downloads from the server
// are the ones neutralised for spreadsheets.
func (e *Engine) exportToFile(ctx context.Context, src exportSource, f ExportFormat, out string) error {
	return writeFileAtomically(ctx, out, func(tmp string) error { return e.exportTo(ctx, src, f, tmp) })
}

// writeFileAtomically creates out's folder, lets write fill a fresh
// temporary name in it, and renames that over out; on failure the
// temporary file is removed and out is untouched.
func writeFileAtomically(ctx context.Context, out string, write func(tmp string) error) error {
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Wrap(BadRequest, err, "Cannot create the folder of %s.", out)
	}
	prefix := "." + filepath.Base(out) + "."
	removeDeadWriters(dir, prefix)
	f, err := os.CreateTemp(dir, ownedTempPrefix(prefix)+"*.tmp")
	if err != nil {
		return Wrap(BadRequest, err, "Cannot write in the folder of %s.", out)
	}
	tmp := f.Name()
	f.Close()
	// note: DuckDB's COPY writes the file itself; an existing one would
	// make it write a tmp_ file of its own first.
	os.Remove(tmp)
	if err := write(tmp); err != nil {
		os.Remove(tmp)
		if ctx.Err() != nil {
			return Wrap(Timeout, err, "Writing %s was interrupted; the file was not changed.", out)
		}
		if ErrorCode(err) == Internal {
			// note: name the user's file, not the hidden one that failed.
			var de *duckdb.Error
			msg := err.Error()
			if errors.As(err, &de) {
				msg = de.Msg
			}
			return Wrap(BadRequest, err, "Writing %s failed, and the file was not changed: %s", out, strings.ReplaceAll(firstLine(msg), tmp, out))
		}
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return Wrap(BadRequest, err, "Cannot write %s.", out)
	}
	return nil
}

// readParquet is the relation expression over one Parquet file.
func readParquet(path string) sqltmpl.Expr {
	return sqltmpl.Expr("SELECT * FROM read_parquet(" + sqltmpl.Lit(path).String() + ")")
}

// exportSource is what an export reads: a relation plus an optional filter
// and order, whose values are bound parameters.
type exportSource struct {
	// From is a relation expression the engine composed (never client SQL).
	From sqltmpl.Expr
	// Where and OrderBy are built by the engine from allow-listed columns;
	// Args binds the ? placeholders of Where.
	Where   string
	OrderBy string
	Args    []any
	// InFileOrder writes the rows in From's scan order, with no sort: From
	// must read one run file (no join) whose rows lie in row_id order (see
	// fileInRowIDOrder), and OrderBy be empty. The COPY runs on a
	// connection that preserves insertion order (the engine's others do
	// not, for speed), or sorts by row_id when none can be had.
	InFileOrder bool
	// SortedFrom replaces From when InFileOrder falls back to the sort
	// (From may only line up in file order, as a scored run's does).
	SortedFrom sqltmpl.Expr
	// KeepFormulas writes CSV text cells as they are; by default a cell a
	// spreadsheet would run as a formula is neutralised (issue 9).
	KeepFormulas bool
}

// exportTo writes the rows of src to dst in format f with DuckDB's COPY, so
// that no result set passes through Go memory. CSV turns list columns into
// ';'-joined text and neutralizes spreadsheet formulas in text cells unless
// src keeps them; numeric columns are never touched (a negative _err2 is
// data).
func (e *Engine) exportTo(ctx context.Context, src exportSource, f ExportFormat, dst string) error {
	cols, err := e.describe(ctx, src.From)
	if err != nil {
		return err
	}
	out := make([]sqltmpl.ExportColumn, len(cols))
	for i, c := range cols {
		out[i] = exportColumn(c, f, !src.KeepFormulas)
	}
	stmt, err := sqltmpl.ExportCopy(sqltmpl.ExportInput{
		From: src.From, Columns: out, Where: sqltmpl.Expr(src.Where), OrderBy: sqltmpl.Expr(src.OrderBy),
		Path: dst, Format: f.copyOptions(),
	})
	if err != nil {
		return err
	}
	err = e.execCopy(ctx, stmt, src.Args, src.InFileOrder)
	if errors.Is(err, errNoOrderedConn) {
		src.InFileOrder, src.OrderBy = false, "row_id"
		if src.SortedFrom != "" {
			src.From, src.SortedFrom = src.SortedFrom, ""
		}
		return e.exportTo(ctx, src, f, dst)
	}
	if err != nil {
		os.Remove(dst)
		// The source, columns and filter are the engine's own (values are
		// bound), so a failure is not the client's fault: a full disk maps
		// to Storage through ErrorCode, anything else stays Internal and
		// never shows the server's paths.
		return fmt.Errorf("export to %s: %w", dst, err)
	}
	return nil
}

// exportColumn is the output expression of one column in format f; safe
// neutralizes formulas in CSV text cells. Values follow the Contracts'
// JSON rules at any depth, as the results pages and console downloads do
// (sqltmpl.JSONSQL): NaN and ±Inf are NULL, integers beyond JSON's 2^53
// are strings, timestamps RFC 3339 and BLOBs base64, the last in CSV too
// (sqltmpl.CSVSQL), where DuckDB would write escapes such as \xFF.
func exportColumn(c Column, f ExportFormat, safe bool) sqltmpl.ExportColumn {
	name := sqltmpl.Ident(c.Name)
	ref := "r." + name.String()
	val := ref
	switch f {
	case Parquet:
		// note: a run's scalar columns are guarded when it is written, so
		// Parquet skips them; nested values of runs written before their
		// guard go through it.
		if t := ducktype.Parse(c.Type).Name; t != "DOUBLE" && t != "FLOAT" {
			val, _ = sqltmpl.FiniteSQL(ref, c.Type)
		}
	case CSV:
		val, _ = sqltmpl.CSVSQL(ref, c.Type)
	default:
		val, _ = sqltmpl.JSONSQL(ref, c.Type)
	}
	expr := val
	switch {
	case f == CSV && strings.HasSuffix(c.Type, "[]"):
		// note: a NULL element keeps its place (array_to_string drops it).
		expr = "array_to_string(list_transform(" + val + ", x -> coalesce(CAST(x AS VARCHAR), '')), ';')"
		if safe {
			expr = neutralizeFormula(expr)
		}
	case f == CSV && c.Type == "VARCHAR" && safe:
		expr = neutralizeFormula(ref)
	}
	return sqltmpl.ExportColumn{Expr: sqltmpl.Expr(expr), Name: name}
}

// neutralizeFormula prefixes a text cell that a spreadsheet would run as a
// formula (=, +, -, @, tab, CR first) with a single quote (OWASP CSV
// injection advice). Only text columns reach it.
func neutralizeFormula(expr string) string {
	return "CASE WHEN regexp_matches(" + expr + ", '^[=+\\-@\\t\\r]') THEN '''' || " + expr + " ELSE " + expr + " END"
}

// describe returns the columns of a relation without running it.
func (e *Engine) describe(ctx context.Context, from sqltmpl.Expr) ([]Column, error) {
	rows, err := e.db.QueryContext(ctx, "DESCRIBE "+string(from))
	if err != nil {
		return nil, fmt.Errorf("describe export source: %w", err)
	}
	defer rows.Close()
	var out []Column
	for rows.Next() {
		var c Column
		var null, key, def, extra sql.NullString
		if err := rows.Scan(&c.Name, &c.Type, &null, &key, &def, &extra); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// copyFile copies src to dst through a temporary file and a rename, so a
// reader never sees half a file.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return Wrap(BadRequest, err, "Cannot write %s.", dst)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return Wrap(BadRequest, err, "Cannot write %s.", dst)
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return Wrap(BadRequest, err, "Cannot write %s.", dst)
	}
	return os.Rename(tmp, dst)
}
