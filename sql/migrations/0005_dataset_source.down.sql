-- Reverts 0005.
ALTER TABLE meta.datasets DROP COLUMN IF EXISTS source;
