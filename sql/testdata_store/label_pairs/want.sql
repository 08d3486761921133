WITH cur AS (
  SELECT dataset, object_id, source, label
  FROM "labels"."current"
  WHERE source IN ('human', 'nasa', 'heuristic', 'model') AND review_status <> 'rejected'
    AND dataset = 'koi'
)
SELECT 'human' AS a_source, 'nasa' AS b_source, a.label AS a_label, b.label AS b_label, count(*) AS n
FROM cur AS a
JOIN cur AS b ON b.dataset = a.dataset AND b.object_id = a.object_id
WHERE a.source = 'human' AND b.source = 'nasa'
GROUP BY ALL
UNION ALL
SELECT 'heuristic' AS a_source, 'nasa' AS b_source, a.label AS a_label, b.label AS b_label, count(*) AS n
FROM cur AS a
JOIN cur AS b ON b.dataset = a.dataset AND b.object_id = a.object_id
WHERE a.source = 'heuristic' AND b.source = 'nasa'
GROUP BY ALL
ORDER BY a_source, b_source, a_label, b_label;
