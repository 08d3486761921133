-- 0004 models (issue 7): the index of trained model versions and the
-- scores models and anomaly detectors write back for the rows of a run.
-- The artifacts on disk (DATA/models/<name>/<version>/) are the truth for
-- models; meta.models mirrors them for listing and the console. Runs in
-- one transaction.

CREATE TABLE meta.models (
    name            VARCHAR NOT NULL,
    version         VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,       -- classifier
    target          VARCHAR NOT NULL,       -- confirmed_vs_fp | planet_vs_fp | disposition
    leaky           BOOLEAN NOT NULL,       -- reads the Robovetter's outputs (reported separately)
    feature_version VARCHAR,                -- the feature set it was trained on
    dataset         VARCHAR NOT NULL,
    run_id          VARCHAR NOT NULL,
    path            VARCHAR NOT NULL,       -- artifact folder, relative to the data dir
    features        JSON NOT NULL,          -- the exact feature columns, in order
    metrics         JSON NOT NULL,          -- headline metrics (metrics.json has everything)
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (name, version)
);

-- One row per (run_id, row_id) once anything scored the run: the latest
-- model probability and the anomaly scores. Results and exports LEFT JOIN
-- it (engine/models_scores.go), the labeling queue reads p_model and
-- anomaly_score (engine/queue.go). Writers are serialized by the engine,
-- so no unique index is needed (and DuckDB updates stay cheap).
CREATE TABLE meta.scores (
    run_id                VARCHAR NOT NULL,
    row_id                BIGINT NOT NULL,
    object_id             VARCHAR,
    model                 VARCHAR,          -- name/version of the model that wrote p_model
    p_model               DOUBLE,           -- probability of a planet (not a false positive), 0..1
    anomaly_score_iforest DOUBLE,           -- Isolation Forest score, 0..1 (> 0.5: anomalous)
    anomaly_score_lof     DOUBLE,           -- Local Outlier Factor (about 1 inside clusters)
    anomaly_score         DOUBLE,           -- combined, 0..1: the queue's anomaly term
    anomaly_features      VARCHAR,          -- the feature set the detectors read
    created_at            TIMESTAMP NOT NULL
);
