CREATE OR REPLACE VIEW "normalized"."koi" AS
SELECT
  row_number() OVER () AS "row_id",
  CAST("kepoi_name" AS VARCHAR) AS "object_id",
  CAST("kepid" AS VARCHAR) AS "star_id",
  'koi' AS "detected_mission",
  true AS "is_default",
  CASE upper(trim(CAST("koi_disposition" AS VARCHAR))) WHEN 'APC' THEN 'CANDIDATE' WHEN 'CANDIDATE' THEN 'CANDIDATE' WHEN 'CONFIRMED' THEN 'CONFIRMED' WHEN 'CP' THEN 'CONFIRMED' WHEN 'FA' THEN 'FALSE POSITIVE' WHEN 'FALSE POSITIVE' THEN 'FALSE POSITIVE' WHEN 'FALSE_POSITIVE' THEN 'FALSE POSITIVE' WHEN 'FP' THEN 'FALSE POSITIVE' WHEN 'KP' THEN 'CONFIRMED' WHEN 'PC' THEN 'CANDIDATE' WHEN 'REFUTED' THEN 'FALSE POSITIVE' END AS "koi_disposition",
  CAST(NULL AS BOOLEAN) AS "controversial",
  CASE WHEN isfinite(TRY_CAST("koi_period" AS DOUBLE)) THEN TRY_CAST("koi_period" AS DOUBLE) END AS "koi_period",
  CASE WHEN isfinite(TRY_CAST("koi_period_err1" AS DOUBLE)) THEN TRY_CAST("koi_period_err1" AS DOUBLE) END AS "koi_period_err1",
  CASE WHEN isfinite(TRY_CAST("koi_period_err2" AS DOUBLE)) THEN TRY_CAST("koi_period_err2" AS DOUBLE) END AS "koi_period_err2",
  CAST(NULL AS INTEGER) AS "koi_period_lim",
  CASE WHEN isfinite(TRY_CAST("koi_time0bk" AS DOUBLE)) THEN TRY_CAST("koi_time0bk" AS DOUBLE) END AS "koi_time0bk",
  CASE WHEN isfinite(TRY_CAST("koi_time0bk_err1" AS DOUBLE)) THEN TRY_CAST("koi_time0bk_err1" AS DOUBLE) END AS "koi_time0bk_err1",
  CASE WHEN isfinite(TRY_CAST("koi_time0bk_err2" AS DOUBLE)) THEN TRY_CAST("koi_time0bk_err2" AS DOUBLE) END AS "koi_time0bk_err2",
  CAST(NULL AS INTEGER) AS "koi_time0bk_lim",
  CASE WHEN isfinite(TRY_CAST("koi_duration" AS DOUBLE)) THEN TRY_CAST("koi_duration" AS DOUBLE) END AS "koi_duration",
  CASE WHEN isfinite(TRY_CAST("koi_duration_err1" AS DOUBLE)) THEN TRY_CAST("koi_duration_err1" AS DOUBLE) END AS "koi_duration_err1",
  CASE WHEN isfinite(TRY_CAST("koi_duration_err2" AS DOUBLE)) THEN TRY_CAST("koi_duration_err2" AS DOUBLE) END AS "koi_duration_err2",
  CAST(NULL AS INTEGER) AS "koi_duration_lim",
  CASE WHEN isfinite(TRY_CAST("koi_depth" AS DOUBLE)) THEN TRY_CAST("koi_depth" AS DOUBLE) END AS "koi_depth",
  CASE WHEN isfinite(TRY_CAST("koi_depth_err1" AS DOUBLE)) THEN TRY_CAST("koi_depth_err1" AS DOUBLE) END AS "koi_depth_err1",
  CASE WHEN isfinite(TRY_CAST("koi_depth_err2" AS DOUBLE)) THEN TRY_CAST("koi_depth_err2" AS DOUBLE) END AS "koi_depth_err2",
  CAST(NULL AS INTEGER) AS "koi_depth_lim",
  CASE WHEN isfinite(TRY_CAST("koi_impact" AS DOUBLE)) THEN TRY_CAST("koi_impact" AS DOUBLE) END AS "koi_impact",
  CASE WHEN isfinite(TRY_CAST("koi_impact_err1" AS DOUBLE)) THEN TRY_CAST("koi_impact_err1" AS DOUBLE) END AS "koi_impact_err1",
  CASE WHEN isfinite(TRY_CAST("koi_impact_err2" AS DOUBLE)) THEN TRY_CAST("koi_impact_err2" AS DOUBLE) END AS "koi_impact_err2",
  CAST(NULL AS INTEGER) AS "koi_impact_lim",
  CASE WHEN isfinite(TRY_CAST("koi_model_snr" AS DOUBLE)) THEN TRY_CAST("koi_model_snr" AS DOUBLE) END AS "koi_model_snr",
  CASE WHEN isfinite(TRY_CAST("koi_prad" AS DOUBLE)) THEN TRY_CAST("koi_prad" AS DOUBLE) END AS "koi_prad",
  CASE WHEN isfinite(TRY_CAST("koi_prad_err1" AS DOUBLE)) THEN TRY_CAST("koi_prad_err1" AS DOUBLE) END AS "koi_prad_err1",
  CASE WHEN isfinite(TRY_CAST("koi_prad_err2" AS DOUBLE)) THEN TRY_CAST("koi_prad_err2" AS DOUBLE) END AS "koi_prad_err2",
  CAST(NULL AS INTEGER) AS "koi_prad_lim",
  CAST(NULL AS DOUBLE) AS "koi_sma",
  CAST(NULL AS DOUBLE) AS "koi_sma_err1",
  CAST(NULL AS DOUBLE) AS "koi_sma_err2",
  CAST(NULL AS INTEGER) AS "koi_sma_lim",
  CASE WHEN isfinite(TRY_CAST("koi_teq" AS DOUBLE)) THEN TRY_CAST("koi_teq" AS DOUBLE) END AS "koi_teq",
  CASE WHEN isfinite(TRY_CAST("koi_teq_err1" AS DOUBLE)) THEN TRY_CAST("koi_teq_err1" AS DOUBLE) END AS "koi_teq_err1",
  CASE WHEN isfinite(TRY_CAST("koi_teq_err2" AS DOUBLE)) THEN TRY_CAST("koi_teq_err2" AS DOUBLE) END AS "koi_teq_err2",
  CAST(NULL AS INTEGER) AS "koi_teq_lim",
  CASE WHEN isfinite(TRY_CAST("koi_insol" AS DOUBLE)) THEN TRY_CAST("koi_insol" AS DOUBLE) END AS "koi_insol",
  CASE WHEN isfinite(TRY_CAST("koi_insol_err1" AS DOUBLE)) THEN TRY_CAST("koi_insol_err1" AS DOUBLE) END AS "koi_insol_err1",
  CASE WHEN isfinite(TRY_CAST("koi_insol_err2" AS DOUBLE)) THEN TRY_CAST("koi_insol_err2" AS DOUBLE) END AS "koi_insol_err2",
  CAST(NULL AS INTEGER) AS "koi_insol_lim",
  CASE WHEN isfinite(TRY_CAST("koi_steff" AS DOUBLE)) THEN TRY_CAST("koi_steff" AS DOUBLE) END AS "koi_steff",
  CASE WHEN isfinite(TRY_CAST("koi_steff_err1" AS DOUBLE)) THEN TRY_CAST("koi_steff_err1" AS DOUBLE) END AS "koi_steff_err1",
  CASE WHEN isfinite(TRY_CAST("koi_steff_err2" AS DOUBLE)) THEN TRY_CAST("koi_steff_err2" AS DOUBLE) END AS "koi_steff_err2",
  CAST(NULL AS INTEGER) AS "koi_steff_lim",
  CASE WHEN isfinite(TRY_CAST("koi_slogg" AS DOUBLE)) THEN TRY_CAST("koi_slogg" AS DOUBLE) END AS "koi_slogg",
  CASE WHEN isfinite(TRY_CAST("koi_slogg_err1" AS DOUBLE)) THEN TRY_CAST("koi_slogg_err1" AS DOUBLE) END AS "koi_slogg_err1",
  CASE WHEN isfinite(TRY_CAST("koi_slogg_err2" AS DOUBLE)) THEN TRY_CAST("koi_slogg_err2" AS DOUBLE) END AS "koi_slogg_err2",
  CAST(NULL AS INTEGER) AS "koi_slogg_lim",
  CASE WHEN isfinite(TRY_CAST("koi_srad" AS DOUBLE)) THEN TRY_CAST("koi_srad" AS DOUBLE) END AS "koi_srad",
  CASE WHEN isfinite(TRY_CAST("koi_srad_err1" AS DOUBLE)) THEN TRY_CAST("koi_srad_err1" AS DOUBLE) END AS "koi_srad_err1",
  CASE WHEN isfinite(TRY_CAST("koi_srad_err2" AS DOUBLE)) THEN TRY_CAST("koi_srad_err2" AS DOUBLE) END AS "koi_srad_err2",
  CAST(NULL AS INTEGER) AS "koi_srad_lim",
  CAST(NULL AS DOUBLE) AS "koi_smass",
  CAST(NULL AS DOUBLE) AS "koi_smass_err1",
  CAST(NULL AS DOUBLE) AS "koi_smass_err2",
  CAST(NULL AS INTEGER) AS "koi_smass_lim",
  CAST(NULL AS DOUBLE) AS "koi_smet",
  CAST(NULL AS DOUBLE) AS "koi_smet_err1",
  CAST(NULL AS DOUBLE) AS "koi_smet_err2",
  CAST(NULL AS INTEGER) AS "koi_smet_lim",
  CASE WHEN isfinite(TRY_CAST("ra" AS DOUBLE)) THEN TRY_CAST("ra" AS DOUBLE) END AS "ra",
  CASE WHEN isfinite(TRY_CAST("dec" AS DOUBLE)) THEN TRY_CAST("dec" AS DOUBLE) END AS "dec",
  CASE WHEN isfinite(TRY_CAST("koi_kepmag" AS DOUBLE)) THEN TRY_CAST("koi_kepmag" AS DOUBLE) END AS "koi_kepmag",
  "kepler_name" AS "kepler_name",
  "koi_pdisposition" AS "koi_pdisposition",
  "koi_score" AS "koi_score",
  "koi_fpflag_nt" AS "koi_fpflag_nt",
  "koi_fpflag_ss" AS "koi_fpflag_ss",
  "koi_fpflag_co" AS "koi_fpflag_co",
  "koi_fpflag_ec" AS "koi_fpflag_ec",
  "koi_tce_plnt_num" AS "koi_tce_plnt_num",
  "koi_tce_delivname" AS "koi_tce_delivname"
