-- R__40_dashboards: the views behind the dashboards and `flywheel stats`
-- (repeatable; they were V0030-V0033). Re-applied whenever this file changes
-- and after any versioned migration: every statement is idempotent.
--
-- Shape: the views are narrow, row-level projections of the event tables
-- (one row per generation, per feedback event, per dead letter), not
-- pre-aggregated tables. A dashboard panel or `flywheel stats` aggregates
-- over them with a time filter on event_time; because these views are
-- simple enough for the planner to pull up into the query, that filter
-- reaches flywheel.generations itself and uses generations_time_idx or
-- generations_project_time_idx in each daily partition. (Since V0038 the
-- partitions are days of id_time, the time the event id carries, so a
-- window on event_time no longer prunes partitions at plan time: each
-- partition's time index is probed, which costs one index descent per
-- partition, not a read of its rows.) An hourly rollup view would hide the
-- filter behind GROUP BY date_trunc(...) and read every row.
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
CREATE OR REPLACE VIEW flywheel.generation_facts AS
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
                        WHERE f.target_trace_id = g.trace_id
                          AND (f.target_span_id IS NULL OR f.target_span_id = g.span_id))))
           AS has_feedback,
       -- The partition key (the time the event id carries): a lookup by
       -- event id adds id_time = flywheel.event_id_time(id) and reads one
       -- partition (the trace view of `flywheel serve`).
       g.id_time,
       -- Where the collector read it (NULL for a row that did not come
       -- through Kafka): ingest lag per partition.
       g.source_topic,
       g.source_partition
FROM flywheel.generations g;

COMMENT ON VIEW flywheel.generation_facts IS
    'One row per generation without content: filter on event_time, aggregate in the query';

-- flywheel.feedback_facts finds a feedback event's generation near
-- the feedback's time first.
--
-- The V0030 definition probed the event-id index of every daily partition
-- for every feedback event (about 40 probes with a month of partitions) and
-- sorted the candidates; at a million generations a 24-hour thumbs-by-model
-- panel took seconds. Feedback almost always arrives shortly after its
-- generation, so the lookup now tries, in order, each rule within the two
-- days before the feedback (run-time partition pruning keeps that to two or
-- three partitions), and only when nothing is found there searches every
-- partition. A target event id needs no search: the id names its row's
-- partition (id_time, V0038), so that lookup reads exactly one. The Append of a UNION ALL runs its branches in order and LIMIT
-- 1 stops at the first row, so the later branches cost nothing when an
-- earlier one matches. Each branch states which target it applies to (a
-- constant per feedback row), so PostgreSQL skips the branches of the other
-- kinds of target without touching an index. Same columns and meaning as
-- before: event id, else response id, else trace id — and with a target span
-- (V0040) only the generation of that span of the trace: feedback about a
-- span without a generation has no generation_event_id (unattached).
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
       t.user_id,
       f.target_span_id, -- CREATE OR REPLACE VIEW only appends columns
       t.provider_name
FROM flywheel.feedback f
LEFT JOIN LATERAL (
    SELECT c.event_id, c.event_time, c.release, c.prompt_template, c.prompt_version,
           c.user_id, c.provider_name,
           COALESCE(NULLIF(c.request_model, ''), NULLIF(c.response_model, ''), 'unknown') AS model
    FROM (SELECT g.event_id, g.event_time, g.release, g.prompt_template, g.prompt_version,
                 g.user_id, g.response_model, g.request_model, g.provider_name
          FROM flywheel.generations g
          WHERE f.target_event_id IS NOT NULL AND g.event_id = f.target_event_id
            AND g.id_time = flywheel.event_id_time(f.target_event_id)
          UNION ALL
          SELECT g.event_id, g.event_time, g.release, g.prompt_template, g.prompt_version,
                 g.user_id, g.response_model, g.request_model, g.provider_name
          FROM flywheel.generations g
          WHERE f.target_event_id IS NULL AND g.response_id = f.target_response_id
            AND g.id_time >= f.event_time - interval '2 days'
            AND g.id_time <= f.event_time + interval '1 hour'
          UNION ALL
          SELECT g.event_id, g.event_time, g.release, g.prompt_template, g.prompt_version,
                 g.user_id, g.response_model, g.request_model, g.provider_name
          FROM flywheel.generations g
          WHERE f.target_event_id IS NULL AND g.response_id = f.target_response_id
          UNION ALL
          SELECT g.event_id, g.event_time, g.release, g.prompt_template, g.prompt_version,
                 g.user_id, g.response_model, g.request_model, g.provider_name
          FROM flywheel.generations g
          WHERE f.target_event_id IS NULL AND f.target_response_id IS NULL
            AND g.trace_id = f.target_trace_id
            AND (f.target_span_id IS NULL OR g.span_id = f.target_span_id)
            AND g.id_time >= f.event_time - interval '2 days'
            AND g.id_time <= f.event_time + interval '1 hour'
          UNION ALL
          SELECT g.event_id, g.event_time, g.release, g.prompt_template, g.prompt_version,
                 g.user_id, g.response_model, g.request_model, g.provider_name
          FROM flywheel.generations g
          WHERE f.target_event_id IS NULL AND f.target_response_id IS NULL
            AND g.trace_id = f.target_trace_id
            AND (f.target_span_id IS NULL OR g.span_id = f.target_span_id)) c
    LIMIT 1
) t ON true;

