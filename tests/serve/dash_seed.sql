-- Test data for the dashboard tests: 300 generations, one every 7 minutes
-- before :'end' (about 35 hours), over three models, two providers, two
-- environments, two releases and two projects, with errors, latencies,
-- time to first token, tokens and cost that vary with i; feedback on some.
INSERT INTO flywheel.generations (event_id, event_time, schema_version, project, environment,
    provider_name, request_model, response_model, release, status, error_type, duration_ms,
    ttft_ms, input_tokens, output_tokens, cost_micro_usd, prompt_template, prompt_version,
    conversation_id, input_messages, output_messages, id_time)
SELECT md5('dash' || i)::uuid, :'end'::timestamptz - (i * 7 || ' minutes')::interval - interval '30 seconds', 1,
       CASE WHEN i % 5 = 0 THEN 'billing' ELSE 'shop' END,
       CASE WHEN i % 3 = 0 THEN 'staging' ELSE 'prod' END,
       CASE WHEN i % 2 = 0 THEN 'openai' ELSE 'anthropic' END,
       CASE i % 4 WHEN 0 THEN 'gpt-x' WHEN 1 THEN 'claude-y' ELSE 'mini' END,
       CASE WHEN i % 9 = 0 THEN '' ELSE CASE i % 4 WHEN 0 THEN 'gpt-x' WHEN 1 THEN 'claude-y' ELSE 'mini' END END,
       'r' || (i % 2 + 1),
       CASE WHEN i % 9 = 0 THEN 'error' ELSE 'ok' END,
       CASE WHEN i % 9 = 0 THEN CASE WHEN i % 2 = 0 THEN 'timeout' ELSE 'rate_limit' END END,
       100 + (i * 37) % 900 + (i % 7) * 0.25, CASE WHEN i % 6 = 0 THEN NULL ELSE 20 + (i * 13) % 200 END,
       100 + i, 50 + i % 30, 1000 * i + 7,
       'support', CASE WHEN i % 2 = 0 THEN '7' ELSE '8' END, 'dconv' || i,
       jsonb_build_array(jsonb_build_object('role', 'user', 'parts', jsonb_build_array(
           jsonb_build_object('type', 'text', 'content', 'Dash question ' || i || ' <b>bold</b>')))),
       jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts', jsonb_build_array(
           jsonb_build_object('type', 'text', 'content', 'Dash answer ' || i)))),
       flywheel.event_id_time(md5('dash' || i)::uuid)
FROM generate_series(0, 299) i;