FROM "raw"."koi";

CREATE OR REPLACE VIEW "metrics"."koi" AS
WITH "metric_stellar_mass_derived" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN koi_srad > 0 AND koi_slogg BETWEEN 0 AND 10 AND pow(10, koi_slogg - 4.438) * koi_srad * koi_srad BETWEEN 0.07 AND 20 THEN pow(10, koi_slogg - 4.438) * koi_srad * koi_srad END) AS DOUBLE)) THEN CAST((CASE WHEN koi_srad > 0 AND koi_slogg BETWEEN 0 AND 10 AND pow(10, koi_slogg - 4.438) * koi_srad * koi_srad BETWEEN 0.07 AND 20 THEN pow(10, koi_slogg - 4.438) * koi_srad * koi_srad END) AS DOUBLE) END AS "stellar_mass_derived"
  FROM "normalized"."koi"
),
"fill_koi_smass" AS (
  SELECT
    * REPLACE (coalesce("koi_smass", "stellar_mass_derived") AS "koi_smass"),
    CASE WHEN "koi_smass" IS NOT NULL THEN 'catalog' WHEN "stellar_mass_derived" IS NOT NULL THEN 'derived' ELSE 'missing' END AS "koi_smass_source"
  FROM "metric_stellar_mass_derived"
),
"metric_sma_derived" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN koi_smass > 0 AND koi_period > 0 THEN cbrt(koi_smass * pow(koi_period / 365.25, 2)) END) AS DOUBLE)) THEN CAST((CASE WHEN koi_smass > 0 AND koi_period > 0 THEN cbrt(koi_smass * pow(koi_period / 365.25, 2)) END) AS DOUBLE) END AS "sma_derived"
  FROM "fill_koi_smass"
),
"fill_koi_sma" AS (
  SELECT
    * REPLACE (coalesce("koi_sma", "sma_derived") AS "koi_sma"),
    CASE WHEN "koi_sma" IS NOT NULL THEN 'catalog' WHEN "sma_derived" IS NOT NULL THEN 'derived' ELSE 'missing' END AS "koi_sma_source"
  FROM "metric_sma_derived"
),
"metric_stellar_luminosity" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN koi_srad > 0 AND koi_steff > 0 THEN koi_srad * koi_srad * pow(koi_steff / 5772, 4) END) AS DOUBLE)) THEN CAST((CASE WHEN koi_srad > 0 AND koi_steff > 0 THEN koi_srad * koi_srad * pow(koi_steff / 5772, 4) END) AS DOUBLE) END AS "stellar_luminosity"
  FROM "fill_koi_sma"
),
"metric_insol_derived" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN koi_sma > 0 THEN stellar_luminosity / (koi_sma * koi_sma) END) AS DOUBLE)) THEN CAST((CASE WHEN koi_sma > 0 THEN stellar_luminosity / (koi_sma * koi_sma) END) AS DOUBLE) END AS "insol_derived"
  FROM "metric_stellar_luminosity"
),
"fill_koi_insol" AS (
  SELECT
    * REPLACE (coalesce("koi_insol", "insol_derived") AS "koi_insol"),
    CASE WHEN "koi_insol" IS NOT NULL THEN 'catalog' WHEN "insol_derived" IS NOT NULL THEN 'derived' ELSE 'missing' END AS "koi_insol_source"
  FROM "metric_insol_derived"
),
"metric_teq_derived" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN koi_insol > 0 AND 0.3 < 1 THEN 5772 * sqrt(0.00465047 / 2) * pow(koi_insol, 0.25) * pow(1 - 0.3, 0.25) END) AS DOUBLE)) THEN CAST((CASE WHEN koi_insol > 0 AND 0.3 < 1 THEN 5772 * sqrt(0.00465047 / 2) * pow(koi_insol, 0.25) * pow(1 - 0.3, 0.25) END) AS DOUBLE) END AS "teq_derived"
  FROM "fill_koi_insol"
),
"fill_koi_teq" AS (
  SELECT
    * REPLACE (coalesce("koi_teq", "teq_derived") AS "koi_teq"),
    CASE WHEN "koi_teq" IS NOT NULL THEN 'catalog' WHEN "teq_derived" IS NOT NULL THEN 'derived' ELSE 'missing' END AS "koi_teq_source"
  FROM "metric_teq_derived"
),
"metric_radius_ratio" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN koi_prad > 0 AND koi_srad > 0 THEN koi_prad / (109.076 * koi_srad) END) AS DOUBLE)) THEN CAST((CASE WHEN koi_prad > 0 AND koi_srad > 0 THEN koi_prad / (109.076 * koi_srad) END) AS DOUBLE) END AS "radius_ratio"
  FROM "fill_koi_teq"
),
"metric_depth_from_radii_ppm" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN radius_ratio >= 0 THEN 1e6 * pow(least(radius_ratio, 1), 2) END) AS DOUBLE)) THEN CAST((CASE WHEN radius_ratio >= 0 THEN 1e6 * pow(least(radius_ratio, 1), 2) END) AS DOUBLE) END AS "depth_from_radii_ppm"
  FROM "metric_radius_ratio"
),
"metric_impact_used" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((coalesce(koi_impact, 0.5)) AS DOUBLE)) THEN CAST((coalesce(koi_impact, 0.5)) AS DOUBLE) END AS "impact_used"
  FROM "metric_depth_from_radii_ppm"
),
"metric_expected_duration_hours" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN koi_period > 0 AND koi_sma > 0 AND koi_srad > 0 AND radius_ratio >= 0 AND (1 + radius_ratio) * (1 + radius_ratio) - impact_used * impact_used > 0 THEN koi_period / pi() * (koi_srad * 0.00465047 / koi_sma) * sqrt((1 + radius_ratio) * (1 + radius_ratio) - impact_used * impact_used) * 24 END) AS DOUBLE)) THEN CAST((CASE WHEN koi_period > 0 AND koi_sma > 0 AND koi_srad > 0 AND radius_ratio >= 0 AND (1 + radius_ratio) * (1 + radius_ratio) - impact_used * impact_used > 0 THEN koi_period / pi() * (koi_srad * 0.00465047 / koi_sma) * sqrt((1 + radius_ratio) * (1 + radius_ratio) - impact_used * impact_used) * 24 END) AS DOUBLE) END AS "expected_duration_hours"
  FROM "metric_impact_used"
),
"metric_max_duration_hours" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN koi_period > 0 AND koi_sma > 0 AND koi_srad > 0 AND radius_ratio >= 0 THEN koi_period / pi() * (koi_srad * 0.00465047 / koi_sma) * (1 + radius_ratio) * 24 END) AS DOUBLE)) THEN CAST((CASE WHEN koi_period > 0 AND koi_sma > 0 AND koi_srad > 0 AND radius_ratio >= 0 THEN koi_period / pi() * (koi_srad * 0.00465047 / koi_sma) * (1 + radius_ratio) * 24 END) AS DOUBLE) END AS "max_duration_hours"
  FROM "metric_expected_duration_hours"
),
"metric_duration_ratio" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN koi_duration > 0 AND expected_duration_hours > 0 THEN koi_duration / expected_duration_hours END) AS DOUBLE)) THEN CAST((CASE WHEN koi_duration > 0 AND expected_duration_hours > 0 THEN koi_duration / expected_duration_hours END) AS DOUBLE) END AS "duration_ratio"
  FROM "metric_max_duration_hours"
),
"metric_hz_teff_offset" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN koi_steff > 0 THEN koi_steff - 5780 END) AS DOUBLE)) THEN CAST((CASE WHEN koi_steff > 0 THEN koi_steff - 5780 END) AS DOUBLE) END AS "hz_teff_offset"
  FROM "metric_duration_ratio"
),
"metric_hz_seff_recent_venus" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((nullif(greatest(0, 1.776 + 2.136e-4 * hz_teff_offset + 2.533e-8 * pow(hz_teff_offset, 2) - 1.332e-11 * pow(hz_teff_offset, 3) - 3.097e-15 * pow(hz_teff_offset, 4)), 0)) AS DOUBLE)) THEN CAST((nullif(greatest(0, 1.776 + 2.136e-4 * hz_teff_offset + 2.533e-8 * pow(hz_teff_offset, 2) - 1.332e-11 * pow(hz_teff_offset, 3) - 3.097e-15 * pow(hz_teff_offset, 4)), 0)) AS DOUBLE) END AS "hz_seff_recent_venus"
  FROM "metric_hz_teff_offset"
),
"metric_hz_seff_runaway_greenhouse" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((nullif(greatest(0, 1.107 + 1.332e-4 * hz_teff_offset + 1.580e-8 * pow(hz_teff_offset, 2) - 8.308e-12 * pow(hz_teff_offset, 3) - 1.931e-15 * pow(hz_teff_offset, 4)), 0)) AS DOUBLE)) THEN CAST((nullif(greatest(0, 1.107 + 1.332e-4 * hz_teff_offset + 1.580e-8 * pow(hz_teff_offset, 2) - 8.308e-12 * pow(hz_teff_offset, 3) - 1.931e-15 * pow(hz_teff_offset, 4)), 0)) AS DOUBLE) END AS "hz_seff_runaway_greenhouse"
  FROM "metric_hz_seff_recent_venus"
),
"metric_hz_seff_maximum_greenhouse" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((nullif(greatest(0, 0.356 + 6.171e-5 * hz_teff_offset + 1.698e-9 * pow(hz_teff_offset, 2) - 3.198e-12 * pow(hz_teff_offset, 3) - 5.575e-16 * pow(hz_teff_offset, 4)), 0)) AS DOUBLE)) THEN CAST((nullif(greatest(0, 0.356 + 6.171e-5 * hz_teff_offset + 1.698e-9 * pow(hz_teff_offset, 2) - 3.198e-12 * pow(hz_teff_offset, 3) - 5.575e-16 * pow(hz_teff_offset, 4)), 0)) AS DOUBLE) END AS "hz_seff_maximum_greenhouse"
  FROM "metric_hz_seff_runaway_greenhouse"
),
"metric_hz_seff_early_mars" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((nullif(greatest(0, 0.320 + 5.547e-5 * hz_teff_offset + 1.526e-9 * pow(hz_teff_offset, 2) - 2.874e-12 * pow(hz_teff_offset, 3) - 5.011e-16 * pow(hz_teff_offset, 4)), 0)) AS DOUBLE)) THEN CAST((nullif(greatest(0, 0.320 + 5.547e-5 * hz_teff_offset + 1.526e-9 * pow(hz_teff_offset, 2) - 2.874e-12 * pow(hz_teff_offset, 3) - 5.011e-16 * pow(hz_teff_offset, 4)), 0)) AS DOUBLE) END AS "hz_seff_early_mars"
  FROM "metric_hz_seff_maximum_greenhouse"
),
"metric_hz_inner_optimistic_au" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN stellar_luminosity > 0 AND hz_seff_recent_venus > 0 THEN sqrt(stellar_luminosity / hz_seff_recent_venus) END) AS DOUBLE)) THEN CAST((CASE WHEN stellar_luminosity > 0 AND hz_seff_recent_venus > 0 THEN sqrt(stellar_luminosity / hz_seff_recent_venus) END) AS DOUBLE) END AS "hz_inner_optimistic_au"
  FROM "metric_hz_seff_early_mars"
),
"metric_hz_inner_conservative_au" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN stellar_luminosity > 0 AND hz_seff_runaway_greenhouse > 0 THEN sqrt(stellar_luminosity / hz_seff_runaway_greenhouse) END) AS DOUBLE)) THEN CAST((CASE WHEN stellar_luminosity > 0 AND hz_seff_runaway_greenhouse > 0 THEN sqrt(stellar_luminosity / hz_seff_runaway_greenhouse) END) AS DOUBLE) END AS "hz_inner_conservative_au"
  FROM "metric_hz_inner_optimistic_au"
),
"metric_hz_outer_conservative_au" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN stellar_luminosity > 0 AND hz_seff_maximum_greenhouse > 0 THEN sqrt(stellar_luminosity / hz_seff_maximum_greenhouse) END) AS DOUBLE)) THEN CAST((CASE WHEN stellar_luminosity > 0 AND hz_seff_maximum_greenhouse > 0 THEN sqrt(stellar_luminosity / hz_seff_maximum_greenhouse) END) AS DOUBLE) END AS "hz_outer_conservative_au"
  FROM "metric_hz_inner_conservative_au"
),
"metric_hz_outer_optimistic_au" AS (
  SELECT
    *,
    CASE WHEN isfinite(CAST((CASE WHEN stellar_luminosity > 0 AND hz_seff_early_mars > 0 THEN sqrt(stellar_luminosity / hz_seff_early_mars) END) AS DOUBLE)) THEN CAST((CASE WHEN stellar_luminosity > 0 AND hz_seff_early_mars > 0 THEN sqrt(stellar_luminosity / hz_seff_early_mars) END) AS DOUBLE) END AS "hz_outer_optimistic_au"
  FROM "metric_hz_outer_conservative_au"
)
SELECT
  *,
  CASE WHEN isfinite(CAST((CASE WHEN koi_insol > 0 AND hz_seff_early_mars > 0 AND hz_seff_recent_venus > hz_seff_early_mars THEN (1 / sqrt(koi_insol) - 1 / sqrt(hz_seff_recent_venus)) / (1 / sqrt(hz_seff_early_mars) - 1 / sqrt(hz_seff_recent_venus)) END) AS DOUBLE)) THEN CAST((CASE WHEN koi_insol > 0 AND hz_seff_early_mars > 0 AND hz_seff_recent_venus > hz_seff_early_mars THEN (1 / sqrt(koi_insol) - 1 / sqrt(hz_seff_recent_venus)) / (1 / sqrt(hz_seff_early_mars) - 1 / sqrt(hz_seff_recent_venus)) END) AS DOUBLE) END AS "hz_position"
