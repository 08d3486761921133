package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// nasaFiles are the real archive exports, with the facts SOURCES.md states.
var nasaFiles = []struct {
	file, mission, exported string
	rows                    int64
	cols, skip              int
	sha                     string
}{
	{"koi_cumulative_2025-09-29_commented.csv", "koi", "2025-09-29T12:55:59", 9564, 49, 53, "b5aa0eed2bf261008444450868afaf8bfd1078a97106e4da086063a483395b33"},
	{"koi_cumulative_2025.csv", "koi", "", 9564, 49, 0, "52e18752590342e8d141cb3e1642a0aa295b2f38b7e276bc9e4ed6282b5e8134"},
	{"toi_2025-09-29_commented.csv", "toi", "2025-09-29T12:59:21", 7699, 65, 69, "cdd74ad211fb9c669715680c88f11cc8efb645c954186c4d7f76bb7bd0bb4f38"},
	{"toi_2025.csv", "toi", "", 7703, 65, 0, "47d4543f4f0f9594328e5b9103ddb5dee3ca24a5754ecba2458954b6169db4e7"},
	{"k2pandc_2025-10-04_commented.csv", "k2", "2025-10-04T22:17:01", 4004, 94, 98, "37092d8d0a356783acc78c7b5f1b2a99b4858ffba4580ac9def0f9c8871b928a"},
	{"k2pandc_2025.csv", "k2", "", 4004, 94, 0, "ce603663514a8341d905be392a0ded1039cab66b6e857888e233907b10f22ac4"},
	{"pscomppars_2024-10-15_commented.csv", "pscomppars", "2024-10-15T09:13:04", 5766, 84, 88, "0bd320b5d3943ff8e57a5cdb9d15683fb309d63928137e32d049df51cd96ad40"},
	{"pscomppars_2025.csv", "pscomppars", "", 5967, 84, 0, "3fe95de7a6669b13ebb9985d2843d3c69a123f670cd28aa6e10f2b2e7ef6ca9d"},
}

