WITH run AS (
  SELECT
    r.object_id,
    r.category,
    r.flags,
    r.score,
    r.koi_disposition,
    NULL::DOUBLE AS run_p_model,
    CAST(r.anomaly_score AS DOUBLE) AS run_anomaly_score
  FROM read_parquet('/data/runs/koi-run.parquet') AS r
  WHERE r.object_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY r.object_id ORDER BY r.is_default DESC NULLS LAST, r.row_id) = 1
),
model AS (
  SELECT
    s.object_id,
    CAST(s.p_model AS DOUBLE) AS p_model,
    NULL::DOUBLE AS anomaly_score
  FROM "meta"."scores" AS s
  WHERE s.run_id = 'koi-run'
  QUALIFY row_number() OVER (PARTITION BY s.object_id ORDER BY s.created_at DESC NULLS LAST) = 1
),
nasa AS (
  SELECT object_id, label
  FROM "labels"."current"
  WHERE dataset = 'koi' AND source = 'nasa'
),
human AS (
  SELECT DISTINCT object_id
  FROM "labels"."history"
  WHERE dataset = 'koi' AND source = 'human' AND review_status <> 'rejected'
),
claim AS (
  SELECT object_id, arg_max(annotator, id) AS annotator, arg_max(expires_at, id) AS expires_at
  FROM "labels"."claims"
  WHERE dataset = 'koi'
  GROUP BY object_id
),
interesting(flag, weight) AS (
  VALUES
    ('FLAG_COLD_DEEP_TRANSIT', CAST(0.5 AS DOUBLE)),
    ('FLAG_DEPTH_RADII_MISMATCH', CAST(0.5 AS DOUBLE)),
    ('FLAG_DEPTH_TOO_DEEP', CAST(0.5 AS DOUBLE)),
    ('FLAG_DURATION_INCONSISTENT', CAST(0.5 AS DOUBLE)),
    ('FLAG_HZ_CONSERVATIVE', CAST(0.5 AS DOUBLE)),
    ('FLAG_RADIUS_TOO_LARGE', CAST(0.5 AS DOUBLE))
),
flagged AS (
  SELECT f.object_id, list(f.flag ORDER BY f.flag) AS flags, sum(i.weight) AS flag_weight
  FROM (SELECT object_id, unnest(flags) AS flag FROM run) AS f
  JOIN interesting AS i ON i.flag = f.flag
  GROUP BY f.object_id
),
weighted AS (
  SELECT
    run.object_id,
    run.category,
    CAST(CASE run.category
      WHEN 'no_result' THEN -2
      WHEN 'likely_false_positive' THEN -1
      WHEN 'anomalous_signal' THEN 5
      WHEN 'habitable_zone_candidate' THEN 2.5
      WHEN 'hot_jupiter_candidate' THEN 1.5
      WHEN 'rocky_candidate' THEN 2
      WHEN 'candidate' THEN 3
      ELSE 0
    END AS DOUBLE) AS category_weight,
    coalesce(flagged.flag_weight, 0) AS flag_weight,
    coalesce(flagged.flags, []::VARCHAR[]) AS flags,
    coalesce(model.p_model, run.run_p_model) AS p_model,
    coalesce(model.anomaly_score, run.run_anomaly_score) AS anomaly_score,
    2 * (1 - 2 * abs(least(greatest(coalesce(model.p_model, run.run_p_model, run.score, 0.5), 0), 1) - 0.5)) AS uncertainty,
    coalesce(1 * least(greatest(coalesce(model.anomaly_score, run.run_anomaly_score), 0), 1), 0) AS anomaly,
    CASE run.category
      WHEN 'anomalous_signal' THEN 0
      WHEN 'candidate' THEN 1
      WHEN 'habitable_zone_candidate' THEN 2
      WHEN 'rocky_candidate' THEN 3
      ELSE 4
    END AS tie_rank
  FROM run
  LEFT JOIN flagged ON flagged.object_id = run.object_id
  LEFT JOIN model ON model.object_id = run.object_id
  LEFT JOIN nasa ON nasa.object_id = run.object_id
  LEFT JOIN claim ON claim.object_id = run.object_id
  WHERE run.object_id NOT IN (SELECT object_id FROM human)
    AND coalesce(run.koi_disposition, '') NOT IN ('CONFIRMED', 'FALSE POSITIVE')
    AND coalesce(nasa.label, '') NOT IN ('CONFIRMED', 'FALSE POSITIVE')
    AND NOT coalesce(claim.expires_at > CAST('2025-11-26 12:00:00' AS TIMESTAMP), false)
)
SELECT
  object_id,
  category,
  category_weight + flag_weight + uncertainty + anomaly AS priority,
  category_weight,
  flag_weight,
  uncertainty,
  anomaly,
  flags,
  p_model,
  anomaly_score
FROM weighted
ORDER BY hash(object_id || 's1'), object_id
LIMIT 50;
