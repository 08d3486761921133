-- Reverts 0004. Model artifacts on disk are left alone.
DROP TABLE IF EXISTS meta.scores;
DROP TABLE IF EXISTS meta.models;
