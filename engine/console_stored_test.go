package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/exohunter/exohunter/engine/spec"
)

// mustStoredEngine opens an engine with the KOI and K2 catalogs processed
// (read in place from ../shared/data) and returns the runs by dataset.
func mustStoredEngine(t *testing.T) (*Engine, map[string]*Run) {
	t.Helper()
	if testing.Short() {
		t.Skip("processes the KOI and K2 catalogs")
	}
	e := MustOpenEngine(t, func(o *Options) { o.MemoryLimit = "1GB" })
	runs := map[string]*Run{}
	for _, ds := range []struct{ name, file string }{{"koi", "koi_cumulative_2025.csv"}, {"k2", "k2pandc_2025.csv"}} {
		MustIngest(t, e, IngestInput{Path: filepath.Join(sharedData, ds.file), Name: ds.name})
		run, err := e.Process(context.Background(), ProcessInput{Dataset: ds.name})
		if err != nil {
			t.Fatalf("Process(%s): %v", ds.name, err)
		}
		runs[ds.name] = run
	}
	return e, runs
}

// storedRows runs a stored query and returns its rows as maps.
func storedRows(t *testing.T, e *Engine, name string, params map[string]string) ([]map[string]any, *StoredResult) {
	t.Helper()
	res, err := e.RunStored(context.Background(), StoredRequest{Name: name, Params: params, Limit: 10000, TimeoutMS: 60000})
	if err != nil {
		t.Fatalf("RunStored(%s, %v): %v", name, params, err)
	}
	out := make([]map[string]any, len(res.Rows))
	for i, row := range res.Rows {
		m := map[string]any{}
		for j, c := range res.Columns {
			m[c.Name] = row[j]
		}
		out[i] = m
	}
	return out, res
}

func asFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case int:
		return float64(x)
	}
	return -1
}

// TestStoredQueries runs every stored query on the processed KOI and K2
// catalogs, and every kind of bad request.
func TestStoredQueries(t *testing.T) {
	t.Parallel()
	e, runs := mustStoredEngine(t)
	t.Run("RunAll", func(t *testing.T) { testStoredRunAll(t, e, runs) })
	t.Run("BadRequests", func(t *testing.T) { testStoredBadRequests(t, e) })
}

