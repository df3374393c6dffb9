-- Test data for the quality page and the trace view, after dash_seed.sql
-- (same :'end'): feedback on the dash generations (thumbs on every fourth,
-- a score on every fifth, a correction with a comment on every tenth, one
-- orphan), and one agent conversation of three calls with a tool call and
-- its result, an XSS fixture in the model's text and feedback by response
-- id; it is the window's slowest and most expensive conversation.
INSERT INTO flywheel.feedback (event_id, event_time, schema_version, project, environment,
    release, target_event_id, name, value_type, bool_value, source, author_id)
SELECT md5('dfb-thumb' || i)::uuid,
       :'end'::timestamptz - (i * 7 || ' minutes')::interval + interval '1 minute', 1,
       CASE WHEN i % 5 = 0 THEN 'billing' ELSE 'shop' END,
       CASE WHEN i % 3 = 0 THEN 'staging' ELSE 'prod' END, 'r' || (i % 2 + 1),
       md5('dash' || i)::uuid, 'thumbs', 'bool', i % 3 <> 1, 'end_user', 'user' || (i % 7)
FROM generate_series(0, 299, 4) i;

INSERT INTO flywheel.feedback (event_id, event_time, schema_version, project, environment,
    release, target_event_id, name, value_type, number_value, source)
SELECT md5('dfb-score' || i)::uuid,
       :'end'::timestamptz - (i * 7 || ' minutes')::interval + interval '2 minutes', 1,
       CASE WHEN i % 5 = 0 THEN 'billing' ELSE 'shop' END,
       CASE WHEN i % 3 = 0 THEN 'staging' ELSE 'prod' END, 'r' || (i % 2 + 1),
       md5('dash' || i)::uuid, 'rating', 'number', 1 + (i / 5) % 5, 'end_user'
FROM generate_series(0, 299, 5) i;

INSERT INTO flywheel.feedback (event_id, event_time, schema_version, project, environment,
    release, target_event_id, name, value_type, bool_value, comment, correction, source)
SELECT md5('dfb-fix' || i)::uuid,
       :'end'::timestamptz - (i * 7 || ' minutes')::interval + interval '3 minutes', 1,
       CASE WHEN i % 5 = 0 THEN 'billing' ELSE 'shop' END,
       CASE WHEN i % 3 = 0 THEN 'staging' ELSE 'prod' END, 'r' || (i % 2 + 1),
       md5('dash' || i)::uuid, 'fix', 'bool', false, 'Wrong <i>answer</i> ' || i,
       jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts', jsonb_build_array(
           jsonb_build_object('type', 'text', 'content', 'Corrected answer ' || i)))),
       'reviewer'
FROM generate_series(0, 299, 10) i;

-- an orphan: its generation is not in the store
INSERT INTO flywheel.feedback (event_id, event_time, schema_version, project, environment,
    target_event_id, name, value_type, bool_value)
VALUES (md5('dfb-orphan')::uuid, :'end'::timestamptz - interval '20 minutes', 1, 'shop', 'prod',
        md5('not-stored')::uuid, 'thumbs', 'bool', true);

-- the agent conversation: three calls, the second asks a tool, the third
-- answers with its result
INSERT INTO flywheel.generations (event_id, event_time, schema_version, project, environment,
    provider_name, request_model, response_model, release, status, duration_ms, ttft_ms,
    input_tokens, output_tokens, cost_micro_usd, prompt_template, prompt_version,
    conversation_id, trace_id, response_id, system_instructions, input_messages,
    output_messages, id_time)
SELECT md5('dagent' || i)::uuid, :'end'::timestamptz - interval '50 minutes' + (i || ' minutes')::interval,
       1, 'shop', 'prod', 'openai', 'gpt-x', 'gpt-x', 'r2', 'ok', 5000 + i * 1000, 400 + i * 10,
       1000 * i, 200, 900000 + i, 'agent', '3', 'dconv-agent', md5('dagent-trace'),
       'resp-agent-' || i, 'You are the ACME agent. Secret system prompt.',
       CASE i
         WHEN 1 THEN jsonb_build_array(jsonb_build_object('role', 'user', 'parts', jsonb_build_array(
             jsonb_build_object('type', 'text', 'content', 'Where is my order 42?'))))
         WHEN 2 THEN jsonb_build_array(
             jsonb_build_object('role', 'user', 'parts', jsonb_build_array(
                 jsonb_build_object('type', 'text', 'content', 'Where is my order 42?'))),
             jsonb_build_object('role', 'assistant', 'parts', jsonb_build_array(
                 jsonb_build_object('type', 'text', 'content', 'Let me look that up.'))),
             jsonb_build_object('role', 'user', 'parts', jsonb_build_array(
                 jsonb_build_object('type', 'text', 'content', 'Please hurry.'))))
         ELSE jsonb_build_array(
             jsonb_build_object('role', 'user', 'parts', jsonb_build_array(
                 jsonb_build_object('type', 'text', 'content', 'Where is my order 42?'))),
             jsonb_build_object('role', 'assistant', 'parts', jsonb_build_array(
                 jsonb_build_object('type', 'text', 'content', 'Let me look that up.'))),
             jsonb_build_object('role', 'user', 'parts', jsonb_build_array(
                 jsonb_build_object('type', 'text', 'content', 'Please hurry.'))),
             jsonb_build_object('role', 'assistant', 'parts', jsonb_build_array(
                 jsonb_build_object('type', 'tool_call', 'id', 'call_7', 'name', 'track_order',
                                    'arguments', jsonb_build_object('order', 42)))),
             jsonb_build_object('role', 'tool', 'parts', jsonb_build_array(
                 jsonb_build_object('type', 'tool_call_response', 'id', 'call_7',
                                    'response', jsonb_build_object('status', 'shipped')))))
       END,
       CASE i
         WHEN 1 THEN jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts',
             jsonb_build_array(jsonb_build_object('type', 'text', 'content', 'Let me look that up.'))))
         WHEN 2 THEN jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts',
             jsonb_build_array(jsonb_build_object('type', 'tool_call', 'id', 'call_7',
                 'name', 'track_order', 'arguments', jsonb_build_object('order', 42)))))
         ELSE jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts', jsonb_build_array(
             jsonb_build_object('type', 'text', 'content',
                 'Order 42 has shipped. <script>alert("agent")</script> <b>Thanks</b>'))))
       END,
       flywheel.event_id_time(md5('dagent' || i)::uuid)
FROM generate_series(1, 3) i;

INSERT INTO flywheel.feedback (event_id, event_time, schema_version, project, environment,
    target_response_id, name, value_type, bool_value, comment, source)
VALUES (md5('dfb-agent')::uuid, :'end'::timestamptz - interval '40 minutes', 1, 'shop', 'prod',
        'resp-agent-3', 'thumbs', 'bool', true, 'Fast <em>enough</em>', 'end_user');
