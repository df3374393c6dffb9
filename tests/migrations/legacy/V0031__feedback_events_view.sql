-- V0031: flywheel.feedback_events, feedback without its generation.
--
-- flywheel.feedback_facts (V0030) resolves every feedback event's generation
-- to slice by model and release; the planner cannot drop that lookup even
-- when a query reads no generation column (a LEFT JOIN LATERAL ... LIMIT 1 is
-- not provably unique), and each lookup probes the event-id index of every
-- daily partition. Totals that need no slice (`flywheel stats`, counters)
-- read this view instead: one index range scan on feedback_time_idx.
-- Like the other dashboard views it exposes no comment or correction text.
CREATE VIEW flywheel.feedback_events AS
SELECT f.event_id,
       f.event_time,
       f.received_at,
       f.project,
       f.environment,
       f.release,
       f.name,
       f.value_type,
       f.bool_value,
       f.number_value,
       f.category_value,
       CASE WHEN f.value_type = 'bool' THEN f.bool_value::int END AS thumbs_up,
       (f.comment IS NOT NULL) AS has_comment,
       (f.correction IS NOT NULL) AS has_correction,
       f.source,
       f.author_id,
       f.target_event_id,
       f.target_response_id,
       f.target_trace_id
FROM flywheel.feedback f;

COMMENT ON VIEW flywheel.feedback_events IS
    'One row per feedback event without content and without a generation lookup';

GRANT SELECT ON flywheel.feedback_events TO flywheel_reader, flywheel_admin;
