-- Test data for the review tests: :n generations (psql variable), one a
-- second apart ending now, trace ids from the row number, every 5th an error,
-- every 3rd with a thumbs-down, models alternating, a two-part output whose
-- first text part is "The sky is green. Water is wet."
INSERT INTO flywheel.generations (event_id, event_time, schema_version, environment, release,
    request_model, response_model, trace_id, conversation_id, tags, status, error_type,
    prompt_template, prompt_version, input_messages, output_messages, output_tokens, id_time)
SELECT md5('gen' || i)::uuid, now() - (i || ' seconds')::interval, 1,
       CASE WHEN i % 2 = 0 THEN 'prod' ELSE 'staging' END, 'r' || (i % 3),
       CASE WHEN i % 2 = 0 THEN 'model-a' ELSE 'model-b' END, 'model-x',
       md5('trace' || i), 'conv' || (i / 2), ARRAY['t' || (i % 4)],
       CASE WHEN i % 5 = 0 THEN 'error' ELSE 'ok' END,
       CASE WHEN i % 5 = 0 THEN 'timeout' END,
       'support', CASE WHEN i % 2 = 0 THEN '2' ELSE '1' END,
       jsonb_build_array(jsonb_build_object('role', 'user', 'parts',
           jsonb_build_array(jsonb_build_object('type', 'text', 'content', 'Question ' || i)))),
       jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts', jsonb_build_array(
           jsonb_build_object('type', 'text', 'content', 'The sky is green. Water is wet.'),
           jsonb_build_object('type', 'tool_call', 'id', 'c' || i, 'name', 'lookup',
                              'arguments', jsonb_build_object('q', i))))),
       i, flywheel.event_id_time(md5('gen' || i)::uuid)
FROM generate_series(1, :n) i;
INSERT INTO flywheel.feedback (event_id, event_time, schema_version, target_event_id, name,
                               value_type, bool_value)
SELECT md5('fb' || i)::uuid, now() - (i || ' seconds')::interval + interval '1 second', 1,
       md5('gen' || i)::uuid, 'thumbs', 'bool', false
FROM generate_series(3, :n, 3) i;
