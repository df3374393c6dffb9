-- R__50_web: functions of the web review server (`flywheel serve`), repeatable.
--
-- The server runs each request as the signed-in account's role (SET ROLE);
-- these functions give that role what the review functions do not: the
-- item it holds (to render the page again without a new claim) and its
-- queues with its own progress. Like the review functions they are
-- SECURITY DEFINER with a pinned search_path, take the caller from
-- flywheel.review_caller(NULL), and return only the caller's own data:
-- never another reviewer's label, never end-user feedback.

-- review_queues.show_reviewer_names (V0039) says whether a queue shows
-- reviewers' names to its adjudicators.

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

-- ---------------------------------------------------------------------------
-- Adjudication, quality and history (adjudicators and admins; history: every
-- reviewer). The adjudicator's rights are these grants and nothing else: the
-- server checks no role of its own; a reviewer calling these gets 42501.
-- ---------------------------------------------------------------------------

-- Disputed items (labels disagree) ordered by lowest agreement first: the
-- item's worst field agreement (share of agreeing reviewer pairs, as in
-- flywheel.review_item_agreement) and the fields below 1. Also 'labelled'
-- and 'adjudicated' items when `include_settled`, for a second look.
CREATE OR REPLACE FUNCTION flywheel.web_disputes(queue text DEFAULT NULL, lim integer DEFAULT 200)
RETURNS TABLE (queue text, item_id bigint, status text, labels integer, agreement double precision,
               fields text[], completed_at timestamptz)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
    SELECT q.name, i.id, i.status, i.n_labels, a.agreement, a.fields, i.completed_at
    FROM flywheel.review_items i
    JOIN flywheel.review_queues q ON q.id = i.queue_id
    LEFT JOIN LATERAL (
        SELECT min(x.agreement) AS agreement,
               array_agg(x.field ORDER BY x.field) FILTER (WHERE x.agreement < 1) AS fields
        FROM flywheel.review_item_agreement x WHERE x.item_id = i.id) a ON true
    WHERE i.status = 'disputed' AND NOT i.is_gold
      AND (web_disputes.queue IS NULL OR q.name = web_disputes.queue)
    ORDER BY a.agreement NULLS FIRST, i.completed_at, i.id
    LIMIT lim
$fn$;

-- One finished item for adjudication: the item JSON of the review functions
-- (rubric, generation, generation_b) plus every reviewer's current label as
-- "Reviewer A", "B", ... in the order they were first submitted, with the
-- name only when the queue shows names (review_queues.show_reviewer_names),
-- the latest adjudication (value and note) and `version`, the newest label
-- id of the item (a form sends it back: a decision made on a page that did
-- not show every label is refused). NULL for an unknown item, a gold item or
-- one without labels.
CREATE OR REPLACE FUNCTION flywheel.web_dispute(item bigint)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
    it flywheel.review_items;
    q  flywheel.review_queues;
BEGIN
    SELECT * INTO it FROM flywheel.review_items x WHERE x.id = item;
    IF NOT FOUND OR it.is_gold OR it.n_labels = 0 THEN
        RETURN NULL;
    END IF;
    SELECT * INTO q FROM flywheel.review_queues x WHERE x.id = it.queue_id;
    RETURN flywheel.review_item_json(it, q, NULL::flywheel.review_assignments)
        || jsonb_build_object(
            'status', it.status,
            'show_names', q.show_reviewer_names,
            'version', (SELECT max(l.id) FROM flywheel.review_labels l WHERE l.item_id = item),
            'labels', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'alias', 'Reviewer ' || chr(64 + n::integer),
                               'reviewer', CASE WHEN q.show_reviewer_names THEN c.reviewer END,
                               'value', c.value, 'version', c.version) ORDER BY n), '[]'::jsonb)
                       FROM (SELECT c.*, row_number() OVER (ORDER BY f.first_at, c.reviewer) AS n
                             FROM flywheel.review_current_labels c
                             JOIN (SELECT l.reviewer, min(l.created_at) AS first_at
                                   FROM flywheel.review_labels l
                                   WHERE l.item_id = item AND NOT l.is_adjudication
                                   GROUP BY 1) f ON f.reviewer = c.reviewer
                             WHERE c.item_id = item) c),
            'decision', (SELECT jsonb_build_object('value', l.value, 'note', l.note,
                                                   'by', l.reviewer, 'at', l.created_at)
                         FROM flywheel.review_labels l
                         WHERE l.item_id = item AND l.is_adjudication
                         ORDER BY l.version DESC LIMIT 1));
