package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Console download formats.
const (
	ConsoleCSV     = "csv"
	ConsoleNDJSON  = "ndjson"
	ConsoleParquet = "parquet"
)

// Paging of CSV and NDJSON downloads: each page the driver materializes
// holds about consolePageBytes of values and at most consolePageRows rows.
const (
	consolePageBytes = 4 << 20
	consolePageRows  = 10_000
	// consoleSpoolPrefix starts the name of every spooled download in
	// OutputsDir; NewConsole removes leftovers of a crash.
	consoleSpoolPrefix = ".console-"
)

var consoleContentTypes = map[string]string{
	ConsoleCSV:     "text/csv; charset=utf-8",
	ConsoleNDJSON:  "application/x-ndjson",
	ConsoleParquet: "application/vnd.apache.parquet",
}

// ConsoleDownloadRequest is a console query whose full result (up to
// DownloadMaxRows rows) is wanted as a file.
type ConsoleDownloadRequest struct {
	ConsoleRequest
	// Format is csv, ndjson or parquet.
	Format string `json:"format"`
	// SpreadsheetSafe neutralises formulas in the text cells of a CSV
	// download (see SpreadsheetSafe). Numbers are never touched.
	SpreadsheetSafe bool `json:"spreadsheet_safe"`
}

// ConsoleDownload is a query result spooled to a file in OutputsDir, ready
// to stream. Everything that can fail has failed before Download returns,
// so a handler can set its headers from these fields, then call WriteTo,
// and must call Close.
type ConsoleDownload struct {
	QueryID     string
	Format      string
	ContentType string
	// Filename is a safe name for Content-Disposition.
	Filename string
	Columns  []ConsoleColumn
	// Rows is how many rows the file holds.
	Rows int64
	// Truncated is set when the row cap (TruncatedBy "rows") or the byte
	// cap ("bytes") left rows out.
	Truncated   bool
	TruncatedBy string
	// TruncatedValues counts values cut to DownloadMaxValueBytes and marked
	// with "…" (CSV and NDJSON only).
	TruncatedValues int64
	// Size is the file's size in bytes.
	Size      int64
	ElapsedMS int64

	path      string
	closeOnce sync.Once
}

// WriteTo streams the file to w.
func (d *ConsoleDownload) WriteTo(w io.Writer) (int64, error) {
	f, err := os.Open(d.path)
	if err != nil {
		return 0, Wrap(Internal, err, "console download")
	}
	defer f.Close()
	return io.Copy(w, f)
}

// Close removes the spooled file. It is safe to call more than once.
func (d *ConsoleDownload) Close() error {
	var err error
	d.closeOnce.Do(func() {
		if e := os.Remove(d.path); e != nil && !os.IsNotExist(e) {
			err = e
		}
	})
	return err
}

// Download runs a read-only query like Query, under the download row cap
// and, by default, the longest time limit (MaxTimeout), and spools its
// result to a file in OutputsDir: Parquet written by DuckDB itself, CSV and
// NDJSON with the same values as JSONValue and CSVCell, written by DuckDB's
// COPY for the common column types (spoolCopy) and from pages of bounded
// size otherwise. The file is complete before Download returns (rather
// than streamed as DuckDB writes it) so that errors, row counts and caps
// are known before a handler sends its status and headers. The query runs once, into a temporary table of its
// read-only transaction, so all formats see the same rows in the same
// order. Errors are those of Query, plus TooLarge for a Parquet file over
// DownloadMaxBytes.
func (c *Console) Download(ctx context.Context, req ConsoleDownloadRequest) (*ConsoleDownload, error) {
	start := time.Now()
	ext := req.Format
	if consoleContentTypes[ext] == "" {
		return nil, Errorf(BadRequest, "format must be csv, ndjson or parquet (got %q)", req.Format)
	}
	if c.limits.OutputsDir == "" {
		return nil, Errorf(Internal, "console downloads need ConsoleLimits.OutputsDir")
	}
	l := c.limits
	q, err := c.parseRequest(req.ConsoleRequest, l.DownloadMaxRows, l.DownloadMaxRows, l.MaxTimeout)
	if err != nil {
		return nil, err
	}
	ctx, done, err := c.track(ctx, q)
	if err != nil {
		return nil, err
	}
	defer done()
	s, err := c.open(ctx, q)
	if err != nil {
		return nil, err
	}
	defer s.close()
	f, err := os.CreateTemp(l.OutputsDir, consoleSpoolPrefix+"*."+ext)
	if err != nil {
		return nil, Wrap(Internal, err, "console download spool")
	}
	d := &ConsoleDownload{
		QueryID: q.id, Format: ext, ContentType: consoleContentTypes[ext],
		Filename: "query-" + q.id + "." + ext, path: f.Name(),
	}
	for _, col := range s.cols {
		d.Columns = append(d.Columns, ConsoleColumn{Name: col.name, Type: col.dbType})
	}
	err = s.spool(ctx, d, req, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = Wrap(Internal, cerr, "console download spool")
	}
	if err != nil {
		d.Close()
		return nil, s.fail(ctx, err)
	}
	d.ElapsedMS = time.Since(start).Milliseconds()
	return d, nil
}

