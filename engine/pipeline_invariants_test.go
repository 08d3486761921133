package engine_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/exohunter/exohunter/engine/spec"
	sqltmpl "github.com/exohunter/exohunter/sql"
)

// pipelineInvariants are the row semantics of DESIGN.md, each a count of
// violating rows that must be zero.
var pipelineInvariants = []struct{ name, violations string }{
	{"row_id unique from 1", `SELECT count(*) - count(DISTINCT row_id) + (max(row_id) - count(*)) + (min(row_id) - 1) FROM %s`},
	{"object_id present", `SELECT count(*) FROM %s WHERE object_id IS NULL`},
	{"is_default present", `SELECT count(*) FROM %s WHERE is_default IS NULL`},
	{"category is the first tag", `SELECT count(*) FROM %s WHERE category IS NULL OR category <> coalesce(tags[1], 'candidate')`},
	{"category known", `SELECT count(*) FROM %s WHERE category NOT IN (` + quotedCategories() + `)`},
	{"score in [0,1]", `SELECT count(*) FROM %s WHERE score IS NULL OR score < 0 OR score > 1`},
	// note: NULL is allowed (a file without dispositions) and counted by
	// the catalog tests; NOT IN alone would never see it.
	{"disposition values", `SELECT count(*) FROM %s WHERE koi_disposition IS NOT NULL AND koi_disposition NOT IN ('CONFIRMED', 'CANDIDATE', 'FALSE POSITIVE')`},
	{"confirmed_planet iff CONFIRMED", `SELECT count(*) FROM %s
		WHERE list_contains(tags, 'confirmed_planet') IS DISTINCT FROM (koi_disposition IS NOT DISTINCT FROM 'CONFIRMED')`},
	{"likely_false_positive iff FALSE POSITIVE", `SELECT count(*) FROM %s
		WHERE list_contains(tags, 'likely_false_positive') IS DISTINCT FROM (koi_disposition IS NOT DISTINCT FROM 'FALSE POSITIVE')`},
	{"habitable_zone_candidate definition", `SELECT count(*) FROM %s
		WHERE list_contains(tags, 'habitable_zone_candidate') IS DISTINCT FROM coalesce(
			koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND hz_position BETWEEN 0 AND 1 AND koi_prad > 0 AND koi_prad <= 2.5, false)`},
	{"disposition_compare", `SELECT count(*) FROM %s WHERE disposition_compare IS DISTINCT FROM CASE
		WHEN koi_disposition IS NULL THEN 'missing'
		WHEN koi_disposition = 'CONFIRMED' AND category = 'confirmed_planet' THEN 'match'
		WHEN koi_disposition = 'FALSE POSITIVE' AND category = 'likely_false_positive' THEN 'match'
		WHEN koi_disposition = 'CANDIDATE' AND category IN ('candidate', 'rocky_candidate', 'super_earth_or_mini_neptune',
			'hot_jupiter_candidate', 'habitable_zone_candidate') THEN 'match'
		ELSE 'mismatch' END`},
	{"fills keep the catalog", `SELECT count(*) FROM %s WHERE
		koi_insol_source NOT IN ('catalog', 'derived', 'missing')
		OR koi_insol_source = 'derived' AND koi_insol IS DISTINCT FROM insol_derived
		OR koi_insol_source = 'missing' AND (koi_insol IS NOT NULL OR insol_derived IS NOT NULL)
		OR koi_smass_source = 'derived' AND koi_smass IS DISTINCT FROM stellar_mass_derived
		OR koi_teq_source = 'catalog' AND koi_teq IS NULL`},
}

// quotedCategories lists the nine categories as SQL literals.
func quotedCategories() string {
	parts := make([]string, len(spec.Categories))
	for i, c := range spec.Categories {
		parts[i] = sqltmpl.Lit(c).String()
	}
	return strings.Join(parts, ", ")
}

// assertPipelineInvariants checks the row semantics and that no DOUBLE
// column of the relation holds NaN or ±Inf.
func assertPipelineInvariants(t *testing.T, db *sql.DB, rel string) {
	t.Helper()
	for _, inv := range pipelineInvariants {
		if n := queryInt(t, db, fmt.Sprintf(inv.violations, rel)); n != 0 {
			t.Errorf("%s: %d rows violate %q", rel, n, inv.name)
		}
	}
	var checks []string
	for _, c := range describe(t, db, "SELECT * FROM "+rel) {
		if c.Type == "DOUBLE" || c.Type == "FLOAT" {
			checks = append(checks, fmt.Sprintf("count(*) FILTER (WHERE NOT isfinite(%s))", sqltmpl.Ident(c.Name)))
		}
	}
	if len(checks) == 0 {
		t.Fatalf("%s has no DOUBLE column", rel)
	}
	if n := queryInt(t, db, "SELECT "+strings.Join(checks, " + ")+" FROM "+rel); n != 0 {
		t.Errorf("%s: %d NaN/Inf values", rel, n)
	}
}

// assertSameRows checks that two relations hold the same rows (as bags).
func assertSameRows(t *testing.T, db *sql.DB, a, b string) {
	t.Helper()
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		q := fmt.Sprintf("SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s)", pair[0], pair[1])
		if n := queryInt(t, db, q); n != 0 {
			t.Errorf("%d rows of %s are not in %s", n, pair[0], pair[1])
		}
	}
}
