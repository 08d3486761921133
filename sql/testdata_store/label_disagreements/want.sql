WITH cur AS (
  SELECT dataset, object_id, source, label, label_class
  FROM "labels"."current"
  WHERE source IN ('human', 'nasa', 'heuristic') AND review_status <> 'rejected'
),
wide AS (
  SELECT
    dataset,
    object_id,
    max(label) FILTER (WHERE source = 'human') AS human,
    max(label) FILTER (WHERE source = 'nasa') AS nasa,
    max(label) FILTER (WHERE source = 'heuristic') AS heuristic,
    count(DISTINCT label_class) AS classes
  FROM cur
  GROUP BY dataset, object_id
)
SELECT dataset, object_id, human, nasa, heuristic, count(*) OVER () AS total
FROM wide
WHERE classes > 1
ORDER BY human IS NULL, dataset, object_id
LIMIT 100;
