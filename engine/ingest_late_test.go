package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/exohunter/exohunter/engine/mapping"
)

// lateRows is a KOI file of n rows (lines 2 to n+1) whose line bad holds
// row instead; DuckDB types columns from about the first 20,000 rows. Its
// first row quotes a value, so that the file is read with quotes.
func lateRows(n, bad int, row string) []byte {
	var b strings.Builder
	b.WriteString(koiHeader)
	for i := 1; i <= n; i++ {
		disp := "CONFIRMED"
		if i == 1 {
			disp = `"CONFIRMED"`
		}
		if i+1 == bad {
			b.WriteString(row)
			continue
		}
		fmt.Fprintf(&b, "K%05d.01,%d,%s,%.3f,1.5,5700\n", i, 10000000+i, disp, 1+float64(i%997)/10)
	}
	return []byte(b.String())
}

// gzipped compresses data.
func gzipped(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// TestEngine_Ingest_lateBadRow: a row that is not one value per column is
// refused at ingest wherever it is, not only in the rows readHeader and
// DuckDB's sniffer read; before, line 25,002 was accepted and every run
// and snapshot of the dataset failed.
func TestEngine_Ingest_lateBadRow(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	good := MustIngest(t, e, IngestInput{Path: filepath.Join("testdata", "koi_small_commented.csv"), Name: "existing"})
	ragged := lateRows(30000, 25002, "K99999.01,1,CONFIRMED,2.5,1.5,5700,extra\n")
	short := lateRows(30000, 25002, "K99999.01,1,CONFIRMED\n")
	quote := lateRows(30000, 25002, "K99999.01,1,\"CONFIRMED,2.5,1.5,5700\n")
	quoted := lateRows(30000, 25002, "K99999.01,1,\"CONFIRMED, with a comma\n and a line\",2.5,1.5,5700\n")
	for _, tc := range []struct {
		name, file string
		data       []byte
		want       string
	}{
		{"extra value", "ragged.csv", ragged, "Line 25002 has 7 values but the header (line 1) has 6 columns separated by comma"},
		{"missing values", "short.csv", short, "Line 25002 has 3 values but the header (line 1) has 6 columns"},
		{"gzip", "ragged.csv.gz", gzipped(t, ragged), "Line 25002 has 7 values"},
		{"CRLF", "crlf.csv", bytes.ReplaceAll(ragged, []byte("\n"), []byte("\r\n")), "Line 25002 has 7 values"},
		{"unclosed quote", "quote.csv", quote, "Line 25002 opens a quoted value (\") that is never closed"},
		// note: a quoted value holding the delimiter and a line end is one
		// value; the record after it is counted from its own line.
		{"quoted then ragged", "quoted.csv", append(quoted[:len(quoted):len(quoted)], "K99998.01,1\n"...), "Line 30003 has 2 values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Ingest(context.Background(), IngestInput{Reader: bytes.NewReader(tc.data), OriginalName: tc.file})
			if ErrorCode(err) != BadRequest || !strings.Contains(ErrorMessage(err), tc.want) {
				t.Fatalf("err = %v (%s), want BadRequest with %q", err, ErrorCode(err), tc.want)
			}
			assertUntouched(t, e, good)
		})
	}
	ds := MustIngest(t, e, IngestInput{Reader: bytes.NewReader(quoted), OriginalName: "quoted.csv"})
	if ds.Rows != 30000 {
		t.Errorf("quoted value over two lines: %d rows, want 30000", ds.Rows)
	}
}