END
$fn$;

-- The caller's labels, newest first, with the item's status: a label can be
-- edited (flywheel.review_revise) until its item is adjudicated.
CREATE OR REPLACE FUNCTION flywheel.web_my_history(lim integer DEFAULT 200)
RETURNS TABLE (queue text, item_id bigint, label_id bigint, version integer, status text,
               submitted_at timestamptz, editable boolean)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
    SELECT q.name, c.item_id, c.label_id, c.version, i.status, c.created_at,
           i.status <> 'adjudicated'
    FROM flywheel.review_current_labels c
    JOIN flywheel.review_items i ON i.id = c.item_id
    JOIN flywheel.review_queues q ON q.id = c.queue_id
    WHERE c.reviewer = flywheel.review_caller(NULL)
    ORDER BY c.created_at DESC, c.item_id DESC
    LIMIT lim
$fn$;

-- One of the caller's labelled items, to edit: the item JSON plus the
-- caller's current label (`label`, `label_id`: the version a form sends
-- back) and whether it may still be edited. NULL when the caller has no
-- label on it (another reviewer's item: the page answers 404). No other
-- reviewer's answer, as on the item page.
CREATE OR REPLACE FUNCTION flywheel.web_my_label(item bigint)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
    r  text := flywheel.review_caller(NULL);
    c  flywheel.review_current_labels;
    it flywheel.review_items;
    q  flywheel.review_queues;
BEGIN
    SELECT * INTO c FROM flywheel.review_current_labels x WHERE x.item_id = item AND x.reviewer = r;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO it FROM flywheel.review_items x WHERE x.id = item;
    SELECT * INTO q FROM flywheel.review_queues x WHERE x.id = it.queue_id;
    RETURN flywheel.review_item_json(it, q, NULL::flywheel.review_assignments)
        || jsonb_build_object('label', c.value, 'label_id', c.label_id, 'version', c.version,
                              'status', it.status, 'editable', it.status <> 'adjudicated',
                              'submitted_at', c.created_at);
END
$fn$;

REVOKE ALL ON FUNCTION flywheel.web_disputes(text, integer), flywheel.web_dispute(bigint),
                       flywheel.web_my_history(integer), flywheel.web_my_label(bigint)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flywheel.web_my_history(integer), flywheel.web_my_label(bigint)
    TO flywheel_reviewer, flywheel_admin;
-- Adjudicators: the disputes, the decision (review_adjudicate takes the
-- adjudicator from the session's role like every review function) and the
-- queue statistics of the quality page.
GRANT EXECUTE ON FUNCTION flywheel.web_disputes(text, integer), flywheel.web_dispute(bigint)
    TO flywheel_adjudicator, flywheel_admin;
GRANT EXECUTE ON FUNCTION flywheel.review_adjudicate(bigint, jsonb, text, text)
    TO flywheel_adjudicator;
GRANT SELECT ON flywheel.review_progress, flywheel.review_agreement,
                flywheel.review_gold_accuracy, flywheel.review_throughput,
                flywheel.review_time_per_item
    TO flywheel_adjudicator;

-- Changes a queue's settings from the admin page: the keys of
-- review_queue_create but "name" (description, rubric_version — a newer
-- version of the same rubric —, overlap, lease, skip_limit, gold_rate, rules,
-- priority, continuous) plus show_reviewer_names; keys not given keep their
-- value. SECURITY INVOKER: the UPDATE needs the caller's own privilege on
-- review_queues (flywheel_admin), so a reviewer gets 42501. Raises FR004 on
-- an unknown key or a bad value, FR005 for an unknown queue or rubric
-- version.
CREATE OR REPLACE FUNCTION flywheel.web_queue_update(queue text, spec jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    k text;
    q flywheel.review_queues;
BEGIN
    IF jsonb_typeof(spec) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'invalid queue: the settings must be a JSON object' USING ERRCODE = 'FR004';
    END IF;
    FOR k IN SELECT jsonb_object_keys(spec) LOOP
        IF k NOT IN ('description', 'rubric_version', 'overlap', 'lease', 'skip_limit', 'gold_rate',
                     'rules', 'priority', 'continuous', 'show_reviewer_names') THEN
            RAISE EXCEPTION 'invalid queue: key "%" cannot be changed', k
                USING ERRCODE = 'FR004',
                      HINT = 'Keys: description, rubric_version, overlap, lease, skip_limit, gold_rate, rules, priority, continuous, show_reviewer_names.';
        END IF;
    END LOOP;
    SELECT * INTO q FROM flywheel.review_queues x WHERE x.name = queue FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" does not exist', queue USING ERRCODE = 'FR005';
    END IF;
    IF spec ? 'rubric_version' AND NOT EXISTS (
        SELECT 1 FROM flywheel.review_rubrics r
        WHERE r.name = q.rubric_name AND r.version = (spec->>'rubric_version')::integer) THEN
        RAISE EXCEPTION 'rubric "%" version % does not exist', q.rubric_name, spec->>'rubric_version'
            USING ERRCODE = 'FR005';
    END IF;
    PERFORM flywheel.review_validate_queue_rules(coalesce(spec->'rules', q.rules),
                                                 coalesce(spec->'priority', q.priority));
    BEGIN
        UPDATE flywheel.review_queues x SET
            description = coalesce(spec->>'description', x.description),
            rubric_version = coalesce((spec->>'rubric_version')::integer, x.rubric_version),
            overlap = coalesce((spec->>'overlap')::integer, x.overlap),
            lease = coalesce((spec->>'lease')::interval, x.lease),
            skip_limit = coalesce((spec->>'skip_limit')::integer, x.skip_limit),
            gold_rate = coalesce((spec->>'gold_rate')::double precision, x.gold_rate),
            rules = coalesce(spec->'rules', x.rules),
            priority = coalesce(spec->'priority', x.priority),
            continuous = coalesce((spec->>'continuous')::boolean, x.continuous),
            show_reviewer_names = coalesce((spec->>'show_reviewer_names')::boolean,
                                           x.show_reviewer_names)
        WHERE x.id = q.id;
    EXCEPTION
        WHEN check_violation OR invalid_text_representation OR invalid_datetime_format
             OR datetime_field_overflow OR numeric_value_out_of_range THEN
            RAISE EXCEPTION 'invalid queue: %', SQLERRM
                USING ERRCODE = 'FR004',
                      HINT = 'overlap is 1..50, lease a positive interval, skip_limit >= 1, gold_rate 0..1.';
    END;
END
$fn$;
REVOKE ALL ON FUNCTION flywheel.web_queue_update(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flywheel.web_queue_update(text, jsonb) TO flywheel_admin;

-- ---------------------------------------------------------------------------
-- Web accounts (`flywheel reviewer` and the admin page /admin/reviewers).
-- One set of functions for both: the CLI and the page call the same SQL, as
-- the caller's own identity (flywheel.review_caller), and only members of
-- flywheel_admin (or a superuser) may execute them. Making, granting and
-- revoking roles needs CREATEROLE: these functions are SECURITY DEFINER and
-- run with the privileges of the role that ran `flywheel migrate` (the
-- schema owner), which therefore needs CREATEROLE (or is a superuser); a
-- function says so (FR007) instead of failing half-way. DDL names go
-- through format(%I) after the name rule below, never pasted.
--
-- Every change takes one transaction-level advisory lock, so two admins
-- cannot both disable "the other last admin" at once. Errors:
--   FR005  the account does not exist
--   FR007  the change is refused: a bad name or kind, an account that
--          already exists, a role that cannot be a web account, a disabled
--          account, the last enabled admin disabling or demoting itself,
--          an owner that may not create roles
-- ---------------------------------------------------------------------------

-- Refuses (FR007) what the web accounts' functions may not do: a name
-- outside the rule (the CLI's rule: lower case, digits, _ . -, up to 63,
-- starting with a letter, not pg_ or flywheel_) or an unknown kind, and any
-- change when the functions' owner cannot manage roles. Takes the lock.
CREATE OR REPLACE FUNCTION flywheel.web_account_check(name text, kind text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, flywheel
AS $fn$
BEGIN
    IF name IS NULL OR name !~ '^[a-z][a-z0-9_.-]{0,62}$' OR name ~ '^(pg_|flywheel_)' THEN
        RAISE EXCEPTION 'invalid account name "%"', coalesce(name, '')
            USING ERRCODE = 'FR007',
                  HINT = 'Use up to 63 lower-case letters, digits, "_", "." or "-", starting with a letter, not starting with pg_ or flywheel_.';
    END IF;
    IF kind IS NOT NULL AND kind NOT IN ('reviewer', 'adjudicator', 'admin') THEN
        RAISE EXCEPTION 'invalid account role "%"', kind
            USING ERRCODE = 'FR007', HINT = 'Use reviewer, adjudicator or admin.';
    END IF;
    IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'role "%" may not create roles, so it cannot manage web accounts', current_user
            USING ERRCODE = 'FR007',
                  DETAIL = 'The account functions run with the privileges of the role that ran flywheel migrate.',
                  HINT = format('As a superuser: ALTER ROLE %I CREATEROLE', current_user);
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('flywheel.web_accounts'));
END
$fn$;

-- True when who is directly a member of grp (not through another role).
CREATE OR REPLACE FUNCTION flywheel.web_account_member(who text, grp text)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, flywheel
AS $fn$
    SELECT EXISTS (SELECT 1 FROM pg_auth_members m
                   JOIN pg_roles g ON g.oid = m.roleid
                   JOIN pg_roles u ON u.oid = m.member
                   WHERE g.rolname = grp AND u.rolname = who)
$fn$;

-- Makes the memberships of the account's role exactly what kind says:
-- flywheel_reviewer always, plus flywheel_adjudicator or flywheel_admin.
-- Grants only what is missing (no notices for what is already there).
CREATE OR REPLACE FUNCTION flywheel.web_account_grant_kind(name text, kind text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    k text;
BEGIN
    FOREACH k IN ARRAY ARRAY['flywheel_reviewer', 'flywheel_adjudicator', 'flywheel_admin'] LOOP
        IF k IN ('flywheel_reviewer', 'flywheel_' || kind) THEN
            IF NOT flywheel.web_account_member(name, k) THEN
                EXECUTE format('GRANT %I TO %I', k, name);
            END IF;
        ELSIF flywheel.web_account_member(name, k) THEN
            EXECUTE format('REVOKE %I FROM %I', k, name);
        END IF;
    END LOOP;
END
$fn$;

-- Refuses (FR007) a role the server's login must never be able to become:
-- one with SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS.
CREATE OR REPLACE FUNCTION flywheel.web_account_check_role(name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, flywheel
AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = name
               AND (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication
                    OR r.rolbypassrls)) THEN
        RAISE EXCEPTION 'role "%" cannot be a web account', name
            USING ERRCODE = 'FR007',
                  DETAIL = 'A web account''s role has none of SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS.';
    END IF;
END
$fn$;

-- Issues a one-time sign-in token for an enabled account: token_hash is
-- the SHA-256 of a random token the caller made and keeps (only the hash is
-- stored), valid for ttl_minutes (1..10080).
CREATE OR REPLACE FUNCTION flywheel.web_account_link(name text, token_hash bytea,
                                                     ttl_minutes integer DEFAULT 60)
RETURNS timestamptz
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    a flywheel.web_accounts;
    until timestamptz;
BEGIN
    PERFORM flywheel.web_account_check(name, NULL);
    IF ttl_minutes IS NULL OR ttl_minutes < 1 OR ttl_minutes > 10080 THEN
        RAISE EXCEPTION 'invalid link lifetime: % minutes', ttl_minutes
            USING ERRCODE = 'FR007', HINT = 'Minutes, from 1 to 10080 (a week).';
    END IF;
    SELECT * INTO a FROM flywheel.web_accounts x WHERE x.name = web_account_link.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account "%" does not exist', name
            USING ERRCODE = 'FR005', HINT = 'Add it first.';
    END IF;
    IF a.disabled_at IS NOT NULL THEN
        RAISE EXCEPTION 'account "%" is disabled', name
            USING ERRCODE = 'FR007', HINT = 'Enable it first.';
    END IF;
    until := now() + make_interval(mins => ttl_minutes);
    INSERT INTO flywheel.web_signin_tokens (token_hash, account, expires_at)
    VALUES (web_account_link.token_hash, a.name, until);
    RETURN until;
END
$fn$;

-- Adds an account: creates its role NOLOGIN unless it exists (an existing
-- role must already be in flywheel_reviewer and pass the role check), gives
-- it kind's memberships, grants it to flywheel_web (the server's login may
-- switch to it), records it and issues its first sign-in token as
-- web_account_link does.
CREATE OR REPLACE FUNCTION flywheel.web_account_add(name text, kind text, token_hash bytea,
                                                    ttl_minutes integer DEFAULT 60)
RETURNS timestamptz
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
BEGIN
    PERFORM flywheel.web_account_check(name, coalesce(kind, ''));
    IF EXISTS (SELECT 1 FROM flywheel.web_accounts x WHERE x.name = web_account_add.name) THEN
        RAISE EXCEPTION 'account "%" already exists', name
            USING ERRCODE = 'FR007', HINT = 'Issue a new sign-in link for it instead.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = name) THEN
        PERFORM flywheel.web_account_check_role(name);
        IF NOT pg_has_role(name, 'flywheel_reviewer', 'MEMBER') THEN
            RAISE EXCEPTION 'role "%" exists and cannot be a web account', name
                USING ERRCODE = 'FR007',
                      DETAIL = 'An existing role must already be a member of flywheel_reviewer.',
                      HINT = format('Choose another name, or GRANT flywheel_reviewer TO %I first.', name);
        END IF;
    ELSE
        EXECUTE format('CREATE ROLE %I NOLOGIN', name);
    END IF;
    PERFORM flywheel.web_account_grant_kind(name, kind);
    IF NOT flywheel.web_account_member('flywheel_web', name) THEN
        EXECUTE format('GRANT %I TO flywheel_web', name);
    END IF;
    INSERT INTO flywheel.web_accounts (name, kind, created_by)
    VALUES (web_account_add.name, kind, flywheel.review_caller(NULL));
    RETURN flywheel.web_account_link(name, token_hash, ttl_minutes);
END
$fn$;

-- True when the caller is the account and no other enabled admin account
-- is left: disabling or demoting it would leave nobody to manage accounts
-- in the browser.
CREATE OR REPLACE FUNCTION flywheel.web_account_last_admin(a flywheel.web_accounts)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, flywheel
AS $fn$
    SELECT a.kind = 'admin' AND a.disabled_at IS NULL
       AND a.name = flywheel.review_caller(NULL)
       AND NOT EXISTS (SELECT 1 FROM flywheel.web_accounts x
                       WHERE x.kind = 'admin' AND x.disabled_at IS NULL AND x.name <> a.name)
$fn$;

-- Disables an account: its sessions and unused links end, its role is
-- revoked from flywheel_web; the role and its labels stay. Disabling a
-- disabled account changes nothing. Returns whether it was enabled.
CREATE OR REPLACE FUNCTION flywheel.web_account_disable(name text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    a flywheel.web_accounts;
BEGIN
    PERFORM flywheel.web_account_check(name, NULL);
    SELECT * INTO a FROM flywheel.web_accounts x WHERE x.name = web_account_disable.name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account "%" does not exist', name USING ERRCODE = 'FR005';
    END IF;
    IF a.disabled_at IS NOT NULL THEN
        RETURN false;
    END IF;
    IF flywheel.web_account_last_admin(a) THEN
        RAISE EXCEPTION 'cannot disable account "%": it is the last enabled admin', name
            USING ERRCODE = 'FR007',
                  DETAIL = 'Nobody could manage accounts in the browser any more.',
                  HINT = 'Make another account an admin first.';
    END IF;
    UPDATE flywheel.web_accounts x SET disabled_at = now() WHERE x.name = a.name;
    DELETE FROM flywheel.web_sessions s WHERE s.account = a.name;
    DELETE FROM flywheel.web_signin_tokens t WHERE t.account = a.name AND t.used_at IS NULL;
    IF flywheel.web_account_member('flywheel_web', a.name) THEN
        EXECUTE format('REVOKE %I FROM flywheel_web', a.name);
    END IF;
    RETURN true;
END
$fn$;

-- Enables a disabled account again (its role passes the role check again
-- first: it may have been changed meanwhile). Enabling an enabled account
-- changes nothing. Returns whether it was disabled. It needs a new link to
-- sign in.
CREATE OR REPLACE FUNCTION flywheel.web_account_enable(name text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    a flywheel.web_accounts;
BEGIN
    PERFORM flywheel.web_account_check(name, NULL);
    SELECT * INTO a FROM flywheel.web_accounts x WHERE x.name = web_account_enable.name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account "%" does not exist', name USING ERRCODE = 'FR005';
    END IF;
    IF a.disabled_at IS NULL THEN
        RETURN false;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = a.name) THEN
        RAISE EXCEPTION 'role "%" of account "%" no longer exists', a.name, a.name
            USING ERRCODE = 'FR007';
    END IF;
    PERFORM flywheel.web_account_check_role(a.name);
    PERFORM flywheel.web_account_grant_kind(a.name, a.kind);
    IF NOT flywheel.web_account_member('flywheel_web', a.name) THEN
        EXECUTE format('GRANT %I TO flywheel_web', a.name);
    END IF;
    UPDATE flywheel.web_accounts x SET disabled_at = NULL WHERE x.name = a.name;
    RETURN true;
END
$fn$;

-- Changes an account's kind (reviewer, adjudicator, admin) and its role's
-- memberships with it; open sessions act with the new rights on their next
-- request. Returns the previous kind.
CREATE OR REPLACE FUNCTION flywheel.web_account_set_kind(name text, kind text)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    a flywheel.web_accounts;
BEGIN
    PERFORM flywheel.web_account_check(name, coalesce(kind, ''));
    SELECT * INTO a FROM flywheel.web_accounts x WHERE x.name = web_account_set_kind.name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account "%" does not exist', name USING ERRCODE = 'FR005';
    END IF;
    IF a.kind = kind THEN
        RETURN a.kind;
    END IF;
    IF flywheel.web_account_last_admin(a) THEN
        RAISE EXCEPTION 'cannot make account "%" %: it is the last enabled admin', name,
                        CASE kind WHEN 'adjudicator' THEN 'an adjudicator' ELSE 'a reviewer' END
            USING ERRCODE = 'FR007',
                  DETAIL = 'Nobody could manage accounts in the browser any more.',
                  HINT = 'Make another account an admin first.';
    END IF;
    PERFORM flywheel.web_account_grant_kind(a.name, kind);
    UPDATE flywheel.web_accounts x SET kind = web_account_set_kind.kind WHERE x.name = a.name;
    RETURN a.kind;
END
$fn$;

-- The accounts with their kind, creation, state and sessions.
CREATE OR REPLACE FUNCTION flywheel.web_account_list()
RETURNS TABLE (name text, kind text, created_at timestamptz, created_by text,
               disabled_at timestamptz, last_seen timestamptz, sessions bigint)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, flywheel
AS $fn$
    SELECT a.name, a.kind, a.created_at, a.created_by, a.disabled_at, max(s.last_seen),
           count(s.*)
    FROM flywheel.web_accounts a LEFT JOIN flywheel.web_sessions s ON s.account = a.name
    GROUP BY a.name, a.kind, a.created_at, a.created_by, a.disabled_at
    ORDER BY a.name
$fn$;

REVOKE ALL ON FUNCTION flywheel.web_account_check(text, text),
                       flywheel.web_account_member(text, text),
                       flywheel.web_account_grant_kind(text, text),
                       flywheel.web_account_check_role(text),
                       flywheel.web_account_last_admin(flywheel.web_accounts),
                       flywheel.web_account_link(text, bytea, integer),
                       flywheel.web_account_add(text, text, bytea, integer),
                       flywheel.web_account_disable(text),
                       flywheel.web_account_enable(text),
                       flywheel.web_account_set_kind(text, text),
                       flywheel.web_account_list()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flywheel.web_account_link(text, bytea, integer),
                          flywheel.web_account_add(text, text, bytea, integer),
                          flywheel.web_account_disable(text),
                          flywheel.web_account_enable(text),
                          flywheel.web_account_set_kind(text, text),
                          flywheel.web_account_list()
    TO flywheel_admin;
