package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

// koiHeader is a small header the mapping recognises.
const koiHeader = "kepoi_name,kepid,koi_disposition,koi_period,koi_prad,koi_steff\n"

// koiRow is one valid data row for koiHeader.
const koiRow = "K00001.01,10000001,CONFIRMED,2.47,12.1,5800\n"

// hostileCase is one file that Ingest must refuse without side effects.
type hostileCase struct {
	name     string
	file     string // client file name
	data     func(t *testing.T) []byte
	wantCode Code
	wantMsg  string // a fragment of the user-facing message
}

// hostileCases are the bad inputs of issue 2 §7 and issue 9, each written
// by the test itself.
func hostileCases() []hostileCase {
	fixed := func(s string) func(*testing.T) []byte { return func(*testing.T) []byte { return []byte(s) } }
	return []hostileCase{
		{name: "empty", file: "empty.csv", data: fixed(""), wantCode: BadRequest, wantMsg: "is empty"},
		{name: "header only", file: "header.csv", data: fixed(koiHeader), wantCode: BadRequest, wantMsg: "no data rows"},
		{name: "header only without newline", file: "header.csv", data: fixed(strings.TrimSpace(koiHeader)), wantCode: BadRequest, wantMsg: "no data rows"},
		{name: "only comments", file: "comments.csv", data: fixed("# just\n# comments\n#\n"), wantCode: BadRequest, wantMsg: "only # comment lines"},
		{name: "binary garbage", file: "koi.csv", data: randomBytes(5000), wantCode: BadRequest, wantMsg: "not"},
		{name: "wrong extension json", file: "koi.json", data: fixed(koiHeader + koiRow), wantCode: BadRequest, wantMsg: "JSON"},
		{name: "wrong extension parquet", file: "koi.parquet", data: fixed(koiHeader + koiRow), wantCode: BadRequest, wantMsg: "content is not Parquet"},
		{name: "excel workbook", file: "koi.xlsx", data: fixed("PK\x03\x04\x14\x00\x06\x00rest of a zip"), wantCode: BadRequest, wantMsg: "Excel"},
		{name: "a text file", file: "notes.csv", data: fixed("# Notes\n\nsome words\nwords, with, commas\n"), wantCode: BadRequest, wantMsg: "This does not look like a catalog table: its header (line 3) is a single column, and line 4 has 3 values"},
		{name: "ragged rows", file: "ragged.csv", data: fixed(koiHeader + koiRow + "K00002.01,10000002,CANDIDATE\n"), wantCode: BadRequest, wantMsg: "Line 3 has 3 values but the header (line 1) has 6 columns"},
		{name: "mixed delimiters", file: "mixed.csv", data: fixed(koiHeader + strings.ReplaceAll(koiRow, ",", ";")), wantCode: BadRequest, wantMsg: "mixes delimiters"},
		{name: "non-UTF-8 text", file: "latin1.csv", data: fixed(koiHeader + "K00001.01,10000001,CONFIRMED,2.47,12.1,5800\nK\xe9\xe8,1,CANDIDATE,1,1,1\n"), wantCode: BadRequest, wantMsg: "not UTF-8 text (first invalid byte on line 3)"},
		{name: "duplicate column names", file: "dup.csv", data: fixed("kepoi_name,koi_period,KOI_PERIOD\nK1,1,2\n"), wantCode: BadRequest, wantMsg: `"KOI_PERIOD" appears twice`},
		{name: "none of the needed columns", file: "shopping.csv", data: fixed("item,price\napple,1.2\npear,0.8\n"), wantCode: BadRequest, wantMsg: "None of the columns"},
		{name: "truncated gzip", file: "koi.csv.gz", data: truncatedGzip, wantCode: BadRequest, wantMsg: "truncated"},
		{name: "gzip name on plain text", file: "koi.csv.gz", data: fixed(koiHeader + koiRow), wantCode: BadRequest, wantMsg: "not gzip-compressed"},
		{name: "gzip name on random bytes", file: "koi.csv.gz", data: randomBytes(5000), wantCode: BadRequest, wantMsg: `"koi.csv.gz" is named like a gzip file but is not one: a gzip file starts with the bytes 1f 8b, and this one starts with 6b 65 70 6f`},
		{name: "IPAC table", file: "koi.tbl", data: fixed("\\fixlen = T\n\\ This file was produced by the NASA Exoplanet Archive\n|kepoi_name|koi_period|koi_prad|\n|      char|    double|  double|\n|          |      days|  R_earth|\n K00001.01     2.4706     13.04\n K00002.01     2.2047     16.1\n"), wantCode: BadRequest, wantMsg: "is an IPAC table"},
		{name: "IPAC table without keywords", file: "koi.txt", data: fixed("|kepoi_name|koi_period|\n|char|double|\n K00001.01 2.4706\n"), wantCode: BadRequest, wantMsg: "Download the table from the NASA Exoplanet Archive in CSV format"},
		{name: "header line removed", file: "koi.csv", data: fixed("10797460,K00752.01,Kepler-227 b,CONFIRMED,CANDIDATE,1.0000,0,0,0,0,9.488035570\n10797460,K00752.02,Kepler-227 c,CONFIRMED,CANDIDATE,0.9690,0,0,0,0,54.418382700\n"), wantCode: BadRequest, wantMsg: "The first line looks like data, not a header: ExoHunter needs a header line with column names"},
		{name: "corrupt parquet footer", file: "koi.parquet", data: corruptParquet(false), wantCode: BadRequest, wantMsg: "footer"},
		{name: "corrupt parquet metadata", file: "koi.parquet", data: corruptParquet(true), wantCode: BadRequest, wantMsg: "not a readable Parquet file"},
		{name: "gzip bomb", file: "bomb.csv.gz", data: gzipBomb, wantCode: TooLarge, wantMsg: "expands more than 200 times its size"},
		{name: "UTF-16 with BOM", file: "koi.csv", data: utf16Text(true), wantCode: BadRequest, wantMsg: "UTF-16"},
		{name: "UTF-16 without BOM", file: "koi.csv", data: utf16Text(false), wantCode: BadRequest, wantMsg: "NUL bytes"},
		{name: "NUL bytes", file: "koi.csv", data: fixed(koiHeader + "K00001.01,1000\x000001,CONFIRMED,2.47,12.1,5800\n"), wantCode: BadRequest, wantMsg: "NUL bytes (first on line 2)"},
		{name: "10000 columns", file: "wide.csv", data: wideCSV(10000), wantCode: TooLarge, wantMsg: "10000 columns"},
		{name: "1 MB single line", file: "line.csv", data: fixed(strings.Repeat("x", 1<<20)), wantCode: BadRequest, wantMsg: "not a column name"},
		{name: "3 MB value", file: "long.csv", data: fixed(koiHeader + "K1," + strings.Repeat("7", 3<<20) + ",CONFIRMED,1,1,1\n"), wantCode: TooLarge, wantMsg: "2 MB line limit"},
		{name: "1 MB line of values", file: "line.csv", data: fixed(strings.Repeat("1,", 1<<19)), wantCode: TooLarge, wantMsg: "524289 columns"},
		{name: "1 MB header name", file: "line.csv", data: fixed(strings.Repeat("x", 1<<20) + "\n1\n"), wantCode: BadRequest, wantMsg: "not a column name"},
		{name: "HTML page saved as CSV", file: "koi.csv", data: fixed("\n<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body><p>Please log in, then retry, now</p></body></html>\n"), wantCode: BadRequest, wantMsg: "is an HTML web page, not a CSV file"},
		{name: "XHTML page", file: "koi.csv", data: fixed("<?xml version=\"1.0\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0//EN\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><body>a,b</body></html>\n"), wantCode: BadRequest, wantMsg: "HTML web page"},
		{name: "HTML page opening with a comment", file: "koi.csv", data: fixed("<!-- generated -->\n<html><body>x, y</body></html>\n"), wantCode: BadRequest, wantMsg: "HTML web page"},
		{name: "one-line HTML page", file: "koi.csv", data: fixed("<html><body>Not Found</body></html>"), wantCode: BadRequest, wantMsg: "HTML web page"},
		{name: "JSON error answer", file: "json.csv", data: fixed(`{"error":"rate limited","api_key":"k3y"}` + "\n"), wantCode: BadRequest,
			wantMsg: `"json.csv" holds JSON, not a CSV table; it begins: {"error":"rate limited","api_key":"REDACTED"}.`},
		{name: "JSON array", file: "rows.csv", data: fixed("[\n  {\"kepoi_name\": \"K00001.01\"}\n]\n"), wantCode: BadRequest, wantMsg: "holds JSON, not a CSV table"},
		{name: "S3 error document", file: "koi.csv", data: fixed(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`), wantCode: BadRequest,
			wantMsg: `holds XML (a <Error> document), not a CSV table; it begins: <?xml version="1.0" encoding="UTF-8"?> <Error><Code>AccessDenied</Code>`},
		{name: "VOTable error", file: "toi.csv", data: fixed(`<VOTABLE version="1.4"><RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">Column nonsense does not exist</INFO></RESOURCE></VOTABLE>`), wantCode: BadRequest,
			wantMsg: "holds XML (a <VOTABLE> document)"},
		{name: "mixed line endings", file: "mixed_eol.csv", data: fixed(koiHeader + strings.ReplaceAll(koiRow, "\n", "\r\n") + koiRow), wantCode: BadRequest, wantMsg: "mixes line endings"},
		{name: "comment block with other line ends", file: "mixed_eol.csv", data: fixed("# COLUMN kepoi_name: KOI Name\n#\n" + strings.ReplaceAll(koiHeader+koiRow, "\n", "\r\n")), wantCode: BadRequest, wantMsg: "different line endings"},
	}
}

// TestEngine_Ingest_BadInput feeds every hostile file to Ingest, as a path
// and as an upload: each is refused with a clear 4xx sentence, leaves no
// file or row behind, and does not touch the dataset already there.
func TestEngine_Ingest_BadInput(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t, func(o *Options) {})
	e.limits.ratioAfter = 1 << 20
	e.limits.maxExpanded = 256 << 20 // note: the ratio cap must fire first
	good := MustIngest(t, e, IngestInput{Path: filepath.Join("testdata", "koi_small_commented.csv"), Name: "existing"})
	dir := t.TempDir()
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data(t)
			for _, via := range []string{"path", "upload"} {
				in := IngestInput{OriginalName: tc.file}
				if via == "path" {
					sub := MustTempDirIn(t, dir)
					in.Path = MustWriteFile(t, sub, tc.file, data)
				} else {
					in.Reader = bytes.NewReader(data)
				}
				_, err := e.Ingest(context.Background(), in)
				if got := ErrorCode(err); got != tc.wantCode {
					t.Fatalf("%s: code = %q, want %q (err: %v)", via, got, tc.wantCode, err)
				}
				if testing.Verbose() && via == "path" {
					t.Logf("%s", ErrorMessage(err))
				}
				if msg := ErrorMessage(err); !strings.Contains(msg, tc.wantMsg) {
					t.Errorf("%s: message %q does not contain %q", via, msg, tc.wantMsg)
				}
			}
			assertUntouched(t, e, good)
		})
	}
}

