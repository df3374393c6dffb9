-- Data for the upgrade test, written against the legacy layout (the
-- migrations in tests/migrations/legacy): events on several days and in the
-- default partition, feedback, a dead letter, offsets, a review queue worked
-- through the review functions (labels, a revision, a skip, an adjudication,
-- a live lease) and a recorded dataset version. Kept here, frozen, because
-- it must keep loading into the old schema whatever the store becomes.
INSERT INTO flywheel.generations (event_id, event_time, schema_version, project, environment,
    release, request_model, response_model, trace_id, conversation_id, tags, status, error_type,
    input_messages, output_messages, output_tokens, attributes)
SELECT md5('upgrade-gen' || i)::uuid,
       CASE WHEN i % 10 = 0 THEN timestamptz '2031-03-01 12:00:00+00' + (i || ' seconds')::interval
            ELSE now() - (i || ' minutes')::interval END,
       1, 'shop', CASE WHEN i % 2 = 0 THEN 'prod' ELSE 'staging' END, 'r' || (i % 3),
       CASE WHEN i % 2 = 0 THEN 'model-a' ELSE 'model-b' END, 'model-x',
       md5('upgrade-trace' || i), 'conv' || (i / 2), ARRAY['t' || (i % 4)],
       CASE WHEN i % 7 = 0 THEN 'error' ELSE 'ok' END, CASE WHEN i % 7 = 0 THEN 'timeout' END,
       jsonb_build_array(jsonb_build_object('role', 'user', 'parts',
           jsonb_build_array(jsonb_build_object('type', 'text', 'content', 'Question ' || i || ' é 漢字')))),
       jsonb_build_array(jsonb_build_object('role', 'assistant', 'parts',
           jsonb_build_array(jsonb_build_object('type', 'text', 'content', 'Answer ' || i || '. Second sentence.')))),
       i, jsonb_build_object('n', i)
FROM generate_series(1, 60) i;
INSERT INTO flywheel.feedback (event_id, event_time, schema_version, target_event_id, name,
                               value_type, bool_value, comment)
SELECT md5('upgrade-fb' || i)::uuid, now() - (i || ' minutes')::interval + interval '5 seconds', 1,
       md5('upgrade-gen' || i)::uuid, 'thumbs', 'bool', i % 2 = 0, 'comment ' || i
FROM generate_series(3, 60, 3) i;
INSERT INTO flywheel.dead_letters (consumer_group, topic, partition, "offset", reason, detail, payload)
VALUES ('flywheel-collector', 'flywheel.events', 2, 17, 'undecodable', 'truncated message', '\x0a0b0c');
INSERT INTO flywheel.ingest_offsets (consumer_group, topic, partition, next_offset)
VALUES ('flywheel-collector', 'flywheel.events', 0, 120), ('flywheel-collector', 'flywheel.events', 2, 18);

SELECT flywheel.review_rubric_create('upgrade',
    '{"fields":[{"name":"correct","type":"boolean","required":true},
                {"name":"score","type":"number","min":1,"max":5},
                {"name":"topic","type":"category","values":["a","b"]}]}');
SELECT flywheel.review_queue_create(
    '{"name":"upq","rubric":"upgrade","rubric_version":1,"overlap":2,"rules":{"models":["model-a"]}}');
SELECT flywheel.review_fill('upq');

DO $$
DECLARE
    j jsonb;
    n integer := 0;
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['alice', 'bob'] LOOP
        n := 0;
        LOOP
            j := flywheel.review_claim('upq', r);
            EXIT WHEN j IS NULL;
            n := n + 1;
            IF r = 'bob' AND n = 2 THEN
                PERFORM flywheel.review_skip((j->>'item_id')::bigint, 'not sure', r);
            ELSIF r = 'bob' AND n = 3 THEN
                PERFORM flywheel.review_submit((j->>'item_id')::bigint,
                    '{"correct":false,"score":2,"topic":"b"}', r);
            ELSE
                PERFORM flywheel.review_submit((j->>'item_id')::bigint,
                    jsonb_build_object('correct', true, 'score', 1 + n % 5, 'topic', 'a'), r);
            END IF;
        END LOOP;
    END LOOP;
    -- a revision, an adjudication, and a lease left open
    PERFORM flywheel.review_revise(
        (SELECT min(item_id) FROM flywheel.review_labels WHERE reviewer = 'alice'),
        '{"correct":true,"score":5,"topic":"b"}', 'alice');
    PERFORM flywheel.review_adjudicate(
        (SELECT min(id) FROM flywheel.review_items WHERE status = 'disputed'),
        '{"correct":false,"score":1}', 'settled', 'lead');
END
$$;
SELECT flywheel.review_queue_create(
    '{"name":"open","rubric":"upgrade","rubric_version":1,"rules":{"models":["model-b"]}}');
SELECT flywheel.review_fill('open');
SELECT flywheel.review_claim('open', 'carol');

INSERT INTO flywheel.datasets (name) VALUES ('upset');
INSERT INTO flywheel.dataset_versions (dataset, version, format, parameters)
VALUES ('upset', 1, 'chat', '{"queue":"upq"}');
INSERT INTO flywheel.dataset_members (dataset, version, event_id, event_time, item_id, label_ids)
SELECT 'upset', 1, i.event_id, i.event_time, i.id,
       ARRAY(SELECT l.id FROM flywheel.review_labels l WHERE l.item_id = i.id ORDER BY l.id)
FROM flywheel.review_items i JOIN flywheel.review_queues q ON q.id = i.queue_id
WHERE q.name = 'upq' AND i.status IN ('labelled', 'adjudicated');
UPDATE flywheel.dataset_versions SET manifest = '{"files":{}}', members = 3
WHERE dataset = 'upset' AND version = 1;
