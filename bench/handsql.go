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
    'koi' AS detected_mission,
    true AS is_default,
    CASE upper(trim(koi_disposition))
      WHEN 'CONFIRMED' THEN 'CONFIRMED' WHEN 'CANDIDATE' THEN 'CANDIDATE'
      WHEN 'FALSE POSITIVE' THEN 'FALSE POSITIVE' END AS koi_disposition,
    CAST(NULL AS BOOLEAN) AS controversial,
    fin(TRY_CAST(koi_period AS DOUBLE)) AS koi_period,
    fin(TRY_CAST(koi_period_err1 AS DOUBLE)) AS koi_period_err1,
    fin(TRY_CAST(koi_period_err2 AS DOUBLE)) AS koi_period_err2,
    CAST(NULL AS INTEGER) AS koi_period_lim,
    fin(TRY_CAST(koi_time0bk AS DOUBLE)) AS koi_time0bk,
    fin(TRY_CAST(koi_time0bk_err1 AS DOUBLE)) AS koi_time0bk_err1,
    fin(TRY_CAST(koi_time0bk_err2 AS DOUBLE)) AS koi_time0bk_err2,
    CAST(NULL AS INTEGER) AS koi_time0bk_lim,
    fin(TRY_CAST(koi_duration AS DOUBLE)) AS koi_duration,
    fin(TRY_CAST(koi_duration_err1 AS DOUBLE)) AS koi_duration_err1,
    fin(TRY_CAST(koi_duration_err2 AS DOUBLE)) AS koi_duration_err2,
    CAST(NULL AS INTEGER) AS koi_duration_lim,
    fin(TRY_CAST(koi_depth AS DOUBLE)) AS koi_depth,
    fin(TRY_CAST(koi_depth_err1 AS DOUBLE)) AS koi_depth_err1,
    fin(TRY_CAST(koi_depth_err2 AS DOUBLE)) AS koi_depth_err2,
    CAST(NULL AS INTEGER) AS koi_depth_lim,
    fin(TRY_CAST(koi_impact AS DOUBLE)) AS koi_impact,
    fin(TRY_CAST(koi_impact_err1 AS DOUBLE)) AS koi_impact_err1,
    fin(TRY_CAST(koi_impact_err2 AS DOUBLE)) AS koi_impact_err2,
    CAST(NULL AS INTEGER) AS koi_impact_lim,
    fin(TRY_CAST(koi_model_snr AS DOUBLE)) AS koi_model_snr,
    fin(TRY_CAST(koi_prad AS DOUBLE)) AS koi_prad,
    fin(TRY_CAST(koi_prad_err1 AS DOUBLE)) AS koi_prad_err1,
    fin(TRY_CAST(koi_prad_err2 AS DOUBLE)) AS koi_prad_err2,
    CAST(NULL AS INTEGER) AS koi_prad_lim,
    CAST(NULL AS DOUBLE) AS koi_sma_cat,
    CAST(NULL AS DOUBLE) AS koi_sma_err1,
    CAST(NULL AS DOUBLE) AS koi_sma_err2,
    CAST(NULL AS INTEGER) AS koi_sma_lim,
    fin(TRY_CAST(koi_teq AS DOUBLE)) AS koi_teq_cat,
    fin(TRY_CAST(koi_teq_err1 AS DOUBLE)) AS koi_teq_err1,
    fin(TRY_CAST(koi_teq_err2 AS DOUBLE)) AS koi_teq_err2,
    CAST(NULL AS INTEGER) AS koi_teq_lim,
    fin(TRY_CAST(koi_insol AS DOUBLE)) AS koi_insol_cat,
    fin(TRY_CAST(koi_insol_err1 AS DOUBLE)) AS koi_insol_err1,
    fin(TRY_CAST(koi_insol_err2 AS DOUBLE)) AS koi_insol_err2,
    CAST(NULL AS INTEGER) AS koi_insol_lim,
    fin(TRY_CAST(koi_steff AS DOUBLE)) AS koi_steff,
    fin(TRY_CAST(koi_steff_err1 AS DOUBLE)) AS koi_steff_err1,
    fin(TRY_CAST(koi_steff_err2 AS DOUBLE)) AS koi_steff_err2,
    CAST(NULL AS INTEGER) AS koi_steff_lim,
    fin(TRY_CAST(koi_slogg AS DOUBLE)) AS koi_slogg,
    fin(TRY_CAST(koi_slogg_err1 AS DOUBLE)) AS koi_slogg_err1,
    fin(TRY_CAST(koi_slogg_err2 AS DOUBLE)) AS koi_slogg_err2,
    CAST(NULL AS INTEGER) AS koi_slogg_lim,
    fin(TRY_CAST(koi_srad AS DOUBLE)) AS koi_srad,
    fin(TRY_CAST(koi_srad_err1 AS DOUBLE)) AS koi_srad_err1,
    fin(TRY_CAST(koi_srad_err2 AS DOUBLE)) AS koi_srad_err2,
    CAST(NULL AS INTEGER) AS koi_srad_lim,
    CAST(NULL AS DOUBLE) AS koi_smass_cat,
    CAST(NULL AS DOUBLE) AS koi_smass_err1,
    CAST(NULL AS DOUBLE) AS koi_smass_err2,
    CAST(NULL AS INTEGER) AS koi_smass_lim,
    CAST(NULL AS DOUBLE) AS koi_smet,
    CAST(NULL AS DOUBLE) AS koi_smet_err1,
    CAST(NULL AS DOUBLE) AS koi_smet_err2,
    CAST(NULL AS INTEGER) AS koi_smet_lim,
    fin(TRY_CAST(ra AS DOUBLE)) AS ra,
    fin(TRY_CAST(dec AS DOUBLE)) AS dec,
    fin(TRY_CAST(koi_kepmag AS DOUBLE)) AS koi_kepmag,
    kepler_name,
    koi_pdisposition,
    koi_score,
    koi_fpflag_nt,
    koi_fpflag_ss,
    koi_fpflag_co,
    koi_fpflag_ec,
    koi_tce_plnt_num,
    koi_tce_delivname
  FROM src
),
star AS (
  SELECT *,
    fin(CASE WHEN koi_srad > 0 AND koi_slogg BETWEEN 0 AND 10
      AND pow(10, koi_slogg - 4.438) * koi_srad * koi_srad BETWEEN 0.07 AND 20
      THEN pow(10, koi_slogg - 4.438) * koi_srad * koi_srad END) AS stellar_mass_derived,
    fin(CASE WHEN koi_srad > 0 AND koi_steff > 0 THEN koi_srad * koi_srad * pow(koi_steff / 5772, 4) END) AS lum,
    fin(CASE WHEN koi_prad > 0 AND koi_srad > 0 THEN koi_prad / (109.076 * koi_srad) END) AS k,
    fin(CASE WHEN koi_steff > 0 THEN koi_steff - 5780 END) AS t
  FROM norm
),
mass AS (
  SELECT *,
    coalesce(koi_smass_cat, stellar_mass_derived) AS koi_smass,
    CASE WHEN koi_smass_cat IS NOT NULL THEN 'catalog' WHEN stellar_mass_derived IS NOT NULL THEN 'derived' ELSE 'missing' END AS koi_smass_source
  FROM star
),
orbit AS (
  SELECT *,
    fin(CASE WHEN koi_smass > 0 AND koi_period > 0 THEN cbrt(koi_smass * pow(koi_period / 365.25, 2)) END) AS sma_derived,
    fin(1.776 + 2.136e-4 * t + 2.533e-8 * t * t - 1.332e-11 * t * t * t - 3.097e-15 * t * t * t * t) AS s_rv,
    fin(1.107 + 1.332e-4 * t + 1.580e-8 * t * t - 8.308e-12 * t * t * t - 1.931e-15 * t * t * t * t) AS s_rg,
    fin(0.356 + 6.171e-5 * t + 1.698e-9 * t * t - 3.198e-12 * t * t * t - 5.575e-16 * t * t * t * t) AS s_mg,
    fin(0.320 + 5.547e-5 * t + 1.526e-9 * t * t - 2.874e-12 * t * t * t - 5.011e-16 * t * t * t * t) AS s_em
  FROM mass
),
energy AS (
  SELECT *,
    coalesce(koi_sma_cat, sma_derived) AS koi_sma,
    CASE WHEN koi_sma_cat IS NOT NULL THEN 'catalog' WHEN sma_derived IS NOT NULL THEN 'derived' ELSE 'missing' END AS koi_sma_source
  FROM orbit
),
insol AS (
  SELECT *,
    fin(CASE WHEN koi_sma > 0 THEN lum / (koi_sma * koi_sma) END) AS insol_derived
  FROM energy
),
phys AS (
  SELECT *,
    coalesce(koi_insol_cat, insol_derived) AS koi_insol,
    CASE WHEN koi_insol_cat IS NOT NULL THEN 'catalog' WHEN insol_derived IS NOT NULL THEN 'derived' ELSE 'missing' END AS koi_insol_source
  FROM insol
),
temp AS (
  SELECT *,
    fin(CASE WHEN koi_insol >= 0 THEN 5772 * sqrt(0.00465047 / 2) * pow(koi_insol, 0.25) * pow(1 - 0.3, 0.25) END) AS teq_derived,
    fin(CASE WHEN k >= 0 THEN 1e6 * k * k END) AS depth_from_radii_ppm,
    coalesce(koi_impact, 0.5) AS b,
    fin(CASE WHEN koi_insol > 0 AND s_em > 0 AND s_rv > s_em
      THEN (1 / sqrt(koi_insol) - 1 / sqrt(s_rv)) / (1 / sqrt(s_em) - 1 / sqrt(s_rv)) END) AS hz_position
  FROM phys
),
dur AS (
  SELECT *,
    coalesce(koi_teq_cat, teq_derived) AS koi_teq,
    CASE WHEN koi_teq_cat IS NOT NULL THEN 'catalog' WHEN teq_derived IS NOT NULL THEN 'derived' ELSE 'missing' END AS koi_teq_source,
    fin(CASE WHEN koi_period > 0 AND koi_sma > 0 AND koi_srad > 0 AND k >= 0 AND (1 + k) * (1 + k) - b * b > 0
      THEN koi_period / pi() * (koi_srad * 0.00465047 / koi_sma) * sqrt((1 + k) * (1 + k) - b * b) * 24 END)
      AS expected_duration_hours,
    fin(CASE WHEN koi_period > 0 AND koi_sma > 0 AND koi_srad > 0 AND k >= 0
      THEN koi_period / pi() * (koi_srad * 0.00465047 / koi_sma) * (1 + k) * 24 END) AS max_duration_hours
  FROM temp
),
ratio AS (
  SELECT *,
    fin(CASE WHEN koi_duration > 0 AND expected_duration_hours > 0 THEN koi_duration / expected_duration_hours END) AS duration_ratio,
    koi_insol_source = 'catalog' AND koi_insol > 0 AND insol_derived > 0
      AND greatest(koi_insol / insol_derived, insol_derived / koi_insol) > 2 AS insol_mismatch
  FROM dur
),
flags AS (
  SELECT *,
    list_filter([
      CASE WHEN koi_prad IS NULL THEN 'FLAG_MISSING_PRAD' END,
      CASE WHEN koi_period IS NULL THEN 'FLAG_MISSING_PERIOD' END,
      CASE WHEN koi_steff IS NULL OR koi_srad IS NULL OR (koi_sma IS NULL AND koi_smass IS NULL) THEN 'FLAG_MISSING_STELLAR' END,
      CASE WHEN koi_depth IS NULL THEN 'FLAG_MISSING_DEPTH' END,
      CASE WHEN koi_prad <= 0 THEN 'FLAG_INVALID_PRAD' END,
      CASE WHEN koi_period <= 0 THEN 'FLAG_INVALID_PERIOD' END,
      CASE WHEN koi_srad <= 0 OR koi_steff <= 0 OR koi_smass <= 0 THEN 'FLAG_INVALID_STELLAR' END,
      CASE WHEN koi_period > 1e10 OR koi_steff > 60000 OR koi_srad > 3000 THEN 'FLAG_IMPLAUSIBLE_VALUE' END,
      CASE WHEN koi_period_lim <> 0 OR koi_duration_lim <> 0 OR koi_depth_lim <> 0 OR koi_impact_lim <> 0 OR koi_prad_lim <> 0 OR koi_sma_lim <> 0 OR koi_teq_lim <> 0 OR koi_insol_lim <> 0 OR koi_steff_lim <> 0 OR koi_slogg_lim <> 0 OR koi_srad_lim <> 0 OR koi_smass_lim <> 0 THEN 'FLAG_LIMIT_VALUE' END,
      CASE WHEN controversial THEN 'FLAG_CONTROVERSIAL' END,
      CASE WHEN koi_teq_source = 'derived' THEN 'FLAG_ASSUMED_ALBEDO' END,
      CASE WHEN koi_impact IS NULL AND expected_duration_hours IS NOT NULL THEN 'FLAG_ASSUMED_IMPACT' END,
      CASE WHEN koi_smass_source = 'derived' THEN 'FLAG_DERIVED_SMASS' END,
      CASE WHEN koi_smass IS NULL AND koi_srad > 0 AND koi_slogg BETWEEN 0 AND 10 THEN 'FLAG_DERIVED_SMASS_IMPLAUSIBLE' END,
      CASE WHEN koi_insol_source = 'derived' THEN 'FLAG_DERIVED_INSOL' END,
      CASE WHEN koi_prad > 30 THEN 'FLAG_RADIUS_TOO_LARGE' END,
      CASE WHEN CASE WHEN koi_srad > 0 THEN koi_depth > 1e6 * pow(30 / (109.076 * koi_srad), 2)
        ELSE koi_depth > 50000 END THEN 'FLAG_DEPTH_TOO_DEEP' END,
      CASE WHEN (koi_impact IS NOT NULL AND duration_ratio < 0.5) OR koi_duration > 1.8 * max_duration_hours
        THEN 'FLAG_DURATION_INCONSISTENT' END,
      CASE WHEN (koi_impact IS NOT NULL AND duration_ratio < 0.33) OR koi_duration > 3 * max_duration_hours
        THEN 'FLAG_DURATION_EXTREME' END,
      CASE WHEN koi_teq < 80 AND koi_depth > 10000 THEN 'FLAG_COLD_DEEP_TRANSIT' END,
      CASE WHEN koi_depth > 0 AND depth_from_radii_ppm > 0
        AND greatest(koi_depth / depth_from_radii_ppm, depth_from_radii_ppm / koi_depth) > 3 THEN 'FLAG_DEPTH_RADII_MISMATCH' END,
      CASE WHEN insol_mismatch THEN 'FLAG_INSOL_MISMATCH' END,
      CASE WHEN (koi_steff = 5780 AND koi_steff_err1 IS NULL)
        OR (koi_slogg = 4.438 AND koi_slogg_err1 IS NULL AND koi_srad IS DISTINCT FROM 1) THEN 'FLAG_STELLAR_PLACEHOLDER' END,
      CASE WHEN koi_insol <= s_rg AND koi_insol >= s_mg THEN 'FLAG_HZ_CONSERVATIVE' END,
      CASE WHEN koi_steff < 2600 OR koi_steff > 7200 THEN 'FLAG_HZ_TEFF_OUT_OF_RANGE' END
    ], x -> x IS NOT NULL) AS flags
  FROM ratio
),
tagged AS (
  SELECT *,
    list_filter([
      CASE WHEN koi_prad <= 0 OR koi_period <= 0 OR (koi_prad IS NULL AND koi_period IS NULL) THEN 'no_result' END,
      CASE WHEN koi_disposition = 'FALSE POSITIVE' THEN 'likely_false_positive' END,
      CASE WHEN list_has_any(flags, ['FLAG_RADIUS_TOO_LARGE', 'FLAG_DEPTH_TOO_DEEP', 'FLAG_DURATION_EXTREME',
        'FLAG_COLD_DEEP_TRANSIT', 'FLAG_IMPLAUSIBLE_VALUE']) THEN 'anomalous_signal' END,
      CASE WHEN koi_disposition = 'CONFIRMED' THEN 'confirmed_planet' END,
      CASE WHEN koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND hz_position BETWEEN 0 AND 1
        AND koi_prad > 0 AND koi_prad <= 2.5 THEN 'habitable_zone_candidate' END,
      CASE WHEN koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND koi_prad >= 8 AND koi_prad <= 30
        AND (koi_period <= 10 OR (teq_derived >= 1000
          AND (NOT coalesce(insol_mismatch, false) OR teq_derived * pow(insol_derived / koi_insol, 0.25) >= 1000)))
        THEN 'hot_jupiter_candidate' END,
      CASE WHEN koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND koi_prad > 0 AND koi_prad < 2 THEN 'rocky_candidate' END,
      CASE WHEN koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND koi_prad >= 2 AND koi_prad < 6
        THEN 'super_earth_or_mini_neptune' END,
      CASE WHEN koi_disposition IS NULL OR koi_disposition = 'CANDIDATE' THEN 'candidate' END
    ], x -> x IS NOT NULL) AS tags
  FROM flags
)
SELECT
  * EXCLUDE (koi_teq_cat, koi_insol_cat, koi_smass_cat, koi_sma_cat, lum, k, b, t, s_rv, s_rg, s_mg, s_em,
             hz_position, insol_mismatch, flags, tags),
  lum AS stellar_luminosity, k AS radius_ratio, b AS impact_used, t AS hz_teff_offset,
  s_rv AS hz_seff_recent_venus, s_rg AS hz_seff_runaway_greenhouse,
  s_mg AS hz_seff_maximum_greenhouse, s_em AS hz_seff_early_mars,
  fin(CASE WHEN lum > 0 AND s_rv > 0 THEN sqrt(lum / s_rv) END) AS hz_inner_optimistic_au,
  fin(CASE WHEN lum > 0 AND s_rg > 0 THEN sqrt(lum / s_rg) END) AS hz_inner_conservative_au,
  fin(CASE WHEN lum > 0 AND s_mg > 0 THEN sqrt(lum / s_mg) END) AS hz_outer_conservative_au,
  fin(CASE WHEN lum > 0 AND s_em > 0 THEN sqrt(lum / s_em) END) AS hz_outer_optimistic_au,
  hz_position,
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
	// note: NaN and ±Inf become NULL, as DESIGN.md asks of every stored value.
	if _, err := db.ExecContext(ctx, "CREATE MACRO fin(x) AS CASE WHEN isfinite(x) THEN x END"); err != nil {
		return 0, err
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(handSQL, handFrom(in), lit(out))); err != nil {
		return 0, err
	}
	var n int64
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+lit(out)+")").Scan(&n)
	return n, err
}
