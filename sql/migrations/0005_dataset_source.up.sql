-- 0005 dataset source: where a dataset's bytes came from, the URL
-- (s3://, gs://, https://, the NASA archive's TAP query) with secrets
-- redacted; NULL for a local file or an upload. Two datasets read from
-- s3://b/2024/koi.csv and s3://b/2025/koi.csv share an original_name
-- (koi.csv) and differ here. Additive: older rows stay NULL.
ALTER TABLE meta.datasets ADD COLUMN IF NOT EXISTS source VARCHAR;
