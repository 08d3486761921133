package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// koiSmall is the 12-KOI fixture with NASA's # header.
const koiSmall = "testdata/koi_small_commented.csv"

// mustKOISmallRun ingests the 12-KOI fixture as dataset "koi" and processes
// it once.
func mustKOISmallRun(t *testing.T, e *Engine) *Run {
	t.Helper()
	MustIngest(t, e, IngestInput{Path: koiSmall, Name: "koi"})
	run, err := e.Process(context.Background(), ProcessInput{Dataset: "koi"})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestEngine_AddLabel(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	run := mustKOISmallRun(t, e)
	ctx := context.Background()
	tests := []struct {
		name      string
		in        LabelInput
		wantCode  Code
		wantLabel string
	}{
		{"category", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "rocky_candidate", Annotator: "ann"}, "", "rocky_candidate"},
		{"disposition any case", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "confirmed", Annotator: "ann"}, "", "CONFIRMED"},
		{"underscored disposition", LabelInput{ObjectID: "K00754.01", Dataset: "koi", Label: "FALSE_POSITIVE", Annotator: "ann"}, "", "FALSE POSITIVE"},
		{"with run", LabelInput{ObjectID: "K00001.01", Dataset: "koi", RunID: run.RunID, Label: "candidate", Annotator: "ann"}, "", "candidate"},
		{"model source", LabelInput{ObjectID: "K00001.01", Dataset: "koi", Label: "CONFIRMED", Source: "model"}, "", "CONFIRMED"},
		{"unknown label", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "planet", Annotator: "ann"}, BadRequest, ""},
		{"unknown source", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "candidate", Source: "oracle", Annotator: "ann"}, BadRequest, ""},
		{"unknown object", LabelInput{ObjectID: "K99999.01", Dataset: "koi", Label: "candidate", Annotator: "ann"}, BadRequest, ""},
		{"kepid is not an object", LabelInput{ObjectID: "10797460", Dataset: "koi", Label: "candidate", Annotator: "ann"}, BadRequest, ""},
		{"unknown dataset", LabelInput{ObjectID: "K00752.01", Dataset: "toi", Label: "candidate", Annotator: "ann"}, BadRequest, ""},
		{"unknown run", LabelInput{ObjectID: "K00752.01", Dataset: "koi", RunID: "nope", Label: "candidate", Annotator: "ann"}, BadRequest, ""},
		{"human without annotator", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "candidate"}, BadRequest, ""},
		{"empty label", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Annotator: "ann"}, BadRequest, ""},
		{"nasa source is the catalog's", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "CONFIRMED", Source: "nasa"}, BadRequest, ""},
		{"annotator not UTF-8", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "candidate", Annotator: "\xff\xfe"}, BadRequest, ""},
		{"annotator with NUL", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "candidate", Annotator: "a\x00b"}, BadRequest, ""},
		{"note not UTF-8", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "candidate", Annotator: "ann", Note: "bad \xc3"}, BadRequest, ""},
		{"NASA's CANDIDATE keeps its case", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "CANDIDATE", Annotator: "ann"}, "", "CANDIDATE"},
		{"category in capitals", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "ROCKY_CANDIDATE", Annotator: "ann"}, "", "rocky_candidate"},
		{"Candidate is ambiguous", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "Candidate", Annotator: "ann"}, BadRequest, ""},
		{"heuristic source is a run's", LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "CONFIRMED", Source: "heuristic", Annotator: "bob"}, BadRequest, ""},
	}
	stored := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := e.AddLabel(ctx, tc.in)
			if got := ErrorCode(err); got != tc.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.wantCode)
			}
			if err != nil {
				if ErrorMessage(err) == "internal error" {
					t.Errorf("a 400 needs a message, got %v", err)
				}
				return
			}
			stored++
			if l.Label != tc.wantLabel || l.ID == 0 || l.CreatedAt.IsZero() || l.ReviewStatus != ReviewPending {
				t.Errorf("label = %+v", l)
			}
			got, err := e.Label(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(l, got); diff != "" {
				t.Errorf("stored label (-returned +stored):\n%s", diff)
			}
		})
	}
	if n := mustQueryInt(t, e, `SELECT count(*) FROM labels.labels`); n != int64(stored) {
		t.Errorf("%d labels stored, want %d: refused labels must never be stored", n, stored)
	}
}

