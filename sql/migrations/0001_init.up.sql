-- 0001 core: the schemas every relation of ExoHunter lives in, and the
-- engine's own bookkeeping tables. Runs in one transaction.
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS normalized;
CREATE SCHEMA IF NOT EXISTS metrics;
CREATE SCHEMA IF NOT EXISTS classified;
CREATE SCHEMA IF NOT EXISTS runs;
CREATE SCHEMA IF NOT EXISTS labels;
CREATE SCHEMA IF NOT EXISTS features;
CREATE SCHEMA IF NOT EXISTS catalog;

-- One row per ingested file. The bytes live under DATA/<path> and are never
-- modified; every JSON column holds exactly what the API shows.
CREATE TABLE meta.datasets (
    name          VARCHAR PRIMARY KEY,       -- safe identifier, also the view name
    original_name VARCHAR NOT NULL,          -- client-supplied file name, never used as a path
    format        VARCHAR NOT NULL,          -- csv | parquet
    compression   VARCHAR NOT NULL DEFAULT 'none', -- none | gzip
    bytes         BIGINT NOT NULL,           -- stored (compressed) size
    sha256        VARCHAR NOT NULL,          -- of the stored bytes
    rows          BIGINT NOT NULL,           -- data rows (header and # block excluded)
    mission       VARCHAR NOT NULL,          -- koi | toi | k2 | ps | generic
    columns       JSON NOT NULL,             -- [{"name","type"}] as the raw view serves them
    mapping       JSON NOT NULL,             -- mapping report [{"source","canonical","alias","conversion","status"}]
    nasa_header   JSON,                      -- {"exported_at","columns":{name:{"label","unit"}}} or NULL
    csv_options   JSON,                      -- dialect pinned in the raw view, NULL for Parquet
    units         JSON,                      -- user unit overrides {canonical: unit}
    path          VARCHAR NOT NULL,          -- stored file, relative to the data dir
    created_at    TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

-- One row per run. Written by the run machinery; result rows live in a
-- Parquet file under DATA/runs/ (path relative to the data dir).
CREATE TABLE meta.runs (
    run_id      VARCHAR PRIMARY KEY,
    dataset     VARCHAR NOT NULL,
    status      VARCHAR NOT NULL CHECK (status IN ('queued', 'running', 'complete', 'failed')),
    rows        BIGINT,
    counts      JSON,                        -- {category: n}
    config_hash VARCHAR,
    thresholds  JSON,                        -- effective thresholds (overrides applied)
    albedo      DOUBLE,
    timings     JSON,                        -- {stage: seconds}
    path        VARCHAR,
    error       VARCHAR,
    created_at  TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    finished_at TIMESTAMP
);

-- Background jobs (runs of large inputs, feature builds, training).
CREATE TABLE meta.jobs (
    id         VARCHAR PRIMARY KEY,
    kind       VARCHAR NOT NULL,
    status     VARCHAR NOT NULL CHECK (status IN ('queued', 'running', 'complete', 'failed')),
    progress   DOUBLE NOT NULL DEFAULT 0,    -- 0..1
    message    VARCHAR,
    result     JSON,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    updated_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
