-- 0002 labels: human and machine labels (append-only), their reviews, and
-- the labeling queue's claims. Runs in one transaction. The views
-- labels.history and labels.current are re-created by the engine at Open
-- (engine/labels.go), so their definition can change without a migration.

CREATE SEQUENCE labels.label_id_seq START 1;
CREATE SEQUENCE labels.review_id_seq START 1;
CREATE SEQUENCE labels.claim_id_seq START 1;

-- One row per label ever given. Rows are never updated or deleted: the
-- current label of an object for a source is its latest row (highest id).
CREATE TABLE labels.labels (
    id         BIGINT PRIMARY KEY DEFAULT nextval('labels.label_id_seq'),
    object_id  VARCHAR NOT NULL,
    dataset    VARCHAR NOT NULL,
    run_id     VARCHAR,                   -- optional: the run the labeler looked at
    label      VARCHAR NOT NULL CHECK (label IN (
        'no_result', 'likely_false_positive', 'anomalous_signal', 'confirmed_planet',
        'habitable_zone_candidate', 'hot_jupiter_candidate', 'rocky_candidate',
        'super_earth_or_mini_neptune', 'candidate',
        'CONFIRMED', 'CANDIDATE', 'FALSE POSITIVE')),
    source     VARCHAR NOT NULL CHECK (source IN ('human', 'heuristic', 'nasa', 'model')),
    annotator  VARCHAR,                   -- a person, or the importer (nasa-exoplanet-archive, exohunter-rules)
    note       VARCHAR,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

-- Accept/reject decisions on labels; the latest review of a label (highest
-- id) is its review status, a label without one is pending.
CREATE TABLE labels.reviews (
    id         BIGINT PRIMARY KEY DEFAULT nextval('labels.review_id_seq'),
    label_id   BIGINT NOT NULL,
    status     VARCHAR NOT NULL CHECK (status IN ('accepted', 'rejected')),
    reviewer   VARCHAR NOT NULL,
    note       VARCHAR,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

-- Queue claims, a log: the latest claim of an object (highest id) is in
-- force until expires_at. Writers are serialized by the engine, so no
-- unique index on (dataset, object_id) is needed.
CREATE TABLE labels.claims (
    id         BIGINT PRIMARY KEY DEFAULT nextval('labels.claim_id_seq'),
    dataset    VARCHAR NOT NULL,
    object_id  VARCHAR NOT NULL,
    run_id     VARCHAR,
    annotator  VARCHAR NOT NULL,
    claimed_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
