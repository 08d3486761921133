INSERT INTO "labels"."labels" (object_id, dataset, run_id, label, source, annotator, note, created_at)
SELECT
  r.object_id,
  'koi',
  'koi-run',
  r.category,
  'heuristic',
  'importer',
  'it''s a note',
  CAST('2025-11-26 12:00:00' AS TIMESTAMP)
FROM (
  SELECT object_id, category
  FROM read_parquet('/data/runs/koi-run.parquet')
  WHERE object_id IS NOT NULL AND category IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY object_id ORDER BY is_default DESC NULLS LAST, row_id) = 1
) AS r
WHERE NOT EXISTS (
  SELECT 1
  FROM "labels"."labels" AS l
  WHERE l.dataset = 'koi' AND l.source = 'heuristic' AND l.run_id = 'koi-run' AND l.object_id = r.object_id
);
