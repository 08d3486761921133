package engine

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// delimiters are the CSV separators ExoHunter accepts, in tie-break order.
var delimiters = []byte{',', '\t', ';', '|'}

// headerInfo is what Go reads from the header line before DuckDB sniffs the
// file: the delimiter and the column names as written.
type headerInfo struct {
	delim byte
	names []string
	line  int // 1-based line number of the header in the file
}

// delimName names a delimiter in messages.
func delimName(d byte) string {
	switch d {
	case '\t':
		return "tab"
	case ',':
		return "comma"
	case ';':
		return "semicolon"
	case '|':
		return "pipe"
	}
	return fmt.Sprintf("%q", d)
}

// readHeader reads the header line and checks the first data rows in the
// scanned prefix: a delimiter that the header uses, at most maxColumns
// columns, short and unique names, and the same number of values on each
// of the first rows. It runs before DuckDB sees the file, so that ragged,
// mixed-delimiter and duplicate-column files get a precise sentence.
func readHeader(s *textScan) (*headerInfo, error) {
	if !s.bodyFound {
		return nil, Errorf(BadRequest, "The file holds only # comment lines or blank lines: there is no header and no table.")
	}
	body := s.prefix[s.bodyOffset:]
	if s.bodyOffset == 0 {
		body = bytes.TrimPrefix(body, utf8BOM)
	}
	if isIPAC(headLine(body)) {
		return nil, Errorf(BadRequest, "The file is an IPAC table (the archive's .tbl format, with \\keyword lines and a |col|col| header), not a CSV file. Download the table from the NASA Exoplanet Archive in CSV format instead (choose CSV as the download format, or format=csv in a TAP query).")
	}
	if err := checkLineEnds(s); err != nil {
		return nil, err
	}
	if s.crlfEnds > 0 && s.lfEnds > 0 {
		return nil, Errorf(BadRequest, "The file mixes line endings: %d lines end in CRLF (Windows) and %d in LF alone (Unix), which DuckDB cannot read. Save it with one line-ending style (for example, re-save it from a spreadsheet or run dos2unix).", s.crlfEnds, s.lfEnds)
	}
	complete := int64(len(s.prefix)) == s.total
	if !complete {
		// note: only whole lines; the last one in the prefix may be cut.
		if i := bytes.LastIndexByte(body, '\n'); i >= 0 {
			body = body[:i+1]
		}
	}
	h := &headerInfo{delim: pickDelimiter(headLine(body)), line: s.skip + 1}
	r := csv.NewReader(bytes.NewReader(body))
	r.Comma = rune(h.delim)
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	names, err := r.Read()
	if err != nil {
		return nil, Wrap(BadRequest, err, "The header line cannot be read as CSV")
	}
	h.names = append([]string(nil), names...)
	if err := h.checkNames(s.limits); err != nil {
		return nil, err
	}
	return h, h.checkRows(r, s.limits.headCheckLines, s.skip)
}