// TestEngine_Ingest_BadPath covers paths that are not files.
func TestEngine_Ingest_BadPath(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	dir := t.TempDir()
	tests := []struct {
		name     string
		in       IngestInput
		wantCode Code
	}{
		{name: "missing file", in: IngestInput{Path: filepath.Join(dir, "nope.csv")}, wantCode: NotFound},
		{name: "folder", in: IngestInput{Path: dir}, wantCode: BadRequest},
		{name: "nothing", in: IngestInput{}, wantCode: BadRequest},
		{name: "two sources", in: IngestInput{Path: "a.csv", Reader: strings.NewReader("x")}, wantCode: BadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Ingest(context.Background(), tc.in)
			if got := ErrorCode(err); got != tc.wantCode {
				t.Errorf("code = %q, want %q (err: %v)", got, tc.wantCode, err)
			}
		})
	}
}

// TestEngine_Ingest_OddButValid covers files that look unusual but are
// fine: they must be read correctly.
func TestEngine_Ingest_OddButValid(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	body := koiHeader + koiRow + "K00002.01,10000002,CANDIDATE,10.5,2.2,5100\n"
	tests := []struct {
		name, file, data string
		wantRows         int64
	}{
		{name: "UTF-8 BOM", file: "bom.csv", data: "\xEF\xBB\xBF" + body, wantRows: 2},
		{name: "UTF-8 BOM before a # block", file: "bomnasa.csv", data: "\xEF\xBB\xBF# COLUMN kepoi_name: KOI Name\n#\n" + body, wantRows: 2},
		{name: "CRLF", file: "crlf.csv", data: strings.ReplaceAll(body, "\n", "\r\n"), wantRows: 2},
		{name: "tabs", file: "tabs.tsv", data: strings.ReplaceAll(body, ",", "\t"), wantRows: 2},
		{name: "semicolons", file: "semi.csv", data: strings.ReplaceAll(body, ",", ";"), wantRows: 2},
		{name: "pipes", file: "pipes.txt", data: strings.ReplaceAll(body, ",", "|"), wantRows: 2},
		{name: "blank lines", file: "blank.csv", data: koiHeader + "\n" + koiRow + "\n\n" + "K00002.01,10000002,CANDIDATE,10.5,2.2,5100", wantRows: 2},
		{name: "quoted newline", file: "quoted.csv", data: koiHeader + "\"K00001\n.01\",10000001,\"CONFIRMED\",2.47,12.1,5800\n" + koiRow, wantRows: 2},
		{name: "hash inside values", file: "hash.csv", data: "# a block\n#\n" + "pl_name,hostname,disposition,pl_orbper,pl_rade,st_refname\nK2-1 b,K2-1,CONFIRMED,1.5,2.0,Yal&ccedil;&#x131;nkaya\n", wantRows: 1},
		{name: "no extension", file: "sync", data: body, wantRows: 2},
		{name: "formula cells are data", file: "formula.csv", data: koiHeader + "=HYPERLINK(\"x\"),1,CONFIRMED,1,1,1\n", wantRows: 1},
		{name: "header starting with a bracket", file: "feh.csv", data: "[Fe/H]," + koiHeader + "0.1," + koiRow, wantRows: 1},
		{name: "header starting with a tag-like name", file: "tag.csv", data: "<teff>," + koiHeader + "5800," + koiRow, wantRows: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := e.Ingest(context.Background(), IngestInput{Reader: strings.NewReader(tc.data), OriginalName: tc.file})
			if err != nil {
				t.Fatal(err)
			}
			if ds.Rows != tc.wantRows {
				t.Errorf("rows = %d, want %d", ds.Rows, tc.wantRows)
			}
			if n := mustQueryInt(t, e, "SELECT count(*) FROM "+quoteView("raw", ds.Name)); n != tc.wantRows {
				t.Errorf("raw view rows = %d, want %d", n, tc.wantRows)
			}
		})
	}
}

