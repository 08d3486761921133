COPY (
WITH src AS (
  SELECT
    row_id,
    star_id,
    (CAST("koi_period" AS DOUBLE)) AS "koi_period",
    (CAST("koi_time0bk" AS DOUBLE)) AS "koi_time0bk",
    (CAST("koi_duration" AS DOUBLE)) AS "koi_duration",
    (CAST("koi_depth" AS DOUBLE)) AS "koi_depth",
    (CAST("ra" AS DOUBLE)) AS "ra",
    (CAST("dec" AS DOUBLE)) AS "dec",
    (NULL::DOUBLE) AS "koi_tce_plnt_num",
    (NULL::DOUBLE) AS "koi_period_err1",
    (NULL::DOUBLE) AS "koi_time0bk_err1",
    (NULL::DOUBLE) AS "koi_impact_err1",
    (NULL::DOUBLE) AS "koi_impact_err2",
    (NULL::DOUBLE) AS "koi_duration_err1",
    (NULL::DOUBLE) AS "koi_depth_err1",
    (NULL::DOUBLE) AS "koi_prad_err1",
    (NULL::DOUBLE) AS "koi_prad_err2",
    (NULL::DOUBLE) AS "koi_insol_err1",
    (NULL::DOUBLE) AS "koi_insol_err2",
    (NULL::DOUBLE) AS "koi_steff_err1",
    (NULL::DOUBLE) AS "koi_steff_err2",
    (NULL::DOUBLE) AS "koi_slogg_err1",
    (NULL::DOUBLE) AS "koi_slogg_err2",
    (NULL::DOUBLE) AS "koi_srad_err1",
    (NULL::DOUBLE) AS "koi_srad_err2"
  FROM read_parquet('/data/runs/koi-run.parquet')
  WHERE coalesce(is_default, true)
),
matches AS (
  SELECT
    NULL::BIGINT AS row_id,
    NULL::DOUBLE AS ephem_match_score,
    NULL::DOUBLE AS ephem_match_score_harmonic,
    NULL::DOUBLE AS ephem_match_depth_ratio,
    NULL::DOUBLE AS ephem_match_sep_arcsec,
    NULL::BIGINT AS ephem_matches
  WHERE false
),
ctx AS (
  SELECT
    src.row_id,
    CAST(matches.ephem_match_score AS DOUBLE) AS ephem_match_score,
    CAST(matches.ephem_match_score_harmonic AS DOUBLE) AS ephem_match_score_harmonic,
    CAST(matches.ephem_match_depth_ratio AS DOUBLE) AS ephem_match_depth_ratio,
    CAST(matches.ephem_match_sep_arcsec AS DOUBLE) AS ephem_match_sep_arcsec,
    CAST(matches.ephem_matches AS DOUBLE) AS ephem_matches,
    coalesce(src.koi_tce_plnt_num - CASE WHEN src.star_id IS NULL THEN 1 ELSE count(*) OVER (PARTITION BY src.star_id) END, 0) AS tce_excess,
    src."koi_period_err1",
    src."koi_time0bk_err1",
    src."koi_impact_err1",
    src."koi_impact_err2",
    src."koi_duration_err1",
    src."koi_depth_err1",
    src."koi_prad_err1",
    src."koi_prad_err2",
    src."koi_insol_err1",
    src."koi_insol_err2",
    src."koi_steff_err1",
    src."koi_steff_err2",
    src."koi_slogg_err1",
    src."koi_slogg_err2",
    src."koi_srad_err1",
    src."koi_srad_err2"
  FROM src
  LEFT JOIN matches ON matches.row_id = src.row_id
),
m AS (
  SELECT
    f.row_id,
    f.object_id,
    f.star_id,
    NULL::VARCHAR AS label,
    NULL::VARCHAR AS label_source,
    (CAST(f."koi_period" AS DOUBLE)) AS "koi_period",
    (CAST(f."duration_ratio" AS DOUBLE)) AS "duration_ratio",
    (ctx."ephem_match_score") AS "ephem_match_score",
    (ctx."ephem_match_score_harmonic") AS "ephem_match_score_harmonic",
    (ctx."ephem_match_depth_ratio") AS "ephem_match_depth_ratio",
    (ctx."ephem_match_sep_arcsec") AS "ephem_match_sep_arcsec",
    (ctx."ephem_matches") AS "ephem_matches",
    (ctx."tce_excess") AS "tce_excess",
    (ctx."koi_period_err1") AS "koi_period_err1",
    (ctx."koi_time0bk_err1") AS "koi_time0bk_err1",
    (ctx."koi_impact_err1") AS "koi_impact_err1",
    (ctx."koi_impact_err2") AS "koi_impact_err2",
    (ctx."koi_duration_err1") AS "koi_duration_err1",
    (ctx."koi_depth_err1") AS "koi_depth_err1",
    (ctx."koi_prad_err1") AS "koi_prad_err1",
    (ctx."koi_prad_err2") AS "koi_prad_err2",
    (ctx."koi_insol_err1") AS "koi_insol_err1",
    (ctx."koi_insol_err2") AS "koi_insol_err2",
    (ctx."koi_steff_err1") AS "koi_steff_err1",
    (ctx."koi_steff_err2") AS "koi_steff_err2",
    (ctx."koi_slogg_err1") AS "koi_slogg_err1",
    (ctx."koi_slogg_err2") AS "koi_slogg_err2",
    (ctx."koi_srad_err1") AS "koi_srad_err1",
    (ctx."koi_srad_err2") AS "koi_srad_err2"
  FROM read_parquet('/fs/v1/features.parquet') AS f
  LEFT JOIN ctx ON ctx.row_id = f.row_id
)
SELECT *
FROM m
) TO '/data/tmp/.matrix-1.parquet' (FORMAT parquet, COMPRESSION zstd);
