package engine

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// CSV and NDJSON downloads of the common column types are written by
// DuckDB's COPY from the spool table, in parallel and without passing
// values through Go: a 1M-row, 90-column result takes seconds instead of
// minutes. Each column becomes an SQL expression with the values of
// JSONValue and CSVCell (NaN and ±Inf empty or null, DECIMAL without
// trailing zeros, big integers as JSON strings, lists as JSON, values over
// DownloadMaxValueBytes cut and marked, formulas neutralised in text cells
// of a spreadsheet-safe CSV). A result with any other type (timestamps,
// times, intervals, BLOB, JSON, STRUCT, MAP, UNION, ARRAY, nested lists)
// keeps the Go writer (spoolRows), whose conversions SQL does not match.

// consoleCopyScalars are the types whose values DuckDB writes as JSONValue
// and CSVCell would (up to the spelling of numbers).
var consoleCopyScalars = consoleSet(
	"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
	"UBIGINT", "HUGEINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "DATE", "UUID", "ENUM", "VARCHAR",
)

// consoleCopyElems are the element types of lists COPY writes.
var consoleCopyElems = consoleSet(
	"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
	"FLOAT", "DOUBLE", "DATE", "VARCHAR",
)

// consoleCopyable reports whether COPY can write every column.
func consoleCopyable(cols []consoleCol) bool {
	for _, c := range cols {
		t := c.typ
		switch {
		case c.cast:
			return false
		case t.Name == "LIST" && consoleCopyElems[t.ElemType().Name]:
		case !consoleCopyScalars[t.Name]:
			return false
		}
	}
	return true
}

// consoleCopyCol is one column of a COPY download: its output expression
// and, for values that may be cut, the condition that they are.
type consoleCopyCol struct {
	expr string
	cut  string
}

// copyExpr is the output expression of column i in a CSV (or NDJSON)
// download with value cap v.
func (col consoleCol) copyExpr(i int, csv, safe bool, v int) consoleCopyCol {
	id := consoleColIdent(i)
	switch t := col.typ; t.Name {
	case "FLOAT", "DOUBLE":
		return consoleCopyCol{expr: consoleFinite(id)}
	case "DECIMAL":
		// note: DuckDB prints the scale's zeros (12.50); JSONValue does not.
		txt := "CAST(" + id + " AS VARCHAR)"
		trimmed := "CASE WHEN contains(" + txt + ", '.') THEN rtrim(rtrim(" + txt + ", '0'), '.') ELSE " + txt + " END"
		if csv {
			return consoleCopyCol{expr: trimmed}
		}
		return consoleCopyCol{expr: "CAST(" + trimmed + " AS JSON)"}
	case "UBIGINT", "HUGEINT", "UHUGEINT", "UUID":
		if csv {
			return consoleCopyCol{expr: id}
		}
		return consoleCopyCol{expr: "CAST(" + id + " AS VARCHAR)"}
	case "ENUM":
		txt := "CAST(" + id + " AS VARCHAR)"
		if csv && safe {
			txt = neutralizeFormula(txt)
		}
		return consoleCopyCol{expr: txt}
	case "VARCHAR":
		cut := "strlen(" + id + ") > " + fmt.Sprint(v)
		txt := "CASE WHEN " + cut + " THEN " + consoleCutSQL(id, v) + " || '" + consoleTruncMark + "' ELSE " + id + " END"
		if csv {
			// note: DuckDB quotes an empty string to tell it from NULL;
			// CSVCell writes both as an empty cell.
			txt = "nullif(" + txt + ", '')"
			if safe {
				txt = neutralizeFormula(txt)
			}
		}
		return consoleCopyCol{expr: txt, cut: cut}
	case "LIST":
		list := id
		if e := t.ElemType().Name; e == "FLOAT" || e == "DOUBLE" {
			list = "list_transform(" + id + ", x -> " + consoleFinite("x") + ")"
		}
		// As in the console's projection, a list whose text is longer than
		// v becomes a cut prefix of that text.
		txt := "CAST(" + id + " AS VARCHAR)"
		cut := "strlen(" + txt + ") > " + fmt.Sprint(v)
		prefix := consoleCutSQL(txt, v) + " || '" + consoleTruncMark + "'"
		if csv {
			return consoleCopyCol{expr: "CASE WHEN " + cut + " THEN " + prefix + " ELSE CAST(to_json(" + list + ") AS VARCHAR) END", cut: cut}
		}
		return consoleCopyCol{expr: "CASE WHEN " + cut + " THEN to_json(" + prefix + ") ELSE to_json(" + list + ") END", cut: cut}
	}
	return consoleCopyCol{expr: id}
}

// consoleFinite turns NaN and ±Inf into NULL.
func consoleFinite(x string) string {
	return "CASE WHEN isfinite(" + x + ") THEN " + x + " END"
}

// consoleCutSQL is the longest prefix of text x of at most v bytes that
// ends on a character boundary (consoleCut in SQL): of the prefixes of v,
// v-1, v-2 and v-3 bytes, the first that is valid UTF-8.
func consoleCutSQL(x string, v int) string {
	parts := make([]string, 0, 4)
	for n := v; n >= max(v-3, 0); n-- {
		parts = append(parts, fmt.Sprintf("try(decode(encode(%s)[1:%d]))", x, n))
	}
	return "coalesce(" + strings.Join(parts, ", ") + ")"
}