// assertUntouched checks that the existing dataset still reads the same and
// that nothing else was registered or left behind.
func assertUntouched(t *testing.T, e *Engine, good *Dataset) {
	t.Helper()
	if n := mustQueryInt(t, e, "SELECT count(*) FROM meta.datasets"); n != 1 {
		t.Errorf("meta.datasets has %d rows, want 1", n)
	}
	if n := mustQueryInt(t, e, "SELECT count(*) FROM "+quoteView("raw", good.Name)); n != good.Rows {
		t.Errorf("existing dataset reads %d rows, want %d", n, good.Rows)
	}
	views := mustQueryInt(t, e, "SELECT count(*) FROM duckdb_views() WHERE schema_name IN ('raw', 'normalized', 'metrics', 'classified')")
	if views != int64(len(datasetSchemas)) {
		t.Errorf("%d dataset views exist, want %d", views, len(datasetSchemas))
	}
	assertNoLeftovers(t, e)
}

// MustTempDirIn creates a fresh sub directory of dir.
func MustTempDirIn(tb testing.TB, dir string) string {
	tb.Helper()
	d, err := os.MkdirTemp(dir, "case")
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// randomBytes returns n reproducible random bytes.
func randomBytes(n int) func(*testing.T) []byte {
	return func(*testing.T) []byte {
		r := rand.New(rand.NewPCG(1, 2))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		// note: start like text so that no magic number short-cuts the check.
		copy(b, "kepoi_name,")
		return b
	}
}

// gzipData compresses data.
func gzipData(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(data)
	_ = zw.Close()
	return buf.Bytes()
}

// truncatedGzip is a valid gzip CSV cut in the middle.
func truncatedGzip(*testing.T) []byte {
	var body strings.Builder
	body.WriteString(koiHeader)
	for range 2000 {
		body.WriteString(koiRow)
	}
	gz := gzipData([]byte(body.String()))
	return gz[:len(gz)/2]
}

// gzipBomb expands far beyond its size: 64 MiB of one repeated row.
func gzipBomb(*testing.T) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write([]byte(koiHeader))
	line := bytes.Repeat([]byte(koiRow), 1<<14)
	for range (64 << 20) / len(line) {
		_, _ = zw.Write(line)
	}
	_ = zw.Close()
	return buf.Bytes()
}

