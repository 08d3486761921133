-- Reverts 0002.
DROP VIEW IF EXISTS labels.current;
DROP VIEW IF EXISTS labels.history;
DROP TABLE IF EXISTS labels.claims;
DROP TABLE IF EXISTS labels.reviews;
DROP TABLE IF EXISTS labels.labels;
DROP SEQUENCE IF EXISTS labels.claim_id_seq;
DROP SEQUENCE IF EXISTS labels.review_id_seq;
DROP SEQUENCE IF EXISTS labels.label_id_seq;
