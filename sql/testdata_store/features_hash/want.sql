WITH h AS (
  SELECT
    row_number() OVER (ORDER BY f.object_id, f.row_id) AS i,
    md5(CAST(f AS VARCHAR)) AS h
  FROM read_parquet('/fs/.build-v1/features.parquet') AS f
)
SELECT (i - 1) // 65536 AS chunk, md5(string_agg(h, '' ORDER BY i)) AS digest, count(*) AS n
FROM h
GROUP BY chunk
ORDER BY chunk;