// utf16Text encodes a small CSV as UTF-16LE, with or without a BOM.
func utf16Text(bom bool) func(*testing.T) []byte {
	return func(*testing.T) []byte {
		var b []byte
		if bom {
			b = append(b, 0xFF, 0xFE)
		}
		for _, u := range utf16.Encode([]rune(koiHeader + koiRow)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return b
	}
}

// wideCSV has n columns and one row.
func wideCSV(n int) func(*testing.T) []byte {
	return func(*testing.T) []byte {
		var h, r strings.Builder
		for i := range n {
			if i > 0 {
				h.WriteByte(',')
				r.WriteByte(',')
			}
			h.WriteString("c")
			h.WriteString(strings.Repeat("x", i%7))
			h.WriteString(string(rune('a' + i%26)))
			h.WriteString(strconv.Itoa(i))
			r.WriteString("1")
		}
		return []byte(h.String() + "\n" + r.String() + "\n")
	}
}

// corruptParquet writes a valid Parquet file with DuckDB and damages it:
// the footer magic (cut short) or the metadata before it.
func corruptParquet(metadata bool) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		e := MustOpenEngine(t)
		p := filepath.Join(t.TempDir(), "ok.parquet")
		q := "COPY (SELECT 'K' || range AS kepoi_name, range * 1.5 AS koi_period FROM range(100)) TO " + litPath(p) + " (FORMAT parquet)"
		if _, err := e.db.Exec(q); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !metadata {
			return b[:len(b)-3]
		}
		// note: keep the trailing length and PAR1, scramble the metadata.
		for i := len(b) - 60; i < len(b)-8; i++ {
			b[i] = 0xAB
		}
		return b
	}
}

