INSERT INTO "labels"."labels" (object_id, dataset, run_id, label, source, annotator, note, created_at)
SELECT
  n.object_id,
  'koi',
  NULL,
  n.koi_disposition,
  'nasa',
  'importer',
  'it''s a note',
  CAST('2025-11-26 12:00:00' AS TIMESTAMP)
FROM (
  SELECT object_id, koi_disposition
  FROM "normalized"."koi"
  WHERE object_id IS NOT NULL AND koi_disposition IN ('CONFIRMED', 'CANDIDATE', 'FALSE POSITIVE')
  QUALIFY row_number() OVER (PARTITION BY object_id ORDER BY is_default DESC NULLS LAST, row_id) = 1
) AS n
LEFT JOIN (
  SELECT object_id, label
  FROM "labels"."current"
  WHERE dataset = 'koi' AND source = 'nasa'
) AS c ON c.object_id = n.object_id
WHERE c.label IS DISTINCT FROM n.koi_disposition;
