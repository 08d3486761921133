package reliability

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Hostile is one file of the hostile-upload corpus: what a scientist (or
// an attacker) might send, and the answer the server must give.
type Hostile struct {
	// Name names the case (and its file under testdata/hostile/).
	Name string
	// FileName is the client file name sent with the upload.
	FileName string
	// Data builds the bytes. Parquet cases need a valid Parquet file to
	// damage, given as parquet.
	Data func(parquet []byte) []byte
	// Status is the expected HTTP status; Say is a fragment of the
	// message the scientist reads.
	Status int
	Say    string
}

// hostileRow is one valid row of KOIHeader.
const hostileRow = "10000001,K00001.01,,CONFIRMED,2.47,0.0001,-0.0001,3.1,800,0.2,12.1,0.3,-0.3,1200,300,5800,4.4,1.1\n"

// HostileCorpus is every refused upload of issue 9's hostile-input list,
// written by the tests (no binary fixture is committed).
func HostileCorpus() []Hostile {
	fixed := func(s string) func([]byte) []byte { return func([]byte) []byte { return []byte(s) } }
	valid := KOIHeader + hostileRow
	return []Hostile{
		{"empty", "empty.csv", fixed(""), 400, "empty"},
		{"header_only", "header.csv", fixed(KOIHeader), 400, "no data rows"},
		{"binary", "koi.csv", randomBytes(64 << 10), 400, ""},
		{"truncated_gzip", "koi.csv.gz", truncatedGzip, 400, "truncated"},
		{"parquet_corrupt_footer", "koi.parquet", func(p []byte) []byte { return p[:len(p)-3] }, 400, "Parquet"},
		{"parquet_corrupt_metadata", "koi.parquet", scrambledParquet, 400, "Parquet"},
		{"csv_named_parquet", "koi.parquet", fixed(valid), 400, "not Parquet"},
		{"10000_columns", "wide.csv", wideCSV(10_000), 413, "10000 columns"},
		{"1MB_single_line", "line.csv", fixed(strings.Repeat("x", 1<<20)), 400, "column name"},
		{"1MB_line_of_values", "line.csv", fixed(strings.Repeat("1,", 1<<19)), 413, "columns"},
		{"mixed_delimiters", "mixed.csv", fixed(KOIHeader + strings.ReplaceAll(hostileRow, ",", ";")), 400, "delimiter"},
		{"ragged_rows", "ragged.csv", fixed(valid + "10000002,K00002.01,,CANDIDATE\n"), 400, "Line 3"},
		{"mixed_line_endings", "eol.csv", fixed(KOIHeader + strings.ReplaceAll(hostileRow, "\n", "\r\n") + hostileRow), 400, "line endings"},
		{"utf16le_bom", "koi.csv", utf16Text([]byte{0xFF, 0xFE}, false), 400, "UTF-16"},
		{"utf16be_bom", "koi.csv", utf16Text([]byte{0xFE, 0xFF}, true), 400, "UTF-16"},
		{"utf16le_no_bom", "koi.csv", utf16Text(nil, false), 400, "NUL"},
		{"utf32le_bom", "koi.csv", fixed("\xFF\xFE\x00\x00k\x00\x00\x00"), 400, "UTF-32"},
		{"latin1", "koi.csv", fixed(valid + "10000002,K\xe9\xe8.01,,CANDIDATE,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n"), 400, "UTF-8"},
		{"nul_bytes", "koi.csv", fixed(KOIHeader + strings.Replace(hostileRow, "K00001", "K00\x00001", 1)), 400, "NUL"},
		{"gzip_bomb", "bomb.csv.gz", gzipBomb, 413, "expands"},
		{"gzip_bomb_named_csv", "bomb.csv", gzipBomb, 0, ""},
		{"zip_named_gzip", "koi.csv.gz", zipOf("koi.csv", valid), 400, "zip"},
		{"only_comments", "comments.csv", fixed("# only\n# comments\n"), 400, "comment"},
		{"no_known_columns", "shopping.csv", fixed("item,price\napple,1\n"), 400, "None of the columns"},
		{"duplicate_columns", "dup.csv", fixed("kepoi_name,koi_period,KOI_PERIOD\nK1,1,2\n"), 400, "twice"},
		{"html_page", "koi.csv", fixed("<!DOCTYPE html><html><body>Not Found</body></html>\n"), 400, ""},
	}
}

// WriteCorpus writes every case to dir (one file per case, named
// <name>__<client file name>) and returns the paths. Parquet cases damage
// parquet.
func WriteCorpus(dir string, parquet []byte) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, h := range HostileCorpus() {
		p := filepath.Join(dir, h.Name+"__"+h.FileName)
		tmp, err := os.CreateTemp(dir, ".tmp-*")
		if err != nil {
			return nil, err
		}
		_, werr := tmp.Write(h.Data(parquet))
		cerr := tmp.Close()
		if werr != nil || cerr != nil {
			os.Remove(tmp.Name())
			return nil, firstErr(werr, cerr)
		}
		// note: rename, so parallel runs never read a half-written file.
		if err := os.Rename(tmp.Name(), p); err != nil {
			return nil, err
		}
		out[h.Name] = p
	}
	return out, nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// randomBytes returns n pseudo-random bytes (a fixed seed).
func randomBytes(n int) func([]byte) []byte {
	return func([]byte) []byte {
		r := rand.New(rand.NewPCG(7, 7))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
}

// gzipOf compresses data.
func gzipOf(data []byte, level int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, level)
	_, _ = zw.Write(data)
	_ = zw.Close()
	return buf.Bytes()
}

// truncatedGzip is half of a gzip file.
func truncatedGzip([]byte) []byte {
	gz := gzipOf([]byte(KOIHeader+strings.Repeat(hostileRow, 4000)), gzip.DefaultCompression)
	return gz[:len(gz)/2]
}

// gzipBomb is a valid gzip CSV that expands about a thousand times: 256
// MiB of one repeated row in about a quarter of a MiB. Only a bound on
// the expansion stops it (the text itself is fine).
var gzipBombBytes []byte

// gzipBomb returns the bomb (built once).
func gzipBomb([]byte) []byte {
	if gzipBombBytes == nil {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write([]byte(KOIHeader))
		line := bytes.Repeat([]byte(hostileRow), 1<<12)
		for range (256 << 20) / len(line) {
			_, _ = zw.Write(line)
		}
		_ = zw.Close()
		gzipBombBytes = buf.Bytes()
	}
	return gzipBombBytes
}

// zipOf returns a zip archive holding one file.
func zipOf(name, content string) func([]byte) []byte {
	return func([]byte) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create(name)
		_, _ = w.Write([]byte(content))
		_ = zw.Close()
		return buf.Bytes()
	}
}

// utf16Text encodes a small valid table as UTF-16 after bom.
func utf16Text(bom []byte, bigEndian bool) func([]byte) []byte {
	return func([]byte) []byte {
		b := append([]byte(nil), bom...)
		for _, u := range utf16.Encode([]rune(KOIHeader + hostileRow)) {
			if bigEndian {
				b = append(b, byte(u>>8), byte(u))
			} else {
				b = append(b, byte(u), byte(u>>8))
			}
		}
		return b
	}
}

// wideCSV has n columns and one row.
func wideCSV(n int) func([]byte) []byte {
	return func([]byte) []byte {
		var h, r strings.Builder
		for i := range n {
			if i > 0 {
				h.WriteByte(',')
				r.WriteByte(',')
			}
			h.WriteString("c" + strconv.Itoa(i))
			r.WriteString("1")
		}
		return []byte(h.String() + "\n" + r.String() + "\n")
	}
}

// scrambledParquet keeps the trailing length and PAR1 of a Parquet file
// and scrambles the metadata before them.
func scrambledParquet(p []byte) []byte {
	b := append([]byte(nil), p...)
	for i := max(4, len(b)-200); i < len(b)-8; i++ {
		b[i] = 0xAB
	}
	return b
}