// isIPAC reports whether the first table line is the start of an IPAC
// table, the NASA Exoplanet Archive's other download format: a \keyword
// line, or a |col|col| header (a pipe-separated CSV header does not open
// and close with the delimiter).
func isIPAC(line []byte) bool {
	t := bytes.TrimSpace(line)
	return bytes.HasPrefix(t, []byte(`\`)) ||
		(len(t) > 1 && t[0] == '|' && t[len(t)-1] == '|')
}

// checkLineEnds refuses a # block whose lines end differently from the
// table's (LF versus CRLF): DuckDB then skips the wrong lines.
func checkLineEnds(s *textScan) error {
	if s.skip == 0 {
		return nil
	}
	pre := s.prefix[:s.bodyOffset]
	line := headLine(s.prefix[s.bodyOffset:])
	end := s.bodyOffset + len(line)
	headerCRLF := end < len(s.prefix) && end > 0 && s.prefix[end-1] == '\r'
	blockCRLF := bytes.HasSuffix(pre, []byte("\r\n"))
	if headerCRLF != blockCRLF {
		return Errorf(BadRequest, "The # comment block and the table use different line endings (one LF, the other CRLF). Save the file with one line-ending style.")
	}
	return nil
}

// headLine returns b up to (not including) its first '\n'.
func headLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// pickDelimiter returns the candidate that occurs most often outside quotes
// in the header line; a comma when none occurs.
func pickDelimiter(line []byte) byte {
	var counts [256]int
	inQuote := false
	for _, c := range line {
		if c == '"' {
			inQuote = !inQuote
		} else if !inQuote {
			counts[c]++
		}
	}
	best := byte(',')
	for _, d := range delimiters {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

// checkNames enforces the column count and name limits and refuses
// duplicate names. DuckDB would silently rename a duplicate to name_1, and
// identifiers are case-insensitive in SQL, so "A" and "a" collide too.
func (h *headerInfo) checkNames(l ingestLimits) error {
	if len(h.names) > l.maxColumns {
		return Errorf(TooLarge, "The file has %d columns; ExoHunter reads at most %d.", len(h.names), l.maxColumns)
	}
	if n, example := numericNames(h.names); n >= 2 && 2*n > nonEmpty(h.names) {
		// note: before the duplicate check: a data row's repeated 0s
		// would otherwise read as a column name given twice.
		return Errorf(BadRequest, "The first line looks like data, not a header: ExoHunter needs a header line with column names (such as kepoi_name,koi_period,koi_prad). %d of the %d values on line %d are numbers (for example %q); add the table's header line back as its first line.", n, len(h.names), h.line, example)
	}
	seen := make(map[string]int, len(h.names))
	for i, n := range h.names {
		if len(n) > l.maxNameBytes {
			return Errorf(BadRequest, "Column %d of the header is %d bytes long, which is not a column name; the header (line %d) must list the column names separated by commas, tabs, semicolons or pipes.", i+1, len(n), h.line)
		}
		key := strings.ToLower(strings.TrimSpace(n))
		if key == "" {
			continue
		}
		if j, ok := seen[key]; ok {
			return Errorf(BadRequest, "The column name %q appears twice in the header (columns %d and %d). Rename one of them so every column has its own name.", n, j+1, i+1)
		}
		seen[key] = i
	}
	return nil
}

// numericNames counts the names that are numbers, as in a data row, and
// returns the first of them.
func numericNames(names []string) (n int, first string) {
	for _, name := range names {
		v := strings.TrimSpace(name)
		if v == "" || !strings.ContainsAny(v[:1], "0123456789+-.") {
			continue // note: ParseFloat also reads "inf" and "nan"
		}
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			if n == 0 {
				first = v
			}
			n++
		}
	}
	return n, first
}

// nonEmpty counts the names that are not blank.
func nonEmpty(names []string) int {
	n := 0
	for _, name := range names {
		if strings.TrimSpace(name) != "" {
			n++
		}
	}
	return n
}

// checkRows reads up to max data records and refuses the first one whose
// number of values differs from the header's.
func (h *headerInfo) checkRows(r *csv.Reader, max, skip int) error {
	for range max {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return Wrap(BadRequest, err, "The first rows cannot be read as CSV")
		}
		if len(rec) == len(h.names) {
			continue
		}
		line, _ := r.FieldPos(0)
		msg := raggedRow(int64(line+skip), int64(len(rec)), h)
		if alt := otherDelimiter(rec, h.delim, len(h.names)); alt != 0 {
			msg += fmt.Sprintf(" This row seems to use %s instead: the file mixes delimiters.", delimName(alt))
		}
		return Errorf(BadRequest, "%s", msg)
	}
	return nil
}

// otherDelimiter returns a delimiter that would split a one-field record
// into want values, or 0.
func otherDelimiter(rec []string, used byte, want int) byte {
	if len(rec) != 1 || want < 2 {
		return 0
	}
	for _, d := range delimiters {
		if d != used && strings.Count(rec[0], string(d)) == want-1 {
			return d
		}
	}
	return 0
}
