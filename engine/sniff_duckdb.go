package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// Column is one column of a dataset as its raw view serves it.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// CSVOptions is the CSV dialect pinned in a raw view: read_csv runs with
// auto_detect=false and exactly these options, so a scan never re-sniffs
// and the schema recorded at ingest is the schema served.
type CSVOptions struct {
	Delimiter       string `json:"delimiter"`
	Quote           string `json:"quote"`
	Escape          string `json:"escape"`
	NewLine         string `json:"new_line"`
	Skip            int    `json:"skip"`
	Compression     string `json:"compression"`
	DateFormat      string `json:"dateformat,omitempty"`
	TimestampFormat string `json:"timestampformat,omitempty"`
	// Retyped are the columns a run found holding text after the rows the
	// types were sniffed from; they are served as text (retypeLateValue).
	Retyped []Retyped `json:"retyped,omitempty"`
}

// sniffCSV asks DuckDB for the quote, escape, line ending and column types
// of a CSV file whose delimiter, # block and header Go has already read.
// What the Go scan already knows is passed in, so that DuckDB only has
// types left to find: a file without any '"' is read with the standard
// quoting, and a file with one line-end style with that style.
func (e *Engine) sniffCSV(ctx context.Context, path, compression string, h *headerInfo, t *textScan) (*CSVOptions, []Column, error) {
	known := ""
	if !t.sawQuote {
		known += `, quote = '"', escape = '"'`
	}
	if nl := t.newLine(); nl != "" {
		known += ", new_line = " + sqltmpl.Lit(nl).String()
	}
	q := fmt.Sprintf(`SELECT Quote, Escape, NewLineDelimiter, coalesce(DateFormat, ''), coalesce(TimestampFormat, ''), to_json(Columns)::VARCHAR
FROM sniff_csv(%s, delim = %s, header = true, skip = %d, compression = %s, comment = ''%s)`,
		sqltmpl.Lit(path), sqltmpl.Lit(string(h.delim)), t.skip, sqltmpl.Lit(compression), known)
	skip := t.skip
	o := &CSVOptions{Delimiter: string(h.delim), Skip: skip, Compression: compression}
	var colsJSON string
	err := e.db.QueryRowContext(ctx, q).Scan(&o.Quote, &o.Escape, &o.NewLine, &o.DateFormat, &o.TimestampFormat, &colsJSON)
	if err != nil {
		return nil, nil, csvReadError(err, h.delim)
	}
	// note: sniff_csv spells "no quote" as the text "(empty)".
	for _, s := range []*string{&o.Quote, &o.Escape} {
		if *s == "(empty)" {
			*s = ""
		}
	}
	var cols []Column
	if err := json.Unmarshal([]byte(colsJSON), &cols); err != nil {
		return nil, nil, fmt.Errorf("sniff columns: %w", err)
	}
	if len(cols) != len(h.names) {
		return nil, nil, Errorf(BadRequest, "The header has %d columns separated by %s, but DuckDB reads %d in the rows; check for ragged rows or mixed delimiters.", len(h.names), delimName(h.delim), len(cols))
	}
	return o, cols, nil
}

// sniffParquet reads a Parquet file's schema and row count from its footer.
func (e *Engine) sniffParquet(ctx context.Context, path string) ([]Column, int64, error) {
	src := "read_parquet(" + sqltmpl.Lit(path).String() + ")"
	rows, err := e.db.QueryContext(ctx, "DESCRIBE SELECT * FROM "+src)
	if err != nil {
		return nil, 0, parquetError(err)
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var c Column
		var null, key, def, extra sql.NullString
		if err := rows.Scan(&c.Name, &c.Type, &null, &key, &def, &extra); err != nil {
			return nil, 0, fmt.Errorf("describe parquet: %w", err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, parquetError(err)
	}
	var n int64
	q := "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(" + sqltmpl.Lit(path).String() + ")"
	if err := e.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return nil, 0, parquetError(err)
	}
	return cols, n, nil
}

// parquetError turns a DuckDB failure on a Parquet file into a sentence.
func parquetError(err error) error {
	return Wrap(BadRequest, err, "This is not a readable Parquet file: %s", firstLineOf(duckMessage(err)))
}

// csvReadError turns a DuckDB CSV failure into a sentence a scientist
// understands. It is also used for scan errors at process time.
func csvReadError(err error, delim byte) error {
	msg := duckMessage(err)
	switch {
	case strings.Contains(msg, "Maximum line size"):
		return Wrap(TooLarge, err, "A line of the file is longer than DuckDB's 2 MB line limit; is this really a CSV table?")
	case strings.Contains(msg, "not utf-8") || strings.Contains(msg, "Invalid unicode"):
		return Wrap(BadRequest, err, "The file is not UTF-8 text. Save it as UTF-8 CSV (in Excel: \"CSV UTF-8\").")
	case strings.Contains(msg, "Expected Number of Columns") || strings.Contains(msg, "not possible to automatically detect the CSV parsing dialect"):
		return Wrap(BadRequest, err, "The rows do not all have one value per header column (delimiter: %s). Check the file for ragged rows, mixed delimiters or unbalanced quotes.", delimName(delim))
	case strings.Contains(msg, "Could not convert") || strings.Contains(msg, "Conversion Error"):
		return Wrap(BadRequest, err, "A value does not fit the type sniffed from the first rows: %s", firstLineOf(msg))
	}
	return Wrap(BadRequest, err, "DuckDB cannot read the file as CSV: %s", firstLineOf(msg))
}

// duckMessage strips the driver's prefix from a DuckDB error and shortens
// quoted absolute paths to their base name, so messages do not reveal the
// server's folders.
func duckMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "Error: "); i >= 0 && i < 80 {
		msg = msg[i+len("Error: "):]
	}
	return absPathRe.ReplaceAllStringFunc(msg, func(q string) string {
		return q[:1] + filepath.Base(q[1:len(q)-1]) + q[len(q)-1:]
	})
}

// absPathRe matches a quoted absolute path in a DuckDB message.
var absPathRe = regexp.MustCompile(`"/[^"]*"|'/[^']*'`)

// firstLineOf returns the first line of s.
func firstLineOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}
