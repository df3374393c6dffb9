-- Realistic synthetic data for the dashboard tests and bench/views.sh.
--
-- psql variables: n (generations), days (spread over the last `days` days,
-- ending now), project (the main project name). Deterministic apart from
-- now(): setseed() fixes the random choices. Rows carry metadata and small
-- messages, like what the collector stores; about 18 % of generations get
-- feedback (thumbs, ratings, a few corrections), 4 % are errors, a handful
-- of dead letters and ingest offsets exist.
--
-- Run with: psql -v n=20000 -v days=3 -v project=demo -f seed.sql

SELECT setseed(0.4242);

-- Partitions for every day the data covers (the rest go to the default
-- partition, which maintain_partitions() empties below).
SELECT flywheel.maintain_partitions(1, :days + 1);

INSERT INTO flywheel.generations (
    event_id, event_time, received_at, project, environment, release, sdk_name, sdk_version,
    schema_version, trace_id, span_id, conversation_id, session_id, user_id,
    operation_name, provider_name, request_model, response_model, response_id,
    input_messages, output_messages, finish_reasons,
    input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens,
    reasoning_output_tokens, cost_micro_usd, start_time, end_time, duration_ms, ttft_ms,
    status, error_type, error_message, prompt_template, prompt_version, id_time)
-- Event ids are UUIDv7 carrying the event time, as a producer makes them,
-- so the rows sit in their days' partitions (V0038).
SELECT s.id,
       t,
       t + make_interval(secs => 0.05 + (r1 * r1) * 2.0),
       CASE WHEN i % 10 = 0 THEN 'billing-bot' ELSE :'project' END,
       CASE WHEN i % 7 = 0 THEN 'staging' ELSE 'production' END,
       CASE WHEN t < now() - make_interval(days => :days) / 2 THEN '2026.01.1' ELSE '2026.01.2' END,
       'flywheel-c', '0.1.0', 1,
       md5('trace' || (i / 3)),
       left(md5('span' || i), 16),
       'conv-' || (i / 6),
       'sess-' || (i / 12),
       'user-' || (i % 257),
       'chat',
       m.provider,
       m.model,
       m.model || '-2025',
       'resp-' || i,
       '[{"role": "user", "parts": [{"type": "text", "content": "Where is my order?"}]}]',
       '[{"role": "assistant", "parts": [{"type": "text", "content": "It ships tomorrow."}]}]',
       CASE WHEN err THEN '{}'::text[] ELSE ARRAY['stop'] END,
       in_tok,
       CASE WHEN err THEN 0 ELSE out_tok END,
       (in_tok * r2 * 0.6)::bigint,
       CASE WHEN i % 50 = 0 THEN 1024 END,
       CASE WHEN m.model = 'o4-mini' THEN (out_tok * 2) END,
       ((in_tok * m.in_price + out_tok * m.out_price) / 1000)::bigint,
       t,
       t + make_interval(secs => dur / 1000),
       dur,
       CASE WHEN i % 3 <> 0 THEN dur * (0.1 + 0.2 * r2) END,
       CASE WHEN err THEN 'error' ELSE 'ok' END,
       CASE WHEN err THEN (ARRAY['RateLimitError', 'Timeout', 'APIConnectionError', '500'])[1 + i % 4] END,
       CASE WHEN err THEN 'provider said no' END,
       (ARRAY['support_answer', 'summarise_ticket', 'route_intent'])[1 + i % 3],
       CASE WHEN i % 5 = 0 THEN 'v2' ELSE 'v3' END,
       flywheel.event_id_time(s.id)
FROM (
    SELECT i, t,
           (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(md5('gen' || i), 1, 3)
            || '-8' || substr(md5('gen' || i), 4, 3) || '-' || substr(md5('gen' || i), 7, 12))::uuid AS id,
           random() AS r1, random() AS r2,
           (random() < 0.04) AS err,
           (200 + (random() * 3000))::bigint AS in_tok,
           (20 + (random() * 600))::bigint AS out_tok,
           (300 + random() * random() * 8000) AS dur,
           (i % 4) AS mi
    FROM generate_series(1, :n) AS i,
         LATERAL (SELECT now() - make_interval(days => :days) * ((i - 1)::double precision / :n) AS t) tt,
         LATERAL (SELECT lpad(to_hex(floor(extract(epoch FROM tt.t) * 1000)::bigint), 12, '0') AS h) hh
) s
JOIN (VALUES (0, 'openai', 'gpt-4o-mini', 150, 600),
             (1, 'openai', 'gpt-4o', 2500, 10000),
             (2, 'anthropic', 'claude-3-5-haiku', 800, 4000),
             (3, 'openai', 'o4-mini', 1100, 4400))
     AS m(mi, provider, model, in_price, out_price) USING (mi);

