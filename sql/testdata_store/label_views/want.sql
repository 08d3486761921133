CREATE OR REPLACE VIEW "labels"."history" AS
SELECT
  l.*,
  CASE l.label
    WHEN 'confirmed_planet' THEN 'CONFIRMED'
    WHEN 'candidate' THEN 'CANDIDATE'
    ELSE l.label
  END AS label_class,
  coalesce(r.status, 'pending') AS review_status,
  r.reviewer,
  r.reviewed_at
FROM "labels"."labels" AS l
LEFT JOIN (
  SELECT
    label_id,
    arg_max(status, id) AS status,
    arg_max(reviewer, id) AS reviewer,
    max(created_at) AS reviewed_at
  FROM "labels"."reviews"
  GROUP BY label_id
) AS r ON r.label_id = l.id;

CREATE OR REPLACE VIEW "labels"."current" AS
SELECT *
FROM "labels"."history"
QUALIFY row_number() OVER (PARTITION BY dataset, object_id, source ORDER BY id DESC) = 1;
