package engine

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// scanResult is what a textScan reports, for comparisons.
type scanResult struct {
	Err                 string
	Skip, BodyOffset    int
	Quoted, Lines       int64
	CRLF, LF            int64
	InQuote, CROnly     bool
	BodyFound, NoHeader bool
}

// scanChunks feeds data to a new textScan in chunks of size n (0: whole).
func scanChunks(data []byte, n int) scanResult {
	s := newTextScan(defaultIngestLimits)
	var err error
	for len(data) > 0 && err == nil {
		k := len(data)
		if n > 0 && n < k {
			k = n
		}
		_, err = s.Write(data[:k])
		data = data[k:]
	}
	if err == nil {
		err = s.finish(0)
	}
	r := scanResult{Skip: s.skip, BodyOffset: s.bodyOffset, Quoted: s.recQuoted, Lines: s.recLines, CRLF: s.crlfEnds, LF: s.lfEnds,
		InQuote: s.inQuote, CROnly: s.crOnly(), BodyFound: s.bodyFound, NoHeader: s.noHeader}
	if err != nil {
		r = scanResult{Err: ErrorMessage(err)}
	}
	return r
}

// TestTextScan counts records the way DuckDB reads them, whatever the
// chunking.
func TestTextScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		text                string
		skip                int
		wantQuoted, wantRaw int64
	}{
		{name: "plain", text: "a,b\n1,2\n3,4\n", wantQuoted: 3, wantRaw: 3},
		{name: "no final newline", text: "a,b\n1,2\n3,4", wantQuoted: 3, wantRaw: 3},
		{name: "crlf", text: "a,b\r\n1,2\r\n3,4\r\n", wantQuoted: 3, wantRaw: 3},
		{name: "blank lines", text: "a,b\n\n1,2\r\n\r\n3,4\n\n", wantQuoted: 3, wantRaw: 3},
		{name: "nasa block", text: "# x\n# COLUMN a: A [d]\n#\na,b\n1,2\n", skip: 3, wantQuoted: 2, wantRaw: 2},
		{name: "quote in the block", text: "# say \"hi\n#\na,b\n1,2\n", skip: 2, wantQuoted: 2, wantRaw: 2},
		{name: "leading blank line", text: "\na,b\n1,2\n", skip: 1, wantQuoted: 2, wantRaw: 2},
		{name: "quoted newline", text: "a,b\n\"x\ny\",2\n3,4\n", wantQuoted: 3, wantRaw: 4},
		{name: "escaped quotes", text: "a,b\n\"he said \"\"hi\"\"\",2\n", wantQuoted: 2, wantRaw: 2},
		{name: "hash in values", text: "a,b\nYal&#x131;nkaya,2\n", wantQuoted: 2, wantRaw: 2},
		{name: "bom", text: "\xEF\xBB\xBFa,b\n1,2\n", wantQuoted: 2, wantRaw: 2},
		{name: "multibyte", text: "a,b\nÅngström,☉\n", wantQuoted: 2, wantRaw: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			whole := scanChunks([]byte(tc.text), 0)
			want := scanResult{Skip: tc.skip, BodyOffset: whole.BodyOffset, Quoted: tc.wantQuoted, Lines: tc.wantRaw, BodyFound: true, CRLF: whole.CRLF, LF: whole.LF}
			if diff := cmp.Diff(want, whole); diff != "" {
				t.Errorf("whole (-want +got):\n%s", diff)
			}
			for _, n := range []int{1, 2, 3, 7} {
				if diff := cmp.Diff(whole, scanChunks([]byte(tc.text), n)); diff != "" {
					t.Errorf("chunks of %d differ from whole (-whole +chunks):\n%s", n, diff)
				}
			}
		})
	}
}

