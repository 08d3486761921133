package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// handSQL is the baseline of issue 2 §8: the whole KOI pipeline written by
// hand as ONE DuckDB statement (read the file, normalize, derive, classify,
// write Parquet, compressed as the run files are), with the default
// thresholds and albedo 0.3 inlined. It is
// written from DESIGN.md and configs/*.yaml by a person, not rendered by the
// engine, so the ratio measures the engine's overhead over plain DuckDB.
// from is read_csv(...) or read_parquet(...); out is the Parquet file.
const handSQL = `
COPY (
WITH src AS (
  SELECT row_number() OVER () AS row_id, *
  FROM %[1]s
),
norm AS (
  SELECT
    row_id,
    CAST(kepoi_name AS VARCHAR) AS object_id,
    CAST(kepid AS VARCHAR) AS star_id,
    true AS is_default,
    CASE upper(trim(koi_disposition))
      WHEN 'CONFIRMED' THEN 'CONFIRMED' WHEN 'CANDIDATE' THEN 'CANDIDATE'
      WHEN 'FALSE POSITIVE' THEN 'FALSE POSITIVE' END AS koi_disposition,
    TRY_CAST(koi_period AS DOUBLE) AS koi_period,
    TRY_CAST(koi_duration AS DOUBLE) AS koi_duration,
    TRY_CAST(koi_depth AS DOUBLE) AS koi_depth,
    TRY_CAST(koi_impact AS DOUBLE) AS koi_impact,
    TRY_CAST(koi_prad AS DOUBLE) AS koi_prad,
    TRY_CAST(koi_teq AS DOUBLE) AS koi_teq_cat,
    TRY_CAST(koi_insol AS DOUBLE) AS koi_insol_cat,
    TRY_CAST(koi_steff AS DOUBLE) AS koi_steff,
    TRY_CAST(koi_slogg AS DOUBLE) AS koi_slogg,
    TRY_CAST(koi_srad AS DOUBLE) AS koi_srad,
    CAST(NULL AS DOUBLE) AS koi_smass_cat,
    CAST(NULL AS DOUBLE) AS koi_sma_cat,
    * EXCLUDE (row_id, kepoi_name, kepid, koi_disposition, koi_period, koi_duration, koi_depth, koi_impact,
               koi_prad, koi_teq, koi_insol, koi_steff, koi_slogg, koi_srad),
    kepoi_name, kepid
  FROM src
),
star AS (
  SELECT *,
    coalesce(koi_smass_cat, CASE WHEN koi_srad > 0 AND koi_slogg BETWEEN 0 AND 10
      THEN pow(10, koi_slogg - 4.438) * koi_srad * koi_srad END) AS koi_smass,
    CASE WHEN koi_smass_cat IS NOT NULL THEN 'catalog'
      WHEN koi_srad > 0 AND koi_slogg BETWEEN 0 AND 10 THEN 'derived' ELSE 'missing' END AS koi_smass_source,
    CASE WHEN koi_srad > 0 AND koi_steff > 0 THEN koi_srad * koi_srad * pow(koi_steff / 5772, 4) END AS lum,
    CASE WHEN koi_prad > 0 AND koi_srad > 0 THEN koi_prad / (109.076 * koi_srad) END AS k,
    CASE WHEN koi_steff > 0 THEN koi_steff - 5780 END AS t
  FROM norm
),
orbit AS (
  SELECT *,
    coalesce(koi_sma_cat, CASE WHEN koi_smass > 0 AND koi_period > 0
      THEN cbrt(koi_smass * (koi_period / 365.25) * (koi_period / 365.25)) END) AS koi_sma,
    1.776 + 2.136e-4 * t + 2.533e-8 * t * t - 1.332e-11 * t * t * t - 3.097e-15 * t * t * t * t AS s_rv,
    1.107 + 1.332e-4 * t + 1.580e-8 * t * t - 8.308e-12 * t * t * t - 1.931e-15 * t * t * t * t AS s_rg,
    0.356 + 6.171e-5 * t + 1.698e-9 * t * t - 3.198e-12 * t * t * t - 5.575e-16 * t * t * t * t AS s_mg,
    0.320 + 5.547e-5 * t + 1.526e-9 * t * t - 2.874e-12 * t * t * t - 5.011e-16 * t * t * t * t AS s_em
  FROM star
),
energy AS (
  SELECT *,
    CASE WHEN koi_sma_cat IS NOT NULL THEN 'catalog' WHEN koi_sma IS NOT NULL THEN 'derived' ELSE 'missing' END AS koi_sma_source,
    coalesce(koi_insol_cat, CASE WHEN koi_sma > 0 THEN lum / (koi_sma * koi_sma) END) AS koi_insol
  FROM orbit
),
phys AS (
  SELECT *,
    CASE WHEN koi_insol_cat IS NOT NULL THEN 'catalog' WHEN koi_insol IS NOT NULL THEN 'derived' ELSE 'missing' END AS koi_insol_source,
    coalesce(koi_teq_cat, CASE WHEN koi_insol >= 0 THEN 5772 * sqrt(0.00465047 / 2) * pow(koi_insol, 0.25) * pow(1 - 0.3, 0.25) END) AS koi_teq,
    CASE WHEN koi_teq_cat IS NOT NULL THEN 'catalog' WHEN koi_insol >= 0 THEN 'derived' ELSE 'missing' END AS koi_teq_source,
    CASE WHEN k >= 0 THEN 1e6 * k * k END AS depth_from_radii_ppm,
    coalesce(koi_impact, 0.5) AS b,
    CASE WHEN koi_insol > 0 AND s_em > 0 AND s_rv > s_em
      THEN (1 / sqrt(koi_insol) - 1 / sqrt(s_rv)) / (1 / sqrt(s_em) - 1 / sqrt(s_rv)) END AS hz_position
  FROM energy
),
dur AS (
  SELECT *,
    CASE WHEN koi_period > 0 AND koi_sma > 0 AND koi_srad > 0 AND k >= 0 AND (1 + k) * (1 + k) - b * b > 0
      THEN koi_period / pi() * (koi_srad * 0.00465047 / koi_sma) * sqrt((1 + k) * (1 + k) - b * b) * 24 END
      AS expected_duration_hours
  FROM phys
),
flagged AS (
  SELECT *,
    CASE WHEN koi_duration > 0 AND expected_duration_hours > 0 THEN koi_duration / expected_duration_hours END AS duration_ratio
  FROM dur
),
flags AS (
  SELECT *,
    list_filter([
      CASE WHEN koi_prad IS NULL THEN 'FLAG_MISSING_PRAD' END,
      CASE WHEN koi_period IS NULL THEN 'FLAG_MISSING_PERIOD' END,
      CASE WHEN koi_steff IS NULL OR koi_srad IS NULL THEN 'FLAG_MISSING_STELLAR' END,
      CASE WHEN koi_depth IS NULL THEN 'FLAG_MISSING_DEPTH' END,
      CASE WHEN koi_prad <= 0 THEN 'FLAG_INVALID_PRAD' END,
      CASE WHEN koi_period <= 0 THEN 'FLAG_INVALID_PERIOD' END,
      CASE WHEN koi_srad <= 0 OR koi_steff <= 0 OR koi_smass <= 0 THEN 'FLAG_INVALID_STELLAR' END,
      CASE WHEN koi_period > 1e6 OR koi_steff > 60000 OR koi_srad > 3000 THEN 'FLAG_IMPLAUSIBLE_VALUE' END,
      CASE WHEN koi_teq_source = 'derived' THEN 'FLAG_ASSUMED_ALBEDO' END,
      CASE WHEN koi_impact IS NULL AND expected_duration_hours IS NOT NULL THEN 'FLAG_ASSUMED_IMPACT' END,
      CASE WHEN koi_smass_source = 'derived' THEN 'FLAG_DERIVED_SMASS' END,
      CASE WHEN koi_insol_source = 'derived' THEN 'FLAG_DERIVED_INSOL' END,
      CASE WHEN koi_prad > 30 THEN 'FLAG_RADIUS_TOO_LARGE' END,
      CASE WHEN koi_depth > 50000 THEN 'FLAG_DEPTH_TOO_DEEP' END,
      CASE WHEN duration_ratio < 0.5 OR duration_ratio > 1.8 THEN 'FLAG_DURATION_INCONSISTENT' END,
      CASE WHEN duration_ratio < 0.33 OR duration_ratio > 3.0 THEN 'FLAG_DURATION_EXTREME' END,
      CASE WHEN koi_teq < 80 AND koi_depth > 10000 THEN 'FLAG_COLD_DEEP_TRANSIT' END,
      CASE WHEN koi_depth > 0 AND depth_from_radii_ppm > 0
        AND greatest(koi_depth / depth_from_radii_ppm, depth_from_radii_ppm / koi_depth) > 3 THEN 'FLAG_DEPTH_RADII_MISMATCH' END,
      CASE WHEN koi_insol <= s_rg AND koi_insol >= s_mg THEN 'FLAG_HZ_CONSERVATIVE' END,
      CASE WHEN koi_steff < 2600 OR koi_steff > 7200 THEN 'FLAG_HZ_TEFF_OUT_OF_RANGE' END
    ], x -> x IS NOT NULL) AS flags
  FROM flagged
),
tagged AS (
  SELECT *,
    list_filter([
      CASE WHEN koi_prad <= 0 OR koi_period <= 0 OR (koi_prad IS NULL AND koi_period IS NULL) THEN 'no_result' END,
      CASE WHEN koi_disposition = 'FALSE POSITIVE' THEN 'likely_false_positive' END,
      CASE WHEN koi_prad > 30 OR koi_depth > 50000 OR duration_ratio < 0.33 OR duration_ratio > 3.0
        OR (koi_teq < 80 AND koi_depth > 10000) OR koi_period > 1e6 OR koi_steff > 60000 OR koi_srad > 3000
        THEN 'anomalous_signal' END,
      CASE WHEN koi_disposition = 'CONFIRMED' THEN 'confirmed_planet' END,
      CASE WHEN koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND hz_position BETWEEN 0 AND 1
        AND koi_prad > 0 AND koi_prad <= 2.5 THEN 'habitable_zone_candidate' END,
      CASE WHEN koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND koi_prad >= 8 AND koi_prad <= 30
        AND (koi_period <= 10 OR koi_teq >= 1000) THEN 'hot_jupiter_candidate' END,
      CASE WHEN koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND koi_prad > 0 AND koi_prad < 2 THEN 'rocky_candidate' END,
      CASE WHEN koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND koi_prad >= 2 AND koi_prad < 6
        THEN 'super_earth_or_mini_neptune' END,
      CASE WHEN koi_disposition IS NULL OR koi_disposition = 'CANDIDATE' THEN 'candidate' END
    ], x -> x IS NOT NULL) AS tags
  FROM flags
)
SELECT
  row_id, object_id, star_id, is_default, koi_disposition,
  koi_period, koi_duration, koi_depth, koi_impact, koi_prad, koi_teq, koi_insol, koi_steff, koi_slogg, koi_srad,
  koi_smass, koi_sma, koi_smass_source, koi_sma_source, koi_insol_source, koi_teq_source,
  lum AS stellar_luminosity, k AS radius_ratio, depth_from_radii_ppm, b AS impact_used,
  expected_duration_hours, duration_ratio, t AS hz_teff_offset,
  s_rv AS hz_seff_recent_venus, s_rg AS hz_seff_runaway_greenhouse,
  s_mg AS hz_seff_maximum_greenhouse, s_em AS hz_seff_early_mars,
  CASE WHEN lum > 0 AND s_rv > 0 THEN sqrt(lum / s_rv) END AS hz_inner_optimistic_au,
  CASE WHEN lum > 0 AND s_rg > 0 THEN sqrt(lum / s_rg) END AS hz_inner_conservative_au,
  CASE WHEN lum > 0 AND s_mg > 0 THEN sqrt(lum / s_mg) END AS hz_outer_conservative_au,
  CASE WHEN lum > 0 AND s_em > 0 THEN sqrt(lum / s_em) END AS hz_outer_optimistic_au,
  hz_position,
  * EXCLUDE (row_id, object_id, star_id, is_default, koi_disposition, koi_period, koi_duration, koi_depth,
             koi_impact, koi_prad, koi_teq, koi_insol, koi_steff, koi_slogg, koi_srad, koi_smass, koi_sma,
             koi_smass_source, koi_sma_source, koi_insol_source, koi_teq_source, lum, k, depth_from_radii_ppm, b,
             expected_duration_hours, duration_ratio, t, s_rv, s_rg, s_mg, s_em, hz_position, flags, tags,
             koi_teq_cat, koi_insol_cat, koi_smass_cat, koi_sma_cat),
  flags, tags,
  coalesce(tags[1], 'candidate') AS category,
  greatest(0, least(1,
    CASE WHEN koi_disposition = 'CONFIRMED' THEN 0.95
         WHEN koi_disposition = 'FALSE POSITIVE' THEN 0.05
         WHEN list_contains(tags, 'no_result') THEN 0.5
         WHEN koi_disposition = 'CANDIDATE' THEN 0.6
         ELSE 0.5 END
    - CASE WHEN list_contains(tags, 'anomalous_signal') THEN 0.3 ELSE 0 END
    - CASE WHEN list_contains(flags, 'FLAG_DEPTH_RADII_MISMATCH') THEN 0.1 ELSE 0 END)) AS score,
  CASE WHEN koi_disposition IS NULL THEN 'missing'
       WHEN koi_disposition = 'CONFIRMED' AND coalesce(tags[1], 'candidate') = 'confirmed_planet' THEN 'match'
       WHEN koi_disposition = 'FALSE POSITIVE' AND coalesce(tags[1], 'candidate') = 'likely_false_positive' THEN 'match'
       WHEN koi_disposition = 'CANDIDATE' AND coalesce(tags[1], 'candidate') IN ('candidate', 'rocky_candidate',
         'super_earth_or_mini_neptune', 'hot_jupiter_candidate', 'habitable_zone_candidate') THEN 'match'
       ELSE 'mismatch' END AS disposition_compare
FROM tagged
) TO %[2]s (FORMAT parquet, COMPRESSION snappy)`

// handFrom is the hand-written reader of an input file: CSV with the id
// columns typed as text, or Parquet.
func handFrom(path string) string {
	if strings.HasSuffix(path, ".parquet") {
		return "read_parquet(" + lit(path) + ")"
	}
	return "read_csv(" + lit(path) + ", header = true, types = {'kepid': 'VARCHAR', 'kepoi_name': 'VARCHAR'})"
}

// runHandSQL is the body of the handsql child process.
func runHandSQL(ctx context.Context, db *sql.DB, in, out string) (int64, error) {
	if _, err := db.ExecContext(ctx, fmt.Sprintf(handSQL, handFrom(in), lit(out))); err != nil {
		return 0, err
	}
	var n int64
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+lit(out)+")").Scan(&n)
	return n, err
}
