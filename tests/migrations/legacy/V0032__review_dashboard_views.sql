-- V0032: flywheel-health views over the review queue (V0003) for the
-- Review queue dashboard and `flywheel stats`.
--
-- V0003 already gives per-queue aggregates (review_progress with the
-- backlog and its age, review_throughput, review_time_per_item,
-- review_agreement, review_gold_accuracy). These add the row-level views a
-- dashboard needs to draw the same numbers over time with a time filter:
-- items with their time to label, labels by reviewer, per-item agreement,
-- and label coverage of generations by slice. Like V0030 they expose no
-- label values, notes or content: only ids, names, times and numbers.

-- One row per (non-gold) review item.
CREATE VIEW flywheel.review_item_facts AS
SELECT i.id AS item_id,
       q.name AS queue,
       i.status,
       i.status IN ('pending', 'in_review') AS open,
       i.status IN ('labelled', 'disputed', 'adjudicated') AS finished,
       i.overlap,
       i.n_labels,
       i.n_skips,
       i.priority,
       (i.event_id_b IS NOT NULL) AS pairwise,
       i.event_id,
       i.event_time,
       i.created_at,
       i.completed_at,
       EXTRACT(epoch FROM i.completed_at - i.created_at)::double precision AS time_to_label_s,
       CASE WHEN i.status IN ('pending', 'in_review')
            THEN EXTRACT(epoch FROM now() - i.created_at)::double precision END AS open_age_s
FROM flywheel.review_items i
JOIN flywheel.review_queues q ON q.id = i.queue_id
WHERE NOT i.is_gold;

COMMENT ON VIEW flywheel.review_item_facts IS
    'One row per non-gold review item: queue, status, time to label, age while open';

-- One row per label (revisions and adjudications included), without its value.
CREATE VIEW flywheel.review_label_facts AS
SELECT l.id AS label_id,
       q.name AS queue,
       l.item_id,
       l.reviewer,
       l.version,
       (l.version > 1) AS is_revision,
       l.is_adjudication,
       l.rubric_name,
       l.rubric_version,
       l.created_at
FROM flywheel.review_labels l
JOIN flywheel.review_queues q ON q.id = l.queue_id;

COMMENT ON VIEW flywheel.review_label_facts IS
    'One row per label without its value: who labelled what in which queue, when';

-- Agreement of each finished non-gold item with two or more current labels,
-- per comparable rubric field: the share of agreeing reviewer pairs,
-- sum_k n_k (n_k - 1) / (m (m - 1)), the per-item term of
-- flywheel.review_agreement's percent agreement (number fields compare by
-- equality). Averaged over the items finished in a time bucket, it is the
-- agreement trend.
CREATE VIEW flywheel.review_item_agreement AS
SELECT q.name AS queue,
       i.id AS item_id,
       i.completed_at,
       f->>'name' AS field,
       f->>'type' AS field_type,
       s.m AS labels,
       s.agreement
FROM flywheel.review_items i
JOIN flywheel.review_queues q ON q.id = i.queue_id
JOIN flywheel.review_rubrics r ON r.name = q.rubric_name AND r.version = q.rubric_version
CROSS JOIN LATERAL jsonb_array_elements(r.definition->'fields') f
CROSS JOIN LATERAL (
    SELECT sum(c.n) AS m,
           (sum(c.n * (c.n - 1)) / (sum(c.n) * (sum(c.n) - 1)))::double precision AS agreement
    FROM (SELECT cl.value->(f->>'name') AS v, count(*) AS n
          FROM flywheel.review_current_labels cl
          WHERE cl.item_id = i.id
            AND cl.value ? (f->>'name') AND cl.value->(f->>'name') <> 'null'::jsonb
          GROUP BY 1) c
) s
WHERE i.status IN ('labelled', 'disputed', 'adjudicated') AND NOT i.is_gold
  AND f->>'type' IN ('boolean', 'category', 'pairwise', 'number')
  AND s.m >= 2;

COMMENT ON VIEW flywheel.review_item_agreement IS
    'Per finished item and field: share of agreeing reviewer pairs (agreement trend)';

-- Label coverage: each generation with whether it was queued for review and
-- whether it has a finished label (labelled or adjudicated). Filter on
-- event_time as with generation_facts; the two lookups use
-- review_items_event_idx.
CREATE VIEW flywheel.label_coverage_facts AS
SELECT g.event_id,
       g.event_time,
       g.project,
       g.environment,
       g.release,
       g.model,
       g.prompt_template,
       g.prompt_version,
       g.is_error,
       EXISTS (SELECT 1 FROM flywheel.review_items i
               WHERE i.event_id = g.event_id AND NOT i.is_gold) AS queued,
       EXISTS (SELECT 1 FROM flywheel.review_items i
               WHERE i.event_id = g.event_id AND NOT i.is_gold
                 AND i.status IN ('labelled', 'adjudicated')) AS labelled
FROM flywheel.generation_facts g;

COMMENT ON VIEW flywheel.label_coverage_facts IS
    'One row per generation: its slice, whether it was queued and whether it is labelled';

GRANT SELECT ON flywheel.review_item_facts, flywheel.review_label_facts,
                flywheel.review_item_agreement, flywheel.label_coverage_facts
    TO flywheel_reader, flywheel_admin;
