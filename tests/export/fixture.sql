-- Export test fixture: generations covering tool calls, multi-turn,
-- unicode, personal data, a whitespace-only duplicate, an empty output, a
-- malformed tool call and a pairwise comparison, labelled through the real
-- review functions (claim + submit) on queue "support".
-- The rows go through a staging table: flywheel.generations needs id_time,
-- the time each event id carries (V0038), which the last statement adds.
CREATE TEMP TABLE fixture_generations (LIKE flywheel.generations INCLUDING DEFAULTS);
ALTER TABLE fixture_generations ALTER COLUMN id_time DROP NOT NULL;
INSERT INTO fixture_generations (event_id, event_time, project, environment, release, schema_version,
    tags, trace_id, conversation_id, user_id, operation_name, provider_name, request_model,
    response_model, system_instructions, tool_definitions, input_messages, output_messages,
    prompt_template, prompt_version)
VALUES
('01900000-0000-7000-8000-000000000001', '2026-01-05 10:00:00+00', 'shop', 'prod', 'r1', 1, '{faq}',
 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', 'conv-1', 'user-1', 'chat', 'openai', 'gpt-x', 'gpt-x-0105',
 'You are a helpful assistant.', NULL,
 '[{"role":"user","parts":[{"type":"text","content":"What is the capital of France?"}]}]',
 '[{"role":"assistant","parts":[{"type":"text","content":"Paris is the capital of France. It is on the Seine."}],"finish_reason":"stop"}]',
 'faq', 'v1'),
('01900000-0000-7000-8000-000000000002', '2026-01-05 10:01:00+00', 'shop', 'prod', 'r1', 1, '{faq}',
 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', 'conv-1', 'user-1', 'chat', 'openai', 'gpt-x', 'gpt-x-0105',
 'You are a helpful assistant.', NULL,
 '[{"role":"user","parts":[{"type":"text","content":"What is the capital of France?"}]},
   {"role":"assistant","parts":[{"type":"text","content":"Paris is the capital of France. It is on the Seine."}]},
   {"role":"user","parts":[{"type":"text","content":"And how many people live there?"}]}]',
 '[{"role":"assistant","parts":[{"type":"text","content":"About 20 million people live in Paris. It is the largest city in France."}],"finish_reason":"stop"}]',
 'faq', 'v1'),
('01900000-0000-7000-8000-000000000003', '2026-01-05 11:00:00+00', 'shop', 'prod', 'r2', 1, '{tools}',
 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3', 'conv-2', 'user-2', 'chat', 'openai', 'gpt-x', 'gpt-x-0105',
 NULL,
 '[{"type":"function","name":"get_order","description":"Look up an order","parameters":{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}}]',
 '[{"role":"system","parts":[{"type":"text","content":"You help with orders."}]},
   {"role":"user","parts":[{"type":"text","content":"Where is order 42?"}]},
   {"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"get_order","arguments":{"order_id":"42"}}]},
   {"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":{"status":"shipped","eta":"2026-01-07"}}]}]',
 '[{"role":"assistant","parts":[{"type":"text","content":"Order 42 has shipped and should arrive on January 7."}],"finish_reason":"stop"}]',
 'orders', 'v3'),
('01900000-0000-7000-8000-000000000004', '2026-01-05 12:00:00+00', 'shop', 'prod', 'r2', 1, '{i18n}',
 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4', 'conv-3', 'user-3', 'chat', 'openai', 'gpt-x', 'gpt-x-0105',
 NULL, NULL,
 '[{"role":"user","parts":[{"type":"text","content":"Übersetze „Guten Morgen“ ins Japanische 🙂"}]}]',
 '[{"role":"assistant","parts":[{"type":"text","content":"おはようございます。 Das heißt „Guten Morgen“! 🎉"}],"finish_reason":"stop"}]',
 'translate', 'v1'),
('01900000-0000-7000-8000-000000000005', '2026-01-05 13:00:00+00', 'shop', 'prod', 'r2', 1, '{pii}',
 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa5', 'conv-4', 'user-4', 'chat', 'openai', 'gpt-x', 'gpt-x-0105',
 NULL, NULL,
 '[{"role":"user","parts":[{"type":"text","content":"Please email jane.doe@example.com or call +1 555-123-4567 about my refund."}]}]',
 '[{"role":"assistant","parts":[{"type":"text","content":"I will contact jane.doe@example.com today."}],"finish_reason":"stop"}]',
 'support', 'v2'),
('01900000-0000-7000-8000-000000000006', '2026-01-05 14:00:00+00', 'shop', 'prod', 'r2', 1, '{faq}',
 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6', 'conv-5', 'user-5', 'chat', 'openai', 'gpt-x', 'gpt-x-0105',
 'You are a helpful assistant.', NULL,
 '[{"role":"user","parts":[{"type":"text","content":"What is the   capital of\nFrance?"}]}]',
 '[{"role":"assistant","parts":[{"type":"text","content":"Paris is the capital of France.  It is on the Seine. "}],"finish_reason":"stop"}]',
 'faq', 'v1'),
('01900000-0000-7000-8000-000000000007', '2026-01-05 15:00:00+00', 'shop', 'prod', 'r2', 1, '{}',
 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa7', 'conv-6', 'user-6', 'chat', 'openai', 'gpt-x', 'gpt-x-0105',
 NULL, NULL,
 '[{"role":"user","parts":[{"type":"text","content":"Say nothing."}]}]',
 '[{"role":"assistant","parts":[{"type":"text","content":""}],"finish_reason":"stop"}]',
 'misc', 'v1'),
