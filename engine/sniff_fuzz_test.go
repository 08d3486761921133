package engine

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// FuzzSniffDialect writes valid tables in every dialect ExoHunter accepts
// (comma, tab, semicolon or pipe; LF or CRLF; with or without a UTF-8 BOM
// and a NASA # block; quoted cells holding delimiters and quotes) from
// fuzzed names and cells, and checks that the Go side of the dialect
// sniffing reads them back exactly: the delimiter, the column names, the
// header's line, the rows counted, and no refusal. FuzzReadHeader checks
// arbitrary bytes; this checks that valid files are never refused or
// misread.
func FuzzSniffDialect(f *testing.F) {
	f.Add([]byte("kepoi_name koi_period koi_prad"), []byte("K1,2|3;4\"5"), uint8(0), uint8(3), uint8(2), false, false, false)
	f.Add([]byte("a b"), []byte("x\ty"), uint8(1), uint8(2), uint8(1), true, true, true)
	f.Add([]byte("pl_name;hostname"), []byte("\"q\";;"), uint8(2), uint8(2), uint8(5), false, true, false)
	f.Add([]byte("ra dec"), []byte("1 2 3"), uint8(3), uint8(2), uint8(0), true, false, true)
	f.Fuzz(func(t *testing.T, nameSeed, cellSeed []byte, delimIdx, ncols, nrows uint8, crlf, bom, block bool) {
		delim := delimiters[int(delimIdx)%len(delimiters)]
		names := fuzzNames(nameSeed, int(ncols)%12+2)
		rows := int(nrows) % 20
		var buf bytes.Buffer
		if bom {
			buf.Write(utf8BOM)
		}
		eol := "\n"
		if crlf {
			eol = "\r\n"
		}
		skip := 0
		if block {
			for _, l := range []string{"# This file was produced by the NASA Exoplanet Archive", "#", "# COLUMN " + names[0] + ": a name", "#"} {
				buf.WriteString(l + eol)
				skip++
			}
		}
		w := csv.NewWriter(&buf)
		w.Comma, w.UseCRLF = rune(delim), crlf
		_ = w.Write(names)
		for r := range rows {
			rec := make([]string, len(names))
			for c := range rec {
				rec[c] = fuzzCell(cellSeed, r*len(names)+c)
			}
			_ = w.Write(rec)
		}
		w.Flush()
		data := buf.Bytes()

		s := newTextScan(defaultIngestLimits)
		if _, err := s.Write(data); err != nil {
			t.Fatalf("valid table refused by the scan: %v\n%q", err, data)
		}
		if err := s.finish(0); err != nil {
			t.Fatalf("valid table refused at the end of the scan: %v\n%q", err, data)
		}
		h, err := readHeader(s)
		if err != nil {
			t.Fatalf("valid table refused: %v\n%q", err, data)
		}
		if h.delim != delim {
			t.Fatalf("delimiter %q, want %q\n%q", h.delim, delim, data)
		}
		if !slices.Equal(h.names, names) {
			t.Fatalf("names %q, want %q\n%q", h.names, names, data)
		}
		if h.line != skip+1 {
			t.Fatalf("header on line %d, want %d\n%q", h.line, skip+1, data)
		}
		if n, ok := s.dataRows(s.sawQuote); !ok || n != int64(rows) {
			t.Fatalf("rows %d (%v), want %d\n%q", n, ok, rows, data)
		}
	})
}

// fuzzNames makes n distinct column names (case-insensitively) from seed:
// letters, digits, underscores, spaces inside, and no delimiter, quote or
// line end, like real catalog headers.
func fuzzNames(seed []byte, n int) []string {
	names := make([]string, n)
	seen := map[string]bool{}
	for i := range names {
		var b strings.Builder
		for j := 0; j < 12 && len(seed) > 0; j++ {
			c := seed[(i*12+j)%len(seed)]
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
				b.WriteByte(c)
			case c == ' ' && b.Len() > 0:
				b.WriteByte('_')
			}
		}
		name := fmt.Sprintf("c%d_%s", i, b.String())
		if seen[strings.ToLower(name)] {
			name = fmt.Sprintf("c%d", i)
		}
		seen[strings.ToLower(name)] = true
		names[i] = name
	}
	return names
}

// fuzzCell makes the k-th cell from seed: a number, empty, or text that
// may hold any delimiter and quotes (csv.Writer quotes it as needed), but
// no line end and no NUL (not valid in a CSV cell here).
func fuzzCell(seed []byte, k int) string {
	if len(seed) == 0 {
		return fmt.Sprint(k)
	}
	c := seed[k%len(seed)]
	switch c % 4 {
	case 0:
		return fmt.Sprintf("%d.%d", k, c)
	case 1:
		return ""
	}
	var b strings.Builder
	for j := range int(c%7) + 1 {
		x := seed[(k+j)%len(seed)]
		if x == '\n' || x == '\r' || x == 0 || x >= 0x80 {
			x = 'x'
		}
		b.WriteByte(x)
	}
	return b.String()
}