// spool materializes the query into a temporary table and writes the file.
func (s *consoleSession) spool(ctx context.Context, d *ConsoleDownload, req ConsoleDownloadRequest, f *os.File) error {
	limit := int64(s.q.limit)
	text := s.wrap("*", consoleAliasList(len(s.cols)), limit+1)
	if err := consoleVerifyWrapped(ctx, s.conn, text, s.ast, limit+1); err != nil {
		return err
	}
	table := sqltmpl.Ident(consoleSpoolPrefix[1:] + newConsoleID()).String()
	if _, err := s.conn.ExecContext(ctx, "CREATE TEMP TABLE "+table+" AS "+text); err != nil {
		return err
	}
	var total int64
	if err := s.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&total); err != nil {
		return err
	}
	if total > limit {
		d.Truncated, d.TruncatedBy = true, "rows"
	}
	switch {
	case d.Format == ConsoleParquet:
		return s.spoolParquet(ctx, d, table, f.Name(), limit)
	case consoleCopyable(s.cols):
		return s.spoolCopy(ctx, d, req, table, f.Name(), limit)
	}
	return s.spoolRows(ctx, d, req, table, f, limit)
}

// consoleUniqueNames returns the column names with duplicates suffixed
// (_2, _3, ...), for file headers and NDJSON keys.
func consoleUniqueNames(cols []consoleCol) []string {
	seen := map[string]bool{}
	out := make([]string, len(cols))
	for i, c := range cols {
		name := c.name
		for n := 2; seen[name]; n++ {
			name = fmt.Sprintf("%s_%d", c.name, n)
		}
		seen[name] = true
		out[i] = name
	}
	return out
}

func (s *consoleSession) spoolParquet(ctx context.Context, d *ConsoleDownload, table, path string, limit int64) error {
	names := consoleUniqueNames(s.cols)
	items := make([]string, len(names))
	for i, n := range names {
		items[i] = s.cols[i].parquetExpr(i) + " AS " + sqltmpl.Ident(n).String()
	}
	sel := fmt.Sprintf("SELECT %s FROM %s ORDER BY rowid LIMIT %d", strings.Join(items, ", "), table, limit)
	rows, size, err := s.copyTo(ctx, sel, path, "FORMAT parquet")
	if err != nil {
		return err
	}
	if size > s.c.limits.DownloadMaxBytes {
		return Errorf(TooLarge, "the Parquet file would be %d bytes; downloads are limited to %d: select fewer rows or columns", size, s.c.limits.DownloadMaxBytes)
	}
	d.Rows, d.Size = rows, size
	return nil
}

// parquetExpr is column i of a Parquet download, NaN and ±Inf made NULL
// at any depth (sqltmpl.FiniteSQL).
func (col consoleCol) parquetExpr(i int) string {
	e, _ := sqltmpl.FiniteSQL(consoleColIdent(i), col.dbType)
	return e
}

// copyTo writes the rows of sel to path with COPY and the given options,
// and returns how many rows and bytes the file holds.
func (s *consoleSession) copyTo(ctx context.Context, sel, path, opts string) (rows, size int64, err error) {
	copySQL := fmt.Sprintf("COPY (%s) TO %s (%s)", sel, sqltmpl.Lit(path), opts)
	if err := s.conn.QueryRowContext(ctx, copySQL).Scan(&rows); err != nil {
		return 0, 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, Wrap(Internal, err, "console download spool")
	}
	return rows, st.Size(), nil
}

// consolePage is a range of rowids of the spool table.
type consolePage struct{ first, last int64 }

