-- Review activity for the dashboard tests, on top of seed.sql, through the
-- review functions themselves (as a superuser acting for named reviewers):
-- a rubric with boolean, category and number fields, two queues (overlap 2
-- and 1), items filled from the last day, and three reviewers labelling
-- part of them with some disagreement.
SELECT flywheel.review_rubric_create('dash_quality',
    '{"fields": [{"name": "correct", "type": "boolean", "required": true},
                 {"name": "tone", "type": "category", "values": ["ok", "rude", "vague"]},
                 {"name": "score", "type": "number", "min": 1, "max": 5}]}');
SELECT flywheel.review_queue_create(
    '{"name": "dash_errors", "rubric": "dash_quality", "overlap": 2,
      "rules": {"max_age": "1 day", "sample": {"rate": 0.05, "seed": 7}}}');
SELECT flywheel.review_queue_create(
    '{"name": "dash_sample", "rubric": "dash_quality", "overlap": 1, "gold_rate": 0.2,
      "rules": {"max_age": "1 day", "sample": {"rate": 0.03, "seed": 3}}}');
SELECT flywheel.review_fill('dash_errors');
SELECT flywheel.review_fill('dash_sample');
-- Gold items (known answers) mixed into dash_sample's claims.
SELECT flywheel.review_add_gold('dash_sample', g.event_id,
                                '{"correct": true, "tone": "ok", "score": 4}')
FROM (SELECT event_id FROM flywheel.generations
      WHERE event_time > now() - interval '12 hours' AND status = 'ok'
      ORDER BY event_id LIMIT 6) g;

DO $seed$
DECLARE
    q     text;
    rv    text;
    item  jsonb;
    n     integer;
    k     integer := 0;
BEGIN
    FOREACH q IN ARRAY ARRAY['dash_errors', 'dash_sample'] LOOP
        FOREACH rv IN ARRAY ARRAY['alice', 'bob', 'carol'] LOOP
            FOR n IN 1..40 LOOP
                item := flywheel.review_claim(q, rv);
                EXIT WHEN item IS NULL;
                k := k + 1;
                PERFORM flywheel.review_submit((item->>'item_id')::bigint,
                    jsonb_build_object(
                        'correct', ((item->>'item_id')::bigint % 4 <> 0)
                                   <> (rv = 'bob' AND (item->>'item_id')::bigint % 5 = 0),
                        'tone', (ARRAY['ok', 'ok', 'vague', 'rude'])[1 + ((item->>'item_id')::bigint
                                 + (rv = 'carol')::int) % 4],
                        'score', 1 + ((item->>'item_id')::bigint + (rv = 'bob')::int) % 5),
                    rv);
            END LOOP;
        END LOOP;
    END LOOP;
END
$seed$;
