package engine

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	sqltmpl "github.com/exohunter/exohunter/sql"
)

// exportCase is one export of the conformance test.
type exportCase struct {
	name  string
	query string
}

// TestEngine_ExportRun_Conformance is the one test every export format
// passes (STYLE rule 32): the same filtered and unfiltered exports, read
// back with a strict parser of the format, must hold exactly the rows
// Results counts, with the run's columns and types.
func TestEngine_ExportRun_Conformance(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	ctx := context.Background()
	cases := []exportCase{
		{"all rows", ""},
		{"filtered", "category=confirmed_planet,likely_false_positive&koi_period__lt=30"},
		{"sorted", "sort=koi_prad&order=desc"},
		{"formulas kept", "spreadsheet_safe=false"},
	}
	for _, f := range ExportFormats {
		for _, c := range cases {
			t.Run(string(f)+"/"+c.name, func(t *testing.T) {
				v, _ := url.ParseQuery(c.query)
				q, err := ParseResultsQuery(run.RunID, v)
				if err != nil {
					t.Fatal(err)
				}
				want := mustResults(t, e, run.RunID, c.query+"&limit=1000")
				var buf bytes.Buffer
				if err := e.ExportRun(ctx, &buf, run.RunID, f, q); err != nil {
					t.Fatal(err)
				}
				got := readExport(t, e, f, buf.Bytes(), want.Columns)
				if len(got) != int(want.Total) {
					t.Fatalf("%d rows, want %d", len(got), want.Total)
				}
				gotIDs := ids(got)
				wantIDs := recordIDs(want.Rows)
				if c.name != "sorted" {
					sort.Strings(gotIDs)
					sort.Strings(wantIDs)
				}
				if d := cmp.Diff(wantIDs, gotIDs); d != "" {
					t.Errorf("object ids (-want +got)\n%s", d)
				}
				checkExportValues(t, f, got, !q.KeepFormulas)
			})
		}
	}
	t.Run("unfiltered parquet is the run file", func(t *testing.T) {
		x, err := e.OpenRunExport(ctx, run.RunID, Parquet, ResultsQuery{})
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		got, _ := io.ReadAll(x)
		want, _ := os.ReadFile(e.abs(run.Path))
		if !bytes.Equal(got, want) || x.Size != int64(len(want)) {
			t.Errorf("export is %d bytes (Size %d), run file %d", len(got), x.Size, len(want))
		}
		if x.Name != run.RunID+".parquet" {
			t.Errorf("name %q", x.Name)
		}
	})
	t.Run("no temporary file is left", func(t *testing.T) {
		x, err := e.OpenRunExport(ctx, run.RunID, CSV, ResultsQuery{Category: []string{"candidate"}})
		if err != nil {
			t.Fatal(err)
		}
		if x.Name != run.RunID+"-filtered.csv" {
			t.Errorf("name %q", x.Name)
		}
		left, _ := filepath.Glob(filepath.Join(e.path(DirOutputs), exportTempPrefix+"*"))
		if len(left) != 0 {
			t.Errorf("files left while streaming: %v", left)
		}
		n, _ := io.Copy(io.Discard, x)
		if n != x.Size || x.Close() != nil {
			t.Errorf("streamed %d of %d bytes", n, x.Size)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		for name, q := range map[string]ResultsQuery{
			"projection":     {Columns: []string{"object_id"}},
			"unknown column": {Ranges: []RangeFilter{{"nope", "gt", "1"}}},
			"unknown sort":   {Sort: "nope"},
		} {
			if err := e.ExportRun(ctx, io.Discard, run.RunID, CSV, q); ErrorCode(err) != BadRequest {
				t.Errorf("%s: code %q (%v), want %q", name, ErrorCode(err), err, BadRequest)
			}
		}
		if err := e.ExportRun(ctx, io.Discard, run.RunID, "xlsx", ResultsQuery{}); ErrorCode(err) != BadRequest {
			t.Errorf("format: code %q, want %q", ErrorCode(err), BadRequest)
		}
		if err := e.ExportRun(ctx, io.Discard, "nope", CSV, ResultsQuery{}); ErrorCode(err) != NotFound {
			t.Errorf("run: code %q, want %q", ErrorCode(err), NotFound)
		}
	})
}

// readExport parses an export strictly and returns its rows as maps (CSV
// cells stay text). It checks the column set against the run's.
func readExport(t *testing.T, e *Engine, f ExportFormat, data []byte, cols []Column) []map[string]any {
	t.Helper()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	var rows []map[string]any
	switch f {
	case CSV:
		r := csv.NewReader(bytes.NewReader(data))
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("CSV: %v", err)
		}
		if d := cmp.Diff(names, recs[0]); d != "" {
			t.Fatalf("CSV header (-want +got)\n%s", d)
		}
		for _, rec := range recs[1:] {
			m := map[string]any{}
			for i, v := range rec {
				m[recs[0][i]] = v
			}
			rows = append(rows, m)
		}
	case JSON:
		if bytes.Contains(data, []byte("NaN")) || bytes.Contains(data, []byte("Infinity")) {
			t.Fatal("JSON holds NaN or Infinity")
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rows); err != nil {
			t.Fatalf("JSON: %v", err)
		}
		if dec.More() {
			t.Fatal("JSON: trailing data")
		}
	case NDJSON:
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		for i, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("NDJSON line %d: %v", i+1, err)
			}
			rows = append(rows, m)
		}
	case Parquet:
		p := MustWriteFile(t, t.TempDir(), "x.parquet", data)
		typ := map[string]string{}
		r, err := e.db.Query("DESCRIBE SELECT * FROM read_parquet(" + litPath(p) + ")")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for r.Next() {
			var n, ty string
			var a, b, c, d any
			if err := r.Scan(&n, &ty, &a, &b, &c, &d); err != nil {
				t.Fatal(err)
			}
			typ[n] = ty
			got = append(got, n)
		}
		r.Close()
		if d := cmp.Diff(names, got); d != "" {
			t.Fatalf("Parquet columns (-want +got)\n%s", d)
		}
		for _, c := range cols {
			if typ[c.Name] != c.Type {
				t.Errorf("Parquet column %s is %s, run has %s", c.Name, typ[c.Name], c.Type)
			}
		}
		for col, want := range map[string]string{"flags": "VARCHAR[]", "tags": "VARCHAR[]", "koi_period": "DOUBLE", "row_id": "BIGINT", "is_default": "BOOLEAN"} {
			if typ[col] != want {
				t.Errorf("Parquet %s is %s, want %s", col, typ[col], want)
			}
		}
		rs, err := e.db.Query("SELECT object_id, flags, kepler_name, koi_period_err2 FROM read_parquet(" + litPath(p) + ")")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var id, name, flags, err2 any
			if err := rs.Scan(&id, &flags, &name, &err2); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, map[string]any{"object_id": id, "flags": JSONValue(flags, "VARCHAR[]"), "kepler_name": name, "koi_period_err2": err2})
		}
	}
	return rows
}

