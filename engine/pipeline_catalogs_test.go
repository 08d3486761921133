package engine_test

import (
	"math"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exohunter/exohunter/engine/mapping"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// catalogCounts are per-file facts from shared/data/SOURCES.md.
type catalogCounts struct {
	Rows, Confirmed, FalsePositive, Default int64
	Mission                                 string
}

// TestPipeline_catalogs runs the views and the run query over every real
// NASA file, plain and commented, and checks row counts, dispositions, the
// row semantics and the absence of NaN/Inf.
func TestPipeline_catalogs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs whole NASA catalogs; skipped with -short")
	}
	t.Parallel()
	b := mustPipelineBundle(t)
	tests := []struct {
		name string
		file string
		want catalogCounts
	}{
		{"koi", "koi_cumulative_2025.csv", catalogCounts{9564, 2746, 4839, 9564, "koi"}},
		{"koi_commented", "koi_cumulative_2025-09-29_commented.csv", catalogCounts{9564, 2746, 4839, 9564, "koi"}},
		// TOI: CP + KP are CONFIRMED, FP + FA are FALSE POSITIVE.
		{"toi", "toi_2025.csv", catalogCounts{7703, 684 + 583, 1197 + 98, 7703, "toi"}},
		{"toi_commented", "toi_2025-09-29_commented.csv", catalogCounts{7699, 683 + 583, 1196 + 98, 7699, "toi"}},
		// K2: REFUTED is FALSE POSITIVE; one default parameter set per object.
		{"k2", "k2pandc_2025.csv", catalogCounts{4004, 2315, 293 + 22, 1806, "k2"}},
		{"k2_commented", "k2pandc_2025-10-04_commented.csv", catalogCounts{4004, 2315, 293 + 22, 1806, "k2"}},
		{"pscomppars", "pscomppars_2025.csv", catalogCounts{5967, 5967, 0, 5967, "pscomppars"}},
		{"pscomppars_commented", "pscomppars_2024-10-15_commented.csv", catalogCounts{5766, 5766, 0, 5766, "pscomppars"}},
	}
	if entries, err := os.ReadDir(pipelineSharedData); err != nil {
		t.Fatal(err)
	} else if n := countCSV(entries); n != len(tests) {
		t.Fatalf("shared/data holds %d CSV files, the test covers %d: add the new ones", n, len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := mustPipelineDB(t)
			m := mustLoadDataset(t, db, b, tc.name, pipelineSharedData+tc.file, mapping.Options{})
			mustRunTable(t, db, sqltmpl.PipelineInput{Dataset: tc.name, Bundle: b, Mapping: m}, "run")
			got := catalogCounts{
				Rows:          queryInt(t, db, `SELECT count(*) FROM run`),
				Confirmed:     queryInt(t, db, `SELECT count(*) FROM run WHERE list_contains(tags, 'confirmed_planet')`),
				FalsePositive: queryInt(t, db, `SELECT count(*) FROM run WHERE list_contains(tags, 'likely_false_positive')`),
				Default:       queryInt(t, db, `SELECT count(*) FROM run WHERE is_default`),
				Mission:       m.Mission,
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if raw := queryInt(t, db, `SELECT count(*) FROM raw."`+tc.name+`"`); raw != got.Rows {
				t.Errorf("run has %d rows, raw file %d: a run keeps every input row", got.Rows, raw)
			}
			assertPipelineInvariants(t, db, "run")
			// note: the view is materialized once; each query over it would
			// run the whole pipeline from the CSV again.
			mustExec(t, db, `CREATE TABLE view_rows AS SELECT * FROM classified."`+tc.name+`"`)
			assertSameRows(t, db, "run", "view_rows")
		})
	}
}

// countCSV counts the .csv entries of a directory listing.
func countCSV(entries []os.DirEntry) int {
	n := 0
	for _, e := range entries {
		if !e.IsDir() && len(e.Name()) > 4 && e.Name()[len(e.Name())-4:] == ".csv" {
			n++
		}
	}
	return n
}

// TestPipeline_koiInsolation checks that insolation rebuilt from period,
// log g, stellar radius and Teff agrees with the catalog's koi_insol within
// 2% for the median KOI (DESIGN.md measured about 1%).
func TestPipeline_koiInsolation(t *testing.T) {
	t.Parallel()
	db := mustPipelineDB(t)
	mustLoadDataset(t, db, mustPipelineBundle(t), "koi", pipelineSharedData+"koi_cumulative_2025.csv", mapping.Options{})
	dev := queryFloat(t, db, `SELECT median(abs(insol_derived / koi_insol - 1)) FROM metrics.koi
		WHERE koi_insol_source = 'catalog' AND koi_insol > 0 AND insol_derived > 0`)
	t.Logf("median |derived/catalog - 1| of insolation: %.4f", dev)
	if dev > 0.02 || math.IsNaN(dev) {
		t.Errorf("median insolation deviation %.4f, want <= 0.02", dev)
	}
	n := queryInt(t, db, `SELECT count(*) FROM metrics.koi WHERE insol_derived IS NOT NULL AND koi_insol IS NOT NULL`)
	if n < 9000 {
		t.Errorf("only %d KOIs have both insolations", n)
	}
}

// TestPipeline_koiPlainEqualsCommented checks that both KOI exports (one
// with the # block and LF, one plain with CRLF and other number formatting)
// give identical classified rows.
func TestPipeline_koiPlainEqualsCommented(t *testing.T) {
	if testing.Short() {
		t.Skip("runs whole NASA catalogs; skipped with -short")
	}
	t.Parallel()
	db := mustPipelineDB(t)
	b := mustPipelineBundle(t)
	mustLoadDataset(t, db, b, "plain", pipelineSharedData+"koi_cumulative_2025.csv", mapping.Options{})
	mustLoadDataset(t, db, b, "commented", pipelineSharedData+"koi_cumulative_2025-09-29_commented.csv", mapping.Options{})
	cols := `row_id, object_id, star_id, koi_disposition, koi_period, koi_prad, koi_insol, koi_teq, koi_sma, hz_position,
		duration_ratio, flags, tags, category, score, disposition_compare`
	q := `SELECT count(*) FROM (SELECT ` + cols + ` FROM classified.plain EXCEPT ALL SELECT ` + cols + ` FROM classified.commented)`
	if n := queryInt(t, db, q); n != 0 {
		t.Errorf("%d rows differ between the plain and the commented KOI export", n)
	}
}
