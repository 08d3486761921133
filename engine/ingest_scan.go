package engine

import (
	"bytes"
	"unicode/utf8"
)

// utf8BOM is the byte order mark some tools write at the start of UTF-8
// text. DuckDB skips it; so do we.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// textScan inspects CSV text in one streaming pass while it is stored. It
// keeps the first bytes (for the # block, the header and the first rows)
// and counts records from the header line on, both quote-aware (for files
// that quote with ") and by lines (for files DuckDB reads without quotes),
// so the row count costs no second parse. Empty lines are not records, as
// in DuckDB. It refuses NUL bytes and text that is not UTF-8.
type textScan struct {
	limits ingestLimits
	prefix []byte // the first limits.prefixBytes bytes of text
	total  int64  // text bytes seen
	lfAll  int64  // '\n' bytes seen anywhere, for line numbers in messages

	bodyFound  bool // the header line has been located
	noHeader   bool // only comments and blank lines
	bodyOffset int  // offset of the header line in prefix
	skip       int  // leading # and blank lines: read_csv skip=

	recQuoted, recLines int64 // records from the header on
	inQuote             bool
	curQuoted, curLines bool // the current record has content
	sawLF               bool
	crs                 int64 // '\r' bytes, counted only until a '\n' shows up
	crlfEnds, lfEnds    int64 // record ends outside quotes, by style
	lastCR              bool  // the previous chunk ended in '\r'
	sawQuote            bool  // a '"' occurs after the # block

	carry  [utf8.UTFMax]byte // an incomplete rune at a chunk boundary
	nCarry int
}

// newTextScan returns an empty scan with the given limits.
func newTextScan(l ingestLimits) *textScan {
	return &textScan{limits: l, prefix: make([]byte, 0, 64<<10)}
}

// Write implements io.Writer.
func (s *textScan) Write(p []byte) (int, error) {
	if i := bytes.IndexByte(p, 0); i >= 0 {
		return 0, Errorf(BadRequest, "The file contains NUL bytes (first on line %d): it looks like binary data or UTF-16 text, not a UTF-8 CSV file.", s.lineAt(p, i))
	}
	if i := s.invalidUTF8(p); i >= 0 {
		return 0, Errorf(BadRequest, "The file is not UTF-8 text (first invalid byte on line %d). Save it as UTF-8 CSV (in Excel: \"CSV UTF-8\").", s.lineAt(p, i))
	}
	kept := 0
	if room := s.limits.prefixBytes - len(s.prefix); room > 0 {
		kept = min(room, len(p))
		s.prefix = append(s.prefix, p[:kept]...)
	}
	s.total += int64(len(p))
	s.lfAll += int64(bytes.Count(p, []byte{'\n'}))
	if s.bodyFound {
		s.count(p)
		return len(p), nil
	}
	if !s.locateBody(false) {
		if kept < len(p) {
			return 0, Errorf(TooLarge, "The file starts with more than %s of # comment lines and no header.", humanBytes(int64(s.limits.prefixBytes)))
		}
		return len(p), nil
	}
	// note: everything seen so far from the header on is either in prefix or
	// in the part of p that did not fit.
	s.count(s.prefix[s.bodyOffset:])
	s.count(p[kept:])
	return len(p), nil
}

// finish ends the scan at EOF.
func (s *textScan) finish(int64) error {
	if s.nCarry > 0 {
		return Errorf(BadRequest, "The file is not UTF-8 text: it ends in the middle of a character.")
	}
	if !s.bodyFound {
		s.locateBody(true)
		if s.bodyFound {
			s.count(s.prefix[s.bodyOffset:])
		}
	}
	if s.curQuoted {
		s.recQuoted++
	}
	if s.curLines {
		s.recLines++
	}
	return nil
}

// lineAt returns the 1-based line number of byte i of chunk p.
func (s *textScan) lineAt(p []byte, i int) int64 {
	return s.lfAll + int64(bytes.Count(p[:i], []byte{'\n'})) + 1
}

// crOnly reports a file whose lines end in a bare '\r' (old Mac style).
// The line counts do not apply to it.
func (s *textScan) crOnly() bool { return !s.sawLF && s.crs > 0 }

