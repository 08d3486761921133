SELECT
  count(*) FILTER (WHERE nullif(trim("koi_prad"), '') IS NOT NULL AND lower(trim("koi_prad")) NOT IN ('na', 'n/a', 'nan', 'null', 'none', '-', '--', '?') AND NOT coalesce(isfinite(TRY_CAST("koi_prad" AS DOUBLE)), false)),
  min("koi_prad") FILTER (WHERE nullif(trim("koi_prad"), '') IS NOT NULL AND lower(trim("koi_prad")) NOT IN ('na', 'n/a', 'nan', 'null', 'none', '-', '--', '?') AND NOT coalesce(isfinite(TRY_CAST("koi_prad" AS DOUBLE)), false)),
  count(*) FILTER (WHERE nullif(trim("koi_teq"), '') IS NOT NULL AND lower(trim("koi_teq")) NOT IN ('na', 'n/a', 'nan', 'null', 'none', '-', '--', '?') AND NOT coalesce(isfinite(TRY_CAST("koi_teq" AS DOUBLE)), false)),
  min("koi_teq") FILTER (WHERE nullif(trim("koi_teq"), '') IS NOT NULL AND lower(trim("koi_teq")) NOT IN ('na', 'n/a', 'nan', 'null', 'none', '-', '--', '?') AND NOT coalesce(isfinite(TRY_CAST("koi_teq" AS DOUBLE)), false))
FROM "raw"."koi";