// testStoredRunAll runs every stored query with its defaults, then checks
// what each one answers.
func testStoredRunAll(t *testing.T, e *Engine, runs map[string]*Run) {
	qs := e.StoredQueries()
	if len(qs) < 8 {
		t.Fatalf("%d stored queries, want at least 8", len(qs))
	}
	for _, q := range qs {
		t.Run(q.Name+"/defaults", func(t *testing.T) {
			rows, res := storedRows(t, e, q.Name, nil)
			if len(res.Columns) == 0 || len(rows) == 0 {
				t.Fatalf("%d columns, %d rows", len(res.Columns), len(rows))
			}
			if testing.Verbose() {
				for _, r := range rows[:min(3, len(rows))] {
					t.Logf("%v", r)
				}
			}
			if len(res.Params) != len(q.Params) {
				t.Errorf("params %v", res.Params)
			}
		})
	}
	checks := []struct {
		name   string
		params map[string]string
		check  func(t *testing.T, rows []map[string]any)
	}{
		{"habitable_zone_rocky", map[string]string{"spectral_type": "K", "max_radius": "1.6"}, func(t *testing.T, rows []map[string]any) {
			if len(rows) == 0 {
				t.Fatal("no rocky habitable-zone candidates around K dwarfs")
			}
			for _, r := range rows {
				if r["spectral_type"] != "K" || asFloat(r["koi_steff"]) < 3899 || asFloat(r["koi_steff"]) >= 5300 || asFloat(r["koi_prad"]) > 1.6 ||
					r["koi_disposition"] == "FALSE POSITIVE" {
					t.Errorf("row %v", r)
				}
			}
		}},
		{"hot_jupiters_by_host", map[string]string{"dataset": "koi"}, func(t *testing.T, rows []map[string]any) {
			var total float64
			for _, r := range rows {
				if r["dataset"] != "koi" || asFloat(r["n_hot_jupiters"]) < 1 {
					t.Errorf("row %v", r)
				}
				total += asFloat(r["n_hot_jupiters"])
			}
			want := mustQueryInt(t, e, `SELECT count(*) FROM runs.results WHERE run_id = ? AND is_default
				AND list_contains(tags, 'hot_jupiter_candidate') AND koi_disposition IS DISTINCT FROM 'FALSE POSITIVE'`, runs["koi"].RunID)
			if want == 0 || int64(total) != want {
				t.Errorf("the hosts hold %v hot Jupiters, want %d (and more than none)", total, want)
			}
		}},
		{"multi_planet_systems", map[string]string{"min_planets": "7", "dataset": "koi"}, func(t *testing.T, rows []map[string]any) {
			found := false
			for _, r := range rows {
				if asFloat(r["n_planets"]) < 7 {
					t.Errorf("row %v", r)
				}
				found = found || r["star_id"] == "11442793"
			}
			if !found {
				t.Errorf("Kepler-90 (11442793) missing from %v", rows)
			}
		}},
		{"star_system", nil, func(t *testing.T, rows []map[string]any) {
			if len(rows) != 7 {
				t.Fatalf("%d rows for Kepler-90, want its 7 KOIs", len(rows))
			}
			for _, r := range rows {
				if !strings.HasPrefix(r["object_id"].(string), "K00351.") {
					t.Errorf("row %v", r)
				}
			}
		}},
		{"star_system", map[string]string{"star": "' OR 1=1 --"}, func(t *testing.T, rows []map[string]any) {
			if len(rows) != 0 {
				t.Errorf("a quote in a bound value matched %d rows", len(rows))
			}
		}},
		{"disposition_disagreements", map[string]string{"disposition": "CONFIRMED", "dataset": "koi"}, func(t *testing.T, rows []map[string]any) {
			if len(rows) == 0 {
				t.Fatal("no confirmed planet disagrees")
			}
			for _, r := range rows {
				if r["koi_disposition"] != "CONFIRMED" || r["category"] == "confirmed_planet" {
					t.Errorf("row %v", r)
				}
			}
		}},
		{"category_counts", nil, func(t *testing.T, rows []map[string]any) {
			got := map[string]map[string]int64{}
			for _, r := range rows {
				ds := r["dataset"].(string)
				if got[ds] == nil {
					got[ds] = map[string]int64{}
				}
				got[ds][r["category"].(string)] = int64(asFloat(r["n"]))
			}
			for ds, run := range runs {
				for cat, n := range run.Counts {
					if got[ds][cat] != n {
						t.Errorf("%s %s: %d, run counts say %d", ds, cat, got[ds][cat], n)
					}
				}
			}
		}},
		{"default_parameter_sets", map[string]string{"dataset": "k2", "min_sets": "2"}, func(t *testing.T, rows []map[string]any) {
			if len(rows) == 0 {
				t.Fatal("no K2 object with several parameter sets")
			}
			seen := map[string]bool{}
			for _, r := range rows {
				id := r["object_id"].(string)
				if r["dataset"] != "k2" || asFloat(r["n_parameter_sets"]) < 2 || seen[id] {
					t.Errorf("row %v (seen before: %v)", r, seen[id])
				}
				seen[id] = true
			}
		}},
		{"radius_distribution", map[string]string{"dataset": "koi", "min_radius": "1", "max_radius": "4", "bins": "6"}, func(t *testing.T, rows []map[string]any) {
			var total float64
			for _, r := range rows {
				if b := asFloat(r["bin"]); b < 0 || b > 5 {
					t.Errorf("row %v", r)
				}
				total += asFloat(r["n"])
			}
			want := mustQueryInt(t, e, `SELECT count(*) FROM runs.results WHERE run_id = ? AND is_default
				AND koi_prad >= 1 AND koi_prad < 4 AND koi_disposition IS DISTINCT FROM 'FALSE POSITIVE'`, runs["koi"].RunID)
			if int64(total) != want {
				t.Errorf("bins hold %v rows, want %d", total, want)
			}
		}},
		{"flag_counts", map[string]string{"run": runs["koi"].RunID}, func(t *testing.T, rows []map[string]any) {
			want := mustQueryInt(t, e, `SELECT count(DISTINCT f) FROM (SELECT unnest(flags) AS f FROM runs.results WHERE run_id = ?)`, runs["koi"].RunID)
			if want == 0 || int64(len(rows)) != want {
				t.Errorf("%d flags counted, the run raises %d (and more than none)", len(rows), want)
			}
			for _, r := range rows {
				if r["dataset"] != "koi" || !strings.HasPrefix(r["flag"].(string), "FLAG_") {
					t.Errorf("row %v", r)
				}
				n := mustQueryInt(t, e, `SELECT count(*) FROM runs.results WHERE run_id = ? AND list_contains(flags, ?)`, runs["koi"].RunID, r["flag"])
				if int64(asFloat(r["n"])) != n {
					t.Errorf("%s counted %v times, the run raises it on %d rows", r["flag"], r["n"], n)
				}
			}
		}},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			rows, _ := storedRows(t, e, c.name, c.params)
			c.check(t, rows)
		})
	}
}