// TestEngine_Process_lateText: text in a column DuckDB typed as numbers
// from its sample makes the column text at the first read that meets it
// (a run, or a snapshot of a dataset never run): the run completes with
// every row, that value empty where a number is needed, and the dataset
// records what was changed and why.
func TestEngine_Process_lateText(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	ctx := context.Background()
	data := lateRows(30000, 25002, "K99999.01,1,CONFIRMED,abc,1.5,5700\n")
	ds := MustIngest(t, e, IngestInput{Reader: bytes.NewReader(data), OriginalName: "late.csv", Name: "late"})
	if i := slices.IndexFunc(ds.Columns, func(c Column) bool { return c.Name == "koi_period" }); ds.Columns[i].Type != "DOUBLE" {
		t.Fatalf("koi_period sniffed as %s; the test needs DOUBLE", ds.Columns[i].Type)
	}
	run, err := e.Process(ctx, ProcessInput{Dataset: "late"})
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	if run.Rows != 30000 {
		t.Errorf("run rows = %d, want 30000", run.Rows)
	}
	got := mustQueryString(t, e, `SELECT coalesce(koi_period::VARCHAR, 'null') || ' ' || list_contains(flags, 'FLAG_MISSING_PERIOD')
		FROM runs.results WHERE run_id = ? AND object_id = 'K99999.01'`, run.RunID)
	if got != "null true" {
		t.Errorf("the text row: %q, want %q", got, "null true")
	}
	if n := mustQueryInt(t, e, `SELECT count(koi_period) FROM runs.results WHERE run_id = ?`, run.RunID); n != 29999 {
		t.Errorf("%d periods kept, want 29999", n)
	}
	after, err := e.Dataset(ctx, "late")
	if err != nil {
		t.Fatal(err)
	}
	want := []Retyped{{Column: "koi_period", Was: "DOUBLE", Line: 25002, Value: "abc"}}
	if !slices.Equal(after.CSV.Retyped, want) {
		t.Errorf("retyped = %+v, want %+v", after.CSV.Retyped, want)
	}
	if typ := mustQueryString(t, e, `SELECT data_type FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = 'late' AND column_name = 'koi_period'`); typ != "VARCHAR" {
		t.Errorf("raw.late.koi_period is %s, want VARCHAR", typ)
	}
	// A second run reads the retyped view at once.
	if _, err := e.Process(ctx, ProcessInput{Dataset: "late"}); err != nil {
		t.Fatalf("second Process: %v", err)
	}
	if again, _ := e.Dataset(ctx, "late"); len(again.CSV.Retyped) != 1 {
		t.Errorf("retyped again: %+v", again.CSV.Retyped)
	}

	// Two runs that meet the text together both complete: the second finds
	// the column retyped by the first and reads again.
	MustIngest(t, e, IngestInput{Reader: bytes.NewReader(lateRows(30000, 26000, "K99999.01,1,CONFIRMED,abc,1.5,5700\n")), OriginalName: "late3.csv", Name: "late3"})
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := e.Process(ctx, ProcessInput{Dataset: "late3"})
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Process: %v", err)
		}
	}
	if ds3, _ := e.Dataset(ctx, "late3"); len(ds3.CSV.Retyped) != 1 {
		t.Errorf("late3 retyped = %+v, want one entry", ds3.CSV.Retyped)
	}

	// A dataset never run: its snapshot meets the text and retypes too.
	MustIngest(t, e, IngestInput{Reader: bytes.NewReader(lateRows(30000, 28000, "K99999.01,1,CONFIRMED,2.5,n/a,5700\n")), OriginalName: "late2.csv", Name: "late2"})
	if _, err := e.Snapshot(ctx, filepath.Join(t.TempDir(), "s.duckdb"), SnapshotOptions{}); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if ds2, _ := e.Dataset(ctx, "late2"); len(ds2.CSV.Retyped) != 1 || ds2.CSV.Retyped[0].Column != "koi_prad" || ds2.CSV.Retyped[0].Line != 28000 {
		t.Errorf("late2 retyped = %+v, want koi_prad at line 28000", ds2.CSV.Retyped)
	}
}

