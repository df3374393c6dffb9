-- V0030: the views behind the dashboards and `flywheel stats`.
--
-- Shape: the views are narrow, row-level projections of the event tables
-- (one row per generation, per feedback event, per dead letter), not
-- pre-aggregated tables. A dashboard panel or `flywheel stats` aggregates
-- over them with a time filter on event_time; because these views are
-- simple enough for the planner to pull up into the query, that filter
-- reaches flywheel.generations itself, so the planner prunes the daily
-- partitions outside the window and can use generations_time_idx or
-- generations_project_time_idx. An hourly rollup view would hide the
-- filter behind GROUP BY date_trunc(...) and read every partition.
--
-- Columns that cost a lookup (has_feedback, the target generation of a
-- feedback event) are computed only when a query names them: an unreferenced
-- output column of a pulled-up view is never evaluated.
--
-- The views never expose message content, system prompts, tool definitions,
-- comments or dead-letter payloads: the reader role (Grafana) sees numbers
-- and identifiers, not prompt text. Views run with their owner's rights, so
-- flywheel_reader needs SELECT on the views only, never on the tables.

-- One row per generation, metadata and derived numbers only.
CREATE VIEW flywheel.generation_facts AS
SELECT g.event_id,
       g.event_time,
       g.received_at,
       g.project,
       g.environment,
       g.release,
       g.operation_name,
       g.provider_name,
       -- The model the application asked for: a failed call has no response
       -- model, and grouping by it would split a model's errors from its
       -- successes.
       COALESCE(NULLIF(g.request_model, ''), NULLIF(g.response_model, ''), 'unknown') AS model,
       g.request_model,
       g.response_model,
       COALESCE(g.prompt_template, '') AS prompt_template,
       COALESCE(g.prompt_version, '') AS prompt_version,
       g.user_id,
       g.session_id,
       g.conversation_id,
       g.trace_id,
       g.response_id,
       g.status,
       (g.status = 'error') AS is_error,
       CASE WHEN g.status = 'error'
            THEN COALESCE(NULLIF(g.error_type, ''), 'unknown') END AS error_type,
       g.finish_reasons,
       g.tags,
       g.input_tokens,
       g.output_tokens,
       g.cache_read_input_tokens AS cached_input_tokens,
       g.cache_creation_input_tokens,
       g.reasoning_output_tokens AS reasoning_tokens,
       g.cost_micro_usd,
       g.cost_micro_usd::double precision / 1e6 AS cost_usd,
       g.duration_ms,
       g.ttft_ms,
       -- Decoding speed: output tokens over the time spent producing them
       -- (after the first token when streaming).
       CASE WHEN g.output_tokens > 0 AND g.duration_ms - COALESCE(g.ttft_ms, 0) > 0
            THEN g.output_tokens * 1000.0 / (g.duration_ms - COALESCE(g.ttft_ms, 0))
       END::double precision AS output_tokens_per_s,
       -- Event time (the application's clock) to stored time (the database's).
       (EXTRACT(epoch FROM g.received_at - g.event_time) * 1000)::double precision
           AS ingest_lag_ms,
       (EXISTS (SELECT 1 FROM flywheel.feedback f WHERE f.target_event_id = g.event_id)
        OR (g.response_id IS NOT NULL
            AND EXISTS (SELECT 1 FROM flywheel.feedback f
                        WHERE f.target_response_id = g.response_id))
        OR (g.trace_id IS NOT NULL
            AND EXISTS (SELECT 1 FROM flywheel.feedback f
                        WHERE f.target_trace_id = g.trace_id))) AS has_feedback
FROM flywheel.generations g;

COMMENT ON VIEW flywheel.generation_facts IS
    'One row per generation without content: filter on event_time, aggregate in the query';

-- One row per feedback event, with the slice (model, release, prompt) of the
-- generation it judges. The target is found by event id, else response id,
-- else trace id, each through its own index; feedback whose generation is
-- not stored (yet) keeps its row with model 'unknown'.
CREATE VIEW flywheel.feedback_facts AS
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
    FROM (SELECT 1 AS pref, g.* FROM flywheel.generations g
          WHERE g.event_id = f.target_event_id
          UNION ALL
          SELECT 2, g.* FROM flywheel.generations g
          WHERE f.target_event_id IS NULL AND g.response_id = f.target_response_id
          UNION ALL
          SELECT 3, g.* FROM flywheel.generations g
          WHERE f.target_event_id IS NULL AND f.target_response_id IS NULL
            AND g.trace_id = f.target_trace_id) c
    ORDER BY c.pref, c.event_time
    LIMIT 1
) t ON true;

COMMENT ON VIEW flywheel.feedback_facts IS
    'One row per feedback event with the model, release and prompt of its generation';

-- Dead letters without their payload bytes.
CREATE VIEW flywheel.dead_letter_facts AS
SELECT d.id,
       d.received_at,
       d.consumer_group,
       d.topic,
       d.partition,
       d."offset",
       d.message_time,
       d.reason,
       d.detail,
       d.event_id,
       octet_length(d.payload) AS payload_bytes,
       d.replayed_at,
       d.replay_count,
       (d.replayed_at IS NOT NULL) AS replayed
FROM flywheel.dead_letters d;

COMMENT ON VIEW flywheel.dead_letter_facts IS
    'Messages the collector could not store: reason, origin and size, no payload';

-- Where each collector consumer group stands on each partition.
CREATE VIEW flywheel.ingest_progress AS
SELECT o.consumer_group,
       o.topic,
       o.partition,
       o.next_offset,
       o.updated_at,
       EXTRACT(epoch FROM now() - o.updated_at)::double precision AS seconds_since_update
FROM flywheel.ingest_offsets o;

COMMENT ON VIEW flywheel.ingest_progress IS
    'Next offset to read per consumer group and partition, and how long since it moved';

-- The daily partitions of generations, for retention and sizing panels.
-- Row counts are the planner's estimate (reltuples), not a count(*).
CREATE VIEW flywheel.generation_partitions AS
SELECT c.relname::text AS partition_name,
       CASE WHEN c.relname = 'generations_default' THEN NULL
            ELSE to_date(substr(c.relname, 13), 'YYYYMMDD') END AS day,
       GREATEST(c.reltuples, 0)::bigint AS estimated_rows,
       pg_total_relation_size(c.oid) AS total_bytes
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'flywheel.generations'::regclass;

COMMENT ON VIEW flywheel.generation_partitions IS
    'Daily partitions of flywheel.generations with estimated rows and size on disk';

GRANT SELECT ON flywheel.generation_facts, flywheel.feedback_facts,
                flywheel.dead_letter_facts, flywheel.ingest_progress,
                flywheel.generation_partitions
    TO flywheel_reader, flywheel_admin;
