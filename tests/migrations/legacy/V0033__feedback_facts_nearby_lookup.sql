-- V0033: flywheel.feedback_facts finds a feedback event's generation near
-- the feedback's time first.
--
-- The V0030 definition probed the event-id index of every daily partition
-- for every feedback event (about 40 probes with a month of partitions) and
-- sorted the candidates; at a million generations a 24-hour thumbs-by-model
-- panel took seconds. Feedback almost always arrives shortly after its
-- generation, so the lookup now tries, in order, each rule within the two
-- days before the feedback (run-time partition pruning keeps that to two or
-- three partitions), and only when nothing is found there searches every
-- partition. The Append of a UNION ALL runs its branches in order and LIMIT
-- 1 stops at the first row, so the later branches cost nothing when an
-- earlier one matches. Each branch states which target it applies to (a
-- constant per feedback row), so PostgreSQL skips the branches of the other
-- kinds of target without touching an index. Same columns and meaning as
-- before: event id, else response id, else trace id.
CREATE OR REPLACE VIEW flywheel.feedback_facts AS
SELECT f.event_id,
       f.event_time,
       f.received_at,
       f.project,
       f.environment,
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
       f.target_trace_id,
       t.event_id AS generation_event_id,
       t.event_time AS generation_time,
       COALESCE(t.model, 'unknown') AS model,
       COALESCE(t.release, f.release) AS release,
       COALESCE(t.prompt_template, '') AS prompt_template,
       COALESCE(t.prompt_version, '') AS prompt_version,
       t.user_id
FROM flywheel.feedback f
LEFT JOIN LATERAL (
    SELECT c.event_id, c.event_time, c.release, c.prompt_template, c.prompt_version,
           c.user_id,
           COALESCE(NULLIF(c.request_model, ''), NULLIF(c.response_model, ''), 'unknown') AS model
    FROM (SELECT g.event_id, g.event_time, g.release, g.prompt_template, g.prompt_version,
                 g.user_id, g.response_model, g.request_model
          FROM flywheel.generations g
          WHERE f.target_event_id IS NOT NULL AND g.event_id = f.target_event_id
            AND g.event_time >= f.event_time - interval '2 days'
            AND g.event_time <= f.event_time + interval '1 hour'
          UNION ALL
          SELECT g.event_id, g.event_time, g.release, g.prompt_template, g.prompt_version,
                 g.user_id, g.response_model, g.request_model
          FROM flywheel.generations g
          WHERE f.target_event_id IS NOT NULL AND g.event_id = f.target_event_id
          UNION ALL
          SELECT g.event_id, g.event_time, g.release, g.prompt_template, g.prompt_version,
                 g.user_id, g.response_model, g.request_model
          FROM flywheel.generations g
          WHERE f.target_event_id IS NULL AND g.response_id = f.target_response_id
            AND g.event_time >= f.event_time - interval '2 days'
            AND g.event_time <= f.event_time + interval '1 hour'
          UNION ALL
          SELECT g.event_id, g.event_time, g.release, g.prompt_template, g.prompt_version,
                 g.user_id, g.response_model, g.request_model
          FROM flywheel.generations g
          WHERE f.target_event_id IS NULL AND g.response_id = f.target_response_id
          UNION ALL
          SELECT g.event_id, g.event_time, g.release, g.prompt_template, g.prompt_version,
                 g.user_id, g.response_model, g.request_model
          FROM flywheel.generations g
          WHERE f.target_event_id IS NULL AND f.target_response_id IS NULL
            AND g.trace_id = f.target_trace_id
            AND g.event_time >= f.event_time - interval '2 days'
            AND g.event_time <= f.event_time + interval '1 hour'
          UNION ALL
          SELECT g.event_id, g.event_time, g.release, g.prompt_template, g.prompt_version,
                 g.user_id, g.response_model, g.request_model
          FROM flywheel.generations g
          WHERE f.target_event_id IS NULL AND f.target_response_id IS NULL
            AND g.trace_id = f.target_trace_id) c
    LIMIT 1
) t ON true;