// TestEngine_Ingest_NASAFiles ingests every real archive file and checks
// what the raw view serves against SOURCES.md.
func TestEngine_Ingest_NASAFiles(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	for _, tc := range nasaFiles {
		t.Run(tc.file, func(t *testing.T) {
			ds := MustIngest(t, e, IngestInput{Path: filepath.Join(sharedData, tc.file)})
			type summary struct {
				Rows, ViewRows int64
				Cols, Skip     int
				SHA, Mission   string
				Exported       string
				DictColumns    int
			}
			got := summary{Rows: ds.Rows, Cols: len(ds.Columns), SHA: ds.SHA256, Mission: ds.Mission}
			got.ViewRows = mustQueryInt(t, e, "SELECT count(*) FROM "+quoteView("raw", ds.Name))
			if ds.CSV != nil {
				got.Skip = ds.CSV.Skip
			}
			if ds.NASAHeader != nil {
				got.Exported = ds.NASAHeader.ExportedAt
				got.DictColumns = len(ds.NASAHeader.Columns)
			}
			want := summary{Rows: tc.rows, ViewRows: tc.rows, Cols: tc.cols, Skip: tc.skip, SHA: tc.sha, Mission: tc.mission, Exported: tc.exported}
			if tc.skip > 0 {
				want.DictColumns = tc.cols
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("dataset (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEngine_Ingest_IDsAreText checks that id columns keep their text: TOI
// ids such as 1000.10 would lose a digit as DOUBLE.
func TestEngine_Ingest_IDsAreText(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	dir := t.TempDir()
	csv := "toi,tid,tfopwg_disp,pl_orbper,pl_rade,st_teff\n1000.10,50365310,PC,2.17,5.8,5500\n1000.01,50365310,CP,3.1,1.2,5400\n"
	ds := MustIngest(t, e, IngestInput{Path: MustWriteFile(t, dir, "toi_small.csv", []byte(csv))})
	types := map[string]string{}
	for _, c := range ds.Columns {
		types[c.Name] = c.Type
	}
	want := map[string]string{"toi": "VARCHAR", "tid": "VARCHAR", "tfopwg_disp": "VARCHAR", "pl_orbper": "DOUBLE", "pl_rade": "DOUBLE", "st_teff": "DOUBLE"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("column types (-want +got):\n%s", diff)
	}
	if got := mustQueryString(t, e, `SELECT string_agg(toi, ' ' ORDER BY toi) FROM raw."toi_small"`); got != "1000.01 1000.10" {
		t.Errorf("toi values = %q, want 1000.01 1000.10", got)
	}
}

// TestEngine_Ingest_Duplicate ingests the same bytes twice under different
// names: the second answer is the first dataset with duplicate_of.
func TestEngine_Ingest_Duplicate(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	src := filepath.Join(sharedData, "koi_cumulative_2025.csv")
	first := MustIngest(t, e, IngestInput{Path: src})
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	second := MustIngest(t, e, IngestInput{Reader: bytes.NewReader(b), OriginalName: "other_name.csv"})
	if second.Name != first.Name || second.DuplicateOf != first.Name || second.Note != "" {
		t.Errorf("duplicate = {name %q, duplicate_of %q, note %q}, want both %q and no note", second.Name, second.DuplicateOf, second.Note, first.Name)
	}
	// Asked for under another name, the answer says that name was not made.
	third := MustIngest(t, e, IngestInput{Reader: bytes.NewReader(b), OriginalName: "x.csv", Name: "koi2"})
	if third.Name != first.Name || !strings.Contains(third.Note, `no dataset "koi2" was created`) {
		t.Errorf("duplicate named koi2 = {name %q, note %q}", third.Name, third.Note)
	}
	if n := mustQueryInt(t, e, "SELECT count(*) FROM meta.datasets"); n != 1 {
		t.Errorf("meta.datasets has %d rows, want 1", n)
	}
	assertNoLeftovers(t, e)
}

// chunkReader serves r in reads of at most chunk bytes and counts them.
type chunkReader struct {
	r     io.Reader
	chunk int
	reads int
}

// Read implements io.Reader.
func (c *chunkReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p[:min(len(p), c.chunk)])
}

// TestEngine_Ingest_TakenNameEarly: an upload under a name a dataset holds
// is refused as soon as its bytes differ from every stored file, without
// reading the rest (a 111 MB upload was read whole before its 409); bytes
// that equal a stored file are read whole and still answer as its
// duplicate, whichever dataset holds the name.
func TestEngine_Ingest_TakenNameEarly(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	gen := func(rows, period int) []byte {
		var b bytes.Buffer
		b.WriteString("kepoi_name,koi_period,koi_prad\n")
		for i := range rows {
			fmt.Fprintf(&b, "K%07d.01,%d.5,1.%d\n", i, period+i%400, i%10)
		}
		return b.Bytes()
	}
	const chunk = 16 << 10
	a, b := gen(20000, 1), gen(20000, 2)
	MustIngest(t, e, IngestInput{Reader: bytes.NewReader(a), OriginalName: "a.csv", Name: "a"})
	MustIngest(t, e, IngestInput{Reader: bytes.NewReader(b), OriginalName: "b.csv", Name: "b"})
	tail := bytes.Clone(a)
	tail[len(tail)-2]++
	for _, tc := range []struct {
		name      string
		data      []byte
		wantReads int
	}{
		{name: "differs at once", data: gen(20000, 3), wantReads: 1},
		{name: "differs in its last chunk", data: tail, wantReads: (len(tail) + chunk - 1) / chunk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &chunkReader{r: bytes.NewReader(tc.data), chunk: chunk}
			_, err := e.Ingest(context.Background(), IngestInput{Reader: r, OriginalName: "new.csv", Name: "a", Size: int64(len(tc.data))})
			if ErrorCode(err) != Conflict || !strings.Contains(ErrorMessage(err), `A dataset named "a" already exists`) || !strings.Contains(ErrorMessage(err), "Nothing was stored") {
				t.Errorf("got %s %v, want the taken name's Conflict", ErrorCode(err), err)
			}
			if r.reads != tc.wantReads {
				t.Errorf("%d reads of %d bytes before the refusal, want %d", r.reads, chunk, tc.wantReads)
			}
		})
	}
	t.Run("too small to be any", func(t *testing.T) {
		r := &chunkReader{r: bytes.NewReader(gen(10, 3)), chunk: chunk}
		if _, err := e.Ingest(context.Background(), IngestInput{Reader: r, OriginalName: "new.csv", Name: "a", Size: 500}); ErrorCode(err) != Conflict || r.reads != 0 {
			t.Errorf("got %v after %d reads, want a Conflict before any", err, r.reads)
		}
	})
	for _, tc := range []struct{ name, as, want string }{
		{name: "the name's own bytes", as: "a", want: "a"},
		{name: "another dataset's bytes", as: "b", want: "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := MustIngest(t, e, IngestInput{Reader: &chunkReader{r: bytes.NewReader(a), chunk: chunk}, OriginalName: "again.csv", Name: tc.as})
			if ds.DuplicateOf != tc.want {
				t.Errorf("duplicate_of = %q, want %q", ds.DuplicateOf, tc.want)
			}
		})
	}
	if n := mustQueryInt(t, e, "SELECT count(*) FROM meta.datasets"); n != 2 {
		t.Errorf("meta.datasets has %d rows, want 2", n)
	}
	assertNoLeftovers(t, e)
}

// TestEngine_Ingest_DuplicateOtherOptions: the same bytes asked for with
// other units or another mission are another table, not a duplicate, and
// the options are validated as for a new file.
func TestEngine_Ingest_DuplicateOtherOptions(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	path := filepath.Join(t.TempDir(), "gen.csv")
	if err := os.WriteFile(path, []byte("kepoi_name,koi_period,koi_prad,koi_depth\nK00001.01,3.5,1.2,0.05\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	first := MustIngest(t, e, IngestInput{Path: path, Units: map[string]string{"koi_depth": "percent"}})
	if again := MustIngest(t, e, IngestInput{Path: path, Units: map[string]string{"koi_depth": "percent"}}); again.DuplicateOf != first.Name {
		t.Errorf("same bytes, same units: duplicate_of = %q, want %q", again.DuplicateOf, first.Name)
	}
	ppm := MustIngest(t, e, IngestInput{Path: path, Name: "gen_ppm"})
	if ppm.DuplicateOf != "" || ppm.Name != "gen_ppm" {
		t.Fatalf("same bytes, other units: %+v, want a new dataset gen_ppm", ppm)
	}
	got := mustQueryString(t, e, `SELECT string_agg(CAST(koi_depth AS VARCHAR), ' ' ORDER BY name) FROM (
		SELECT 'a' AS name, koi_depth FROM normalized.`+first.Name+` UNION ALL SELECT 'b', koi_depth FROM normalized.gen_ppm)`)
	if got != "500.0 0.05" {
		t.Errorf("koi_depth (percent, then ppm) = %q, want 500.0 0.05", got)
	}
	for _, in := range []IngestInput{
		{Path: path, Units: map[string]string{"koi_depth": "furlongs"}},
		{Path: path, Mission: "mars"},
	} {
		if _, err := e.Ingest(context.Background(), in); ErrorCode(err) != BadRequest {
			t.Errorf("Ingest(%+v) = %v, want BadRequest", in, err)
		} else if in.Mission != "" && !strings.Contains(ErrorMessage(err), "use koi, toi, k2, ps, pscomppars, generic") {
			t.Errorf("unknown mission: %q does not list every mission of schemas/columns.yaml", ErrorMessage(err))
		}
	}
	if n := mustQueryInt(t, e, "SELECT count(*) FROM meta.datasets"); n != 2 {
		t.Errorf("meta.datasets has %d rows, want 2", n)
	}
	assertNoLeftovers(t, e)
}

// TestEngine_Ingest_Names covers derived, unique and explicit names.
func TestEngine_Ingest_Names(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	dir := t.TempDir()
	mk := func(i int) []byte {
		return []byte("kepoi_name,koi_period,koi_prad\nK00001.01," + string(rune('1'+i)) + ".5,2.0\n")
	}
	tests := []struct {
		name     string
		in       IngestInput
		wantName string
		wantCode Code
	}{
		{name: "derived", in: IngestInput{Reader: bytes.NewReader(mk(0)), OriginalName: "My KOI (2025).csv"}, wantName: "my_koi_2025"},
		{name: "derived unique", in: IngestInput{Reader: bytes.NewReader(mk(1)), OriginalName: "my-koi 2025.csv"}, wantName: "my_koi_2025_2"},
		{name: "traversal", in: IngestInput{Reader: bytes.NewReader(mk(2)), OriginalName: "../../etc/passwd"}, wantName: "passwd"},
		{name: "explicit", in: IngestInput{Reader: bytes.NewReader(mk(3)), OriginalName: "x.csv", Name: "chosen"}, wantName: "chosen"},
		{name: "explicit exists", in: IngestInput{Reader: bytes.NewReader(mk(4)), OriginalName: "x.csv", Name: "chosen"}, wantCode: Conflict},
		{name: "explicit invalid", in: IngestInput{Reader: bytes.NewReader(mk(5)), OriginalName: "x.csv", Name: "Bad-Name"}, wantCode: BadRequest},
		{name: "digits first", in: IngestInput{Path: MustWriteFile(t, dir, "2025.csv", mk(6))}, wantName: "d_2025"},
	}
	for _, tc := range tests {
		ds, err := e.Ingest(context.Background(), tc.in)
		if tc.wantCode != "" {
			if ErrorCode(err) != tc.wantCode {
				t.Errorf("%s: code = %q (%v), want %q", tc.name, ErrorCode(err), err, tc.wantCode)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if ds.Name != tc.wantName {
			t.Errorf("%s: name = %q, want %q", tc.name, ds.Name, tc.wantName)
		}
		if _, err := os.Stat(e.abs(ds.Path)); err != nil || filepath.Dir(e.abs(ds.Path)) != e.path(DirRaw, ds.Name) {
			t.Errorf("%s: stored at %s (%v), want under %s", tc.name, ds.Path, err, e.path(DirRaw, ds.Name))
		}
	}
	assertNoLeftovers(t, e)
}

// TestEngine_Ingest_Gzip stores a gzip file unchanged and reads it through
// DuckDB with the same rows as the plain file.
func TestEngine_Ingest_Gzip(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	plain, err := os.ReadFile(filepath.Join(sharedData, "k2pandc_2025-10-04_commented.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(plain)
	_ = zw.Close()
	ds := MustIngest(t, e, IngestInput{Reader: bytes.NewReader(gz.Bytes()), OriginalName: "k2.csv.gz"})
	sum := sha256.Sum256(gz.Bytes())
	stored, err := os.ReadFile(e.abs(ds.Path))
	if err != nil {
		t.Fatal(err)
	}
	got := struct {
		Rows, ViewRows, Bytes int64
		SHA, Compression      string
		Identical             bool
	}{ds.Rows, mustQueryInt(t, e, "SELECT count(*) FROM "+quoteView("raw", ds.Name)), ds.Bytes, ds.SHA256, ds.Compression, bytes.Equal(stored, gz.Bytes())}
	want := got
	want.Rows, want.ViewRows, want.Bytes, want.SHA, want.Compression, want.Identical = 4004, 4004, int64(gz.Len()), hex.EncodeToString(sum[:]), CompressionGzip, true
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("gzip dataset (-want +got):\n%s", diff)
	}
}

// TestEngine_Ingest_GzipNoFinalNewline: the last record of a gzip CSV
// that does not end in a newline counts, as in the plain file (the KOI
// file gzipped without its final newline read 9563 rows).
func TestEngine_Ingest_GzipNoFinalNewline(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	for _, text := range []string{"kepoi_name,koi_period\nK1,1\nK2,2", "kepoi_name,koi_period\r\nK1,1\r\nK2,\"2\""} {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write([]byte(text))
		_ = zw.Close()
		for _, in := range []IngestInput{
			{Reader: strings.NewReader(text), OriginalName: "plain.csv"},
			{Reader: bytes.NewReader(gz.Bytes()), OriginalName: "packed.csv.gz"},
		} {
			ds := MustIngest(t, e, in)
			if ds.Rows != 2 {
				t.Errorf("%s %q: rows = %d, want 2", in.OriginalName, text, ds.Rows)
			}
		}
	}
}

// TestEngine_Ingest_Parquet converts a real file to Parquet with DuckDB and
// ingests it: ids become text, rows come from the footer.
func TestEngine_Ingest_Parquet(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	out := filepath.Join(t.TempDir(), "toi.parquet")
	src, _ := filepath.Abs(filepath.Join(sharedData, "toi_2025.csv"))
	q := "COPY (SELECT * FROM read_csv(" + litPath(src) + ")) TO " + litPath(out) + " (FORMAT parquet)"
	if _, err := e.db.Exec(q); err != nil {
		t.Fatal(err)
	}
	ds := MustIngest(t, e, IngestInput{Path: out})
	if ds.Format != FormatParquet || ds.Rows != 7703 || ds.Mission != "toi" {
		t.Errorf("parquet dataset = {format %s, rows %d, mission %s}, want {parquet, 7703, toi}", ds.Format, ds.Rows, ds.Mission)
	}
	if got := mustQueryString(t, e, `SELECT typeof(toi) FROM raw."toi" LIMIT 1`); got != "VARCHAR" {
		t.Errorf("typeof(toi) = %s, want VARCHAR", got)
	}
	for _, c := range ds.Columns {
		if c.Name == "toi" && c.Type != "VARCHAR" {
			t.Errorf("dataset column toi has type %s, want VARCHAR as served", c.Type)
		}
	}
}

// assertNoLeftovers checks that no .part file and no pending dataset folder
// remain, and that every raw folder has a meta row.
func assertNoLeftovers(t *testing.T, e *Engine) {
	t.Helper()
	parts, _ := os.ReadDir(e.path(DirRaw, dirIncoming))
	for _, p := range parts {
		t.Errorf("leftover in .incoming: %s", p.Name())
	}
	dirs, _ := os.ReadDir(e.path(DirRaw))
	for _, d := range dirs {
		if d.Name() == dirIncoming {
			continue
		}
		if _, err := e.Dataset(context.Background(), d.Name()); err != nil {
			t.Errorf("raw/%s has no dataset: %v", d.Name(), err)
		}
		if _, err := os.Stat(filepath.Join(e.path(DirRaw, d.Name()), pendingMarker)); err == nil {
			t.Errorf("raw/%s still has the pending marker", d.Name())
		}
	}
}

// TestEngine_Ingest_PipelineViews checks that ingest registers the three
// pipeline views and that they run over a real file.
func TestEngine_Ingest_PipelineViews(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	ds := MustIngest(t, e, IngestInput{Path: filepath.Join(sharedData, "koi_cumulative_2025-09-29_commented.csv"), Name: "koi"})
	for _, schema := range datasetSchemas {
		if n := mustQueryInt(t, e, "SELECT count(*) FROM "+quoteView(schema, ds.Name)); n != 9564 {
			t.Errorf("%s.koi has %d rows, want 9564", schema, n)
		}
	}
	q := `SELECT count(*) FROM classified."koi" WHERE koi_disposition = 'CONFIRMED'`
	if n := mustQueryInt(t, e, q); n != 2746 {
		t.Errorf("confirmed = %d, want 2746", n)
	}
}

// TestEngine_Ingest_Concurrent runs uploads at once, some with identical
// bytes: every call succeeds, identical bytes become one dataset, names stay
// unique and nothing is left behind.
func TestEngine_Ingest_Concurrent(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	same, err := os.ReadFile(filepath.Join("testdata", "koi_small_commented.csv"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	type result struct {
		ds  *Dataset
		err error
	}
	results := make(chan result, n)
	for i := range n {
		go func() {
			data := same
			if i%2 == 1 {
				data = []byte(koiHeader + "K0000" + strconv.Itoa(i) + ".01,1,CANDIDATE,1.5,2,5000\n")
			}
			ds, err := e.Ingest(context.Background(), IngestInput{Reader: bytes.NewReader(data), OriginalName: "koi.csv"})
			results <- result{ds, err}
		}()
	}
	names := map[string]int{}
	for range n {
		r := <-results
		if r.err != nil {
			t.Fatalf("concurrent ingest: %v", r.err)
		}
		names[r.ds.Name]++
	}
	if len(names) != 1+n/2 {
		t.Errorf("datasets = %v, want %d distinct", names, 1+n/2)
	}
	if got := mustQueryInt(t, e, "SELECT count(*) FROM meta.datasets"); got != int64(1+n/2) {
		t.Errorf("meta.datasets has %d rows, want %d", got, 1+n/2)
	}
	assertNoLeftovers(t, e)
}

// cancelReader cancels its context after the first read.
type cancelReader struct {
	r      io.Reader
	cancel context.CancelFunc
	reads  int
}

// Read implements io.Reader.
func (c *cancelReader) Read(p []byte) (int, error) {
	c.reads++
	if c.reads == 2 {
		c.cancel()
	}
	return c.r.Read(p[:min(len(p), 4096)])
}

// TestEngine_Ingest_Cancelled stops an upload half-way: the error is the
// context's, and no partial file remains.
func TestEngine_Ingest_Cancelled(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	f, err := os.Open(filepath.Join(sharedData, "koi_cumulative_2025.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = e.Ingest(ctx, IngestInput{Reader: &cancelReader{r: f, cancel: cancel}, OriginalName: "koi.csv"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	assertNoLeftovers(t, e)
}
