-- Reverts 0003. The files in the feature store are left alone.
DROP TABLE IF EXISTS meta.feature_sets;
