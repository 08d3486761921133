-- 0003 features: the index of versioned feature sets. The feature store on
-- disk (<feature-store>/<version>/{features.parquet,manifest.json}) is the
-- truth; this table mirrors it, is re-synced at Open, and backs the API's
-- list. Views features."<version>" are created by the engine.
CREATE TABLE meta.feature_sets (
    version      VARCHAR PRIMARY KEY,
    spec_hash    VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    dataset      VARCHAR NOT NULL,
    run_id       VARCHAR NOT NULL,
    rows         BIGINT NOT NULL,
    path         VARCHAR NOT NULL,       -- the version's folder, absolute (the store may live outside the data dir)
    manifest     JSON NOT NULL,          -- manifest.json as written
    created_at   TIMESTAMP NOT NULL
);
