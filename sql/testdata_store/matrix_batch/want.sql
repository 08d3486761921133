SELECT * EXCLUDE (file_row_number)
FROM read_parquet('/data/tmp/.matrix-1.parquet', file_row_number = true)
WHERE file_row_number BETWEEN 50000 AND 99999
ORDER BY file_row_number;
