package mapping_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/exohunter/exohunter/engine/mapping"
	"github.com/exohunter/exohunter/engine/spec"
)

// mustColumns loads the repository's schemas/columns.yaml.
func mustColumns(tb testing.TB) *spec.Columns {
	tb.Helper()
	b, err := spec.Load(os.DirFS("../.."))
	if err != nil {
		tb.Fatal(err)
	}
	return b.Columns
}

// cols builds VARCHAR columns from names.
func cols(names ...string) []mapping.Column {
	out := make([]mapping.Column, len(names))
	for i, n := range names {
		out[i] = mapping.Column{Name: n, Type: "VARCHAR"}
	}
	return out
}

// header reads the column names of a real NASA file, skipping its # block.
func header(tb testing.TB, file string) []mapping.Column {
	tb.Helper()
	data, err := os.ReadFile("../../../shared/data/" + file)
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "#") {
			return cols(strings.Split(strings.TrimSpace(line), ",")...)
		}
	}
	tb.Fatalf("%s has no header", file)
	return nil
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"unit in parentheses", "Planet Radius (R_earth)", "planet_radius"},
		{"unit in brackets", "koi_depth [ppm]", "koi_depth"},
		{"dashes dots slashes", "Planet-Radius/Earth.units", "planet_radius_earth_units"},
		{"case and spaces", "  Orbital  Period ", "orbital_period"},
		{"byte order mark", "\ufeffkepid", "kepid"},
		{"only a unit stays", "(ppm)", "ppm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := mapping.Normalize(tc.in); got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestDetect_realFiles(t *testing.T) {
	t.Parallel()
	c := mustColumns(t)
	tests := []struct{ name, file, want string }{
		{"koi", "koi_cumulative_2025.csv", "koi"},
		{"koi commented", "koi_cumulative_2025-09-29_commented.csv", "koi"},
		{"toi", "toi_2025.csv", "toi"},
		{"k2", "k2pandc_2025.csv", "k2"},
		{"pscomppars", "pscomppars_2024-10-15_commented.csv", "pscomppars"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := mapping.Detect(header(t, tc.file), c); got != tc.want {
				t.Errorf("Detect = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMap_sources checks which source column feeds each canonical column.
func TestMap_sources(t *testing.T) {
	t.Parallel()
	c := mustColumns(t)
	tests := []struct {
		name string
		cols []mapping.Column
		opt  mapping.Options
		want map[string]string // canonical -> source
		ids  []string
	}{
		{
			name: "koi ids and disposition", cols: header(t, "koi_cumulative_2025.csv"),
			want: map[string]string{"object_id": "kepoi_name", "star_id": "kepid", "koi_disposition": "koi_disposition", "koi_prad_err2": "koi_prad_err2", "koi_smass": ""},
			ids:  []string{"kepoi_name", "kepid"},
		},
		{
			name: "toi", cols: header(t, "toi_2025.csv"),
			want: map[string]string{"object_id": "toi", "star_id": "tid", "koi_disposition": "tfopwg_disp", "koi_depth": "pl_trandep", "koi_time0bk": "pl_tranmid", "koi_duration_err1": "pl_trandurherr1",
				"koi_duration_lim": "pl_trandurhlim", "koi_steff_lim": "st_tefflim", "controversial": ""},
			ids: []string{"toi", "tid"},
		},
		{
			name: "k2", cols: header(t, "k2pandc_2025.csv"),
			want: map[string]string{"object_id": "pl_name", "star_id": "hostname", "is_default": "default_flag", "koi_disposition": "disposition", "koi_smass": "st_mass", "koi_smet": "st_met",
				"koi_prad_lim": "pl_radelim", "koi_sma_lim": "pl_orbsmaxlim", "controversial": "pl_controv_flag", "koi_depth_lim": ""},
			ids: []string{"pl_name", "hostname"},
		},
		{
			name: "prototype aliases", cols: cols("koi_name", "host", "final_disposition", "period_days", "transit_depth", "tdur", "rp", "sma", "planet_temp", "flux", "mass_star", "rs", "surface_gravity", "effective_temp", "impact_parameter"),
			want: map[string]string{"object_id": "koi_name", "star_id": "host", "koi_disposition": "final_disposition", "koi_period": "period_days", "koi_depth": "transit_depth",
				"koi_duration": "tdur", "koi_prad": "rp", "koi_sma": "sma", "koi_teq": "planet_temp", "koi_insol": "flux", "koi_smass": "mass_star", "koi_srad": "rs",
				"koi_slogg": "surface_gravity", "koi_steff": "effective_temp", "koi_impact": "impact_parameter"},
			ids: []string{"koi_name", "host"},
		},
		{
			// a limit belongs to the column that won, KOI-style names too
			name: "limits beside the winner", cols: cols("kepoi_name", "koi_prad", "koi_prad_lim", "pl_radelim", "koi_period"),
			want: map[string]string{"koi_prad": "koi_prad", "koi_prad_lim": "koi_prad_lim", "koi_period_lim": ""},
			ids:  []string{"kepoi_name"},
		},
		{
			name: "kepid is never the object", cols: cols("kepid", "koi_pdisposition", "koi_period"),
			want: map[string]string{"object_id": "", "star_id": "kepid", "koi_disposition": ""},
			ids:  []string{"kepid"},
		},
		{
			name: "mission override", cols: cols("pl_name", "pl_trandep", "pl_orbper"), opt: mapping.Options{Mission: "ps"},
			want: map[string]string{"object_id": "pl_name", "koi_depth": "pl_trandep"},
			ids:  []string{"pl_name"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := mapping.Map(tc.cols, c, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k := range tc.want {
				tg, ok := m.Target(k)
				if !ok {
					t.Fatalf("no target %s", k)
				}
				got[k] = tg.Source
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("sources (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.ids, m.IDColumns()); diff != "" {
				t.Errorf("IDColumns (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMap_report covers priorities, conversions, constants and collisions.
func TestMap_report(t *testing.T) {
	t.Parallel()
	c := mustColumns(t)
	m, err := mapping.Map(cols("pl_name", "pl_rade", "planet_radius", "pl_trandep", "score", "pl_orbper"), c, mapping.Options{Mission: "pscomppars"})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Source, Canonical, Conversion, Status string }
	var got []row
	for _, e := range m.Report {
		got = append(got, row{e.Source, e.Canonical, e.Conversion, e.Status})
	}
	want := []row{
		{"pl_name", "object_id", "", mapping.StatusMapped},
		{"pl_rade", "koi_prad", "", mapping.StatusMapped},
		{"planet_radius", "koi_prad", "", mapping.StatusShadowed},
		{"pl_trandep", "koi_depth", "percent -> ppm (x10000)", mapping.StatusMapped},
		{"score", "", "", mapping.StatusDropped},
		{"pl_orbper", "koi_period", "", mapping.StatusMapped},
		{"", "koi_disposition", "constant CONFIRMED", mapping.StatusConstant},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"planet_radius"}, m.PassThrough); diff != "" {
		t.Errorf("PassThrough (-want +got):\n%s", diff)
	}
	if tg, _ := m.Target("koi_depth_err1"); tg.Factor != 10000 {
		t.Errorf("error companion factor = %v, want 10000", tg.Factor)
	}
	// note: the reason of a dropped column said "passed through unchanged;
	// name collides ..., not passed through".
	for _, e := range m.Report {
		if e.Source == "score" && e.Reason != "name collides with a pipeline column: not in the runs, only in the raw view" {
			t.Errorf("reason of the dropped score column = %q", e.Reason)
		}
	}
}

func TestMap_units(t *testing.T) {
	t.Parallel()
	c := mustColumns(t)
	tests := []struct {
		name       string
		units      map[string]string
		wantFactor float64
		wantErr    error
		wantMsg    string
	}{
		{name: "generic depth is ppm", wantFactor: 1},
		{name: "percent override", units: map[string]string{"koi_depth": "percent"}, wantFactor: 1e4},
		{name: "fraction override", units: map[string]string{"koi_depth": "fraction"}, wantFactor: 1e6},
		{name: "unknown unit", units: map[string]string{"koi_depth": "mmag"}, wantErr: mapping.ErrUnknownUnit, wantMsg: "(known: fraction, percent, ppm)"},
		// note: it said "(known: )".
		{name: "column without units", units: map[string]string{"koi_period": "percent"}, wantErr: mapping.ErrUnknownUnit,
			wantMsg: "koi_period: it takes no unit override (the columns that do: "},
		{name: "unknown column", units: map[string]string{"depth": "ppm"}, wantErr: mapping.ErrUnknownColumn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := mapping.Map(cols("name", "depth", "period"), c, mapping.Options{Units: tc.units})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
					t.Fatalf("err = %v, want %v saying %q", err, tc.wantErr, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tg, _ := m.Target("koi_depth"); tg.Factor != tc.wantFactor {
				t.Errorf("factor = %v, want %v", tg.Factor, tc.wantFactor)
			}
		})
	}
}

func TestMap_errors(t *testing.T) {
	t.Parallel()
	c := mustColumns(t)
	tests := []struct {
		name string
		cols []mapping.Column
		opt  mapping.Options
		want error
	}{
		{name: "no known columns", cols: cols("name", "colour", "price"), want: mapping.ErrNoKnownColumns},
		{name: "only ids", cols: cols("kepoi_name", "kepid", "koi_disposition"), want: mapping.ErrNoKnownColumns},
		{name: "only a one-letter alias", cols: cols("a", "b", "c"), want: mapping.ErrNoKnownColumns},
		{name: "only stellar columns", cols: cols("kepid", "koi_steff", "koi_srad", "koi_impact"), want: mapping.ErrNoKnownColumns},
		{name: "unknown mission", cols: cols("koi_period"), opt: mapping.Options{Mission: "tess"}, want: mapping.ErrUnknownMission},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := mapping.Map(tc.cols, c, tc.opt); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