// spoolCopy has DuckDB write the first limit rows of the spool table as CSV
// or NDJSON, then cuts the file at the byte cap on a row boundary (COPY
// has no byte limit) and counts the values cut to DownloadMaxValueBytes in
// the rows kept.
//
// Sorting a wide table by rowid costs as much as writing it, so the file
// follows the spool table's order only when that order means something:
// the query has an ORDER BY somewhere, or the row cap keeps part of the
// table. Otherwise the query asked for no order and DuckDB writes the rows
// as its threads scan them, like any unordered result.
func (s *consoleSession) spoolCopy(ctx context.Context, d *ConsoleDownload, req ConsoleDownloadRequest, table, path string, limit int64) error {
	v := s.c.limits.DownloadMaxValueBytes
	csvFormat := d.Format == ConsoleCSV
	names := consoleUniqueNames(s.cols)
	items := make([]string, len(s.cols))
	var cuts []string
	for i, col := range s.cols {
		c := col.copyExpr(i, csvFormat, req.SpreadsheetSafe, v)
		items[i] = c.expr + " AS " + sqltmpl.Ident(names[i]).String()
		if c.cut != "" {
			cuts = append(cuts, "coalesce(("+c.cut+")::BIGINT, 0)")
		}
	}
	opts := "FORMAT json"
	if csvFormat {
		opts = "FORMAT csv, HEADER true"
	}
	ordered := d.Truncated || consoleHasOrderBy(s.ast)
	for {
		sel := "SELECT " + strings.Join(items, ", ") + " FROM " + table
		if ordered {
			sel += fmt.Sprintf(" ORDER BY rowid LIMIT %d", limit)
		}
		var err error
		if d.Rows, d.Size, err = s.copyTo(ctx, sel, path, opts); err != nil {
			return err
		}
		cut := false
		if max := s.c.limits.DownloadMaxBytes; d.Size > max {
			if d.Rows, d.Size, err = consoleCutFile(path, csvFormat, max); err != nil {
				return Wrap(Internal, err, "console download spool")
			}
			d.Truncated, d.TruncatedBy, cut = true, "bytes", true
		}
		if len(cuts) == 0 || d.Rows == 0 {
			return nil
		}
		q := fmt.Sprintf("SELECT coalesce(sum(%s), 0) FROM (SELECT * FROM %s ORDER BY rowid LIMIT %d)",
			strings.Join(cuts, " + "), table, d.Rows)
		if !ordered {
			q = fmt.Sprintf("SELECT coalesce(sum(%s), 0) FROM %s", strings.Join(cuts, " + "), table)
		}
		if err := s.conn.QueryRowContext(ctx, q).Scan(&d.TruncatedValues); err != nil {
			return err
		}
		// note: the rows an unordered file kept under the byte cap are not
		// known; when values were cut, write it again in rowid order to
		// count theirs.
		if ordered || !cut || d.TruncatedValues == 0 {
			return nil
		}
		ordered = true
	}
}

// consoleHasOrderBy reports whether a parsed statement has an ORDER BY
// anywhere (a subquery's or a set operation's too, to be safe).
func consoleHasOrderBy(node any) bool {
	switch x := node.(type) {
	case map[string]any:
		if x["type"] == "ORDER_MODIFIER" {
			return true
		}
		for _, v := range x {
			if consoleHasOrderBy(v) {
				return true
			}
		}
	case []any:
		for _, v := range x {
			if consoleHasOrderBy(v) {
				return true
			}
		}
	}
	return false
}

// consoleCutFile truncates a CSV (with header) or NDJSON file to its
// longest run of whole rows of at most max bytes, and returns the rows and
// bytes left. CSV rows are found with a CSV reader, since quoted values
// may hold newlines; NDJSON escapes them, so rows end at each newline.
func consoleCutFile(path string, csvFormat bool, max int64) (rows, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	if csvFormat {
		rows, size, err = consoleCSVPrefix(f, max)
	} else {
		rows, size, err = consoleLinesPrefix(f, max)
	}
	f.Close()
	if err != nil {
		return 0, 0, err
	}
	return rows, size, os.Truncate(path, size)
}

// consoleCSVPrefix returns the data rows and bytes of the longest prefix of
// whole records of at most max bytes; the header counts as no row, and a
// header over max leaves nothing.
func consoleCSVPrefix(r io.Reader, max int64) (rows, size int64, err error) {
	cr := csv.NewReader(io.LimitReader(r, max+1))
	cr.FieldsPerRecord, cr.ReuseRecord = -1, true
	for n := int64(0); ; n++ {
		_, err := cr.Read()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return rows, size, nil
		}
		if err != nil {
			var perr *csv.ParseError
			if errors.As(err, &perr) && errors.Is(perr.Err, csv.ErrQuote) {
				// note: a quoted value cut by the reader's limit.
				return rows, size, nil
			}
			return 0, 0, err
		}
		// note: a record the limit cut ends past max.
		off := cr.InputOffset()
		if off > max {
			return rows, size, nil
		}
		size, rows = off, n
	}
}

// consoleLinesPrefix is consoleCSVPrefix for NDJSON: every line is a row.
func consoleLinesPrefix(r io.Reader, max int64) (rows, size int64, err error) {
	br := bufio.NewReaderSize(io.LimitReader(r, max), 1<<16)
	var n int64
	for {
		chunk, err := br.ReadSlice('\n')
		n += int64(len(chunk))
		switch {
		case err == nil:
			size, rows = n, rows+1
		case errors.Is(err, bufio.ErrBufferFull):
			// a line longer than the buffer: read on
		case errors.Is(err, io.EOF):
			return rows, size, nil
		default:
			return 0, 0, err
		}
	}
}