// TestTextScan_LineEnds counts line ends outside quotes by style.
func TestTextScan_LineEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		text     string
		crlf, lf int64
	}{
		{name: "lf", text: "a,b\n1,2\n", lf: 2},
		{name: "crlf", text: "a,b\r\n1,2\r\n", crlf: 2},
		{name: "mixed", text: "a,b\r\n1,2\n3,4\r\n", crlf: 2, lf: 1},
		{name: "lf inside quotes of a crlf file", text: "a,b\r\n\"x\ny\",2\r\n", crlf: 2},
	}
	for _, tc := range tests {
		for _, n := range []int{0, 1, 2, 5} {
			r := scanChunks([]byte(tc.text), n)
			if r.CRLF != tc.crlf || r.LF != tc.lf {
				t.Errorf("%s, chunks of %d: crlf %d lf %d, want %d %d", tc.name, n, r.CRLF, r.LF, tc.crlf, tc.lf)
			}
		}
	}
}

// TestTextScan_CROnly leaves bare-CR files to DuckDB's count.
func TestTextScan_CROnly(t *testing.T) {
	t.Parallel()
	s := newTextScan(defaultIngestLimits)
	_, _ = s.Write([]byte("a,b\r1,2\r3,4\r"))
	_ = s.finish(0)
	if _, ok := s.dataRows(false); ok || !s.crOnly() {
		t.Errorf("bare CR file: crOnly=%v, count trusted=%v; want true, false", s.crOnly(), ok)
	}
}

// TestTextScan_UTF8AcrossChunks accepts a multibyte rune cut by a chunk
// boundary and refuses a truncated one at EOF.
func TestTextScan_UTF8AcrossChunks(t *testing.T) {
	t.Parallel()
	text := []byte("a,b\nAngstr\xc3\xb6m,\xe2\x98\x89\n")
	for n := 1; n < len(text); n++ {
		if r := scanChunks(text, n); r.Err != "" {
			t.Errorf("chunks of %d: %s", n, r.Err)
		}
	}
	if r := scanChunks([]byte("a,b\n1,\xe2\x98"), 0); !strings.Contains(r.Err, "middle of a character") {
		t.Errorf("truncated rune: %+v", r)
	}
}

// FuzzTextScan checks that chunking never changes what the scan reports,
// and that a valid report never comes with invalid UTF-8 or a NUL byte.
func FuzzTextScan(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "# x\n#\na;b\r\n\"1\n\";2\r\n", "\xEF\xBB\xBFa\n\n1\n", "a\n\"\"\"\n", "a,b\r1,2\r"} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		whole := scanChunks(data, 0)
		got := scanChunks(data, int(chunk%17)+1)
		if whole.Err != "" && got.Err != "" {
			// note: which of two faults is reported first may depend on
			// chunking (a NUL later in the chunk that holds bad UTF-8).
			got.Err = whole.Err
		}
		if !cmp.Equal(whole, got) {
			t.Fatalf("chunked scan differs:\n%s", cmp.Diff(whole, got))
		}
		if whole.Err == "" && (!utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0) {
			t.Fatalf("accepted invalid text %q", data)
		}
	})
}

// FuzzReadHeader checks that the Go header reader never panics and that a
// header it accepts has no duplicate names and a supported delimiter.
func FuzzReadHeader(f *testing.F) {
	for _, s := range []string{koiHeader + koiRow, "a;b\n1;2\n", "a\tb\n1\t2\n", "\"a,b\"|c\n1|2\n", "a,a\n1,2\n", "# c\n#\nx\n1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newTextScan(defaultIngestLimits)
		if _, err := s.Write(data); err != nil {
			return
		}
		if err := s.finish(0); err != nil {
			return
		}
		h, err := readHeader(s)
		if err != nil {
			if ErrorCode(err) == Internal {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		if bytes.IndexByte(delimiters, h.delim) < 0 {
			t.Fatalf("delimiter %q", h.delim)
		}
		seen := map[string]bool{}
		for _, n := range h.names {
			k := strings.ToLower(strings.TrimSpace(n))
			if k != "" && seen[k] {
				t.Fatalf("duplicate %q accepted", n)
			}
			seen[k] = true
		}
	})
}