// TestGzipSink_SizeCap checks the absolute expansion cap on a gzip file
// whose ratio is unremarkable.
func TestGzipSink_SizeCap(t *testing.T) {
	t.Parallel()
	l := defaultIngestLimits
	l.maxExpanded = 1 << 20
	var body strings.Builder
	body.WriteString(koiHeader)
	for i := 0; body.Len() < 2<<20; i++ {
		body.WriteString("K" + strconv.Itoa(i) + ".01," + strconv.Itoa(i*7919) + ",CANDIDATE," + strconv.Itoa(i%97) + ".5,1.1,5000\n")
	}
	g := newGzipSink(newTextScan(l), l)
	_, err := g.Write(gzipData([]byte(body.String())))
	if err == nil {
		err = g.finish(0)
	}
	if ErrorCode(err) != TooLarge || !strings.Contains(ErrorMessage(err), "expands to more than 1 MiB") {
		t.Errorf("err = %v, want TooLarge 'expands to more than 1 MiB'", err)
	}
}

// smallFSEnv names a folder on a filesystem of a few MiB (for example a
// 2 MiB tmpfs: mount -t tmpfs -o size=2m tmpfs /mnt/small). The disk-full
// test runs only when it is set.
const smallFSEnv = "EXOHUNTER_TEST_SMALL_FS"

// TestEngine_Ingest_DiskFull fills a small filesystem with an upload: the
// ingest fails with a sentence, removes its partial file and leaves the
// existing dataset alone.
func TestEngine_Ingest_DiskFull(t *testing.T) {
	dir := os.Getenv(smallFSEnv)
	if dir == "" {
		t.Skip("set " + smallFSEnv + " to a folder on a filesystem of a few MiB")
	}
	data := MustTempDirIn(t, dir)
	t.Cleanup(func() { _ = os.RemoveAll(data) })
	e := MustOpenEngine(t, func(o *Options) { o.DataDir = data })
	small := MustIngest(t, e, IngestInput{Path: filepath.Join("testdata", "koi_small_commented.csv")})
	_, err := e.Ingest(context.Background(), IngestInput{Path: filepath.Join(sharedData, "koi_cumulative_2025.csv")})
	if ErrorCode(err) != Storage || !strings.Contains(ErrorMessage(err), "not enough free disk space") {
		t.Errorf("err = %v (code %q), want Storage about disk space", err, ErrorCode(err))
	}
	assertUntouched(t, e, small)
}