// checkExportValues checks what differs by format: lists, formula
// neutralisation in CSV text cells when asked (safe), text as it is
// otherwise, negative numbers kept.
func checkExportValues(t *testing.T, f ExportFormat, rows []map[string]any, safe bool) {
	t.Helper()
	sawFormula, sawNegative := false, false
	for _, r := range rows {
		name, _ := r["kepler_name"].(string)
		switch {
		case f == CSV && safe:
			if name != "" && strings.ContainsRune("=+-@", rune(name[0])) {
				t.Errorf("CSV text cell %q is a live formula", name)
			}
			if strings.HasPrefix(name, "'") {
				sawFormula = true
			}
			if s, _ := r["koi_period_err2"].(string); strings.HasPrefix(s, "-") {
				sawNegative = true
			}
			if s, _ := r["flags"].(string); strings.Contains(s, "[") || strings.Contains(s, `"`) {
				t.Errorf("CSV flags cell %q is not ';'-joined", s)
			}
		case f == CSV:
			if strings.HasPrefix(name, "'") {
				t.Errorf("CSV text %q was altered with spreadsheet_safe=false", name)
			}
			if strings.HasPrefix(name, "=") || strings.HasPrefix(name, "@") || strings.HasPrefix(name, "+") {
				sawFormula = true
			}
			if s, _ := r["koi_period_err2"].(string); strings.HasPrefix(s, "-") {
				sawNegative = true
			}
			if s, _ := r["flags"].(string); strings.Contains(s, "[") || strings.Contains(s, `"`) {
				t.Errorf("CSV flags cell %q is not ';'-joined", s)
			}
		default:
			if strings.HasPrefix(name, "'") {
				t.Errorf("%s text %q was altered (only CSV neutralises)", f, name)
			}
			if strings.HasPrefix(name, "=") || strings.HasPrefix(name, "@") || strings.HasPrefix(name, "+") {
				sawFormula = true
			}
			if v, ok := r["koi_period_err2"].(float64); ok && v < 0 && !math.IsNaN(v) {
				sawNegative = true
			}
			if _, ok := r["flags"].([]any); !ok && r["flags"] != nil {
				t.Errorf("%s flags is %T, want a list", f, r["flags"])
			}
		}
	}
	if len(rows) > 5 && (!sawFormula || !sawNegative) {
		t.Errorf("fixture not exercised: formula cell seen %v, negative number seen %v", sawFormula, sawNegative)
	}
}

