-- Eval test fixture: production generations of project "qa" whose outputs
-- are the expected answers, one per scorer behaviour, exported by the test
-- as eval dataset "qa" version 1. Prompts are the keys of the fake server's
-- script (tests/eval/script.json).
CREATE FUNCTION pg_temp.gen(n int, prompt text, answer jsonb, tools jsonb DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
INSERT INTO flywheel.generations (event_id, event_time, project, environment, schema_version,
    conversation_id, request_model, input_messages, output_messages, tool_definitions, id_time)
VALUES (('01900000-0000-7000-8000-' || lpad(n::text, 12, '0'))::uuid,
        '2026-01-05 10:00:00+00'::timestamptz + n * interval '1 minute', 'qa', 'prod', 1,
        'conv-' || n, 'prod-model',
        jsonb_build_array(jsonb_build_object('role', 'user', 'parts',
            jsonb_build_array(jsonb_build_object('type', 'text', 'content', prompt)))),
        jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts', answer)), tools,
        flywheel.event_id_time(('01900000-0000-7000-8000-' || lpad(n::text, 12, '0'))::uuid))
$$;
CREATE FUNCTION pg_temp.txt(s text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_array(jsonb_build_object('type', 'text', 'content', s))
$$;
SELECT pg_temp.gen(1, 'What is the capital of France?', pg_temp.txt('Paris.'));
SELECT pg_temp.gen(2, 'What is the capital of Italy?', pg_temp.txt('Rome'));
SELECT pg_temp.gen(3, 'Give the JSON of user 7', pg_temp.txt('{"id": 7, "name": "Ann"}'));
SELECT pg_temp.gen(4, 'Give the JSON of user 8', pg_temp.txt('{"id": 8, "name": "Bob"}'));
SELECT pg_temp.gen(5, 'Where is order 42?',
    '[{"type": "tool_call", "id": "c1", "name": "get_order", "arguments": {"order_id": "42"}}]',
    '[{"type": "function", "name": "get_order", "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}}]');
SELECT pg_temp.gen(6, 'Where is order 43?',
    '[{"type": "tool_call", "id": "c1", "name": "get_order", "arguments": {"order_id": "43"}}]',
    '[{"type": "function", "name": "get_order", "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}}]');
SELECT pg_temp.gen(7, 'How many legs does a spider have?', pg_temp.txt('8'));
SELECT pg_temp.gen(8, 'What is pi to five decimals?', pg_temp.txt('3.14159'));
SELECT pg_temp.gen(9, 'A rate limited question', pg_temp.txt('fine'));
SELECT pg_temp.gen(10, 'A question the server fails once', pg_temp.txt('ok'));
SELECT pg_temp.gen(11, 'A question answered with broken JSON', pg_temp.txt('anything'));
SELECT pg_temp.gen(12, 'A slow question', pg_temp.txt('late'));