FROM "metric_hz_outer_optimistic_au";

CREATE OR REPLACE VIEW "classified"."koi" AS
WITH "flagged" AS (
  SELECT
    *,
    coalesce((koi_prad IS NULL), false) AS "FLAG_MISSING_PRAD",
    coalesce((koi_period IS NULL), false) AS "FLAG_MISSING_PERIOD",
    coalesce((koi_steff IS NULL OR koi_srad IS NULL OR (koi_sma IS NULL AND koi_smass IS NULL)), false) AS "FLAG_MISSING_STELLAR",
    coalesce((koi_depth IS NULL), false) AS "FLAG_MISSING_DEPTH",
    coalesce((koi_prad <= 0), false) AS "FLAG_INVALID_PRAD",
    coalesce((koi_period <= 0), false) AS "FLAG_INVALID_PERIOD",
    coalesce((koi_srad <= 0 OR koi_steff <= 0 OR koi_smass <= 0), false) AS "FLAG_INVALID_STELLAR",
    coalesce((koi_depth <= 0 OR koi_duration <= 0 OR koi_insol < 0 OR koi_teq <= 0), false) AS "FLAG_INVALID_VALUE",
    coalesce((koi_period > 10000000000 OR koi_steff > 60000 OR koi_srad > 3000), false) AS "FLAG_IMPLAUSIBLE_VALUE",
    coalesce((koi_period_lim <> 0 OR koi_duration_lim <> 0 OR koi_depth_lim <> 0 OR koi_impact_lim <> 0 OR koi_prad_lim <> 0 OR koi_sma_lim <> 0 OR koi_teq_lim <> 0 OR koi_insol_lim <> 0 OR koi_steff_lim <> 0 OR koi_slogg_lim <> 0 OR koi_srad_lim <> 0 OR koi_smass_lim <> 0), false) AS "FLAG_LIMIT_VALUE",
    coalesce((controversial), false) AS "FLAG_CONTROVERSIAL",
    coalesce((koi_teq_source = 'derived'), false) AS "FLAG_ASSUMED_ALBEDO",
    coalesce((koi_impact IS NULL AND expected_duration_hours IS NOT NULL), false) AS "FLAG_ASSUMED_IMPACT",
    coalesce((koi_smass_source = 'derived'), false) AS "FLAG_DERIVED_SMASS",
    coalesce((koi_smass IS NULL AND koi_srad > 0 AND koi_slogg BETWEEN 0 AND 10), false) AS "FLAG_DERIVED_SMASS_IMPLAUSIBLE",
    coalesce((koi_insol_source = 'derived'), false) AS "FLAG_DERIVED_INSOL",
    coalesce((koi_prad > 30), false) AS "FLAG_RADIUS_TOO_LARGE",
    coalesce((CASE WHEN koi_srad > 0 THEN koi_depth > 1e6 * pow(30 / (109.076 * koi_srad), 2) ELSE koi_depth > 5 * 10000 END), false) AS "FLAG_DEPTH_TOO_DEEP",
    coalesce(((koi_impact IS NOT NULL AND duration_ratio < 0.5) OR koi_duration > 1.8 * max_duration_hours), false) AS "FLAG_DURATION_INCONSISTENT",
    coalesce((koi_impact > 1 + radius_ratio), false) AS "FLAG_NO_TRANSIT_GEOMETRY",
    coalesce(((koi_impact IS NOT NULL AND duration_ratio < 0.33) OR koi_duration > 3 * max_duration_hours), false) AS "FLAG_DURATION_EXTREME",
    coalesce((koi_teq > 0 AND koi_teq < 80 AND koi_depth > 1 * 10000), false) AS "FLAG_COLD_DEEP_TRANSIT",
    coalesce((koi_depth > 0 AND depth_from_radii_ppm > 0 AND greatest(koi_depth / depth_from_radii_ppm, depth_from_radii_ppm / koi_depth) > 3), false) AS "FLAG_DEPTH_RADII_MISMATCH",
    coalesce((koi_insol_source = 'catalog' AND koi_insol > 0 AND insol_derived > 0 AND greatest(koi_insol / insol_derived, insol_derived / koi_insol) > 2), false) AS "FLAG_INSOL_MISMATCH",
    coalesce((detected_mission <> 'generic' AND ((koi_steff = 5780 AND koi_steff_err1 IS NULL) OR (koi_slogg = 4.438 AND koi_slogg_err1 IS NULL AND koi_srad IS DISTINCT FROM 1))), false) AS "FLAG_STELLAR_PLACEHOLDER",
    coalesce((koi_insol <= hz_seff_runaway_greenhouse AND koi_insol >= hz_seff_maximum_greenhouse), false) AS "FLAG_HZ_CONSERVATIVE",
    coalesce((koi_steff < 2600 OR koi_steff > 7200), false) AS "FLAG_HZ_TEFF_OUT_OF_RANGE"
  FROM "metrics"."koi"
),
"tagged" AS (
  SELECT
    *,
    coalesce((FLAG_INVALID_PRAD OR FLAG_INVALID_PERIOD OR (FLAG_MISSING_PRAD AND FLAG_MISSING_PERIOD)), false) AS "no_result",
    coalesce(("koi_disposition" = 'FALSE POSITIVE'), false) AS "likely_false_positive",
    coalesce((FLAG_RADIUS_TOO_LARGE OR FLAG_DEPTH_TOO_DEEP OR FLAG_DURATION_EXTREME OR FLAG_COLD_DEEP_TRANSIT OR FLAG_IMPLAUSIBLE_VALUE), false) AS "anomalous_signal",
    coalesce(("koi_disposition" = 'CONFIRMED'), false) AS "confirmed_planet",
    coalesce((koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND hz_position BETWEEN 0 AND 1 AND koi_prad > 0 AND koi_prad <= 2.5), false) AS "habitable_zone_candidate",
    coalesce((koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND koi_prad >= 8 AND koi_prad <= 30 AND (koi_period <= 10 OR (teq_derived >= 1000 AND (NOT FLAG_INSOL_MISMATCH OR teq_derived * pow(insol_derived / koi_insol, 0.25) >= 1000)))), false) AS "hot_jupiter_candidate",
    coalesce((koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND koi_prad > 0 AND koi_prad < 2), false) AS "rocky_candidate",
    coalesce((koi_disposition IS DISTINCT FROM 'FALSE POSITIVE' AND koi_prad >= 2 AND koi_prad < 6), false) AS "super_earth_or_mini_neptune",
    coalesce((koi_disposition IS NULL OR koi_disposition = 'CANDIDATE'), false) AS "candidate"
  FROM "flagged"
),
"scored" AS (
  SELECT
    * EXCLUDE ("FLAG_MISSING_PRAD", "FLAG_MISSING_PERIOD", "FLAG_MISSING_STELLAR", "FLAG_MISSING_DEPTH", "FLAG_INVALID_PRAD", "FLAG_INVALID_PERIOD", "FLAG_INVALID_STELLAR", "FLAG_INVALID_VALUE", "FLAG_IMPLAUSIBLE_VALUE", "FLAG_LIMIT_VALUE", "FLAG_CONTROVERSIAL", "FLAG_ASSUMED_ALBEDO", "FLAG_ASSUMED_IMPACT", "FLAG_DERIVED_SMASS", "FLAG_DERIVED_SMASS_IMPLAUSIBLE", "FLAG_DERIVED_INSOL", "FLAG_RADIUS_TOO_LARGE", "FLAG_DEPTH_TOO_DEEP", "FLAG_DURATION_INCONSISTENT", "FLAG_NO_TRANSIT_GEOMETRY", "FLAG_DURATION_EXTREME", "FLAG_COLD_DEEP_TRANSIT", "FLAG_DEPTH_RADII_MISMATCH", "FLAG_INSOL_MISMATCH", "FLAG_STELLAR_PLACEHOLDER", "FLAG_HZ_CONSERVATIVE", "FLAG_HZ_TEFF_OUT_OF_RANGE", "no_result", "likely_false_positive", "anomalous_signal", "confirmed_planet", "habitable_zone_candidate", "hot_jupiter_candidate", "rocky_candidate", "super_earth_or_mini_neptune", "candidate"),
    list_filter([
      CASE WHEN "FLAG_MISSING_PRAD" THEN 'FLAG_MISSING_PRAD' END,
      CASE WHEN "FLAG_MISSING_PERIOD" THEN 'FLAG_MISSING_PERIOD' END,
      CASE WHEN "FLAG_MISSING_STELLAR" THEN 'FLAG_MISSING_STELLAR' END,
      CASE WHEN "FLAG_MISSING_DEPTH" THEN 'FLAG_MISSING_DEPTH' END,
      CASE WHEN "FLAG_INVALID_PRAD" THEN 'FLAG_INVALID_PRAD' END,
      CASE WHEN "FLAG_INVALID_PERIOD" THEN 'FLAG_INVALID_PERIOD' END,
      CASE WHEN "FLAG_INVALID_STELLAR" THEN 'FLAG_INVALID_STELLAR' END,
      CASE WHEN "FLAG_INVALID_VALUE" THEN 'FLAG_INVALID_VALUE' END,
      CASE WHEN "FLAG_IMPLAUSIBLE_VALUE" THEN 'FLAG_IMPLAUSIBLE_VALUE' END,
      CASE WHEN "FLAG_LIMIT_VALUE" THEN 'FLAG_LIMIT_VALUE' END,
      CASE WHEN "FLAG_CONTROVERSIAL" THEN 'FLAG_CONTROVERSIAL' END,
      CASE WHEN "FLAG_ASSUMED_ALBEDO" THEN 'FLAG_ASSUMED_ALBEDO' END,
      CASE WHEN "FLAG_ASSUMED_IMPACT" THEN 'FLAG_ASSUMED_IMPACT' END,
      CASE WHEN "FLAG_DERIVED_SMASS" THEN 'FLAG_DERIVED_SMASS' END,
      CASE WHEN "FLAG_DERIVED_SMASS_IMPLAUSIBLE" THEN 'FLAG_DERIVED_SMASS_IMPLAUSIBLE' END,
      CASE WHEN "FLAG_DERIVED_INSOL" THEN 'FLAG_DERIVED_INSOL' END,
      CASE WHEN "FLAG_RADIUS_TOO_LARGE" THEN 'FLAG_RADIUS_TOO_LARGE' END,
      CASE WHEN "FLAG_DEPTH_TOO_DEEP" THEN 'FLAG_DEPTH_TOO_DEEP' END,
      CASE WHEN "FLAG_DURATION_INCONSISTENT" THEN 'FLAG_DURATION_INCONSISTENT' END,
      CASE WHEN "FLAG_NO_TRANSIT_GEOMETRY" THEN 'FLAG_NO_TRANSIT_GEOMETRY' END,
      CASE WHEN "FLAG_DURATION_EXTREME" THEN 'FLAG_DURATION_EXTREME' END,
      CASE WHEN "FLAG_COLD_DEEP_TRANSIT" THEN 'FLAG_COLD_DEEP_TRANSIT' END,
      CASE WHEN "FLAG_DEPTH_RADII_MISMATCH" THEN 'FLAG_DEPTH_RADII_MISMATCH' END,
      CASE WHEN "FLAG_INSOL_MISMATCH" THEN 'FLAG_INSOL_MISMATCH' END,
      CASE WHEN "FLAG_STELLAR_PLACEHOLDER" THEN 'FLAG_STELLAR_PLACEHOLDER' END,
      CASE WHEN "FLAG_HZ_CONSERVATIVE" THEN 'FLAG_HZ_CONSERVATIVE' END,
      CASE WHEN "FLAG_HZ_TEFF_OUT_OF_RANGE" THEN 'FLAG_HZ_TEFF_OUT_OF_RANGE' END
    ], lambda f: f IS NOT NULL) AS "flags",
    list_filter([
      CASE WHEN "no_result" THEN 'no_result' END,
      CASE WHEN "likely_false_positive" THEN 'likely_false_positive' END,
      CASE WHEN "anomalous_signal" THEN 'anomalous_signal' END,
      CASE WHEN "confirmed_planet" THEN 'confirmed_planet' END,
      CASE WHEN "habitable_zone_candidate" THEN 'habitable_zone_candidate' END,
      CASE WHEN "hot_jupiter_candidate" THEN 'hot_jupiter_candidate' END,
      CASE WHEN "rocky_candidate" THEN 'rocky_candidate' END,
      CASE WHEN "super_earth_or_mini_neptune" THEN 'super_earth_or_mini_neptune' END,
      CASE WHEN "candidate" THEN 'candidate' END
    ], lambda t: t IS NOT NULL) AS "tags",
    CASE
      WHEN "no_result" THEN 'no_result'
      WHEN "likely_false_positive" THEN 'likely_false_positive'
      WHEN "anomalous_signal" THEN 'anomalous_signal'
      WHEN "confirmed_planet" THEN 'confirmed_planet'
      WHEN "habitable_zone_candidate" THEN 'habitable_zone_candidate'
      WHEN "hot_jupiter_candidate" THEN 'hot_jupiter_candidate'
      WHEN "rocky_candidate" THEN 'rocky_candidate'
      WHEN "super_earth_or_mini_neptune" THEN 'super_earth_or_mini_neptune'
      WHEN "candidate" THEN 'candidate'
      ELSE 'candidate'
    END AS "category",
    CASE WHEN isfinite(CAST((CASE WHEN koi_disposition = 'CONFIRMED' THEN 0.95 WHEN koi_disposition = 'FALSE POSITIVE' THEN 0.05 WHEN no_result THEN 0.5 WHEN koi_disposition = 'CANDIDATE' THEN 0.6 ELSE 0.5 END - CASE WHEN anomalous_signal THEN 0.3 ELSE 0 END - CASE WHEN FLAG_DEPTH_RADII_MISMATCH THEN 0.1 ELSE 0 END) AS DOUBLE)) THEN greatest(0.0, least(1.0, CAST((CASE WHEN koi_disposition = 'CONFIRMED' THEN 0.95 WHEN koi_disposition = 'FALSE POSITIVE' THEN 0.05 WHEN no_result THEN 0.5 WHEN koi_disposition = 'CANDIDATE' THEN 0.6 ELSE 0.5 END - CASE WHEN anomalous_signal THEN 0.3 ELSE 0 END - CASE WHEN FLAG_DEPTH_RADII_MISMATCH THEN 0.1 ELSE 0 END) AS DOUBLE))) ELSE 0.5 END AS "score"
  FROM "tagged"
)
SELECT
  *,
  CASE
    WHEN "koi_disposition" IS NULL THEN 'missing'
    WHEN "koi_disposition" = 'CONFIRMED' AND "category" IN ('confirmed_planet') THEN 'match'
    WHEN "koi_disposition" = 'CANDIDATE' AND "category" IN ('habitable_zone_candidate', 'hot_jupiter_candidate', 'rocky_candidate', 'super_earth_or_mini_neptune', 'candidate') THEN 'match'
    WHEN "koi_disposition" = 'FALSE POSITIVE' AND "category" IN ('likely_false_positive') THEN 'match'
    ELSE 'mismatch'
  END AS "disposition_compare"
FROM "scored";