// TestEngine_Ingest_decimalComma: a table saved with decimal commas (";"
// between values) is refused with the reason; before, it was ingested and
// every row became no_result. Decimal points with ";" are fine.
func TestEngine_Ingest_decimalComma(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	good := MustIngest(t, e, IngestInput{Path: filepath.Join("testdata", "koi_small_commented.csv"), Name: "existing"})
	head := "kepoi_name;kepid;koi_disposition;koi_period;koi_prad;koi_steff\n"
	comma := head + "K00001.01;10000001;CONFIRMED;9,488035570;2,26;5455\nK00002.01;10000002;CANDIDATE;54,4;1,5E+00;5800\n"
	_, err := e.Ingest(context.Background(), IngestInput{Reader: strings.NewReader(comma), OriginalName: "koi_de.csv"})
	if want := `decimal comma (column koi_period holds "9,488035570")`; ErrorCode(err) != BadRequest || !strings.Contains(ErrorMessage(err), want) {
		t.Fatalf("err = %v, want BadRequest with %q", err, want)
	}
	assertUntouched(t, e, good)
	point := head + "K00001.01;10000001;CONFIRMED;9.488035570;2.26;5455\nK00002.01;10000002;CANDIDATE;54.4;1.5;5800\n"
	if ds := MustIngest(t, e, IngestInput{Reader: strings.NewReader(point), OriginalName: "koi_point.csv"}); ds.Rows != 2 {
		t.Errorf("rows = %d, want 2", ds.Rows)
	}
}

// TestEngine_Ingest_unitOverrides: an override the file's # header
// contradicts, or one naming a column the file lacks, is refused; one that
// agrees with the header, or has no header to contradict, is taken.
func TestEngine_Ingest_unitOverrides(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	toi := filepath.Join(sharedData, "toi_2025-09-29_commented.csv")
	ps := filepath.Join(sharedData, "pscomppars_2025.csv")
	for _, tc := range []struct {
		name, path, unit, want string
	}{
		{"header says ppm", toi, "percent", "The unit override koi_depth=percent contradicts the file: its # header gives pl_trandep in [ppm]"},
		{"no depth column", ps, "percent", "The unit override koi_depth=percent names a column this file does not have"},
		{"header agrees", toi, "ppm", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Ingest(context.Background(), IngestInput{Path: tc.path, Name: "u_" + strings.ReplaceAll(tc.name, " ", "_"), Units: map[string]string{"koi_depth": tc.unit}})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Ingest: %v", err)
				}
				return
			}
			if ErrorCode(err) != BadRequest || !strings.Contains(ErrorMessage(err), tc.want) {
				t.Fatalf("err = %v, want BadRequest with %q", err, tc.want)
			}
		})
	}
	// A table without a # header keeps the override (a generic file's
	// depth may well be in percent).
	data := "kepoi_name,koi_period,koi_prad,koi_depth\nK1,2.5,1.2,0.05\n"
	ds, err := e.Ingest(context.Background(), IngestInput{Reader: strings.NewReader(data), OriginalName: "pct.csv", Units: map[string]string{"koi_depth": "percent"}})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if i := slices.IndexFunc(ds.Mapping, func(r mapping.ReportEntry) bool { return r.Canonical == "koi_depth" }); i < 0 || !strings.Contains(ds.Mapping[i].Conversion, "percent") {
		t.Errorf("mapping of koi_depth: %+v", ds.Mapping)
	}
}

// BenchmarkCheckFields measures the extra read of ingest on the bench's
// 1M-row KOI replica when it is there (BENCH_DIR=/tmp/benchw make bench).
func BenchmarkCheckFields(b *testing.B) {
	const path = "/tmp/benchw/koi_1M.csv"
	fi, err := os.Stat(path)
	if err != nil {
		b.Skip("no", path)
	}
	h := &headerInfo{delim: ',', line: 1, names: make([]string, 49)}
	o := &CSVOptions{Delimiter: ",", Quote: `"`, Escape: `"`, Compression: CompressionNone}
	b.SetBytes(fi.Size())
	for b.Loop() {
		if err := checkFields(context.Background(), path, o, h); err != nil {
			b.Fatal(err)
		}
	}
}