('01900000-0000-7000-8000-000000000008', '2026-01-05 16:00:00+00', 'shop', 'staging', 'r3', 1, '{ab}',
 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa8', 'conv-7', 'user-7', 'chat', 'openai', 'gpt-x', 'gpt-x-0105',
 NULL, NULL,
 '[{"role":"user","parts":[{"type":"text","content":"Suggest a name for a cat."}]}]',
 '[{"role":"assistant","parts":[{"type":"text","content":"Cat."}],"finish_reason":"stop"}]',
 'names', 'v1'),
('01900000-0000-7000-8000-000000000009', '2026-01-05 16:00:01+00', 'shop', 'staging', 'r3', 1, '{ab}',
 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa8', 'conv-7', 'user-7', 'chat', 'openai', 'gpt-y', 'gpt-y-0105',
 NULL, NULL,
 '[{"role":"user","parts":[{"type":"text","content":"Suggest a name for a cat."}]}]',
 '[{"role":"assistant","parts":[{"type":"text","content":"How about Miso?"}],"finish_reason":"stop"}]',
 'names', 'v1'),
('01900000-0000-7000-8000-00000000000a', '2026-01-05 17:00:00+00', 'shop', 'prod', 'r3', 1, '{tools}',
 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'conv-8', 'user-8', 'chat', 'openai', 'gpt-x', 'gpt-x-0105',
 NULL, NULL,
 '[{"role":"user","parts":[{"type":"text","content":"Cancel order 7."}]}]',
 '[{"role":"assistant","parts":[{"type":"tool_call","id":"call_9","name":"cancel_order","arguments":"{order: 7"}],"finish_reason":"tool_calls"}]',
 'orders', 'v3');
UPDATE fixture_generations SET id_time = flywheel.event_id_time(event_id);
INSERT INTO flywheel.generations SELECT * FROM fixture_generations;

INSERT INTO flywheel.feedback (event_id, event_time, schema_version, target_event_id, name, value_type, bool_value)
VALUES ('01900000-0000-7000-8000-0000000000f1', '2026-01-05 10:02:00+00', 1,
        '01900000-0000-7000-8000-000000000001', 'thumbs', 'bool', true),
       ('01900000-0000-7000-8000-0000000000f2', '2026-01-05 10:03:00+00', 1,
        '01900000-0000-7000-8000-000000000002', 'thumbs', 'bool', false);

SELECT flywheel.review_rubric_create('support', '{
  "instructions": "Judge the answer.",
  "fields": [
    {"name": "quality", "type": "number", "min": 1, "max": 5, "step": 1, "required": true},
    {"name": "verdict", "type": "category", "values": ["accept", "reject"]},
    {"name": "fix", "type": "correction"},
    {"name": "pick", "type": "pairwise"},
    {"name": "spans", "type": "span", "categories": ["factual_error", "irrelevant"]}
  ]}');
SELECT flywheel.review_queue_create('{"name": "support", "rubric": "support", "overlap": 1}');

CREATE TEMP TABLE fixture_labels (event_id uuid PRIMARY KEY, label jsonb NOT NULL);
INSERT INTO fixture_labels VALUES
('01900000-0000-7000-8000-000000000001', '{"quality": 5, "verdict": "accept", "spans": []}'),
('01900000-0000-7000-8000-000000000002', '{"quality": 2, "verdict": "reject",
  "fix": [{"role": "assistant", "parts": [{"type": "text", "content": "About 2.1 million people live in Paris itself."}]}],
  "spans": [{"message": 0, "part": 0, "start": 0, "end": 37, "category": "factual_error"}]}'),
('01900000-0000-7000-8000-000000000003', '{"quality": 5, "verdict": "accept", "spans": []}'),
('01900000-0000-7000-8000-000000000004', '{"quality": 4, "verdict": "accept",
  "spans": [{"message": 0, "part": 0, "start": 10, "end": 36, "category": "irrelevant"}]}'),
('01900000-0000-7000-8000-000000000005', '{"quality": 4, "verdict": "accept"}'),
('01900000-0000-7000-8000-000000000006', '{"quality": 5, "verdict": "accept", "spans": []}'),
('01900000-0000-7000-8000-000000000007', '{"quality": 1, "verdict": "reject"}'),
('01900000-0000-7000-8000-000000000008', '{"quality": 3, "pick": "B"}'),
('01900000-0000-7000-8000-00000000000a', '{"quality": 4, "verdict": "accept"}');

-- Items are inserted directly (as review_add_item would) because
-- review_add_item in V0003 currently fails with an ambiguous "event_id".
INSERT INTO flywheel.review_items (queue_id, event_id, event_time, event_id_b, event_time_b, overlap)
SELECT q.id, g.event_id, g.event_time, b.event_id, b.event_time, q.overlap
FROM fixture_labels f
JOIN flywheel.generations g ON g.event_id = f.event_id
LEFT JOIN flywheel.generations b ON f.event_id = '01900000-0000-7000-8000-000000000008'
                                 AND b.event_id = '01900000-0000-7000-8000-000000000009'
CROSS JOIN flywheel.review_queues q WHERE q.name = 'support';

DO $$
DECLARE
    j jsonb;
BEGIN
    LOOP
        j := flywheel.review_claim('support', 'alice');
        EXIT WHEN j IS NULL;
        PERFORM flywheel.review_submit((j->>'item_id')::bigint,
            (SELECT label FROM fixture_labels WHERE event_id = (j #>> '{generation,event_id}')::uuid),
            'alice');
    END LOOP;
END
$$;
