package engine

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
)

// checkFields reads the whole stored file once more, in Go, and refuses it
// at the first record whose number of values differs from the header's, or
// when a quote is never closed. readHeader checks only the first rows and
// DuckDB's sniffer only its sample: without this a ragged line 55,000 was
// accepted at ingest and then failed every run and every snapshot. The
// scan reads about 6 GB/s from the page cache (BenchmarkCheckFields),
// where DuckDB needs seconds to parse the same file. Dialects the scan does not model (a quote other
// than ", an escape other than " or none; the caller leaves out bare CR
// line ends) are left to DuckDB, as the row count is.
func checkFields(ctx context.Context, path string, o *CSVOptions, h *headerInfo) error {
	quote := o.Quote == `"` && (o.Escape == `"` || o.Escape == "")
	if o.Quote != "" && !quote {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("check fields: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if o.Compression == CompressionGzip {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("check fields: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	c := fieldCounter{delim: h.delim, quote: quote, want: len(h.names), line: 1, recLine: 1}
	br := bufio.NewReaderSize(ctxReader{ctx, r}, 1<<20)
	// note: the # block and the header line are skipped by line count, as
	// read_csv's skip does; their values are not the table's.
	for skip := o.Skip + 1; skip > 0; skip-- {
		_, err := br.ReadSlice('\n')
		for err == bufio.ErrBufferFull {
			_, err = br.ReadSlice('\n')
		}
		if err != nil {
			return nil // note: a file of no more lines has no rows to check
		}
		c.line++
	}
	c.recLine = c.line
	buf := make([]byte, 1<<20)
	for {
		n, err := br.Read(buf)
		if bad := c.scan(buf[:n]); bad != nil {
			return c.refuse(bad, h)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return readError(err)
		}
	}
	if bad := c.end(); bad != nil {
		return c.refuse(bad, h)
	}
	return nil
}

// fieldCounter counts the values of each record of a CSV byte stream.
type fieldCounter struct {
	delim   byte
	quote   bool // fields may be quoted with " (doubled inside to escape)
	want    int
	inQuote bool
	fields  int  // delimiters seen in the current record, plus one
	content bool // the current record has a byte other than its line end
	line    int64
	recLine int64 // the line the current record starts on
	class   *[256]uint8
}

// badRecord is the first record that did not fit.
type badRecord struct {
	line     int64
	values   int
	unclosed bool
}

// Byte classes of the scan.
const (
	byteOther = iota
	byteQuote
	byteDelim
	byteLF
	byteCR
)

// scan consumes p and returns the first bad record in it, if any.
func (c *fieldCounter) scan(p []byte) *badRecord {
	if c.class == nil {
		c.class = new([256]uint8)
		c.class[c.delim], c.class['\n'], c.class['\r'] = byteDelim, byteLF, byteCR
		if c.quote {
			c.class['"'] = byteQuote
		}
	}
	for i := 0; i < len(p); i++ {
		if !c.inQuote && !c.content && c.fields == 0 {
			// note: the fast path, a whole line without a quote: SIMD
			// searches and counts instead of a branch per byte, 59 ms
			// instead of 530 ms for the bench's 1M-row file (361 MB).
			j := bytes.IndexByte(p[i:], '\n')
			if j >= 0 && (!c.quote || bytes.IndexByte(p[i:i+j], '"') < 0) {
				line := p[i : i+j]
				c.fields = bytes.Count(line, []byte{c.delim})
				c.content = len(line) > 1 || len(line) == 1 && line[0] != '\r'
				if bad := c.endRecord(); bad != nil {
					return bad
				}
				c.line++
				c.recLine = c.line
				i += j
				continue
			}
		}
		if c.inQuote {
			// note: inside quotes only the closing quote matters.
			j := bytes.IndexByte(p[i:], '"')
			if j < 0 {
				c.line += int64(bytes.Count(p[i:], []byte{'\n'}))
				return nil
			}
			c.line += int64(bytes.Count(p[i:i+j], []byte{'\n'}))
			i += j
			c.inQuote = false
			continue
		}
		switch c.class[p[i]] {
		case byteOther:
			c.content = true
		case byteQuote:
			c.inQuote, c.content = true, true
		case byteDelim:
			c.fields++
			c.content = true
		case byteLF:
			if bad := c.endRecord(); bad != nil {
				return bad
			}
			c.line++
			c.recLine = c.line
		}
	}
	return nil
}

// endRecord checks the record just ended; an empty line is no record, as
// in DuckDB.
func (c *fieldCounter) endRecord() *badRecord {
	defer func() { c.fields, c.content = 0, false }()
	if !c.content {
		return nil
	}
	if n := c.fields + 1; n != c.want {
		return &badRecord{line: c.recLine, values: n}
	}
	return nil
}

// end checks the last record, which may have no line end.
func (c *fieldCounter) end() *badRecord {
	if c.inQuote {
		return &badRecord{line: c.recLine, unclosed: true}
	}
	return c.endRecord()
}

// refuse words a bad record as readHeader's row check does.
func (c *fieldCounter) refuse(bad *badRecord, h *headerInfo) error {
	if bad.unclosed {
		return Errorf(BadRequest, "Line %d opens a quoted value (\") that is never closed, so the rest of the file would read as one value; close the quote or remove it.", bad.line)
	}
	return Errorf(BadRequest, "%s", raggedRow(bad.line, int64(bad.values), h))
}

// raggedRow words a row whose number of values differs from the header's.
func raggedRow(line, values int64, h *headerInfo) string {
	if len(h.names) == 1 {
		// note: a text file (a README, a log) reads as a one-column table
		// until a line with a comma; a count of values misleads there.
		return fmt.Sprintf("This does not look like a catalog table: its header (line %d) is a single column, and line %d has %d values separated by %s. ExoHunter reads CSV tables with a header line of column names.",
			h.line, line, values, delimName(h.delim))
	}
	return fmt.Sprintf("Line %d has %d values but the header (line %d) has %d columns separated by %s; every row needs one value per column.",
		line, values, h.line, len(h.names), delimName(h.delim))
}