COMMENT ON VIEW flywheel.feedback_facts IS
    'One row per feedback event with the model, release and prompt of its generation';

-- Dead letters without their payload bytes.
CREATE OR REPLACE VIEW flywheel.dead_letter_facts AS
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
CREATE OR REPLACE VIEW flywheel.ingest_progress AS
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
CREATE OR REPLACE VIEW flywheel.generation_partitions AS
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

--
-- flywheel.feedback_facts (V0030) resolves every feedback event's generation
-- to slice by model and release; the planner cannot drop that lookup even
-- when a query reads no generation column (a LEFT JOIN LATERAL ... LIMIT 1 is
-- not provably unique), and each lookup probes the event-id index of every
-- daily partition. Totals that need no slice (`flywheel stats`, counters)
-- read this view instead: one index range scan on feedback_time_idx.
-- Like the other dashboard views it exposes no comment or correction text.
CREATE OR REPLACE VIEW flywheel.feedback_events AS
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
       f.target_trace_id,
       f.target_span_id
FROM flywheel.feedback f;

COMMENT ON VIEW flywheel.feedback_events IS
    'One row per feedback event without content and without a generation lookup';

GRANT SELECT ON flywheel.feedback_events TO flywheel_reader, flywheel_admin;

-- flywheel-health views over the review queue (V0003) for the
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
CREATE OR REPLACE VIEW flywheel.review_item_facts AS
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
CREATE OR REPLACE VIEW flywheel.review_label_facts AS
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
CREATE OR REPLACE VIEW flywheel.review_item_agreement AS
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
-- whether it is labelled: a non-gold item of it received the labels its
-- queue asks for (status labelled, disputed or adjudicated — a disputed item
-- carries its reviewers' labels; docs/dashboards.md). Filter on
-- event_time as with generation_facts; the two lookups use
-- review_items_event_idx.
CREATE OR REPLACE VIEW flywheel.label_coverage_facts AS
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
                 AND i.status IN ('labelled', 'disputed', 'adjudicated')) AS labelled
FROM flywheel.generation_facts g;

COMMENT ON VIEW flywheel.label_coverage_facts IS
    'One row per generation: its slice, whether it was queued and whether it is labelled '
    '(a non-gold item of it got the labels its queue asks for: labelled, disputed or adjudicated)';

GRANT SELECT ON flywheel.review_item_facts, flywheel.review_label_facts,
                flywheel.review_item_agreement, flywheel.label_coverage_facts
    TO flywheel_reader, flywheel_admin;

-- The web dashboards (`flywheel serve`, /dash/flywheel): adjudicators see
-- the review queue's vital signs (backlog, throughput per reviewer,
-- agreement, gold accuracy) -- counts, names and times, never label values
-- or content -- but not traffic, label coverage or datasets, which stay
-- with flywheel_admin and flywheel_reader. Reviewers get none of these.
GRANT SELECT ON flywheel.review_item_facts, flywheel.review_label_facts,
                flywheel.review_item_agreement, flywheel.review_progress,
                flywheel.review_gold_accuracy
    TO flywheel_adjudicator;
