package engine_test

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exohunter/exohunter/engine/mapping"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// updatePipeline rewrites engine/testdata/pipeline/*.want.csv. Its name is
// distinct because the engine's test binary holds other owners' flags.
var updatePipeline = flag.Bool("update-pipeline", false, "update the pipeline want.csv goldens")

// TestPipeline_fixtures runs the views over tiny fixtures and compares the
// classification with want.csv goldens: bad rows get flags and no_result
// rather than errors, ids stay text, NASA's # block is skipped by count.
func TestPipeline_fixtures(t *testing.T) {
	t.Parallel()
	b := mustPipelineBundle(t)
	tests := []struct {
		name     string
		file     string
		wantRows int64
	}{
		{name: "bad_rows", file: "bad_rows.csv", wantRows: 9},
		{name: "toi_ids", file: "toi_ids.csv", wantRows: 4},
		{name: "nasa_commented", file: "nasa_commented.csv", wantRows: 5},
		{name: "science", file: "science.csv", wantRows: 3},
		{name: "flags", file: "flags.csv", wantRows: 16},
		// KOI-format: the Sun itself (5772 K) is no stand-in; 5780 K without
		// uncertainty is, and log g 4.438 with a 0.5 R_sun star.
		{name: "koi_sun", file: "koi_sun.csv", wantRows: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := mustPipelineDB(t)
			mustLoadDataset(t, db, b, tc.name, filepath.Join("testdata", "pipeline", tc.file), mapping.Options{})
			if got := queryInt(t, db, `SELECT count(*) FROM classified."`+tc.name+`"`); got != tc.wantRows {
				t.Errorf("rows = %d, want %d", got, tc.wantRows)
			}
			got := queryCSV(t, db, `SELECT row_id, object_id, star_id, koi_disposition, category, tags, flags, score, disposition_compare
				FROM classified."`+tc.name+`" ORDER BY row_id`)
			path := filepath.Join("testdata", "pipeline", tc.name+".want.csv")
			if *updatePipeline {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s missing; run go test ./engine -run TestPipeline_fixtures -update-pipeline and review:\n%s", path, got)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
			mustExec(t, db, `CREATE TABLE view_rows AS SELECT * FROM classified."`+tc.name+`"`)
			assertPipelineInvariants(t, db, "view_rows")
		})
	}
}

// TestPipeline_edgeValues checks what the formulas make of values at or
// beyond their domain (flags.csv rows 13-16): a planet disc that misses
// the star has no expected duration, a 15,000 K star no habitable-zone
// fluxes (the quartic is negative there), an insolation of 0 no 0 K
// temperature, and a body larger than its star a depth of the whole star,
// not 21 stars' worth.
func TestPipeline_edgeValues(t *testing.T) {
	t.Parallel()
	db := mustPipelineDB(t)
	mustLoadDataset(t, db, mustPipelineBundle(t), "flags", "testdata/pipeline/flags.csv", mapping.Options{})
	got := queryCSV(t, db, `SELECT object_id, expected_duration_hours IS NULL AS no_duration,
			hz_seff_recent_venus IS NULL AND hz_seff_runaway_greenhouse IS NULL
				AND hz_seff_maximum_greenhouse IS NULL AND hz_seff_early_mars IS NULL AS no_hz_flux,
			teq_derived IS NULL AS no_teq, depth_from_radii_ppm
		FROM classified.flags WHERE row_id BETWEEN 13 AND 16 ORDER BY row_id`)
	want := "object_id,no_duration,no_hz_flux,no_teq,depth_from_radii_ppm\n" +
		"No-geometry,true,false,false,84.05\n" +
		"Hot-star,false,true,false,21.01\n" +
		"Zero-insol,false,false,true,84.05\n" +
		"Larger-than-star,false,false,false,1e+06\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestPipeline_idsStayText checks TOI 1000.10 is not turned into 1000.1.
func TestPipeline_idsStayText(t *testing.T) {
	t.Parallel()
	db := mustPipelineDB(t)
	mustLoadDataset(t, db, mustPipelineBundle(t), "toi", "testdata/pipeline/toi_ids.csv", mapping.Options{})
	got := queryCSV(t, db, `SELECT object_id, star_id, typeof(object_id) AS t FROM normalized.toi ORDER BY row_id`)
	want := "object_id,star_id,t\n1000.10,50365310,VARCHAR\n1000.01,50365310,VARCHAR\n101.01,231663901,VARCHAR\n2000.02,123,VARCHAR\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestPipeline_runSelectMatchesViews checks that the run query and the
// views give the same rows with default settings, and that overrides are
// inlined into the run query only.
func TestPipeline_runSelectMatchesViews(t *testing.T) {
	if testing.Short() {
		t.Skip("runs whole NASA catalogs; skipped with -short")
	}
	t.Parallel()
	db := mustPipelineDB(t)
	b := mustPipelineBundle(t)
	m := mustLoadDataset(t, db, b, "koi", pipelineSharedData+"koi_cumulative_2025.csv", mapping.Options{})
	mustRunTable(t, db, sqltmpl.PipelineInput{Dataset: "koi", Bundle: b, Mapping: m}, "run_default")
	mustExec(t, db, `CREATE TABLE view_rows AS SELECT * FROM classified.koi`)
	assertSameRows(t, db, "run_default", "view_rows")
	albedo := 0.0
	rb, err := b.WithRun(map[string]string{"planet_radius.rocky_max": "1.0"}, &albedo)
	if err != nil {
		t.Fatal(err)
	}
	mustRunTable(t, db, sqltmpl.PipelineInput{Dataset: "koi", Bundle: rb, Mapping: m}, "run_override")
	rocky := func(table string) int64 {
		return queryInt(t, db, `SELECT count(*) FROM `+table+` WHERE list_contains(tags, 'rocky_candidate')`)
	}
	if a, o := rocky("run_default"), rocky("run_override"); o >= a || o == 0 {
		t.Errorf("rocky_candidate tags: default %d, rocky_max=1.0 %d; want fewer but some", a, o)
	}
	// Teq derived with albedo 0 is (1/0.7)^(1/4) hotter than with 0.3.
	ratio := queryFloat(t, db, `SELECT median(o.teq_derived / d.teq_derived) FROM run_override o JOIN run_default d USING (row_id)`)
	if want := 1.0934; ratio < want-1e-3 || ratio > want+1e-3 {
		t.Errorf("Teq ratio albedo 0 / 0.3 = %.4f, want %.4f", ratio, want)
	}
}