func TestEngine_Labels_filtersAndPaging(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	run := mustKOISmallRun(t, e)
	ctx := context.Background()
	if _, err := e.ImportNASALabels(ctx, "koi"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ImportRunLabels(ctx, run.RunID); err != nil {
		t.Fatal(err)
	}
	h, err := e.AddLabel(ctx, LabelInput{ObjectID: "K00753.01", Dataset: "koi", Label: "anomalous_signal", Annotator: "ann", Note: "odd"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ReviewLabel(ctx, h.ID, ReviewInput{Status: "accept", Reviewer: "rev"}); err != nil {
		t.Fatal(err)
	}
	count := func(f LabelFilter) int {
		t.Helper()
		f.Limit = MaxLabelsLimit
		p, err := e.Labels(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Items)
	}
	tests := []struct {
		name string
		f    LabelFilter
		want int
	}{
		{"all", LabelFilter{}, 25},
		{"nasa", LabelFilter{Source: "nasa"}, 12},
		{"nasa confirmed", LabelFilter{Source: "NASA", Label: "confirmed"}, 9},
		{"heuristic", LabelFilter{Source: "heuristic", Dataset: "koi"}, 12},
		{"annotator", LabelFilter{Annotator: "ann"}, 1},
		{"accepted", LabelFilter{ReviewStatus: "accepted"}, 1},
		{"pending", LabelFilter{ReviewStatus: "pending"}, 24},
		{"run", LabelFilter{RunID: run.RunID}, 12},
		{"object", LabelFilter{ObjectID: "K00753.01"}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := count(tc.f); got != tc.want {
				t.Errorf("%d labels, want %d", got, tc.want)
			}
		})
	}
	// NASA's CANDIDATE and the category candidate differ only in case;
	// each filter finds its own labels.
	for _, lab := range []string{"CANDIDATE", "candidate"} {
		want := mustQueryInt(t, e, `SELECT count(*) FROM labels.labels WHERE label = ?`, lab)
		if want == 0 {
			t.Fatalf("the fixture has no %s label", lab)
		}
		if got := count(LabelFilter{Label: lab}); int64(got) != want {
			t.Errorf("label=%s: %d labels, want %d", lab, got, want)
		}
	}
	// Cursor paging visits every label once, in id order.
	var ids []int64
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := e.Labels(ctx, LabelFilter{Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range p.Items {
			ids = append(ids, l.ID)
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	if len(ids) != 25 {
		t.Errorf("paging saw %d labels, want 25", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids not increasing: %v", ids)
		}
	}
	for _, f := range []LabelFilter{{Limit: MaxLabelsLimit + 1}, {Cursor: "abc"}, {Source: "x"}, {ReviewStatus: "maybe"}, {Label: "planet"}} {
		if _, err := e.Labels(ctx, f); ErrorCode(err) != BadRequest {
			t.Errorf("Labels(%+v) = %v, want BadRequest", f, err)
		}
	}
}

func TestEngine_ReviewLabel(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	mustKOISmallRun(t, e)
	ctx := context.Background()
	l, err := e.AddLabel(ctx, LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "candidate", Annotator: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		id         int64
		in         ReviewInput
		wantCode   Code
		wantStatus string
	}{
		{"accept", l.ID, ReviewInput{Status: "accept", Reviewer: "rev"}, "", ReviewAccepted},
		{"then reject: latest wins", l.ID, ReviewInput{Status: "REJECTED", Reviewer: "rev2", Note: "no"}, "", ReviewRejected},
		{"unknown label", l.ID + 1000, ReviewInput{Status: "accept", Reviewer: "rev"}, NotFound, ReviewRejected},
		{"bad status", l.ID, ReviewInput{Status: "maybe", Reviewer: "rev"}, BadRequest, ReviewRejected},
		{"no reviewer", l.ID, ReviewInput{Status: "accept"}, BadRequest, ReviewRejected},
		{"reviewer with NUL", l.ID, ReviewInput{Status: "accept", Reviewer: "a\x00b"}, BadRequest, ReviewRejected},
		{"note not UTF-8", l.ID, ReviewInput{Status: "accept", Reviewer: "rev", Note: "bad \xc3"}, BadRequest, ReviewRejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ReviewLabel(ctx, tc.id, tc.in)
			if got := ErrorCode(err); got != tc.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.wantCode)
			}
			got, err := e.Label(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ReviewStatus != tc.wantStatus {
				t.Errorf("review_status = %q, want %q", got.ReviewStatus, tc.wantStatus)
			}
		})
	}
	if got := mustQueryString(t, e, `SELECT label FROM labels.labels WHERE id = ?`, l.ID); got != "candidate" {
		t.Errorf("a review changed the label itself to %q", got)
	}
}

func TestEngine_ImportLabels(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	run := mustKOISmallRun(t, e)
	ctx := context.Background()
	tests := []struct {
		name         string
		do           func() (*LabelImport, error)
		wantInserted int64
	}{
		{"nasa", func() (*LabelImport, error) { return e.ImportNASALabels(ctx, "koi") }, 12},
		{"nasa again adds nothing", func() (*LabelImport, error) { return e.ImportNASALabels(ctx, "koi") }, 0},
		{"run", func() (*LabelImport, error) { return e.ImportRunLabels(ctx, run.RunID) }, 12},
		{"run again adds nothing", func() (*LabelImport, error) { return e.ImportRunLabels(ctx, run.RunID) }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.do()
			if err != nil {
				t.Fatal(err)
			}
			if got.Inserted != tc.wantInserted || got.LabeledObjects != 12 {
				t.Errorf("import = %+v, want %d inserted and 12 labeled objects", got, tc.wantInserted)
			}
		})
	}
	// The nasa labels are the catalog dispositions; the heuristic labels
	// are the run's categories.
	if n := mustQueryInt(t, e, `SELECT count(*) FROM labels.current l JOIN normalized.koi n USING (object_id)
		WHERE l.source = 'nasa' AND l.label = n.koi_disposition`); n != 12 {
		t.Errorf("%d nasa labels match the catalog, want 12", n)
	}
	if n := mustQueryInt(t, e, `SELECT count(*) FROM labels.current l JOIN runs.results r USING (object_id, run_id)
		WHERE l.source = 'heuristic' AND l.label = r.category`); n != 12 {
		t.Errorf("%d heuristic labels match the run, want 12", n)
	}
	// Imports at the same time add each label once.
	if _, err := e.db.ExecContext(ctx, `DELETE FROM labels.labels WHERE source IN ('nasa', 'heuristic')`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = e.ImportNASALabels(ctx, "koi")
			} else {
				_, err = e.ImportRunLabels(ctx, run.RunID)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := mustQueryInt(t, e, `SELECT count(*) FROM labels.labels WHERE source IN ('nasa', 'heuristic')`); n != 24 {
		t.Errorf("8 imports at once stored %d labels, want 24 (12 objects, 2 sources)", n)
	}
	for _, f := range []func() error{
		func() error { _, err := e.ImportNASALabels(ctx, "nope"); return err },
		func() error { _, err := e.ImportRunLabels(ctx, "nope"); return err },
	} {
		if err := f(); ErrorCode(err) != NotFound {
			t.Errorf("import of an unknown source = %v, want NotFound", err)
		}
	}
}

// TestEngine_LabelStats checks the confusion tables; heuristic vs NASA
// must agree exactly with the run's disposition_compare.
func TestEngine_LabelStats(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	run := mustKOISmallRun(t, e)
	ctx := context.Background()
	if _, err := e.ImportNASALabels(ctx, "koi"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ImportRunLabels(ctx, run.RunID); err != nil {
		t.Fatal(err)
	}
	for _, in := range []LabelInput{
		{ObjectID: "K00752.01", Label: "rocky_candidate"}, // nasa CONFIRMED: disagree
		{ObjectID: "K00754.01", Label: "FALSE POSITIVE"},  // nasa FALSE POSITIVE: agree
		{ObjectID: "K00753.01", Label: "CONFIRMED"},       // replaced below
		{ObjectID: "K00753.01", Label: "hot_jupiter_candidate"},
	} {
		in.Dataset, in.Annotator = "koi", "ann"
		if _, err := e.AddLabel(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	st, err := e.LabelStats(ctx, "koi")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"human": 3, "nasa": 12, "heuristic": 12, "model": 0}, st.Sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	hn := st.Tables[0]
	if hn.A != "human" || hn.B != "nasa" || hn.Objects != 3 {
		t.Fatalf("human vs nasa = %+v", hn)
	}
	// K00753.01 is a NASA CANDIDATE and its latest human label a candidate kind.
	if hn.Agree != 2 {
		t.Errorf("human vs nasa agree = %d, want 2", hn.Agree)
	}
	if got := hn.Matrix[1][0]; got != 1 { // human CANDIDATE class x nasa CONFIRMED
		t.Errorf("matrix[CANDIDATE][CONFIRMED] = %d, want 1: %v", got, hn.Matrix)
	}
	hrn := st.Tables[2]
	match := mustQueryInt(t, e, `SELECT count(*) FROM runs.results WHERE run_id = ? AND disposition_compare = 'match'`, run.RunID)
	if hrn.Objects != 12 || hrn.Agree != match {
		t.Errorf("heuristic vs nasa: %d objects, %d agree; want 12 and %d (disposition_compare match)", hrn.Objects, hrn.Agree, match)
	}
	var sum int64
	for _, row := range hrn.Matrix {
		for _, n := range row {
			sum += n
		}
	}
	if sum != hrn.Objects {
		t.Errorf("matrix sums to %d, want %d", sum, hrn.Objects)
	}
	rq, err := e.ReviewQueue(ctx, "koi", 10)
	if err != nil {
		t.Fatal(err)
	}
	if rq.PendingTotal != 3 || len(rq.Pending) != 3 {
		t.Errorf("pending = %d (%d listed), want the 3 current human labels", rq.PendingTotal, len(rq.Pending))
	}
	if len(rq.Disagreements) == 0 || rq.Disagreements[0].ObjectID != "K00752.01" || rq.Disagreements[0].Human == nil {
		t.Fatalf("disagreements should start with the human one, K00752.01: %+v", rq.Disagreements)
	}

	// A label rejected in review stops counting, as training and the queue
	// do not use it: K00752.01's human label leaves the counts, the
	// agreement table and the disagreements.
	rejected := mustQueryInt(t, e, `SELECT id FROM labels.current WHERE object_id = 'K00752.01' AND source = 'human'`)
	if _, err := e.ReviewLabel(ctx, rejected, ReviewInput{Status: "reject", Reviewer: "rev"}); err != nil {
		t.Fatal(err)
	}
	if st, err = e.LabelStats(ctx, "koi"); err != nil {
		t.Fatal(err)
	}
	if st.Sources["human"] != 2 || st.Tables[0].Objects != 2 || st.Tables[0].Agree != 2 {
		t.Errorf("after the reject: %d human labels, human vs nasa %d objects %d agree; want 2, 2, 2", st.Sources["human"], st.Tables[0].Objects, st.Tables[0].Agree)
	}
	if rq, err = e.ReviewQueue(ctx, "koi", 10); err != nil {
		t.Fatal(err)
	}
	for _, d := range rq.Disagreements {
		if d.ObjectID == "K00752.01" && d.Human != nil {
			t.Errorf("the rejected human label is still a disagreement: %+v", d)
		}
	}
	if rq.PendingTotal != 2 {
		t.Errorf("pending = %d, want 2 (the rejected one is reviewed)", rq.PendingTotal)
	}
}

func TestEngine_ExportLabels(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	run := mustKOISmallRun(t, e)
	ctx := context.Background()
	if _, err := e.ImportNASALabels(ctx, "koi"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ImportRunLabels(ctx, run.RunID); err != nil {
		t.Fatal(err)
	}
	bad, err := e.AddLabel(ctx, LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "candidate", Annotator: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ReviewLabel(ctx, bad.ID, ReviewInput{Status: "reject", Reviewer: "rev"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddLabel(ctx, LabelInput{ObjectID: "K00753.01", Dataset: "koi", Label: "candidate", Annotator: "=cmd|' /C calc'!A0", Note: "=HYPERLINK(\"x\")"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		in          LabelExportInput
		wantRows    int64
		wantSources map[string]int64
	}{
		{"parquet", LabelExportInput{}, 25, map[string]int64{"nasa": 12, "heuristic": 12, "human": 1}},
		{"csv human", LabelExportInput{Format: CSV, Sources: []string{"human"}, Dataset: "koi"}, 1, map[string]int64{"human": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := e.ExportLabels(ctx, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if m.Rows != tc.wantRows || m.ExcludedRejected != 1 {
				t.Errorf("rows = %d, excluded = %d; want %d and 1", m.Rows, m.ExcludedRejected, tc.wantRows)
			}
			if diff := cmp.Diff(tc.wantSources, m.Sources); diff != "" {
				t.Errorf("sources (-want +got):\n%s", diff)
			}
			if filepath.Dir(m.Path) != e.path(DirLabeled) || filepath.Dir(m.Manifest) != e.path(DirLabeled) {
				t.Errorf("export written to %s and %s, want under %s", m.Path, m.Manifest, e.path(DirLabeled))
			}
			b, err := os.ReadFile(m.Manifest)
			if err != nil {
				t.Fatal(err)
			}
			var onDisk LabelExportManifest
			if err := json.Unmarshal(b, &onDisk); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(m.Sources, onDisk.Sources); diff != "" || onDisk.CreatedAt.IsZero() {
				t.Errorf("manifest on disk differs (-want +got):\n%s", diff)
			}
			if m.Format == CSV {
				data, err := os.ReadFile(m.Path)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(data), `'=HYPERLINK`) || !strings.Contains(string(data), `'=cmd`) {
					t.Errorf("formulas not neutralized:\n%s", data)
				}
			} else if n := mustQueryInt(t, e, `SELECT count(*) FROM read_parquet(`+litPath(m.Path)+`)`); n != m.Rows {
				t.Errorf("file holds %d rows, manifest says %d", n, m.Rows)
			}
		})
	}
	if _, err := e.ExportLabels(ctx, LabelExportInput{Format: "xlsx"}); ErrorCode(err) != BadRequest {
		t.Errorf("unknown format = %v, want BadRequest", err)
	}
	// A mistyped dataset is named, not answered with an empty export or
	// all-zero tables; nothing is written for it.
	before, _ := os.ReadDir(e.path(DirLabeled))
	if _, err := e.ExportLabels(ctx, LabelExportInput{Dataset: "kio"}); ErrorCode(err) != NotFound || !strings.Contains(ErrorMessage(err), `"kio"`) {
		t.Errorf("export of an unknown dataset = %v, want NotFound naming it", err)
	}
	if _, err := e.LabelStats(ctx, "kio"); ErrorCode(err) != NotFound {
		t.Errorf("stats of an unknown dataset = %v, want NotFound", err)
	}
	if after, _ := os.ReadDir(e.path(DirLabeled)); len(after) != len(before) {
		t.Errorf("a refused export left files: %d entries, was %d", len(after), len(before))
	}
	// The same labels exported again give the same file, not a copy; a
	// new label gives a new one.
	first, err := e.ExportLabels(ctx, LabelExportInput{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(e.path(DirLabeled))
	again, err := e.ExportLabels(ctx, LabelExportInput{Format: CSV})
	if after, _ := os.ReadDir(e.path(DirLabeled)); err != nil || again.Path != first.Path || len(after) != len(files) || again.SHA256 == "" {
		t.Errorf("the same export again: %s (was %s), %d files (were %d), %v", again.Path, first.Path, len(after), len(files), err)
	}
	if p1, err := e.ExportLabels(ctx, LabelExportInput{}); err != nil {
		t.Fatal(err)
	} else if p2, err := e.ExportLabels(ctx, LabelExportInput{}); err != nil || p2.Path != p1.Path {
		t.Errorf("the same Parquet export again: %s, was %s (%v)", p2.Path, p1.Path, err)
	}
	if _, err := e.AddLabel(ctx, LabelInput{ObjectID: "K00754.01", Dataset: "koi", Label: "candidate", Annotator: "ann"}); err != nil {
		t.Fatal(err)
	}
	if next, err := e.ExportLabels(ctx, LabelExportInput{Format: CSV}); err != nil || next.Path == first.Path || next.Rows != first.Rows+1 {
		t.Errorf("export after a new label: %+v %v, want a new file with one more row", next, err)
	}
	// Labels outlive their dataset, and stay exportable by its name.
	if err := e.DeleteDataset(ctx, "koi"); err != nil {
		t.Fatal(err)
	}
	m, err := e.ExportLabels(ctx, LabelExportInput{Dataset: "koi"})
	if err != nil || m.Rows != 26 {
		t.Errorf("export of a deleted dataset's labels = %+v, %v; want its 26 labels", m, err)
	}
}

// TestEngine_Labels_durable: labels are in the database file, not in
// memory; closing and reopening keeps every one.
func TestEngine_Labels_durable(t *testing.T) {
	t.Parallel()
	dir := MustTempDir(t)
	opts := func(o *Options) { o.DBPath = filepath.Join(dir, "db.duckdb"); o.DataDir = filepath.Join(dir, "data") }
	e1 := MustOpenEngine(t, opts)
	mustKOISmallRun(t, e1)
	l, err := e1.AddLabel(context.Background(), LabelInput{ObjectID: "K00752.01", Dataset: "koi", Label: "candidate", Annotator: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := MustOpenEngine(t, opts)
	got, err := e2.Label(context.Background(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l, got); diff != "" {
		t.Errorf("(-before +after):\n%s", diff)
	}
}

// TestEngine_Labels_KOI runs the labeling side on the real KOI cumulative
// table: the agreement of NASA dispositions and heuristic categories must
// equal the run's disposition_compare, and the queue's first 50 items
// must be unlabeled NASA candidates in priority order. With -v it prints
// both (the figures of the issue note).
func TestEngine_Labels_KOI(t *testing.T) {
	if testing.Short() {
		t.Skip("processes the 9,564-row KOI table")
	}
	t.Parallel()
	e := MustOpenEngine(t)
	ctx := context.Background()
	MustIngest(t, e, IngestInput{Path: sharedData + "/koi_cumulative_2025.csv", Name: "koi"})
	run, err := e.Process(ctx, ProcessInput{Dataset: "koi"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ImportNASALabels(ctx, "koi"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ImportRunLabels(ctx, run.RunID); err != nil {
		t.Fatal(err)
	}
	st, err := e.LabelStats(ctx, "koi")
	if err != nil {
		t.Fatal(err)
	}
	hn := st.Tables[2]
	match := mustQueryInt(t, e, `SELECT count(*) FROM runs.results WHERE run_id = ? AND disposition_compare = 'match'`, run.RunID)
	withDisp := mustQueryInt(t, e, `SELECT count(*) FROM runs.results WHERE run_id = ? AND koi_disposition IS NOT NULL`, run.RunID)
	if hn.Objects != withDisp || hn.Agree != match {
		t.Errorf("heuristic vs nasa: %d objects, %d agree; want %d and %d", hn.Objects, hn.Agree, withDisp, match)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "heuristic category (rows) vs NASA disposition (columns), run %s: %d objects, %d agree (%.1f%%)\n",
		run.RunID, hn.Objects, hn.Agree, 100**hn.Agreement)
	for _, c := range hn.Labels {
		fmt.Fprintf(&b, "  %-28s %-15s %5d\n", c.A, c.B, c.N)
	}
	q, err := e.LabelQueue(ctx, QueueRequest{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Items) != 50 {
		t.Fatalf("queue has %d items", len(q.Items))
	}
	fmt.Fprintf(&b, "queue (strategy %s), first 50:\n", q.Strategy)
	for i, it := range q.Items {
		disp := mustQueryString(t, e, `SELECT koi_disposition FROM runs.results WHERE run_id = ? AND object_id = ?`, run.RunID, it.ObjectID)
		if disp != "CANDIDATE" {
			t.Errorf("item %d %s has disposition %s", i, it.ObjectID, disp)
		}
		if i > 0 && it.Priority > q.Items[i-1].Priority {
			t.Errorf("item %d priority %g above the previous %g", i, it.Priority, q.Items[i-1].Priority)
		}
		fmt.Fprintf(&b, "  %2d %s %-17s priority %.2f = category %g + flags %g + uncertainty %g  %v\n", i+1, it.ObjectID,
			it.Category, it.Priority, it.Reason.CategoryWeight, it.Reason.FlagWeight, it.Reason.Uncertainty, it.Reason.Flags)
	}
	t.Log("\n" + b.String())
}

// TestEngine_AddLabel_concurrent: concurrent writers never conflict (the
// labels table is append-only; ids come from a sequence).
func TestEngine_AddLabel_concurrent(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	mustKOISmallRun(t, e)
	const writers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range each {
				_, err := e.AddLabel(context.Background(), LabelInput{ObjectID: "K00752.01", Dataset: "koi",
					Label: "candidate", Annotator: fmt.Sprintf("w%d", w), Note: fmt.Sprint(n)})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("AddLabel: %v", err)
	}
	if n := mustQueryInt(t, e, `SELECT count(DISTINCT id) FROM labels.labels`); n != writers*each {
		t.Errorf("%d labels stored, want %d", n, writers*each)
	}
}

// TestEngine_ResolveRun_contradiction: a run and a dataset that do not
// belong together are refused rather than the dataset ignored.
func TestEngine_ResolveRun_contradiction(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	ctx := context.Background()
	run := mustKOISmallRun(t, e)
	if r, err := e.ResolveRun(ctx, run.RunID, "koi"); err != nil || r.RunID != run.RunID {
		t.Errorf("run and its own dataset: %v, %v", r, err)
	}
	_, err := e.ResolveRun(ctx, run.RunID, "toi")
	if ErrorCode(err) != BadRequest || !strings.Contains(ErrorMessage(err), "is a run of dataset koi, not of toi") {
		t.Errorf("run of koi with dataset toi: %s %v", ErrorCode(err), err)
	}
}