// TestEngine_ExportRun_Timestamps: JSON and NDJSON exports print a
// TIMESTAMP column in RFC 3339, exactly as the results pages do (DuckDB's
// JSON writer alone prints "2019-07-24 15:58:33").
func TestEngine_ExportRun_Timestamps(t *testing.T) {
	t.Parallel()
	e, run := mustProcessCSV(t, "kepoi_name,koi_period,koi_prad,created\n"+
		"K00001.01,3.5,1.2,2019-07-24 15:58:33\n"+
		"K00002.01,4.5,2.2,2020-01-02 03:04:05.25\n"+
		"K00003.01,5.5,3.2,\n")
	page := mustResults(t, e, run.RunID, "columns=object_id,created")
	want := map[string]any{}
	for _, r := range page.Rows {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		want[m["object_id"].(string)] = m["created"]
	}
	if want["K00001.01"] != "2019-07-24T15:58:33Z" || want["K00002.01"] != "2020-01-02T03:04:05.25Z" || want["K00003.01"] != nil {
		t.Fatalf("page values = %v (is created a TIMESTAMP column?)", want)
	}
	for _, f := range []ExportFormat{JSON, NDJSON} {
		var buf bytes.Buffer
		if err := e.ExportRun(context.Background(), &buf, run.RunID, f, ResultsQuery{RunID: run.RunID}); err != nil {
			t.Fatal(err)
		}
		got := map[string]any{}
		for _, r := range readExport(t, e, f, buf.Bytes(), page.Columns) {
			got[r["object_id"].(string)] = r["created"]
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s export created (-page +export):\n%s", f, d)
		}
	}
}

// TestEngine_ExportRunFile_KeepsOldFileOnFailure: process --out, score --out
// and anomalies --out write beside the user's file and replace it only when
// complete; an interrupted export leaves the old file and no leftovers.
func TestEngine_ExportRunFile_KeepsOldFileOnFailure(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	dir := t.TempDir()
	out := filepath.Join(dir, "mine.csv")
	if err := os.WriteFile(out, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.exportRunFile(cancelled, e.abs(run.Path), out); err == nil || !strings.Contains(ErrorMessage(err), "interrupted; the file was not changed") {
		t.Fatalf("an export with a cancelled context: %v", err)
	}
	if err := e.ExportScoredRun(cancelled, run.RunID, out); err == nil {
		t.Fatal("a scored export with a cancelled context succeeded")
	}
	// A COPY that fails while writing (the old code removed out then).
	failing := exportSource{From: sqltmpl.Expr("SELECT CAST('x' || range AS INTEGER) AS a FROM range(3)")}
	if err := e.exportToFile(context.Background(), failing, CSV, out); err == nil {
		t.Fatal("a failing COPY succeeded")
	} else if msg := ErrorMessage(err); !strings.Contains(msg, "Writing "+out+" failed, and the file was not changed: Conversion Error") || strings.Contains(msg, ".tmp") {
		t.Errorf("message %q, want it to name %s and DuckDB's reason, not the temporary file", msg, out)
	}
	if b, _ := os.ReadFile(out); string(b) != "precious\n" {
		t.Errorf("the old file now holds %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d entries after failed exports, want only mine.csv", len(entries))
	}
	if err := e.exportRunFile(context.Background(), e.abs(run.Path), out); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); !strings.HasPrefix(string(b), "run_id,") {
		t.Errorf("the export did not replace the file: %.40q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d entries after the export, want 1", len(entries))
	}
}