// locateBody finds the header line after the leading # and blank lines. It
// needs the header line's end unless final (EOF) is set.
func (s *textScan) locateBody(final bool) bool {
	b := s.prefix
	off := 0
	if bytes.HasPrefix(b, utf8BOM) {
		off = len(utf8BOM)
	}
	sep := byte('\n')
	if bytes.IndexByte(b, '\n') < 0 && bytes.IndexByte(b, '\r') >= 0 {
		sep = '\r'
		if !final && len(b) < s.limits.prefixBytes {
			// note: a '\n' may still come in a later chunk ("\r00\r" then
			// "\n"), which makes the lines end in '\n' after all; decide as
			// the whole prefix would, once it is full or at EOF.
			return false
		}
	}
	skip := 0
	for {
		rest := b[off:]
		i := bytes.IndexByte(rest, sep)
		line := rest
		if i >= 0 {
			line = rest[:i]
		} else if !final {
			return false
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			s.bodyOffset, s.skip, s.bodyFound = off, skip, true
			return true
		}
		if i < 0 {
			s.noHeader, s.skip = true, skip
			return false
		}
		skip++
		off += i + 1
	}
}

// count advances the record counters over p.
func (s *textScan) count(p []byte) {
	if len(p) == 0 {
		return
	}
	if !s.sawLF {
		s.crs += int64(bytes.Count(p, []byte{'\r'}))
	}
	defer func(last byte) { s.lastCR = last == '\r' }(p[len(p)-1])
	if !s.inQuote && bytes.IndexByte(p, '"') < 0 {
		s.countLines(p)
		return
	}
	s.sawQuote = true
	prevCR := s.lastCR
	for _, c := range p {
		switch c {
		case '"':
			s.inQuote = !s.inQuote
			s.curQuoted, s.curLines = true, true
		case '\n':
			s.sawLF = true
			if s.curLines {
				s.recLines++
			}
			s.curLines = false
			if !s.inQuote {
				s.countEnd(prevCR)
				if s.curQuoted {
					s.recQuoted++
				}
				s.curQuoted = false
			}
		case '\r':
		default:
			s.curQuoted, s.curLines = true, true
		}
		prevCR = c == '\r'
	}
}

// countLines is count for text without quote characters: one record per
// non-empty line.
func (s *textScan) countLines(p []byte) {
	prevCR := s.lastCR
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if hasContent(p) {
				s.curQuoted, s.curLines = true, true
			}
			return
		}
		s.sawLF = true
		s.countEnd((i > 0 && p[i-1] == '\r') || (i == 0 && prevCR))
		content := hasContent(p[:i])
		if s.curQuoted || content {
			s.recQuoted++
		}
		if s.curLines || content {
			s.recLines++
		}
		s.curQuoted, s.curLines = false, false
		p = p[i+1:]
		prevCR = false
	}
}

// countEnd tallies one line end by style.
func (s *textScan) countEnd(crlf bool) {
	if crlf {
		s.crlfEnds++
	} else {
		s.lfEnds++
	}
}

// hasContent reports whether a piece of a line holds anything but '\r'.
func hasContent(b []byte) bool {
	if len(b) > 0 && b[0] != '\r' {
		return true
	}
	return len(bytes.Trim(b, "\r")) > 0
}

// invalidUTF8 returns the offset in p of the first byte that is not valid
// UTF-8, or -1. A rune cut by the chunk boundary is carried to the next
// call.
func (s *textScan) invalidUTF8(p []byte) int {
	start := 0
	if s.nCarry > 0 {
		for start < len(p) && !utf8.FullRune(s.carry[:s.nCarry]) {
			s.carry[s.nCarry] = p[start]
			s.nCarry++
			start++
		}
		if !utf8.FullRune(s.carry[:s.nCarry]) {
			return -1
		}
		r, size := utf8.DecodeRune(s.carry[:s.nCarry])
		if r == utf8.RuneError && size <= 1 {
			return 0
		}
		s.nCarry = 0
	}
	body := p[start:]
	cut := len(body)
	for i := len(body) - 1; i >= 0 && i >= len(body)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(body[i]) {
			if !utf8.FullRune(body[i:]) {
				cut = i
			}
			break
		}
	}
	if !utf8.Valid(body[:cut]) {
		return start + firstInvalid(body[:cut])
	}
	s.nCarry = copy(s.carry[:], body[cut:])
	return -1
}

// firstInvalid returns the offset of the first invalid UTF-8 byte in b.
func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// newLine returns the line end every record uses ("\n" or "\r\n", in
// DuckDB's escaped spelling), or "" when it is not one style.
func (s *textScan) newLine() string {
	switch {
	case s.crlfEnds > 0 && s.lfEnds == 0:
		return `\r\n`
	case s.lfEnds > 0 && s.crlfEnds == 0:
		return `\n`
	}
	return ""
}

// dataRows returns the number of data rows (header excluded) for a file
// read with or without quoting, and false when the count cannot be trusted
// (bare-CR line ends, or an unterminated quote).
func (s *textScan) dataRows(quoted bool) (int64, bool) {
	if s.crOnly() || (quoted && s.inQuote) {
		return 0, false
	}
	n := s.recLines
	if quoted {
		n = s.recQuoted
	}
	if n == 0 {
		return 0, true
	}
	return n - 1, true
}