// pages splits the first limit rows into pages of bounded size.
func (s *consoleSession) pages(ctx context.Context, table string, limit int64, v int) ([]consolePage, error) {
	sizes := make([]string, len(s.cols))
	for i, col := range s.cols {
		sizes[i] = col.sizeExpr(i, v)
	}
	q := fmt.Sprintf(`SELECT min(rowid), max(rowid) FROM (
  SELECT rowid, sum(%s) OVER (ORDER BY rowid ROWS UNBOUNDED PRECEDING) AS console_cum,
    row_number() OVER (ORDER BY rowid) - 1 AS console_rn
  FROM %s ORDER BY rowid LIMIT %d
) GROUP BY console_cum // %d, console_rn // %d ORDER BY 1`,
		strings.Join(sizes, " + "), table, limit, consolePageBytes, consolePageRows)
	rows, err := s.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []consolePage
	for rows.Next() {
		var p consolePage
		if err := rows.Scan(&p.first, &p.last); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// spoolRows writes CSV or NDJSON page by page, stopping at the byte cap.
func (s *consoleSession) spoolRows(ctx context.Context, d *ConsoleDownload, req ConsoleDownloadRequest, table string, f *os.File, limit int64) error {
	v := s.c.limits.DownloadMaxValueBytes
	pages, err := s.pages(ctx, table, limit, v)
	if err != nil {
		return err
	}
	w := &consoleRowWriter{
		out: bufio.NewWriterSize(f, 1<<16), max: s.c.limits.DownloadMaxBytes,
		format: d.Format, names: consoleUniqueNames(s.cols), cols: s.cols, safe: req.SpreadsheetSafe,
	}
	if d.Format == ConsoleCSV && !w.header() {
		if w.err == nil {
			d.Truncated, d.TruncatedBy = true, "bytes"
		}
		return w.err
	}
	items := make([]string, 0, len(s.cols))
	for i, col := range s.cols {
		items = append(items, col.exprs(i, v)...)
	}
	sel := "SELECT " + strings.Join(items, ", ") + " FROM " + table + " WHERE rowid BETWEEN $1 AND $2 ORDER BY rowid"
	for _, p := range pages {
		more, err := s.spoolPage(ctx, w, sel, p, v)
		if err != nil {
			return err
		}
		if !more {
			d.Truncated, d.TruncatedBy = true, "bytes"
			break
		}
	}
	if err := w.out.Flush(); err != nil {
		return Wrap(Internal, err, "console download spool")
	}
	d.Rows, d.Size, d.TruncatedValues = w.rows, w.size, w.cut
	return nil
}

// spoolPage writes one page; more is false once the byte cap is reached.
func (s *consoleSession) spoolPage(ctx context.Context, w *consoleRowWriter, sel string, p consolePage, v int) (bool, error) {
	rows, err := s.conn.QueryContext(ctx, sel, p.first, p.last)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		row, cut, err := s.scanRow(rows, v)
		if err != nil {
			return false, err
		}
		if !w.row(row, len(cut)) {
			return false, w.err
		}
	}
	return true, rows.Err()
}

// consoleRowWriter writes converted rows as CSV or NDJSON lines and keeps
// the file under max bytes.
type consoleRowWriter struct {
	out    *bufio.Writer
	max    int64
	format string
	names  []string
	cols   []consoleCol
	safe   bool

	buf  bytes.Buffer
	size int64
	rows int64
	cut  int64
	err  error
}

func (w *consoleRowWriter) header() bool {
	cw := csv.NewWriter(&w.buf)
	cw.Write(w.names)
	cw.Flush()
	return w.flushLine()
}

// row writes one row and reports false when it would pass the byte cap
// (nothing is written then) or writing failed (w.err).
func (w *consoleRowWriter) row(vals []any, cut int) bool {
	if w.format == ConsoleNDJSON {
		obj := make(jsonObject, len(vals))
		for i, v := range vals {
			obj[i] = jsonMember{w.names[i], v}
		}
		b, err := json.Marshal(obj)
		if err != nil {
			w.err = Wrap(Internal, err, "console download")
			return false
		}
		w.buf.Write(b)
		w.buf.WriteByte('\n')
	} else {
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = csvCellText(v)
			if w.safe && isTextDBType(w.cols[i].dbType) {
				cells[i] = SpreadsheetSafe(cells[i])
			}
		}
		cw := csv.NewWriter(&w.buf)
		cw.Write(cells)
		cw.Flush()
	}
	if !w.flushLine() {
		return false
	}
	w.rows++
	w.cut += int64(cut)
	return true
}

// flushLine moves the buffered line to the file unless it would pass max.
func (w *consoleRowWriter) flushLine() bool {
	defer w.buf.Reset()
	if w.size+int64(w.buf.Len()) > w.max {
		return false
	}
	n, err := w.out.Write(w.buf.Bytes())
	w.size += int64(n)
	if err != nil {
		w.err = Wrap(Internal, err, "console download spool")
		return false
	}
	return true
}

// removeConsoleSpool deletes spooled downloads left by a crash. No
// download can be in flight when a Console is created.
func removeConsoleSpool(dir string) {
	if dir == "" {
		return
	}
	matches, _ := filepath.Glob(filepath.Join(dir, consoleSpoolPrefix+"*"))
	for _, m := range matches {
		_ = os.Remove(m)
	}
}
