package engine_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/exohunter/exohunter/engine/mapping"
)

// metricValues reads named columns of one row as numbers (NaN for NULL, so
// that a missing value fails the comparison).
func metricValues(t *testing.T, db *sql.DB, rel, where string, cols []string) map[string]float64 {
	t.Helper()
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s", strings.Join(cols, ", "), rel, where)
	vals := make([]sql.NullFloat64, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := db.QueryRow(q).Scan(ptrs...); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	out := map[string]float64{}
	for i, c := range cols {
		out[c] = vals[i].Float64
		if !vals[i].Valid {
			out[c] = -1e300 // note: NULL never equals an expected value
		}
	}
	return out
}

// TestPipeline_science checks the formulas against known systems: the Earth
// around the Sun, the Kopparapu check values at 3500 K, and Kepler-22b with
// the catalog values of K00087.01 in the KOI file.
func TestPipeline_science(t *testing.T) {
	t.Parallel()
	b := mustPipelineBundle(t)
	db := mustPipelineDB(t)
	mustLoadDataset(t, db, b, "science", "testdata/pipeline/science.csv", mapping.Options{})
	mustLoadDataset(t, db, b, "koi", "testdata/pipeline/nasa_commented.csv", mapping.Options{})
	tests := []struct {
		name  string
		rel   string
		where string
		tol   float64 // relative
		want  map[string]float64
	}{
		{
			name: "Earth around the Sun", rel: "classified.science", where: "star_id = 'Sun'", tol: 2e-3,
			want: map[string]float64{
				"koi_smass": 1, "koi_sma": 1, "koi_insol": 1, "koi_teq": 254.6, "stellar_luminosity": 1,
				"depth_from_radii_ppm": 84.05, "expected_duration_hours": 13.09, "duration_ratio": 0.9927,
				"hz_inner_optimistic_au": 0.750, "hz_inner_conservative_au": 0.950,
				"hz_outer_conservative_au": 1.676, "hz_outer_optimistic_au": 1.768, "hz_position": 0.2448,
			},
		},
		{
			name: "Sun at 5780 K: Kopparapu S_eff at T = 0", rel: "classified.science", where: "star_id = 'Sun-5780'", tol: 1e-6,
			want: map[string]float64{
				"hz_seff_recent_venus": 1.776, "hz_seff_runaway_greenhouse": 1.107,
				"hz_seff_maximum_greenhouse": 0.356, "hz_seff_early_mars": 0.320, "impact_used": 0.5,
			},
		},
		{
			name: "Kopparapu check values at 3500 K", rel: "classified.science", where: "star_id = 'M'", tol: 5e-4,
			want: map[string]float64{
				"hz_seff_recent_venus": 1.4948, "hz_seff_runaway_greenhouse": 0.9317,
				"hz_seff_maximum_greenhouse": 0.2470, "hz_seff_early_mars": 0.2220,
			},
		},
		{
			// Catalog: P 289.864067 d, Rp 2.34, Teq 257 K, S 1.03, Teff 5516 K,
			// log g 4.446, R 0.886, duration 7.565 h, b 0.856.
			name: "Kepler-22b", rel: "classified.koi", where: "object_id = 'K00087.01'", tol: 5e-3,
			want: map[string]float64{
				"stellar_mass_derived": 0.7996, "sma_derived": 0.7956, "insol_derived": 1.0344,
				"koi_insol": 1.03, "teq_derived": 257.0, "koi_teq": 257, "duration_ratio": 1.173,
				// (P/π)(R★/a)(1 + k)·24 h with a = 0.7956 AU, k = 0.02421: the
				// central-transit bound the duration flags compare with, which
				// Earth (b = 0) cannot tell from expected_duration_hours.
				"max_duration_hours": 11.746, "expected_duration_hours": 6.449,
				"hz_position": 0.2131, // from the catalog S = 1.03
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var cols []string
			for c := range tc.want {
				cols = append(cols, c)
			}
			got := metricValues(t, db, tc.rel, tc.where, cols)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateApprox(tc.tol, 0)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// Kepler-22b is a confirmed super-Earth in the habitable zone.
	tags := queryCSV(t, db, `SELECT category, tags FROM classified.koi WHERE object_id = 'K00087.01'`)
	if want := "category,tags\nconfirmed_planet,confirmed_planet;habitable_zone_candidate;super_earth_or_mini_neptune\n"; tags != want {
		t.Errorf("Kepler-22b: got %q, want %q", tags, want)
	}
}