// testStoredBadRequests: every refusal has its code and names the
// parameter.
func testStoredBadRequests(t *testing.T, e *Engine) {
	tests := []struct {
		name      string
		query     string
		params    map[string]string
		wantCode  Code
		wantField []string
	}{
		{"unknown query", "no_such_query", nil, NotFound, nil},
		{"unknown parameter", "multi_planet_systems", map[string]string{"min_moons": "2"}, BadRequest, []string{"min_moons"}},
		{"not an integer", "multi_planet_systems", map[string]string{"min_planets": "three"}, BadRequest, []string{"min_planets"}},
		{"integer with a fraction", "multi_planet_systems", map[string]string{"min_planets": "2.5"}, BadRequest, []string{"min_planets"}},
		{"below min", "multi_planet_systems", map[string]string{"min_planets": "1"}, BadRequest, []string{"min_planets"}},
		{"above max", "habitable_zone_rocky", map[string]string{"max_radius": "30"}, BadRequest, []string{"max_radius"}},
		{"not a number", "habitable_zone_rocky", map[string]string{"max_radius": "NaN"}, BadRequest, []string{"max_radius"}},
		{"not an allowed value", "habitable_zone_rocky", map[string]string{"spectral_type": "O"}, BadRequest, []string{"spectral_type"}},
		{"not a boolean", "category_counts", map[string]string{"default_only": "maybe"}, BadRequest, []string{"default_only"}},
		{"unknown dataset", "category_counts", map[string]string{"dataset": "kio"}, BadRequest, []string{"dataset"}},
		{"every problem at once", "habitable_zone_rocky", map[string]string{"max_radius": "x", "teff_min": "1", "colour": "red"}, BadRequest,
			[]string{"colour", "max_radius", "teff_min"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.RunStored(context.Background(), StoredRequest{Name: tc.query, Params: tc.params})
			if ErrorCode(err) != tc.wantCode {
				t.Fatalf("err = %v (code %s), want %s", err, ErrorCode(err), tc.wantCode)
			}
			var ee *Error
			errors.As(err, &ee)
			var fields []string
			for _, d := range ee.Details {
				fields = append(fields, d.Field)
			}
			if strings.Join(fields, ",") != strings.Join(tc.wantField, ",") {
				t.Errorf("detail fields %v, want %v (%v)", fields, tc.wantField, err)
			}
		})
	}
}

// TestCheckStoredQueries: DuckDB finds what the YAML parser cannot, each
// problem at its line of queries.yaml.
func TestCheckStoredQueries(t *testing.T) {
	t.Parallel()
	e := MustOpenEngine(t)
	head := "version: 1\nqueries:\n  - name: q\n    title: T\n    description: D\n" +
		"    params:\n      - {name: n, type: integer, default: 1, description: N}\n    sql: |\n"
	tests := []struct {
		name     string
		sql      string
		want     error
		wantText string
	}{
		{"unknown column", "      SELECT koi_prd\n      FROM runs.results\n      WHERE koi_period > $n\n", spec.ErrSQL,
			`configs/queries.yaml:9:1: queries[0] (q).sql: rejected by DuckDB: Binder Error: Referenced column "koi_prd" not found in FROM clause!`},
		{"column only some catalogs have", "      SELECT kepler_name FROM runs.results WHERE koi_period > $n\n", spec.ErrSQL,
			`configs/queries.yaml:9:1: queries[0] (q).sql: rejected by DuckDB: Binder Error: Referenced column "kepler_name" not found in FROM clause!`},
		{"syntax", "      SELECT 1\n      FROM runs.results WHERE $n >\n", spec.ErrSQL, ""},
		{"undeclared parameter", "      SELECT * FROM runs.results WHERE koi_period > $n AND koi_prad < $r\n", spec.ErrUnknownParameter,
			`configs/queries.yaml:8:5: queries[0] (q).sql: unknown parameter $r (not declared under params)`},
		{"unused parameter", "      SELECT count(*) FROM runs.results\n", spec.ErrUnusedParameter,
			`configs/queries.yaml:7:10: queries[0] (q).params[0].name: unused parameter "n" (the SQL never reads $n)`},
		{"positional parameter", "      SELECT * FROM runs.results WHERE koi_period > ? AND $n > 0\n", spec.ErrSQL, ""},
		{"reads a file", "      SELECT * FROM read_csv('/etc/passwd') WHERE $n > 0\n", spec.ErrSQL, ""},
		{"not a SELECT", "      DELETE FROM meta.runs WHERE $n > 0\n", spec.ErrSQL, ""},
		{"two statements", "      SELECT $n; SELECT 2\n", spec.ErrSQL, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := spec.Load(withConfigFile(t, spec.QueriesFile, head+tc.sql))
			if err != nil {
				t.Fatalf("spec.Load: %v", err)
			}
			err = CheckStoredQueries(context.Background(), e.db, b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.wantText != "" && err.Error() != tc.wantText {
				t.Errorf("err =\n%s\nwant\n%s", err, tc.wantText)
			}
		})
	}
	// note: the check table was rolled back; runs.results is the real view.
	if n := mustQueryInt(t, e, "SELECT count(*) FROM (DESCRIBE runs.results)"); n != 1 {
		t.Errorf("runs.results has %d columns after the check, want the empty view's 1", n)
	}
}

// withConfigFile returns the repository's config FS with one file replaced.
func withConfigFile(tb testing.TB, name, text string) fstest.MapFS {
	tb.Helper()
	fsys := fstest.MapFS{}
	for _, f := range []string{spec.ColumnsFile, spec.MetricsFile, spec.ThresholdsFile, spec.RulesFile} {
		data, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			tb.Fatal(err)
		}
		fsys[f] = &fstest.MapFile{Data: data}
	}
	fsys[name] = &fstest.MapFile{Data: []byte(text)}
	return fsys
}
