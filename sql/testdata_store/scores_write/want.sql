CREATE TEMP TABLE "scores_staged" AS
SELECT
  CAST('koi-run' AS VARCHAR) AS run_id,
  r.row_id,
  r.object_id,
  CASE WHEN v.row_id IS NULL THEN old."model" ELSE (old."model") END AS "model",
  CASE WHEN v.row_id IS NULL THEN old."p_model" ELSE (old."p_model") END AS "p_model",
  CASE WHEN v.row_id IS NULL THEN old."anomaly_score_iforest" ELSE (v."c0") END AS "anomaly_score_iforest",
  CASE WHEN v.row_id IS NULL THEN old."anomaly_score_lof" ELSE (old."anomaly_score_lof") END AS "anomaly_score_lof",
  CASE WHEN v.row_id IS NULL THEN old."anomaly_score" ELSE (v."c1") END AS "anomaly_score",
  CASE WHEN v.row_id IS NULL THEN old."anomaly_features" ELSE 'v1' END AS "anomaly_features",
  CASE WHEN v.row_id IS NULL THEN coalesce(old.created_at, CAST('2025-11-26 12:00:00' AS TIMESTAMP)) ELSE CAST('2025-11-26 12:00:00' AS TIMESTAMP) END AS created_at
FROM read_parquet('/data/runs/koi-run.parquet') AS r
LEFT JOIN (SELECT * FROM "meta"."scores" WHERE run_id = 'koi-run') AS old ON old.row_id = r.row_id
LEFT JOIN read_csv('/data/tmp/.scores-1.csv', header = true, columns = {'row_id': 'BIGINT', 'c0': 'DOUBLE', 'c1': 'DOUBLE'}) AS v ON v.row_id = r.row_id;

DELETE FROM "meta"."scores" WHERE run_id = 'koi-run';
INSERT INTO "meta"."scores" BY NAME SELECT * FROM "scores_staged";
DROP TABLE "scores_staged";