-- Feedback: thumbs from end users on ~15 %, ratings from a judge on ~3 %,
-- corrections from reviewers on ~1 %, and a few pointing at generations that
-- have not arrived (orphans).
INSERT INTO flywheel.feedback (event_id, event_time, received_at, project, environment, release,
                               schema_version, target_event_id, target_response_id, name,
                               value_type, bool_value, number_value, comment, correction,
                               source, author_id)
SELECT md5('fb' || g.event_id || k.kind)::uuid,
       g.event_time + interval '20 seconds',
       g.event_time + interval '21 seconds',
       g.project, g.environment, g.release, 1,
       CASE WHEN k.kind = 'rating' THEN NULL ELSE g.event_id END,
       CASE WHEN k.kind = 'rating' THEN g.response_id END,
       k.kind,
       CASE k.kind WHEN 'rating' THEN 'number' WHEN 'thumbs' THEN 'bool' ELSE 'none' END,
       CASE WHEN k.kind = 'thumbs' THEN random() < (CASE g.request_model WHEN 'gpt-4o' THEN 0.85 ELSE 0.7 END) END,
       CASE WHEN k.kind = 'rating' THEN round((1 + random() * 4)::numeric, 1)::double precision END,
       CASE WHEN k.kind = 'correction' THEN 'should mention the refund' END,
       CASE WHEN k.kind = 'correction'
            THEN '[{"role": "assistant", "parts": [{"type": "text", "content": "Refunded."}]}]'::jsonb END,
       CASE k.kind WHEN 'thumbs' THEN 'end_user' WHEN 'rating' THEN 'model_judge' ELSE 'reviewer' END,
       'author-' || (hashtext(g.event_id::text) & 15)
FROM flywheel.generations g
-- (each branch names g so that it is evaluated per generation, not once)
JOIN LATERAL (SELECT 'thumbs' AS kind WHERE random() < 0.15 + 0 * length(g.release)
              UNION ALL SELECT 'rating' WHERE random() < 0.03 + 0 * length(g.release)
              UNION ALL SELECT 'correction' WHERE random() < 0.01 + 0 * length(g.release)) k
     ON true;

INSERT INTO flywheel.feedback (event_id, event_time, project, schema_version, target_response_id,
                               name, value_type, bool_value, source)
SELECT md5('orphan' || i)::uuid, now() - make_interval(mins => i), :'project', 1,
       'resp-missing-' || i, 'thumbs', 'bool', i % 2 = 0, 'end_user'
FROM generate_series(1, 5) AS i;

INSERT INTO flywheel.dead_letters (received_at, consumer_group, topic, partition, "offset",
                                   payload, message_time, reason, detail)
SELECT now() - make_interval(days => :days) * (i / 40.0),
       'flywheel-collector', 'flywheel.events', i % 4, 100000 + i,
       decode(md5('dl' || i), 'hex'),
       now() - make_interval(days => :days) * (i / 40.0),
       (ARRAY['undecodable', 'invalid_utf8', 'nul_in_text', 'oversize', 'missing_field'])[1 + i % 5],
       'synthetic dead letter'
FROM generate_series(1, 40) AS i;

INSERT INTO flywheel.ingest_offsets (consumer_group, topic, partition, next_offset, updated_at)
SELECT 'flywheel-collector', 'flywheel.events', p, 1000 * (p + 1), now() - make_interval(secs => p)
FROM generate_series(0, 3) AS p;

SELECT flywheel.maintain_partitions(1, :days + 1);
ANALYZE flywheel.generations;
ANALYZE flywheel.feedback;
ANALYZE flywheel.dead_letters;
ANALYZE flywheel.ingest_offsets;
