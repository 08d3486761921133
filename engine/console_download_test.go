package engine

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// mustDownload runs a download and returns the file's bytes; the spooled
// file is removed before it returns.
func mustDownload(tb testing.TB, f *consoleFixture, req ConsoleDownloadRequest) (*ConsoleDownload, []byte) {
	tb.Helper()
	d, err := f.console.Download(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	var buf bytes.Buffer
	n, err := d.WriteTo(&buf)
	if err != nil || n != d.Size {
		tb.Fatalf("WriteTo wrote %d of %d bytes: %v", n, d.Size, err)
	}
	return d, buf.Bytes()
}

func TestConsole_Download_CSV(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	q := "SELECT kepoi_name, koi_period, note, -1.5 AS err2 FROM raw.koi ORDER BY kepoi_name"
	tests := []struct {
		name string
		safe bool
		want string
	}{
		{"spreadsheet safe", true, `kepoi_name,koi_period,note,err2
K00001.01,2.47,hot jupiter,-1.5
K00002.01,2.2,,-1.5
K00003.01,4.89,"'=HYPERLINK(""http://x"")",-1.5
K00004.01,3.85,'-5 is text here,-1.5
K00005.01,4.78,ümlaut and 🦆,-1.5
K00006.01,2.94,"comma, inside",-1.5
`},
		{"raw", false, `kepoi_name,koi_period,note,err2
K00001.01,2.47,hot jupiter,-1.5
K00002.01,2.2,,-1.5
K00003.01,4.89,"=HYPERLINK(""http://x"")",-1.5
K00004.01,3.85,-5 is text here,-1.5
K00005.01,4.78,ümlaut and 🦆,-1.5
K00006.01,2.94,"comma, inside",-1.5
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, got := mustDownload(t, f, ConsoleDownloadRequest{ConsoleRequest: ConsoleRequest{SQL: q, QueryID: "dl-1"}, Format: ConsoleCSV, SpreadsheetSafe: tc.safe})
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("CSV (-want +got):\n%s", diff)
			}
			if d.Rows != 6 || d.Truncated || d.Filename != "query-dl-1.csv" || d.ContentType != "text/csv; charset=utf-8" {
				t.Errorf("download = %+v", d)
			}
		})
	}
	f.assertUntouched(t)
}

func TestConsole_Download_NDJSON(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	_, got := mustDownload(t, f, ConsoleDownloadRequest{Format: ConsoleNDJSON, ConsoleRequest: ConsoleRequest{
		SQL: "SELECT 1 AS a, 'NaN'::DOUBLE AS a, [DATE '2024-01-01'] AS d, 12.50::DECIMAL(5,2) AS z, 1::HUGEINT AS h",
	}})
	// note: DuckDB itself renames a duplicate column of a subquery (a_1).
	want := `{"a":1,"a_1":null,"d":["2024-01-01"],"z":12.5,"h":"1"}` + "\n"
	if string(got) != want {
		t.Errorf("NDJSON = %s, want %s", got, want)
	}
	f.assertUntouched(t)
}

func TestConsole_Download_Parquet(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	d, err := f.console.Download(context.Background(), ConsoleDownloadRequest{Format: ConsoleParquet, ConsoleRequest: ConsoleRequest{
		SQL: "SELECT kepoi_name, koi_prad, 1 AS kepoi_name FROM raw.koi ORDER BY koi_prad DESC",
	}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := d.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("PAR1")) || d.Rows != 6 || d.ContentType != "application/vnd.apache.parquet" {
		t.Errorf("not a 6-row Parquet file: %d bytes, %+v", buf.Len(), d)
	}
	// note: the pipeline's own pool reads the file back; the console would refuse read_parquet.
	_, _, rows := scanAll(t, f.db, "SELECT kepoi_name, koi_prad, kepoi_name_1 FROM read_parquet("+sqltmpl.Lit(d.path).String()+")")
	if got := mustJSON(t, rows[0]); got != `["K00002.01",16.1,1]` || len(rows) != 6 {
		t.Errorf("first of %d rows = %s", len(rows), got)
	}
	d.Close()
	f.assertUntouched(t)
}

// TestConsole_Download_ParquetFinite: NaN and ±Inf are NULL in a Parquet
// download as in every other export (they were written as they were).
func TestConsole_Download_ParquetFinite(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	d, err := f.console.Download(context.Background(), ConsoleDownloadRequest{Format: ConsoleParquet, ConsoleRequest: ConsoleRequest{
		SQL: "SELECT 'nan'::DOUBLE AS n, '-inf'::FLOAT AS i, [1.5, 'inf'::DOUBLE] AS l, 2.5::DOUBLE AS x, " +
			"{'a': 'nan'::DOUBLE, 'b': 'k'} AS s, ['inf'::DOUBLE, 2]::DOUBLE[2] AS arr, MAP {'k': '-inf'::DOUBLE} AS m, " +
			"[['nan'::DOUBLE]] AS ll, NULL::STRUCT(a DOUBLE) AS ns",
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, _, rows := scanAll(t, f.db, "SELECT n, i, l, x, typeof(i), s.a IS NULL AND s.b = 'k', arr[1] IS NULL AND arr[2] = 2, typeof(arr), m['k'] IS NULL, ll[1][1] IS NULL, ns IS NULL FROM read_parquet("+sqltmpl.Lit(d.path).String()+")")
	if got := mustJSON(t, rows); got != `[[null,null,[1.5,null],2.5,"FLOAT",true,true,"DOUBLE[]",true,true,true]]` {
		t.Errorf("rows = %s", got)
	}
}

func TestConsole_Download_Caps(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{limits: ConsoleLimits{
		DownloadMaxRows: 1000, DownloadMaxBytes: 100_000, DownloadMaxValueBytes: 1000,
	}})
	t.Run("rows", func(t *testing.T) {
		d, got := mustDownload(t, f, ConsoleDownloadRequest{Format: ConsoleCSV, ConsoleRequest: ConsoleRequest{SQL: "SELECT range AS i FROM range(5000)"}})
		if d.Rows != 1000 || !d.Truncated || d.TruncatedBy != "rows" || bytes.Count(got, []byte("\n")) != 1001 {
			t.Errorf("download = %+v", d)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		d, got := mustDownload(t, f, ConsoleDownloadRequest{Format: ConsoleNDJSON, ConsoleRequest: ConsoleRequest{SQL: "SELECT repeat('x', 900) AS s FROM range(1000)"}})
		if len(got) > 100_000 || !d.Truncated || d.TruncatedBy != "bytes" || d.Rows < 90 {
			t.Errorf("%d bytes, download = %+v", len(got), d)
		}
	})
	t.Run("values", func(t *testing.T) {
		d, got := mustDownload(t, f, ConsoleDownloadRequest{Format: ConsoleCSV, ConsoleRequest: ConsoleRequest{SQL: "SELECT repeat('y', 5000) AS s, [range(10000)] AS l"}})
		lines := strings.Split(strings.TrimSpace(string(got)), "\n")
		if d.TruncatedValues != 2 || len(lines) != 2 || !strings.HasPrefix(lines[1], strings.Repeat("y", 1000)+consoleTruncMark+",") {
			t.Errorf("download = %+v, %d lines", d, len(lines))
		}
	})
	t.Run("parquet over the byte cap", func(t *testing.T) {
		d, err := f.console.Download(context.Background(), ConsoleDownloadRequest{Format: ConsoleParquet, ConsoleRequest: ConsoleRequest{
			SQL: "SELECT list_transform(range(100), lambda x: random()) AS l FROM range(1000)",
		}})
		if err == nil {
			d.Close()
		}
		if ErrorCode(err) != TooLarge || !strings.Contains(ErrorMessage(err), "downloads are limited to 100000") {
			t.Errorf("got %v, want TooLarge", err)
		}
	})
	f.assertUntouched(t)
}

// TestConsole_Download_Order: pages keep the query's ORDER BY even with
// preserve_insertion_order off.
func TestConsole_Download_Order(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	d, got := mustDownload(t, f, ConsoleDownloadRequest{Format: ConsoleCSV, ConsoleRequest: ConsoleRequest{
		SQL: "SELECT (range * 7919) % 300007 AS k FROM range(300007) ORDER BY k DESC",
	}})
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")[1:]
	if d.Rows != 300007 || len(lines) != 300007 {
		t.Fatalf("rows = %d, lines = %d", d.Rows, len(lines))
	}
	for i, l := range lines {
		if n, _ := strconv.Atoi(l); n != 300006-i {
			t.Fatalf("line %d = %s, want %d", i, l, 300006-i)
		}
	}
}

func TestConsole_Download_Refused(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	tests := []struct {
		name     string
		req      ConsoleDownloadRequest
		wantCode Code
		wantMsg  string
	}{
		{"format", ConsoleDownloadRequest{Format: "xlsx", ConsoleRequest: ConsoleRequest{SQL: "SELECT 1"}}, BadRequest, "format must be csv, ndjson or parquet"},
		{"write", ConsoleDownloadRequest{Format: ConsoleParquet, ConsoleRequest: ConsoleRequest{SQL: "COPY planets TO '/tmp/x.parquet'"}}, BadRequest, "COPY statements are not allowed"},
		{"file", ConsoleDownloadRequest{Format: ConsoleCSV, ConsoleRequest: ConsoleRequest{SQL: "SELECT * FROM read_text(" + sqltmpl.Lit(f.rawFile).String() + ")"}}, BadRequest, "read_text reads files directly"},
		{"timeout", ConsoleDownloadRequest{Format: ConsoleCSV, ConsoleRequest: ConsoleRequest{SQL: "SELECT count(*) FROM range(1000000) a, range(1000000) b", TimeoutMS: 300}}, Timeout, "ran longer than its time limit"},
		{"memory", ConsoleDownloadRequest{Format: ConsoleParquet, ConsoleRequest: ConsoleRequest{SQL: "SELECT list(range) AS l FROM range(300000000)", TimeoutMS: 30000}}, TooLarge, "more memory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.console.Download(context.Background(), tc.req)
			if ErrorCode(err) != tc.wantCode || !strings.Contains(ErrorMessage(err), tc.wantMsg) {
				t.Errorf("got %s %q, want %s %q", ErrorCode(err), ErrorMessage(err), tc.wantCode, tc.wantMsg)
			}
		})
	}
	f.assertUntouched(t)
}

// TestOpen_RemovesConsoleSpool: Open removes downloads a crashed process
// left spooled in DATA/outputs, and nothing else there.
func TestOpen_RemovesConsoleSpool(t *testing.T) {
	t.Parallel()
	base := MustTempDir(t)
	dir := filepath.Join(base, "data", DirOutputs)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, consoleSpoolPrefix+"123.csv"), "x")
	mustWrite(t, filepath.Join(dir, "export.csv"), "x")
	MustOpenEngineWith(t, Options{DBPath: InMemory, DataDir: filepath.Join(base, "data"), FeatureStore: filepath.Join(base, "fs"),
		Config: os.DirFS(repoRoot), MemoryLimit: "512MB", Threads: 2})
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "export.csv" {
		t.Errorf("outputs after Open: %v", entries)
	}
}

// TestConsole_Download_Copy: results of the common types are written by
// DuckDB's COPY with the values of CSVCell and JSONValue.
func TestConsole_Download_Copy(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{})
	q := `SELECT 'x' AS s, '' AS e, NULL::VARCHAR AS n, '=1+1' AS f, 'nan'::DOUBLE AS nan, '-inf'::FLOAT AS inf,
  -2.5::DOUBLE AS d, 12.50::DECIMAL(5,2) AS dec, 0.00::DECIMAL(4,2) AS zero, 170141183460469231731687303715884105727::HUGEINT AS h,
  [1.5, 'nan'::DOUBLE] AS l, ['a', NULL, '-b'] AS t, DATE '2024-02-29' AS day, true AS b,
  '00000000-0000-0000-0000-00000000002a'::UUID AS u, '@x'::ENUM('@x', 'y') AS en`
	var cols []consoleCol
	_, _, desc := scanAll(t, f.db, "DESCRIBE "+q)
	for _, r := range desc {
		cols = append(cols, newConsoleCol(r[0].(string), r[1].(string)))
	}
	if !consoleCopyable(cols) {
		t.Fatalf("not written by COPY: %+v", cols)
	}
	tests := []struct {
		format string
		safe   bool
		want   string
	}{
		{ConsoleCSV, true, `s,e,n,f,nan,inf,d,dec,zero,h,l,t,day,b,u,en
x,,,'=1+1,,,-2.5,12.5,0,170141183460469231731687303715884105727,"[1.5,null]","[""a"",null,""-b""]",2024-02-29,true,00000000-0000-0000-0000-00000000002a,'@x
`},
		{ConsoleCSV, false, `s,e,n,f,nan,inf,d,dec,zero,h,l,t,day,b,u,en
x,,,=1+1,,,-2.5,12.5,0,170141183460469231731687303715884105727,"[1.5,null]","[""a"",null,""-b""]",2024-02-29,true,00000000-0000-0000-0000-00000000002a,@x
`},
		{ConsoleNDJSON, true, `{"s":"x","e":"","n":null,"f":"=1+1","nan":null,"inf":null,"d":-2.5,"dec":12.5,"zero":0,"h":"170141183460469231731687303715884105727","l":[1.5,null],"t":["a",null,"-b"],"day":"2024-02-29","b":true,"u":"00000000-0000-0000-0000-00000000002a","en":"@x"}
`},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s safe=%v", tc.format, tc.safe), func(t *testing.T) {
			_, got := mustDownload(t, f, ConsoleDownloadRequest{Format: tc.format, SpreadsheetSafe: tc.safe, ConsoleRequest: ConsoleRequest{SQL: q}})
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestConsole_Download_CopyCaps: the value cap cuts on a character
// boundary, and the byte cap cuts COPY's file between whole rows.
func TestConsole_Download_CopyCaps(t *testing.T) {
	f := mustOpenConsoleFixture(t, consoleFixtureOptions{limits: ConsoleLimits{
		DownloadMaxRows: 1000, DownloadMaxBytes: 100_000, DownloadMaxValueBytes: 1000,
	}})
	t.Run("values", func(t *testing.T) {
		d, got := mustDownload(t, f, ConsoleDownloadRequest{Format: ConsoleNDJSON, ConsoleRequest: ConsoleRequest{
			SQL: "SELECT 'a' || repeat('é', 600) AS s, [repeat('w', 2000)] AS l, 'short' AS k",
		}})
		want := `{"s":"a` + strings.Repeat("é", 499) + consoleTruncMark + `","l":"[` + strings.Repeat("w", 999) + consoleTruncMark + `","k":"short"}` + "\n"
		if d.TruncatedValues != 2 || string(got) != want {
			t.Errorf("TruncatedValues = %d, NDJSON ends %q", d.TruncatedValues, got[len(got)-60:])
		}
	})
	t.Run("bytes, quoted newlines", func(t *testing.T) {
		d, got := mustDownload(t, f, ConsoleDownloadRequest{Format: ConsoleCSV, ConsoleRequest: ConsoleRequest{
			SQL: "SELECT range AS i, 'a' || chr(10) || repeat('x', 900) AS s FROM range(1000) ORDER BY i",
		}})
		recs, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
		if err != nil || len(got) > 100_000 || int64(len(recs)) != d.Rows+1 || d.Rows < 90 || !d.Truncated || d.TruncatedBy != "bytes" {
			t.Fatalf("%d bytes, %d records (%v), download = %+v", len(got), len(recs), err, d)
		}
		if last := recs[len(recs)-1]; last[0] != fmt.Sprint(d.Rows-1) || len(last[1]) != 902 {
			t.Errorf("last record = %.20q", last)
		}
	})
	t.Run("bytes, unordered, values cut", func(t *testing.T) {
		d, got := mustDownload(t, f, ConsoleDownloadRequest{Format: ConsoleNDJSON, ConsoleRequest: ConsoleRequest{
			SQL: "SELECT repeat('z', 1500) AS s FROM range(500)",
		}})
		lines := bytes.Count(got, []byte("\n"))
		if len(got) > 100_000 || int64(lines) != d.Rows || d.TruncatedValues != d.Rows || d.TruncatedBy != "bytes" {
			t.Errorf("%d bytes, %d lines, download = %+v", len(got), lines, d)
		}
	})
	f.assertUntouched(t)
}

func TestConsoleCutFile(t *testing.T) {
	tests := []struct {
		name, data string
		csv        bool
		max        int64
		wantRows   int64
		wantData   string
	}{
		{"csv header only", "a,b\n1,2\n", true, 5, 0, "a,b\n"},
		{"csv header too long", "a,b\n1,2\n", true, 3, 0, ""},
		{"csv quoted newline", "a\n\"x\ny\"\n\"p\nq\"\n", true, 12, 1, "a\n\"x\ny\"\n"},
		{"csv exact", "a\n1\n2\n", true, 6, 2, "a\n1\n2\n"},
		{"ndjson", "{}\n{\"a\":1}\n{}\n", false, 12, 2, "{}\n{\"a\":1}\n"},
		{"ndjson none", "{\"a\":1}\n", false, 3, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			mustWrite(t, path, tc.data)
			rows, size, err := consoleCutFile(path, tc.csv, tc.max)
			got, _ := os.ReadFile(path)
			if err != nil || rows != tc.wantRows || size != int64(len(tc.wantData)) || string(got) != tc.wantData {
				t.Errorf("rows %d, size %d, %q, %v; want %d rows, %q", rows, size, got, err, tc.wantRows, tc.wantData)
			}
		})
	}
}
