-- R__50_web: functions of the web review server (`flywheel serve`), repeatable.
--
-- The server runs each request as the signed-in account's role (SET ROLE);
-- these functions give that role what the review functions do not: the
-- item it holds (to render the page again without a new claim) and its
-- queues with its own progress. Like the review functions they are
-- SECURITY DEFINER with a pinned search_path, take the caller from
-- flywheel.review_caller(NULL), and return only the caller's own data:
-- never another reviewer's label, never end-user feedback.

-- The caller's active claim on an item as the JSON review_claim returns,
-- plus `assignment_id` (the version a form must send back), `queue` and the
-- caller's saved draft (or null); NULL when the caller holds no active
-- claim on it in that queue (the page answers 404). Changes nothing.
CREATE OR REPLACE FUNCTION flywheel.web_item(queue text, item bigint)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
    r  text := flywheel.review_caller(NULL);
    a  flywheel.review_assignments;
    it flywheel.review_items;
    q  flywheel.review_queues;
BEGIN
    SELECT * INTO a FROM flywheel.review_assignments x
     WHERE x.item_id = item AND x.reviewer = r AND x.state = 'active'
     ORDER BY x.claimed_at DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO q FROM flywheel.review_queues x WHERE x.id = a.queue_id;
    IF q.name <> queue THEN
        RETURN NULL;
    END IF;
    SELECT * INTO it FROM flywheel.review_items x WHERE x.id = item;
    RETURN flywheel.review_item_json(it, q, a)
        || jsonb_build_object('assignment_id', a.id,
                              'lease_expired', a.lease_until <= clock_timestamp(),
                              'draft', (SELECT d.value FROM flywheel.review_drafts d
                                         WHERE d.reviewer = r AND d.item_id = item));
END
$fn$;

-- The caller's queues with the rubric's instructions and the caller's own
-- progress: labels submitted and items skipped in the queue, the item the
-- caller holds (if any), and the queue's open items (pending or in review).
CREATE OR REPLACE FUNCTION flywheel.web_my_queues()
RETURNS TABLE (queue text, description text, paused boolean, overlap integer,
               instructions text, submitted bigint, skipped bigint, holding bigint,
               open_items bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
    WITH me AS (SELECT flywheel.review_caller(NULL) AS r)
    SELECT q.name, q.description, q.paused, q.overlap, rb.definition->>'instructions',
           (SELECT count(*) FROM flywheel.review_assignments a, me
             WHERE a.queue_id = q.id AND a.reviewer = me.r AND a.state = 'submitted'),
           (SELECT count(*) FROM flywheel.review_assignments a, me
             WHERE a.queue_id = q.id AND a.reviewer = me.r AND a.state = 'skipped'),
           (SELECT a.item_id FROM flywheel.review_assignments a, me
             WHERE a.queue_id = q.id AND a.reviewer = me.r AND a.state = 'active'
               AND a.lease_until > clock_timestamp()
             ORDER BY a.claimed_at DESC LIMIT 1),
           (SELECT count(*) FROM flywheel.review_items i
             WHERE i.queue_id = q.id AND i.status IN ('pending', 'in_review'))
    FROM flywheel.review_queues q
    JOIN flywheel.review_rubrics rb ON rb.name = q.rubric_name AND rb.version = q.rubric_version
    ORDER BY q.name
$fn$;

-- The rubric and instructions of one queue (the guidelines page).
CREATE OR REPLACE FUNCTION flywheel.web_queue_rubric(queue text)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
    SELECT jsonb_build_object('queue', q.name, 'description', q.description,
                              'rubric', rb.definition)
    FROM flywheel.review_queues q
    JOIN flywheel.review_rubrics rb ON rb.name = q.rubric_name AND rb.version = q.rubric_version
    WHERE q.name = queue
$fn$;

REVOKE ALL ON FUNCTION flywheel.web_item(text, bigint), flywheel.web_my_queues(),
                       flywheel.web_queue_rubric(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flywheel.web_item(text, bigint), flywheel.web_my_queues(),
                          flywheel.web_queue_rubric(text) TO flywheel_reviewer, flywheel_admin;