// TestEngine_Process_OutFailsAfterTheRun: when --out cannot be written the
// run itself is complete (it was recorded as failed, and its finished file
// was left for nobody to remove), and the error says both.
func TestEngine_Process_OutFailsAfterTheRun(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := e.Process(context.Background(), ProcessInput{Dataset: run.Dataset, Out: filepath.Join(blocker, "out.csv")})
	if err == nil || !strings.Contains(ErrorMessage(err), "is complete, but cannot create the folder") {
		t.Fatalf("err = %v (%s), want the run complete and the folder refused", err, ErrorMessage(err))
	}
	if n := mustQueryInt(t, e, `SELECT count(*) FROM meta.runs WHERE dataset = ? AND status = 'complete'`, run.Dataset); n != 2 {
		t.Errorf("%d complete runs of %s, want 2 (the one whose --out failed included)", n, run.Dataset)
	}
}

// TestEngine_ExportRunFile_KeepsText: a CSV written with --out holds text
// as it is (the server's downloads are the ones marked for spreadsheets).
func TestEngine_ExportRunFile_KeepsText(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	out := filepath.Join(t.TempDir(), "run.csv")
	if err := e.exportRunFile(context.Background(), e.abs(run.Path), out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for _, r := range recs[1:] {
		row := map[string]any{}
		for i, name := range recs[0] {
			row[name] = r[i]
		}
		rows = append(rows, row)
	}
	checkExportValues(t, CSV, rows, false)
}

// TestEngine_ExportRun_DiskRoom: an export that would fill the disk is
// refused before it writes anything, with the sizes in the message; the
// estimate scales with the rows a filter keeps and the format.
func TestEngine_ExportRun_DiskRoom(t *testing.T) {
	t.Parallel()
	e, run := MustProcessFile(t, resultsKOI)
	ctx := context.Background()
	r, err := e.resultRun(ctx, run.RunID)
	if err != nil {
		t.Fatal(err)
	}
	none := &resultsFilter{}
	if err := e.exportDiskRoom(ctx, r, none, CSV, true); err != nil {
		t.Errorf("the fixture's export: %v", err)
	}
	free, _, err := diskFree(e.tempDir)
	if err != nil {
		t.Fatal(err)
	}
	// note: sparse files take no space themselves. Half the free disk:
	// its sorted CSV export (3.5x the run file) plus the sort (4x) would
	// need 3.75x the free disk, the sorted Parquet export 2.6x.
	big := *r
	big.path = mustSparseFile(t, free/2)
	for _, format := range []ExportFormat{CSV, Parquet} {
		err = e.exportDiskRoom(ctx, &big, none, format, true)
		if code := ErrorCode(err); code != Storage || !strings.Contains(err.Error(), "Not enough free disk to export") ||
			strings.Contains(err.Error(), "choose Parquet") != (format != Parquet) {
			t.Errorf("%s export of a run half the free disk: %v (%s), want a refusal", format, err, code)
		}
	}
	// A tenth of the free disk without the sort (a run file in row_id
	// order): 0.4x.
	small := *r
	small.path = mustSparseFile(t, free/10)
	if err := e.exportDiskRoom(ctx, &small, none, CSV, false); err != nil {
		t.Errorf("an unsorted CSV export of a run a tenth of the free disk: %v", err)
	}
	// Through the export itself (the run's description swapped for the
	// large one): refused before anything is written.
	st := e.results()
	st.mu.Lock()
	st.runs[run.RunID] = &big
	st.mu.Unlock()
	q, err := ParseResultsQuery(run.RunID, url.Values{"sort": {"koi_prad"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.OpenRunExport(ctx, run.RunID, CSV, q); ErrorCode(err) != Storage {
		t.Errorf("export of the large run: %v, want a Storage refusal", err)
	}
	if entries, _ := os.ReadDir(e.path(DirOutputs)); len(entries) != 0 {
		t.Errorf("a refused export left %d files in outputs", len(entries))
	}
	file, spill := exportDiskNeed(1000, 10, 100, CSV, true)
	if file != 350 || spill != 400 {
		t.Errorf("a tenth of the rows of a 1000-byte run as sorted CSV: file %d, spill %d; want 350, 400", file, spill)
	}
	if file, spill := exportDiskNeed(1000, 100, 100, NDJSON, false); file != 10000 || spill != 500 {
		t.Errorf("unsorted NDJSON of a 1000-byte run: file %d, spill %d; want 10000, 500", file, spill)
	}
}

// TestEngine_ExportRun_RowIDOrder: exports without a sort come in row_id
// order from a run large enough for DuckDB to read its row groups in
// parallel (100k rows, 7 groups), filtered or not, and with no sort (the
// run file is streamed in its order). A file whose rows are not in row_id
// order is noticed, so its exports are sorted instead. The engine is
// locked, as serve's is.
func TestEngine_ExportRun_RowIDOrder(t *testing.T) {
	t.Parallel()
	// note: locked like serve's engine, which refuses any SET afterwards.
	var logs syncBuffer
	e := MustOpenEngine(t, func(o *Options) {
		o.Lock = true
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ctx := context.Background()
	src := filepath.Join(e.tempDir, "big.csv")
	if _, err := e.db.ExecContext(ctx, `COPY (
		SELECT 'K' || lpad(CAST(i AS VARCHAR), 8, '0') || '.01' AS kepoi_name, i // 2 AS kepid,
			0.5 + (hash(i) % 4000) / 10.0 AS koi_period, 0.5 + (hash(i, 1) % 300) / 10.0 AS koi_prad,
			4000 + hash(i, 2) % 3000 AS koi_steff, 0.5 + (hash(i, 3) % 100) / 100.0 AS koi_srad,
			CASE i % 3 WHEN 0 THEN 'CONFIRMED' WHEN 1 THEN 'CANDIDATE' ELSE 'FALSE POSITIVE' END AS koi_disposition
		FROM range(100000) AS r(i)) TO '`+src+`' (HEADER)`); err != nil {
		t.Fatal(err)
	}
	MustIngest(t, e, IngestInput{Path: src, Name: "big"})
	run, err := e.Process(ctx, ProcessInput{Dataset: "big"})
	if err != nil {
		t.Fatal(err)
	}
	if ordered, err := e.fileInRowIDOrder(ctx, e.abs(run.Path)); err != nil || !ordered {
		t.Fatalf("the run file is not in row_id order (%v, %v)", ordered, err)
	}
	for _, query := range []string{"", "koi_period__lt=100", "category=likely_false_positive,confirmed_planet"} {
		v, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseResultsQuery(run.RunID, v)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := e.ExportRun(ctx, &b, run.RunID, CSV, q); err != nil {
			t.Fatalf("%q: %v", query, err)
		}
		recs, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := slices.Index(recs[0], "row_id")
		var prev int64
		for i, rec := range recs[1:] {
			id, err := strconv.ParseInt(rec[col], 10, 64)
			if err != nil || id <= prev {
				t.Fatalf("%q: row %d has row_id %s after %d", query, i+1, rec[col], prev)
			}
			prev = id
		}
		if total := mustResults(t, e, run.RunID, query).Total; int64(len(recs)-1) != total || total < 10000 {
			t.Errorf("%q: %d rows exported, %d match", query, len(recs)-1, total)
		}
	}
	// The rows came in order because the file was streamed in order, not
	// because a connection had lost the setting and sorted instead.
	if strings.Contains(logs.String(), "sorting instead") {
		t.Errorf("an export fell back to a sort:\n%s", logs.String())
	}
	// Scored: each row's scores lined up with it (p_model = row_id / 10^6),
	// streamed in order when the scores cover every row once, sorted by the
	// hash join when one is missing.
	ids := make([]int64, run.Rows)
	pm := make([]float64, run.Rows)
	for i := range ids {
		ids[i], pm[i] = int64(i+1), float64(i+1)/1e6
	}
	if err := e.writeScores(ctx, run, scoreColumns{rowIDs: ids, names: []string{"p_model"}, values: [][]float64{pm}}); err != nil {
		t.Fatal(err)
	}
	checkScored := func(what string, unscored int64) {
		t.Helper()
		var b bytes.Buffer
		if err := e.ExportRun(ctx, &b, run.RunID, CSV, ResultsQuery{RunID: run.RunID}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		recs, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		idCol, pCol := slices.Index(recs[0], "row_id"), slices.Index(recs[0], "p_model")
		var prev int64
		for i, rec := range recs[1:] {
			id, _ := strconv.ParseInt(rec[idCol], 10, 64)
			p, _ := strconv.ParseFloat(rec[pCol], 64)
			if id <= prev || id != unscored && math.Abs(p-float64(id)/1e6) > 1e-12 || id == unscored && rec[pCol] != "" {
				t.Fatalf("%s: row %d: row_id %d after %d, p_model %s", what, i+1, id, prev, rec[pCol])
			}
			prev = id
		}
		if int64(len(recs)-1) != run.Rows {
			t.Errorf("%s: %d rows, want %d", what, len(recs)-1, run.Rows)
		}
	}
	if _, ok, err := e.orderedScoredRun(ctx, mustResultRun(t, e, run.RunID)); !ok || err != nil {
		t.Fatalf("a fully scored run does not line up (%v)", err)
	}
	checkScored("every row scored", 0)
	if _, err := e.db.ExecContext(ctx, "DELETE FROM meta.scores WHERE run_id = ? AND row_id = 7", run.RunID); err != nil {
		t.Fatal(err)
	}
	e.forgetResultRun(run.RunID)
	if from, ok, err := e.orderedScoredRun(ctx, mustResultRun(t, e, run.RunID)); ok || err != nil {
		t.Fatalf("a row without scores still lines up: %s, %v", from, err)
	}
	checkScored("row 7 unscored", 7)

	shuffled := filepath.Join(e.tempDir, "shuffled.parquet")
	if _, err := e.db.ExecContext(ctx, `COPY (SELECT * FROM read_parquet(?) ORDER BY hash(row_id)) TO '`+shuffled+`'`, e.abs(run.Path)); err != nil {
		t.Fatal(err)
	}
	if ordered, err := e.fileInRowIDOrder(ctx, shuffled); err != nil || ordered {
		t.Errorf("a shuffled file: in order %v (%v)", ordered, err)
	}
}

// mustResultRun is the results description of a run.
func mustResultRun(tb testing.TB, e *Engine, runID string) *resultRun {
	tb.Helper()
	r, err := e.resultRun(context.Background(), runID)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestEngine_ExportRun_values: values of passed-through source columns
// follow the Contracts' rules in the run file and in every text export:
// NaN and ±Inf inside a list or struct are NULL (they were stored, and
// exported as bare NaN and Infinity, which is not JSON), a UBIGINT is a
// JSON string (a number beyond 2^53 loses digits in most JSON readers;
// Parquet has no HUGEINT) and a BLOB is base64 (DuckDB wrote \xFF), in
// lists too. A list's NULL keeps its place in CSV.
func TestEngine_ExportRun_values(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := MustOpenEngine(t)
	src := filepath.Join(t.TempDir(), "odd.parquet")
	if _, err := e.db.ExecContext(ctx, "COPY (SELECT 'K1.01' AS kepoi_name, 10.5 AS koi_period, "+
		"[1::DOUBLE, 'nan'::DOUBLE, '-inf'::DOUBLE] AS arr, {'x': 'nan'::DOUBLE, 'y': 2.5} AS st, MAP {'k': 'inf'::DOUBLE} AS m, "+
		"18446744073709551615::UBIGINT AS ub, '\\xFF'::BLOB AS bl, "+
		"[18446744073709551615::UBIGINT] AS ul, ['\\xFF'::BLOB] AS bls, "+
		"TIMESTAMP '2019-07-24 15:58:33.5' AS ts, 'infinity'::TIMESTAMP AS tinf, [TIMESTAMP '2019-07-24 15:58:33', NULL] AS tl, "+
		"{'t': TIMESTAMPTZ '2019-07-24 15:58:33+02', 'd': 'infinity'::DATE} AS tst, [TIMETZ '15:58:33+00', TIMETZ '15:58:33+05:30'] AS tz) TO "+
		sqltmpl.Lit(src).String()+" (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Ingest(ctx, IngestInput{Path: src, Name: "odd"}); err != nil {
		t.Fatal(err)
	}
	run, err := e.Process(ctx, ProcessInput{Dataset: "odd"})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustQueryString(t, e, `SELECT concat_ws(' ', arr[1], arr[2] IS NULL, arr[3] IS NULL, st.x IS NULL, st.y, m['k'] IS NULL)
		FROM (`+string(readParquet(e.abs(run.Path)))+`)`); got != "1.0 true true true 2.5 true" {
		t.Errorf("the run file holds %q, want NaN and Inf as NULL in the list, struct and map", got)
	}
	wantJSON := map[string]any{"arr": []any{1.0, nil, nil}, "st": map[string]any{"x": nil, "y": 2.5}, "m": map[string]any{"k": nil},
		"ub": "18446744073709551615", "bl": "/w==", "ul": []any{"18446744073709551615"}, "bls": []any{"/w=="},
		"ts": "2019-07-24T15:58:33.5Z", "tinf": nil, "tl": []any{"2019-07-24T15:58:33Z", nil},
		"tst": map[string]any{"t": "2019-07-24T13:58:33Z", "d": nil}, "tz": []any{"15:58:33Z", "10:28:33Z"}} // note: Parquet keeps TIMETZ in UTC.
	page, err := e.Results(ctx, ResultsQuery{RunID: run.RunID})
	if err != nil || len(page.Rows) != 1 {
		t.Fatalf("results page: %v", err)
	}
	// note: the page's values, through encoding/json as the API sends them.
	pageJSON, err := json.Marshal(page.Rows[0])
	if err != nil {
		t.Fatal(err)
	}
	var pageRow map[string]any
	if err := json.Unmarshal(pageJSON, &pageRow); err != nil {
		t.Fatal(err)
	}
	for _, f := range []ExportFormat{JSON, NDJSON} {
		var buf bytes.Buffer
		if err := e.ExportRun(ctx, &buf, run.RunID, f, ResultsQuery{RunID: run.RunID}); err != nil {
			t.Fatal(err)
		}
		var row map[string]any
		b := bytes.TrimSpace(buf.Bytes())
		if f == JSON {
			var rows []map[string]any
			if err := json.Unmarshal(b, &rows); err != nil || len(rows) != 1 {
				t.Fatalf("%s export is not one JSON row (%v): %.300s", f, err, b)
			}
			row = rows[0]
		} else if err := json.Unmarshal(b, &row); err != nil {
			t.Fatalf("%s export is not JSON (%v): %.300s", f, err, b)
		}
		for k, want := range wantJSON {
			if diff := cmp.Diff(want, row[k]); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s", f, k, diff)
			}
		}
		for k, v := range pageRow {
			if diff := cmp.Diff(v, row[k]); diff != "" && k != "created_at" {
				t.Errorf("%s %s differs from the results page (-page +export):\n%s", f, k, diff)
			}
		}
	}
	// note: Parquet keeps no TIMETZ offset, so the offsets are checked
	// here, and year 0, which DuckDB writes as "0001-01-01 (BC)".
	days, _ := sqltmpl.JSONSQL("x", "DATE[]")
	if got := mustQueryString(t, e, "SELECT CAST(to_json("+days+") AS VARCHAR) FROM (SELECT [DATE '0001-01-01 (BC)', DATE '0099-03-04', DATE 'infinity'] AS x)"); got != `["0000-01-01","0099-03-04",null]` {
		t.Errorf("DATE in JSON = %s, want RFC 3339 full dates as the results pages print them", got)
	}
	tzs, _ := sqltmpl.JSONSQL("x", "TIMETZ[]")
	if got := mustQueryString(t, e, "SELECT CAST(to_json("+tzs+") AS VARCHAR) FROM (SELECT [TIMETZ '15:58:33+05', TIMETZ '15:58:33.25-03:30', TIMETZ '01:00:00+00', TIMETZ '01:00:00+05:30:15'] AS x)"); got != `["15:58:33+05:00","15:58:33.25-03:30","01:00:00Z","01:00:00+05:30"]` {
		t.Errorf("TIMETZ in JSON = %s, want RFC 3339 offsets as the results pages print them", got)
	}
	var buf bytes.Buffer
	if err := e.ExportRun(ctx, &buf, run.RunID, CSV, ResultsQuery{RunID: run.RunID}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("CSV export: %v, %d records", err, len(recs))
	}
	for i, h := range recs[0] {
		if want := map[string]string{"bl": "/w==", "ub": "18446744073709551615", "arr": "1.0;;", "bls": "/w=="}[h]; want != "" && recs[1][i] != want {
			t.Errorf("CSV %s = %q, want %q", h, recs[1][i], want)
		}
	}
}
