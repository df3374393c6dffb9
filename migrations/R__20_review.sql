-- R__20_review: the review queue's functions and views (repeatable).
--
-- The model, identity rules and error codes are described in
-- V0003__review_queue.sql, which holds the tables. This file is re-applied
-- whenever it changes and after any versioned migration, so every statement
-- is idempotent: CREATE OR REPLACE, grants. A fix to a function is an edit
-- here. A changed signature or view column list needs an explicit DROP ...
-- IF EXISTS before the new definition.

-- Append-only and immutable tables: refuse UPDATE and DELETE outright.
CREATE OR REPLACE FUNCTION flywheel.review_refuse_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, flywheel
AS $fn$
BEGIN
    RAISE EXCEPTION '% on %.% is not allowed', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'Labels are append-only and rubric versions are immutable.',
              HINT = 'Revise a label with flywheel.review_revise(); change a rubric by creating a new version.';
END
$fn$;
CREATE OR REPLACE TRIGGER review_labels_append_only BEFORE UPDATE OR DELETE ON flywheel.review_labels
    FOR EACH ROW EXECUTE FUNCTION flywheel.review_refuse_change();
CREATE OR REPLACE TRIGGER review_rubrics_immutable BEFORE UPDATE OR DELETE ON flywheel.review_rubrics
    FOR EACH ROW EXECUTE FUNCTION flywheel.review_refuse_change();

-- ---------------------------------------------------------------------------
-- Identity
-- ---------------------------------------------------------------------------

-- The reviewer name a call acts as: the session user (or the role the
-- session switched to with SET ROLE), or `explicit` when that role is a
-- superuser or a member of flywheel_admin. Raises 42501 when anyone else
-- names another reviewer.
CREATE OR REPLACE FUNCTION flywheel.review_caller(explicit text)
RETURNS text
LANGUAGE plpgsql
STABLE
AS $fn$
DECLARE
    -- A session that switched role with SET ROLE acts as that role (the web
    -- server runs each request as the signed-in account this way).
    -- PostgreSQL lets a session switch only to roles its login is a member
    -- of, so the setting cannot be forged; it is 'none' otherwise.
    su text := CASE WHEN current_setting('role') <> 'none' THEN current_setting('role')
                    ELSE session_user END;
BEGIN
    IF explicit IS NULL OR explicit = '' OR explicit = su THEN
        RETURN su;
    END IF;
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = su)
       OR pg_has_role(su, 'flywheel_admin', 'MEMBER') THEN
        RETURN explicit;
    END IF;
    RAISE EXCEPTION 'role "%" cannot act as reviewer "%"', su, explicit
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'Reviewers always act as their own login role.',
              HINT = 'Omit the reviewer argument, or connect as a member of flywheel_admin.';
END
$fn$;

-- ---------------------------------------------------------------------------
-- Rubrics
-- ---------------------------------------------------------------------------

-- Checks a rubric definition; raises FR001 naming the offending field.
--   {"instructions": "...", "fields": [{"name": "...", "type": "...",
--     "required": bool, "label": "...", "instructions": "...", ...type keys}]}
-- Types and their keys: boolean; category {values}; number {min, max, step};
-- text {max_length}; correction; pairwise; span {categories, unmarked}.
CREATE OR REPLACE FUNCTION flywheel.review_validate_rubric(def jsonb)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $fn$
DECLARE
    f       jsonb;
    fname   text;
    ftype   text;
    k       text;
    seen    text[] := '{}';
    allowed text[];
    problem text;
BEGIN
    IF def IS NULL OR jsonb_typeof(def) <> 'object' THEN
        RAISE EXCEPTION 'invalid rubric: the definition must be a JSON object'
            USING ERRCODE = 'FR001';
    END IF;
    FOR k IN SELECT jsonb_object_keys(def) LOOP
        IF k NOT IN ('instructions', 'fields', 'description') THEN
            RAISE EXCEPTION 'invalid rubric: unknown key "%"', k
                USING ERRCODE = 'FR001', HINT = 'A rubric has "instructions", "description" and "fields".';
        END IF;
    END LOOP;
    IF def ? 'instructions' AND jsonb_typeof(def->'instructions') <> 'string' THEN
        RAISE EXCEPTION 'invalid rubric: "instructions" must be a string' USING ERRCODE = 'FR001';
    END IF;
    IF jsonb_typeof(def->'fields') IS DISTINCT FROM 'array' OR jsonb_array_length(def->'fields') = 0 THEN
        RAISE EXCEPTION 'invalid rubric: "fields" must be a non-empty array' USING ERRCODE = 'FR001';
    END IF;
    FOR f IN SELECT * FROM jsonb_array_elements(def->'fields') LOOP
        IF jsonb_typeof(f) <> 'object' THEN
            RAISE EXCEPTION 'invalid rubric: each field must be an object' USING ERRCODE = 'FR001';
        END IF;
        fname := f->>'name';
        IF jsonb_typeof(f->'name') IS DISTINCT FROM 'string' OR fname !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
            RAISE EXCEPTION 'invalid rubric: field name % is not valid', coalesce(f->'name', 'null')
                USING ERRCODE = 'FR001',
                      HINT = 'Field names are lower-case letters, digits and underscores, starting with a letter or underscore.';
        END IF;
        IF fname = ANY(seen) THEN
            RAISE EXCEPTION 'invalid rubric: field "%" is defined twice', fname USING ERRCODE = 'FR001';
        END IF;
        seen := seen || fname;
        ftype := f->>'type';
        allowed := ARRAY['name', 'type', 'required', 'label', 'instructions'];
        CASE ftype
        WHEN 'boolean', 'correction', 'pairwise' THEN NULL;
        WHEN 'category' THEN allowed := allowed || ARRAY['values'];
        WHEN 'number' THEN allowed := allowed || ARRAY['min', 'max', 'step'];
        WHEN 'text' THEN allowed := allowed || ARRAY['max_length'];
        WHEN 'span' THEN allowed := allowed || ARRAY['categories', 'unmarked'];
        ELSE
            RAISE EXCEPTION 'invalid rubric: field "%" has unknown type %', fname, coalesce(f->'type', 'null')
                USING ERRCODE = 'FR001', COLUMN = fname,
                      HINT = 'Types are boolean, category, number, text, correction, pairwise and span.';
        END CASE;
        FOR k IN SELECT jsonb_object_keys(f) LOOP
            IF NOT k = ANY(allowed) THEN
                RAISE EXCEPTION 'invalid rubric: field "%" of type % has unknown key "%"', fname, ftype, k
                    USING ERRCODE = 'FR001', COLUMN = fname,
                          HINT = format('Keys allowed for this type: %s.', array_to_string(allowed, ', '));
            END IF;
        END LOOP;
        problem := NULL;
        IF f ? 'required' AND jsonb_typeof(f->'required') <> 'boolean' THEN
            problem := '"required" must be true or false';
        ELSIF (f ? 'label' AND jsonb_typeof(f->'label') <> 'string')
              OR (f ? 'instructions' AND jsonb_typeof(f->'instructions') <> 'string') THEN
            problem := '"label" and "instructions" must be strings';
        ELSIF ftype = 'category' AND (jsonb_typeof(f->'values') IS DISTINCT FROM 'array'
              OR jsonb_array_length(f->'values') = 0
              OR EXISTS (SELECT 1 FROM jsonb_array_elements(f->'values') v WHERE jsonb_typeof(v) <> 'string')
              OR (SELECT count(DISTINCT v) <> count(*) FROM jsonb_array_elements(f->'values') v)) THEN
            problem := '"values" must be a non-empty array of distinct strings';
        ELSIF ftype = 'span' AND (jsonb_typeof(f->'categories') IS DISTINCT FROM 'array'
              OR jsonb_array_length(f->'categories') = 0
              OR EXISTS (SELECT 1 FROM jsonb_array_elements(f->'categories') v WHERE jsonb_typeof(v) <> 'string')) THEN
            problem := '"categories" must be a non-empty array of strings';
        ELSIF ftype = 'span' AND f ? 'unmarked' AND (f->>'unmarked') IS DISTINCT FROM 'negative'
              AND (f->>'unmarked') IS DISTINCT FROM 'unknown' THEN
            problem := '"unmarked" must be "negative" (an output without spans has no bad sentence) or "unknown"';
        ELSIF ftype = 'number' AND ((f ? 'min' AND jsonb_typeof(f->'min') <> 'number')
              OR (f ? 'max' AND jsonb_typeof(f->'max') <> 'number')
              OR (f ? 'step' AND (jsonb_typeof(f->'step') <> 'number' OR (f->>'step')::numeric <= 0))) THEN
            problem := '"min" and "max" must be numbers and "step" a positive number';
        ELSIF ftype = 'number' AND f ? 'min' AND f ? 'max' AND (f->>'min')::numeric > (f->>'max')::numeric THEN
            problem := '"min" must not be above "max"';
        ELSIF ftype = 'text' AND f ? 'max_length' AND (jsonb_typeof(f->'max_length') <> 'number'
              OR (f->>'max_length')::numeric < 1 OR (f->>'max_length')::numeric <> trunc((f->>'max_length')::numeric)) THEN
            problem := '"max_length" must be a positive integer';
        END IF;
        IF problem IS NOT NULL THEN
            RAISE EXCEPTION 'invalid rubric: field "%": %', fname, problem
                USING ERRCODE = 'FR001', COLUMN = fname;
        END IF;
    END LOOP;
END
$fn$;

-- Creates a rubric version from a definition and returns its version. When
-- the latest version has the same definition, returns that version instead
-- (creating a rubric is idempotent).
CREATE OR REPLACE FUNCTION flywheel.review_rubric_create(rubric text, definition jsonb)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    latest flywheel.review_rubrics;
BEGIN
    PERFORM flywheel.name_check('rubric', rubric, 'FR001');
    PERFORM flywheel.review_validate_rubric(definition);
    PERFORM pg_advisory_xact_lock(hashtext('flywheel.review_rubric:' || rubric));
    SELECT * INTO latest FROM flywheel.review_rubrics r WHERE r.name = rubric
        ORDER BY version DESC LIMIT 1;
    IF FOUND AND latest.definition = definition THEN
        RETURN latest.version;
    END IF;
    INSERT INTO flywheel.review_rubrics (name, version, definition)
        VALUES (rubric, coalesce(latest.version, 0) + 1, definition);
    RETURN coalesce(latest.version, 0) + 1;
END
$fn$;

-- Checks a label against a rubric definition. `output` is the generation's
-- output messages (for span ranges); `pairwise_ok` says whether the item has
-- a second generation. Raises FR002 naming the field (message and COLUMN).
-- Span offsets count characters (code points) of a text part's content,
-- [start, end).
CREATE OR REPLACE FUNCTION flywheel.review_validate_label(def jsonb, label jsonb, output jsonb,
                                               pairwise_ok boolean)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $fn$
DECLARE
    f       jsonb;
    fname   text;
    ftype   text;
    v       jsonb;
    k       text;
    names   text[];
    problem text;
    hint    text;
    num     numeric;
    e       jsonb;
    m       jsonb;
    p       jsonb;
    n       integer;
    dup     integer;
    content text;
BEGIN
    IF label IS NULL OR jsonb_typeof(label) <> 'object' THEN
        RAISE EXCEPTION 'invalid label: the label must be a JSON object of field values'
            USING ERRCODE = 'FR002';
    END IF;
    SELECT array_agg(x->>'name') INTO names FROM jsonb_array_elements(def->'fields') x;
    FOR k IN SELECT jsonb_object_keys(label) LOOP
        IF NOT k = ANY(names) THEN
            RAISE EXCEPTION 'invalid label: unknown field "%"', k
                USING ERRCODE = 'FR002', COLUMN = k,
                      HINT = format('The rubric''s fields are: %s.', array_to_string(names, ', '));
        END IF;
    END LOOP;
    FOR f IN SELECT * FROM jsonb_array_elements(def->'fields') LOOP
        fname := f->>'name';
        ftype := f->>'type';
        v := label->fname;
        problem := NULL;
        hint := NULL;
        IF v IS NULL OR v = 'null'::jsonb THEN
            IF coalesce((f->>'required')::boolean, false) THEN
                RAISE EXCEPTION 'invalid label: field "%" is required', fname
                    USING ERRCODE = 'FR002', COLUMN = fname,
                          DETAIL = format('The label has no value for the %s field "%s".', ftype, fname),
                          HINT = coalesce(f->>'instructions', 'Give a value for every required field.');
            END IF;
            CONTINUE;
        END IF;
        CASE ftype
        WHEN 'boolean' THEN
            IF jsonb_typeof(v) <> 'boolean' THEN
                problem := format('%s is not true or false', v);
                hint := 'Use true or false.';
            END IF;
        WHEN 'category' THEN
            IF jsonb_typeof(v) <> 'string' OR NOT (f->'values') @> jsonb_build_array(v) THEN
                problem := format('%s is not one of the allowed values', v);
                hint := format('Allowed values: %s.', (SELECT string_agg(x #>> '{}', ', ') FROM jsonb_array_elements(f->'values') x));
            END IF;
        WHEN 'number' THEN
            hint := format('Use a number%s%s%s.',
                           CASE WHEN f ? 'min' THEN ' from ' || (f->>'min') ELSE '' END,
                           CASE WHEN f ? 'max' THEN ' to ' || (f->>'max') ELSE '' END,
                           CASE WHEN f ? 'step' THEN ' in steps of ' || (f->>'step') ELSE '' END);
            IF jsonb_typeof(v) <> 'number' THEN
                problem := format('%s is not a number', v);
            ELSE
                num := (v #>> '{}')::numeric;
                IF f ? 'min' AND num < (f->>'min')::numeric THEN
                    problem := format('%s is below the minimum %s', num, f->>'min');
                ELSIF f ? 'max' AND num > (f->>'max')::numeric THEN
                    problem := format('%s is above the maximum %s', num, f->>'max');
                ELSIF f ? 'step' AND mod(num - coalesce((f->>'min')::numeric, 0), (f->>'step')::numeric) <> 0 THEN
                    problem := format('%s is not a multiple of the step %s', num, f->>'step');
                END IF;
            END IF;
        WHEN 'text' THEN
            IF jsonb_typeof(v) <> 'string' THEN
                problem := format('%s is not a string', v);
                hint := 'Use a JSON string.';
            ELSIF f ? 'max_length' AND length(v #>> '{}') > (f->>'max_length')::integer THEN
                problem := format('the text has %s characters, more than the maximum %s',
                                  length(v #>> '{}'), f->>'max_length');
                hint := 'Shorten the text.';
            END IF;
        WHEN 'pairwise' THEN
            IF NOT pairwise_ok THEN
                problem := 'the item has no second generation to compare with';
                hint := 'Pairwise fields need items with two generations (a queue with "pair_by").';
            ELSIF jsonb_typeof(v) <> 'string' OR (v #>> '{}') NOT IN ('A', 'B', 'tie') THEN
                problem := format('%s is not "A", "B" or "tie"', v);
                hint := 'Use "A", "B" or "tie".';
            END IF;
        WHEN 'correction' THEN
            hint := 'A correction is an array of messages: [{"role": "assistant", "parts": [{"type": "text", "content": "..."}]}].';
            IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) = 0 THEN
                problem := 'it is not a non-empty array of messages';
            ELSE
                n := 0;
                FOR m IN SELECT * FROM jsonb_array_elements(v) LOOP
                    IF jsonb_typeof(m) <> 'object' OR jsonb_typeof(m->'role') IS DISTINCT FROM 'string'
                       OR (m->>'role') NOT IN ('system', 'user', 'assistant', 'tool')
                       OR jsonb_typeof(m->'parts') IS DISTINCT FROM 'array'
                       OR jsonb_array_length(m->'parts') = 0 THEN
                        problem := format('message %s needs a role (system, user, assistant or tool) and a non-empty "parts" array', n);
                        EXIT;
                    END IF;
                    IF EXISTS (SELECT 1 FROM jsonb_array_elements(m->'parts') q
                               WHERE jsonb_typeof(q) <> 'object'
                                  OR jsonb_typeof(q->'type') IS DISTINCT FROM 'string'
                                  OR ((q->>'type') IN ('text', 'reasoning')
                                      AND jsonb_typeof(q->'content') IS DISTINCT FROM 'string')) THEN
                        problem := format('message %s has a part without a "type" or a text part without a string "content"', n);
                        EXIT;
                    END IF;
                    n := n + 1;
                END LOOP;
            END IF;
        WHEN 'span' THEN
            hint := format('A span is {"message": i, "part": j, "start": s, "end": e, "category": c} over a text part of the output, with 0 <= s < e <= its length in characters; categories: %s.',
                           (SELECT string_agg(x #>> '{}', ', ') FROM jsonb_array_elements(f->'categories') x));
            IF jsonb_typeof(v) <> 'array' THEN
                problem := 'it is not an array of spans';
            ELSE
                n := 0;
                FOR e IN SELECT * FROM jsonb_array_elements(v) LOOP
                    IF jsonb_typeof(e) <> 'object'
                       OR EXISTS (SELECT 1 FROM jsonb_object_keys(e) kk
                                  WHERE kk NOT IN ('message', 'part', 'start', 'end', 'category', 'note'))
                       OR jsonb_typeof(e->'message') IS DISTINCT FROM 'number'
                       OR jsonb_typeof(e->'start') IS DISTINCT FROM 'number'
                       OR jsonb_typeof(e->'end') IS DISTINCT FROM 'number'
                       OR (e ? 'part' AND jsonb_typeof(e->'part') <> 'number')
                       OR (e ? 'note' AND jsonb_typeof(e->'note') <> 'string')
                       OR jsonb_typeof(e->'category') IS DISTINCT FROM 'string' THEN
                        problem := format('span %s is malformed', n);
                        EXIT;
                    END IF;
                    IF NOT (f->'categories') @> jsonb_build_array(e->'category') THEN
                        problem := format('span %s has category %s, which is not allowed', n, e->'category');
                        EXIT;
                    END IF;
                    m := output->((e->>'message')::integer);
                    p := m->'parts'->(coalesce((e->>'part')::integer, 0));
                    IF (e->>'message')::numeric < 0 OR (e->>'message')::numeric <> trunc((e->>'message')::numeric)
                       OR coalesce((e->>'part')::numeric, 0) < 0 OR m IS NULL OR p IS NULL THEN
                        problem := format('span %s points at message %s part %s, which the output does not have',
                                          n, e->>'message', coalesce(e->>'part', '0'));
                        EXIT;
                    END IF;
                    IF jsonb_typeof(p->'content') IS DISTINCT FROM 'string' THEN
                        problem := format('span %s points at a part without text', n);
                        EXIT;
                    END IF;
                    content := p->>'content';
                    IF (e->>'start')::numeric < 0 OR (e->>'end')::numeric <= (e->>'start')::numeric
                       OR (e->>'end')::numeric > length(content)
                       OR (e->>'start')::numeric <> trunc((e->>'start')::numeric)
                       OR (e->>'end')::numeric <> trunc((e->>'end')::numeric) THEN
                        problem := format('span %s range [%s, %s) is not within the %s characters of the text',
                                          n, e->>'start', e->>'end', length(content));
                        EXIT;
                    END IF;
                    -- The same range with the same category twice is one mark
                    -- given twice (another category on the same range is not).
                    SELECT min(x.ord) - 1 INTO dup FROM jsonb_array_elements(v) WITH ORDINALITY AS x(sp, ord)
                    WHERE x.ord <= n
                      AND (x.sp->>'message')::numeric = (e->>'message')::numeric
                      AND coalesce((x.sp->>'part')::numeric, 0) = coalesce((e->>'part')::numeric, 0)
                      AND (x.sp->>'start')::numeric = (e->>'start')::numeric
                      AND (x.sp->>'end')::numeric = (e->>'end')::numeric
                      AND x.sp->>'category' = e->>'category';
                    IF dup IS NOT NULL THEN
                        problem := format('span %s repeats span %s (the same range and category)', n, dup);
                        EXIT;
                    END IF;
                    n := n + 1;
                END LOOP;
            END IF;
        END CASE;
        IF problem IS NOT NULL THEN
            RAISE EXCEPTION 'invalid label: field "%": %', fname, problem
                USING ERRCODE = 'FR002', COLUMN = fname,
                      DETAIL = format('Field "%s" is of type %s.', fname, ftype),
                      HINT = coalesce(hint, 'See the rubric.');
        END IF;
    END LOOP;
END
$fn$;

-- ---------------------------------------------------------------------------
-- Queues
-- ---------------------------------------------------------------------------

-- Checks population rules and priority terms; raises FR004 naming the key.
-- Rules (all optional, all must match):
--   projects, models, environments, releases: arrays of strings
--   tags_any, tags_all: arrays of strings
--   since, until: timestamps; max_age: an interval ("7 days")
--   status: array of "ok"/"error"/"unset"; error_types: array of strings
--   prompt_template: string; prompt_versions: array of strings
--   feedback: array of predicates, any of which must match a feedback row on
--     the generation (by event id, response id, or span: trace id + span id):
--     {"name": s, "value": true|false|number|"category", "min": n, "max": n,
--     "source": s}
--   negative_feedback: true (any feedback by event id or span with bool false
--     or a category of thumbs_down/negative/bad)
--   sample: {"rate": 0..1, "seed": integer}, by trace id (event id without one)
--   pair_by: "trace_id" | "conversation_id" | "input" (pairwise items)
-- Priority: [{"term": t, "weight": w, ...}] with t one of error,
--   negative_feedback, positive_feedback, recency {half_life}, tag {tag},
--   model {model}, output_tokens (per thousand).
CREATE OR REPLACE FUNCTION flywheel.review_validate_queue_rules(rules jsonb, priority jsonb)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $fn$
DECLARE
    k text;
    t jsonb;
    bad text := NULL;
BEGIN
    IF jsonb_typeof(rules) <> 'object' THEN
        RAISE EXCEPTION 'invalid queue: "rules" must be a JSON object' USING ERRCODE = 'FR004';
    END IF;
    FOR k IN SELECT jsonb_object_keys(rules) LOOP
        IF k IN ('projects', 'models', 'environments', 'releases', 'tags_any', 'tags_all',
                 'status', 'error_types', 'prompt_versions') THEN
            IF jsonb_typeof(rules->k) <> 'array'
               OR EXISTS (SELECT 1 FROM jsonb_array_elements(rules->k) x WHERE jsonb_typeof(x) <> 'string') THEN
                bad := format('"%s" must be an array of strings', k);
            END IF;
        ELSIF k IN ('since', 'until') THEN
            BEGIN
                PERFORM (rules->>k)::timestamptz;
            EXCEPTION WHEN others THEN
                bad := format('"%s" must be a timestamp', k);
            END;
        ELSIF k = 'max_age' THEN
            BEGIN
                PERFORM (rules->>k)::interval;
            EXCEPTION WHEN others THEN
                bad := '"max_age" must be an interval such as "7 days"';
            END;
        ELSIF k = 'prompt_template' THEN
            IF jsonb_typeof(rules->k) <> 'string' THEN bad := '"prompt_template" must be a string'; END IF;
        ELSIF k = 'negative_feedback' THEN
            IF jsonb_typeof(rules->k) <> 'boolean' THEN bad := '"negative_feedback" must be true or false'; END IF;
        ELSIF k = 'pair_by' THEN
            IF (rules->>k) NOT IN ('trace_id', 'conversation_id', 'input') THEN
                bad := '"pair_by" must be "trace_id", "conversation_id" or "input"';
            END IF;
        ELSIF k = 'sample' THEN
            IF jsonb_typeof(rules->k) <> 'object'
               OR jsonb_typeof(rules->k->'rate') IS DISTINCT FROM 'number'
               OR (rules->k->>'rate')::numeric NOT BETWEEN 0 AND 1
               OR (rules->k ? 'seed' AND jsonb_typeof(rules->k->'seed') <> 'number')
               OR EXISTS (SELECT 1 FROM jsonb_object_keys(rules->k) x WHERE x NOT IN ('rate', 'seed')) THEN
                bad := '"sample" must be {"rate": 0..1, "seed": integer}';
            END IF;
        ELSIF k = 'feedback' THEN
            IF jsonb_typeof(rules->k) <> 'array' OR EXISTS (
                    SELECT 1 FROM jsonb_array_elements(rules->k) x
                    WHERE jsonb_typeof(x) <> 'object'
                       OR EXISTS (SELECT 1 FROM jsonb_object_keys(x) y
                                  WHERE y NOT IN ('name', 'value', 'min', 'max', 'source'))
                       OR (x ? 'min' AND jsonb_typeof(x->'min') <> 'number')
                       OR (x ? 'max' AND jsonb_typeof(x->'max') <> 'number')) THEN
                bad := '"feedback" must be an array of {"name", "value", "min", "max", "source"} predicates';
            END IF;
        ELSE
            RAISE EXCEPTION 'invalid queue: unknown rule "%"', k
                USING ERRCODE = 'FR004',
                      HINT = 'Rules: projects, models, environments, releases, tags_any, tags_all, since, until, max_age, status, error_types, prompt_template, prompt_versions, feedback, negative_feedback, sample, pair_by.';
        END IF;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'invalid queue: rule %', bad USING ERRCODE = 'FR004';
        END IF;
    END LOOP;
    IF jsonb_typeof(priority) <> 'array' THEN
        RAISE EXCEPTION 'invalid queue: "priority" must be an array of terms' USING ERRCODE = 'FR004';
    END IF;
    FOR t IN SELECT * FROM jsonb_array_elements(priority) LOOP
        IF jsonb_typeof(t) <> 'object' OR jsonb_typeof(t->'weight') IS DISTINCT FROM 'number' THEN
            bad := 'each priority term needs a numeric "weight"';
        ELSIF (t->>'term') = 'recency' THEN
            BEGIN
                IF (coalesce(t->>'half_life', '1 day'))::interval <= '0' THEN
                    bad := '"half_life" must be positive';
                END IF;
            EXCEPTION WHEN others THEN
                bad := '"half_life" must be an interval such as "1 day"';
            END;
        ELSIF (t->>'term') = 'tag' AND jsonb_typeof(t->'tag') IS DISTINCT FROM 'string' THEN
            bad := 'the "tag" term needs a "tag" string';
        ELSIF (t->>'term') = 'model' AND jsonb_typeof(t->'model') IS DISTINCT FROM 'string' THEN
            bad := 'the "model" term needs a "model" string';
        ELSIF (t->>'term') IS NULL OR (t->>'term') NOT IN ('error', 'negative_feedback', 'positive_feedback',
                                     'recency', 'tag', 'model', 'output_tokens') THEN
            bad := format('unknown priority term %s (terms: error, negative_feedback, positive_feedback, recency, tag, model, output_tokens)',
                          coalesce(t->'term', 'null'));
        END IF;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'invalid queue: %', bad USING ERRCODE = 'FR004';
        END IF;
    END LOOP;
END
$fn$;

-- Creates a queue from a JSON spec and returns its id:
--   {"name", "description", "rubric", "rubric_version" (default: latest),
--    "overlap" (1), "lease" ("15 minutes"), "skip_limit" (2), "gold_rate" (0),
--    "rules" ({}), "priority" ([]), "continuous" (false)}
CREATE OR REPLACE FUNCTION flywheel.review_queue_create(spec jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    k     text;
    rver  integer;
    qid   bigint;
BEGIN
    IF jsonb_typeof(spec) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'invalid queue: the spec must be a JSON object' USING ERRCODE = 'FR004';
    END IF;
    FOR k IN SELECT jsonb_object_keys(spec) LOOP
        IF k NOT IN ('name', 'description', 'rubric', 'rubric_version', 'overlap', 'lease',
                     'skip_limit', 'gold_rate', 'rules', 'priority', 'continuous') THEN
            RAISE EXCEPTION 'invalid queue: unknown key "%"', k
                USING ERRCODE = 'FR004',
                      HINT = 'Keys: name, description, rubric, rubric_version, overlap, lease, skip_limit, gold_rate, rules, priority, continuous.';
        END IF;
    END LOOP;
    IF jsonb_typeof(spec->'name') IS DISTINCT FROM 'string' OR jsonb_typeof(spec->'rubric') IS DISTINCT FROM 'string' THEN
        RAISE EXCEPTION 'invalid queue: "name" and "rubric" are required strings' USING ERRCODE = 'FR004';
    END IF;
    PERFORM flywheel.name_check('queue', spec->>'name', 'FR004');
    rver := (spec->>'rubric_version')::integer;
    IF rver IS NULL THEN
        SELECT max(version) INTO rver FROM flywheel.review_rubrics WHERE name = spec->>'rubric';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM flywheel.review_rubrics WHERE name = spec->>'rubric' AND version = rver) THEN
        RAISE EXCEPTION 'rubric "%" version % does not exist', spec->>'rubric', coalesce(rver::text, '(latest)')
            USING ERRCODE = 'FR005', HINT = 'Create it first with flywheel.review_rubric_create().';
    END IF;
    PERFORM flywheel.review_validate_queue_rules(coalesce(spec->'rules', '{}'), coalesce(spec->'priority', '[]'));
    BEGIN
        INSERT INTO flywheel.review_queues (name, description, rubric_name, rubric_version, overlap,
                                           lease, skip_limit, gold_rate, rules, priority, continuous)
        VALUES (spec->>'name', coalesce(spec->>'description', ''), spec->>'rubric', rver,
                coalesce((spec->>'overlap')::integer, 1),
                coalesce((spec->>'lease')::interval, '15 minutes'),
                coalesce((spec->>'skip_limit')::integer, 2),
                coalesce((spec->>'gold_rate')::double precision, 0),
                coalesce(spec->'rules', '{}'), coalesce(spec->'priority', '[]'),
                coalesce((spec->>'continuous')::boolean, false))
        RETURNING id INTO qid;
    EXCEPTION
        WHEN unique_violation THEN
            RAISE EXCEPTION 'queue "%" already exists', spec->>'name' USING ERRCODE = 'FR004';
        WHEN check_violation OR invalid_text_representation OR invalid_datetime_format
             OR datetime_field_overflow OR numeric_value_out_of_range THEN
            RAISE EXCEPTION 'invalid queue: %', SQLERRM
                USING ERRCODE = 'FR004',
                      HINT = 'overlap is 1..50, lease a positive interval, skip_limit >= 1, gold_rate 0..1.';
    END;
    RETURN qid;
END
$fn$;

-- Pauses or resumes a queue (a paused queue is neither claimed nor filled).
CREATE OR REPLACE FUNCTION flywheel.review_queue_pause(queue text, pause boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
BEGIN
    UPDATE flywheel.review_queues SET paused = pause WHERE name = queue;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" does not exist', queue USING ERRCODE = 'FR005';
    END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION flywheel.review_queue_get(queue text)
RETURNS flywheel.review_queues
LANGUAGE plpgsql
STABLE
AS $fn$
DECLARE
    q flywheel.review_queues;
BEGIN
    SELECT * INTO q FROM flywheel.review_queues WHERE name = queue;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" does not exist', queue USING ERRCODE = 'FR005';
    END IF;
    RETURN q;
END
$fn$;

-- ---------------------------------------------------------------------------
-- Fill
-- ---------------------------------------------------------------------------

-- Adds the generations matching a queue's rules as items (never twice) and
-- returns how many were added. A continuous queue that has been filled
-- before only looks at generations whose event time, or whose feedback's
-- event time, is after its high-water mark minus `slack` (late events
-- beyond that are picked up by a fill with rescan => true). The rules are
-- data (jsonb), applied by one static query: no SQL is built from them.
CREATE OR REPLACE FUNCTION flywheel.review_fill(queue text, rescan boolean DEFAULT false,
                                     slack interval DEFAULT '1 hour')
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    q        flywheel.review_queues := flywheel.review_queue_get(queue);
    r        jsonb := q.rules;
    started  timestamptz := clock_timestamp();
    wm       timestamptz;
    lo       timestamptz;
    hi       timestamptz;
    v_rate   double precision := coalesce((r->'sample'->>'rate')::double precision, 1);
    v_seed   bigint := coalesce((r->'sample'->>'seed')::bigint, 0);
    v_pair   text := r->>'pair_by';
    added    bigint;
BEGIN
    -- One fill per queue at a time: concurrent fills would only collide on
    -- the unique key, but the high-water mark must move once.
    PERFORM pg_advisory_xact_lock(hashtext('flywheel.review_fill'), q.id::integer);
    SELECT * INTO q FROM flywheel.review_queues WHERE id = q.id;
    IF q.paused THEN
        RETURN 0;
    END IF;
    IF q.continuous AND NOT rescan AND q.filled_until IS NOT NULL THEN
        wm := q.filled_until - slack;
    END IF;
    lo := greatest((r->>'since')::timestamptz, now() - (r->>'max_age')::interval, wm);
    hi := (r->>'until')::timestamptz;

    WITH fb AS (
        SELECT f.target_event_id AS event_id,
               count(*) FILTER (WHERE f.bool_value = false
                                 OR f.category_value IN ('thumbs_down', 'negative', 'bad')) AS neg,
               count(*) FILTER (WHERE f.bool_value = true
                                 OR f.category_value IN ('thumbs_up', 'positive', 'good')) AS pos
        FROM flywheel.feedback f
        WHERE f.target_event_id IS NOT NULL
        GROUP BY f.target_event_id
    ), fbs AS (
        -- Feedback about a span (V0040): the generation of that span.
        SELECT f.target_trace_id AS trace_id, f.target_span_id AS span_id,
               count(*) FILTER (WHERE f.bool_value = false
                                 OR f.category_value IN ('thumbs_down', 'negative', 'bad')) AS neg,
               count(*) FILTER (WHERE f.bool_value = true
                                 OR f.category_value IN ('thumbs_up', 'positive', 'good')) AS pos
        FROM flywheel.feedback f
        WHERE f.target_span_id IS NOT NULL AND f.target_event_id IS NULL
        GROUP BY f.target_trace_id, f.target_span_id
    ), cand AS (
        SELECT g.event_id, g.event_time, g.trace_id, g.conversation_id, g.input_messages,
               coalesce((
                   SELECT sum((t->>'weight')::double precision * CASE t->>'term'
                       WHEN 'error' THEN (g.status = 'error')::integer
                       WHEN 'negative_feedback' THEN least(coalesce(fb.neg, 0) + coalesce(fbs.neg, 0), 1)
                       WHEN 'positive_feedback' THEN least(coalesce(fb.pos, 0) + coalesce(fbs.pos, 0), 1)
                       WHEN 'recency' THEN exp(-ln(2) * extract(epoch FROM (started - g.event_time))
                                               / extract(epoch FROM coalesce((t->>'half_life')::interval, '1 day')))
                       WHEN 'tag' THEN ((t->>'tag') = ANY (g.tags))::integer
                       WHEN 'model' THEN (g.request_model = (t->>'model'))::integer
                       WHEN 'output_tokens' THEN coalesce(g.output_tokens, 0) / 1000.0
                       ELSE 0 END)
                   FROM jsonb_array_elements(q.priority) t), 0) AS priority
        FROM flywheel.generations g
        LEFT JOIN fb ON fb.event_id = g.event_id
        LEFT JOIN fbs ON fbs.trace_id = g.trace_id AND fbs.span_id = g.span_id
        WHERE (lo IS NULL OR g.event_time >= lo
               OR (wm IS NOT NULL AND (g.event_id IN (SELECT f2.target_event_id FROM flywheel.feedback f2
                                                      WHERE f2.event_time >= wm AND f2.target_event_id IS NOT NULL)
                                       OR (g.trace_id, g.span_id) IN (SELECT f3.target_trace_id, f3.target_span_id
                                                                      FROM flywheel.feedback f3
                                                                      WHERE f3.event_time >= wm
                                                                        AND f3.target_span_id IS NOT NULL))
                   AND g.event_time >= coalesce(greatest((r->>'since')::timestamptz,
                                                         now() - (r->>'max_age')::interval), '-infinity')))
          AND (hi IS NULL OR g.event_time < hi)
          AND (r->'projects' IS NULL OR r->'projects' @> to_jsonb(g.project))
          AND (r->'models' IS NULL OR r->'models' @> to_jsonb(g.request_model))
          AND (r->'environments' IS NULL OR r->'environments' @> to_jsonb(g.environment))
          AND (r->'releases' IS NULL OR r->'releases' @> to_jsonb(g.release))
          AND (r->'status' IS NULL OR r->'status' @> to_jsonb(g.status))
          AND (r->'error_types' IS NULL OR r->'error_types' @> to_jsonb(g.error_type))
          AND (r->'prompt_template' IS NULL OR g.prompt_template = r->>'prompt_template')
          AND (r->'prompt_versions' IS NULL OR r->'prompt_versions' @> to_jsonb(g.prompt_version))
          AND (r->'tags_any' IS NULL OR to_jsonb(g.tags) ?| ARRAY(SELECT jsonb_array_elements_text(r->'tags_any')))
          AND (r->'tags_all' IS NULL OR to_jsonb(g.tags) ?& ARRAY(SELECT jsonb_array_elements_text(r->'tags_all')))
          AND (coalesce((r->>'negative_feedback')::boolean, false) = false
               OR coalesce(fb.neg, 0) + coalesce(fbs.neg, 0) > 0)
          AND (r->'feedback' IS NULL OR EXISTS (
                SELECT 1
                FROM flywheel.feedback f, jsonb_array_elements(r->'feedback') p
                WHERE (f.target_event_id = g.event_id
                       OR (g.response_id IS NOT NULL AND f.target_response_id = g.response_id)
                       OR (f.target_span_id = g.span_id AND f.target_trace_id = g.trace_id))
                  AND (p->>'name' IS NULL OR f.name = p->>'name')
                  AND (p->>'source' IS NULL OR f.source = p->>'source')
                  AND (NOT p ? 'value'
                       OR (jsonb_typeof(p->'value') = 'boolean' AND f.bool_value = (p->>'value')::boolean)
                       OR (jsonb_typeof(p->'value') = 'number' AND f.number_value = (p->>'value')::double precision)
                       OR (jsonb_typeof(p->'value') = 'string' AND f.category_value = p->>'value'))
                  AND (NOT p ? 'min' OR f.number_value >= (p->>'min')::double precision)
                  AND (NOT p ? 'max' OR f.number_value <= (p->>'max')::double precision)))
          AND (v_rate >= 1
               OR (hashtextextended(coalesce(g.trace_id, g.event_id::text), v_seed)
                   & 9223372036854775807) % 1000000 < (v_rate * 1000000)::bigint)
    ), paired AS (
        SELECT c.*,
               lead(c.event_id) OVER w AS event_id_b,
               lead(c.event_time) OVER w AS event_time_b,
               row_number() OVER w AS rn
        FROM cand c
        WHERE v_pair IS NOT NULL
          -- generations without the key are never paired with each other
          AND CASE v_pair WHEN 'trace_id' THEN c.trace_id
                          WHEN 'conversation_id' THEN c.conversation_id
                          ELSE md5(c.input_messages::text) END IS NOT NULL
        WINDOW w AS (PARTITION BY CASE v_pair WHEN 'trace_id' THEN c.trace_id
                                              WHEN 'conversation_id' THEN c.conversation_id
                                              ELSE md5(c.input_messages::text) END
                     ORDER BY c.event_time, c.event_id)
    ), ins AS (
        INSERT INTO flywheel.review_items (queue_id, event_id, event_time, event_id_b, event_time_b,
                                           priority, overlap)
        SELECT q.id, c.event_id, c.event_time, NULL, NULL, c.priority, q.overlap
        FROM cand c WHERE v_pair IS NULL
        UNION ALL
        SELECT q.id, p.event_id, p.event_time, p.event_id_b, p.event_time_b, p.priority, q.overlap
        FROM paired p
        WHERE p.rn = 1 AND p.event_id_b IS NOT NULL
        ORDER BY 1, 2
        ON CONFLICT (queue_id, event_id) DO NOTHING
        RETURNING 1
    )
    SELECT count(*) INTO added FROM ins;

    UPDATE flywheel.review_queues
       SET filled_until = greatest(filled_until, started), last_fill_at = clock_timestamp()
     WHERE id = q.id;
    RETURN added;
END
$fn$;

-- Fills every continuous, unpaused queue; what `flywheel review fill --all`
-- runs from cron or a timer.
CREATE OR REPLACE FUNCTION flywheel.review_fill_all()
RETURNS TABLE (queue text, added bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    qn text;
BEGIN
    FOR qn IN SELECT name FROM flywheel.review_queues WHERE continuous AND NOT paused ORDER BY name LOOP
        queue := qn;
        added := flywheel.review_fill(qn);
        RETURN NEXT;
    END LOOP;
END
$fn$;

-- Adds one generation (and optionally a second one to compare it with) to a
-- queue by hand; returns the item id (the existing one when already there).
CREATE OR REPLACE FUNCTION flywheel.review_add_item(queue text, event_id uuid, event_id_b uuid DEFAULT NULL,
                                         priority double precision DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    q   flywheel.review_queues := flywheel.review_queue_get(queue);
    t   timestamptz;
    tb  timestamptz;
    iid bigint;
BEGIN
    SELECT g.event_time INTO t FROM flywheel.generations g WHERE g.event_id = review_add_item.event_id
       AND g.id_time = flywheel.event_id_time(review_add_item.event_id) LIMIT 1;
    IF t IS NULL THEN
        RAISE EXCEPTION 'generation % does not exist', event_id USING ERRCODE = 'FR005';
    END IF;
    IF event_id_b IS NOT NULL THEN
        SELECT g.event_time INTO tb FROM flywheel.generations g WHERE g.event_id = review_add_item.event_id_b
           AND g.id_time = flywheel.event_id_time(review_add_item.event_id_b) LIMIT 1;
        IF tb IS NULL THEN
            RAISE EXCEPTION 'generation % does not exist', event_id_b USING ERRCODE = 'FR005';
        END IF;
    END IF;
    INSERT INTO flywheel.review_items (queue_id, event_id, event_time, event_id_b, event_time_b, priority, overlap)
    VALUES (q.id, event_id, t, event_id_b, tb, priority, q.overlap)
    ON CONFLICT ON CONSTRAINT review_items_queue_id_event_id_key DO NOTHING
    RETURNING id INTO iid;
    IF iid IS NULL THEN
        SELECT i.id INTO iid FROM flywheel.review_items i WHERE i.queue_id = q.id AND i.event_id = review_add_item.event_id;
    END IF;
    RETURN iid;
END
$fn$;

-- Adds a gold item: a generation with a known answer, mixed into claims at
-- the queue's gold_rate, offered to every reviewer once, and scored in
-- review_gold_accuracy. Returns the item id.
CREATE OR REPLACE FUNCTION flywheel.review_add_gold(queue text, event_id uuid, label jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    q   flywheel.review_queues := flywheel.review_queue_get(queue);
    g   record;
    iid bigint;
BEGIN
    SELECT gg.event_time, gg.output_messages INTO g FROM flywheel.generations gg
     WHERE gg.event_id = review_add_gold.event_id
       AND gg.id_time = flywheel.event_id_time(review_add_gold.event_id) LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'generation % does not exist', event_id USING ERRCODE = 'FR005';
    END IF;
    PERFORM flywheel.review_validate_label(r.definition, label, g.output_messages, false)
       FROM flywheel.review_rubrics r WHERE r.name = q.rubric_name AND r.version = q.rubric_version;
    INSERT INTO flywheel.review_items (queue_id, event_id, event_time, overlap, is_gold, gold_label)
    VALUES (q.id, event_id, g.event_time, q.overlap, true, label)
    RETURNING id INTO iid;
    RETURN iid;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'generation % is already an item of queue "%"', event_id, queue
        USING ERRCODE = 'FR004';
END
$fn$;

-- ---------------------------------------------------------------------------
-- Claim, submit, skip, release, revise, adjudicate
-- ---------------------------------------------------------------------------

-- The JSON a reviewer sees for one generation: content and metadata, never
-- other reviewers' labels or end-user feedback (blind review).
-- The row is read from its day partition directly, by a query planned on
-- that one table (~0.08 ms of CPU per call, measured): cheaper than either
-- plan over the partitioned parent. A custom plan over the parent costs
-- 0.4-0.8 ms of planning per call; the generic plan prunes at run time, but
-- PostgreSQL 15 locks every partition at each execution, which overflows the
-- fast-path lock slots and makes 16 concurrent reviewers contend on the
-- shared lock table. Only when the day partition is missing or does not
-- have the row (a partition created after this transaction's snapshot) does
-- the query go through the parent, planned with the values (one partition
-- touched; EXECUTE plans with the values).
CREATE OR REPLACE FUNCTION flywheel.review_generation_json(id uuid, t timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
AS $fn$
DECLARE
    idt  timestamptz := flywheel.event_id_time(id);
    -- the day partition, named as flywheel.ensure_generation_partition() names it
    part text := format('flywheel.%I', 'generations_' || to_char(idt AT TIME ZONE 'UTC', 'YYYYMMDD'));
    q    text := $q$SELECT jsonb_build_object(
        'event_id', g.event_id, 'event_time', g.event_time, 'project', g.project,
        'environment', g.environment, 'release', g.release, 'tags', to_jsonb(g.tags),
        'trace_id', g.trace_id, 'conversation_id', g.conversation_id,
        'operation_name', g.operation_name, 'provider_name', g.provider_name,
        'request_model', g.request_model, 'response_model', g.response_model,
        'request_params', g.request_params,
        'system_instructions', g.system_instructions, 'tool_definitions', g.tool_definitions,
        'input_messages', g.input_messages, 'output_messages', g.output_messages,
        'finish_reasons', to_jsonb(g.finish_reasons), 'status', g.status,
        'error_type', g.error_type, 'error_message', g.error_message,
        'prompt_template', g.prompt_template, 'prompt_version', g.prompt_version,
        'input_tokens', g.input_tokens, 'output_tokens', g.output_tokens,
        'duration_ms', g.duration_ms)
    FROM %s g
    WHERE g.event_id = $1 AND g.id_time = $2 AND g.event_time = $3$q$;
    res  jsonb;
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        EXECUTE format(q, part) INTO res USING id, idt, t;
        IF res IS NOT NULL THEN
            RETURN res;
        END IF;
    END IF;
    EXECUTE format(q, 'flywheel.generations') INTO res USING id, idt, t;
    RETURN res;
END
$fn$;

-- The output messages of a generation (for checking span labels), read like
-- review_generation_json() reads the row, for the same reason.
CREATE OR REPLACE FUNCTION flywheel.review_generation_output(id uuid, t timestamptz)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
AS $fn$
DECLARE
    idt  timestamptz := flywheel.event_id_time(id);
    -- the day partition, named as flywheel.ensure_generation_partition() names it
    part text := format('flywheel.%I', 'generations_' || to_char(idt AT TIME ZONE 'UTC', 'YYYYMMDD'));
    q    text := 'SELECT g.output_messages FROM %s g
                   WHERE g.event_id = $1 AND g.id_time = $2 AND g.event_time = $3';
    res  jsonb;
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        EXECUTE format(q, part) INTO res USING id, idt, t;
        IF res IS NOT NULL THEN
            RETURN res;
        END IF;
    END IF;
    EXECUTE format(q, 'flywheel.generations') INTO res USING id, idt, t;
    RETURN res;
END
$fn$;

CREATE OR REPLACE FUNCTION flywheel.review_item_json(it flywheel.review_items, q flywheel.review_queues,
                                          a flywheel.review_assignments)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
AS $fn$
BEGIN
    RETURN (SELECT jsonb_build_object(
        'item_id', it.id, 'queue', q.name, 'reviewer', a.reviewer,
        'claimed_at', a.claimed_at, 'lease_until', a.lease_until,
        'rubric', jsonb_build_object('name', r.name, 'version', r.version, 'definition', r.definition),
        'generation', flywheel.review_generation_json(it.event_id, it.event_time),
        'generation_b', CASE WHEN it.event_id_b IS NOT NULL
                             THEN flywheel.review_generation_json(it.event_id_b, it.event_time_b) END)
    FROM flywheel.review_rubrics r
    WHERE r.name = q.rubric_name AND r.version = q.rubric_version);
END
$fn$;

-- Claims the next item of a queue for a reviewer and returns it as JSON
-- (item id, lease, rubric, generation with input, output and metadata), or
-- NULL when there is nothing this reviewer may take. If the reviewer already
-- holds an unexpired lease in the queue, that item is returned again with
-- its lease extended (resume after a quit).
--
-- Guarantees, for any number of concurrent callers:
--   - an item is never offered to a reviewer who submitted or skipped it;
--   - labels + unexpired leases of an item never exceed the queue's overlap.
-- The candidate is chosen and locked in one statement with FOR UPDATE SKIP
-- LOCKED; the capacity test reads only columns of the item row (its lease
-- arrays and label count), so PostgreSQL re-checks it on the newest row
-- version when a concurrent claim updated the row first.
CREATE OR REPLACE FUNCTION flywheel.review_claim(queue text, reviewer text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
SET plan_cache_mode = force_generic_plan   -- prune partitions at run time, plan once
AS $fn$
DECLARE
    r   text := flywheel.review_caller(reviewer);
    q   flywheel.review_queues := flywheel.review_queue_get(queue);
    it  flywheel.review_items;
    a   flywheel.review_assignments;
    now_ timestamptz := clock_timestamp();
BEGIN
    IF q.paused THEN
        RAISE EXCEPTION 'queue "%" is paused', queue USING ERRCODE = 'FR006';
    END IF;
    -- Resume: an unexpired lease this reviewer already holds.
    SELECT * INTO a FROM flywheel.review_assignments x
     WHERE x.reviewer = r AND x.queue_id = q.id AND x.state = 'active' AND x.lease_until > now_
     ORDER BY x.claimed_at LIMIT 1;
    IF FOUND THEN
        SELECT * INTO it FROM flywheel.review_items WHERE id = a.item_id FOR UPDATE;
        IF it.status IN ('pending', 'in_review') AND r = ANY (it.lease_holders) THEN
            UPDATE flywheel.review_items i
               SET lease_until[array_position(i.lease_holders, r)] = now_ + q.lease
             WHERE i.id = it.id;
            UPDATE flywheel.review_assignments SET lease_until = now_ + q.lease WHERE id = a.id
            RETURNING * INTO a;
            RETURN flywheel.review_item_json(it, q, a);
        END IF;
        -- The held item cannot be resumed: it was closed under the lease
        -- (closing ends every lease, so this is a lease left by an older
        -- version) or the lease left the item. End the assignment and look
        -- for another item; never lease this one again.
        UPDATE flywheel.review_assignments x
           SET state = CASE WHEN it.status IN ('pending', 'in_review') THEN 'expired' ELSE 'closed' END,
               finished_at = least(x.lease_until, now_)
         WHERE x.id = a.id;
        it := NULL;
    END IF;
    UPDATE flywheel.review_assignments x SET state = 'expired', finished_at = least(x.lease_until, now_)
     WHERE x.reviewer = r AND x.queue_id = q.id AND x.state = 'active' AND x.lease_until <= now_;

    -- Gold items, mixed in at the queue's rate, each reviewer once.
    IF q.gold_rate > 0 AND random() < q.gold_rate THEN
        SELECT * INTO it FROM flywheel.review_items i
         WHERE i.queue_id = q.id AND i.is_gold AND NOT (r = ANY (i.done_by))
           AND NOT (r = ANY (i.lease_holders)) AND i.status IN ('pending', 'in_review')
         ORDER BY i.id
         LIMIT 1 FOR UPDATE SKIP LOCKED;
    END IF;
    IF it.id IS NULL THEN
        SELECT * INTO it FROM flywheel.review_items i
         WHERE i.queue_id = q.id AND i.status IN ('pending', 'in_review') AND NOT i.is_gold
           AND NOT (r = ANY (i.done_by))
           AND i.n_labels + (SELECT count(*) FROM unnest(i.lease_holders, i.lease_until) AS l(h, u)
                             WHERE u > now_ AND h <> r) < i.overlap
         ORDER BY i.priority DESC, i.id
         LIMIT 1 FOR UPDATE SKIP LOCKED;
    END IF;
    IF it.id IS NULL THEN
        RETURN NULL;
    END IF;
    -- Leases of others that ran out are pruned from the item below: record
    -- them as expired.
    IF EXISTS (SELECT 1 FROM unnest(it.lease_holders, it.lease_until) AS l(h, u)
               WHERE u <= now_ AND h <> r) THEN
        UPDATE flywheel.review_assignments x SET state = 'expired', finished_at = least(x.lease_until, now_)
         WHERE x.item_id = it.id AND x.state = 'active' AND x.lease_until <= now_ AND x.reviewer <> r;
    END IF;
    -- Keep only unexpired leases of others, then add this one.
    UPDATE flywheel.review_items i
       SET (lease_holders, lease_until) = (
               SELECT coalesce(array_agg(h ORDER BY o), '{}') || r,
                      coalesce(array_agg(u ORDER BY o), '{}') || (now_ + q.lease)
               FROM unnest(i.lease_holders, i.lease_until) WITH ORDINALITY AS l(h, u, o)
               WHERE u > now_ AND h <> r)
     WHERE i.id = it.id
    RETURNING * INTO it;
    IF r = ANY (it.lease_holders) THEN
        -- this reviewer's own earlier lease on the item ran out
        UPDATE flywheel.review_assignments x SET state = 'expired', finished_at = least(x.lease_until, now_)
         WHERE x.item_id = it.id AND x.reviewer = r AND x.state = 'active';
    END IF;
    INSERT INTO flywheel.review_assignments (item_id, queue_id, reviewer, claimed_at, lease_until)
    VALUES (it.id, q.id, r, now_, now_ + q.lease)
    RETURNING * INTO a;
    RETURN flywheel.review_item_json(it, q, a);
END
$fn$;

-- Ends every lease on an item that has just closed (labelled, disputed,
-- skipped, adjudicated): live leases become 'closed', lapsed ones
-- 'expired', none finishing in the future. The caller holds the item's row
-- lock.
-- plpgsql, not sql: PostgreSQL 15 plans the statements of a SQL function
-- that is not inlined on every call (about 2 ms here, per submit); plpgsql
-- keeps the plans.
CREATE OR REPLACE FUNCTION flywheel.review_end_leases(item bigint)
RETURNS void
LANGUAGE plpgsql
AS $fn$
BEGIN
    UPDATE flywheel.review_assignments x
       SET state = CASE WHEN x.lease_until > clock_timestamp() THEN 'closed' ELSE 'expired' END,
           finished_at = least(x.lease_until, clock_timestamp())
     WHERE x.item_id = item AND x.state = 'active';
    UPDATE flywheel.review_items i SET lease_holders = '{}', lease_until = '{}'
     WHERE i.id = item AND cardinality(i.lease_holders) > 0;
END
$fn$;

-- Locks an item for a reviewer's submit/skip/release and checks that the
-- reviewer may act on it: they must have claimed it and not be done with it.
-- A lease that expired is still honoured while the item has room (nobody
-- took the slot); otherwise FR003.
CREATE OR REPLACE FUNCTION flywheel.review_lock_claimed(item bigint, r text, OUT it flywheel.review_items,
                                             OUT q flywheel.review_queues,
                                             OUT a flywheel.review_assignments)
LANGUAGE plpgsql
AS $fn$
DECLARE
    now_   timestamptz := clock_timestamp();
    others integer;
BEGIN
    SELECT * INTO it FROM flywheel.review_items WHERE id = item FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'review item % does not exist', item USING ERRCODE = 'FR005';
    END IF;
    SELECT * INTO q FROM flywheel.review_queues WHERE id = it.queue_id;
    IF r = ANY (it.done_by) THEN
        RAISE EXCEPTION 'reviewer "%" has already labelled or skipped item %', r, item
            USING ERRCODE = 'FR003', HINT = 'Use flywheel.review_revise() to change your label.';
    END IF;
    SELECT * INTO a FROM flywheel.review_assignments x
     WHERE x.item_id = item AND x.reviewer = r AND x.state IN ('active', 'expired', 'closed')
     ORDER BY x.claimed_at DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'item % is not claimed by reviewer "%"', item, r
            USING ERRCODE = 'FR003', HINT = 'Claim an item first with flywheel.review_claim().';
    END IF;
    IF it.status IN ('skipped', 'adjudicated')
       OR (it.status NOT IN ('pending', 'in_review') AND a.state = 'closed') THEN
        -- Closed under this reviewer's lease or after it ran out: say why.
        -- (An item labelled by others after the lease ran out is the
        -- FR003 "taken by other reviewers" below.)
        RAISE EXCEPTION 'item % is closed: it is %', item, it.status
            USING ERRCODE = 'FR006',
                  DETAIL = CASE it.status
                      WHEN 'skipped' THEN format('%s reviewers skipped it, the queue''s skip limit.', it.n_skips)
                      WHEN 'adjudicated' THEN 'An admin adjudicated it.'
                      ELSE format('It has the %s labels its queue asks for.', it.n_labels) END,
                  HINT = 'Claim another item.';
    END IF;
    IF a.state = 'active' AND a.lease_until > now_ AND r = ANY (it.lease_holders) THEN
        RETURN;
    END IF;
    SELECT count(*) INTO others FROM unnest(it.lease_holders, it.lease_until) AS l(h, u)
     WHERE u > now_ AND h <> r;
    IF NOT it.is_gold AND it.n_labels + others >= it.overlap THEN
        RAISE EXCEPTION 'the lease of reviewer "%" on item % has expired', r, item
            USING ERRCODE = 'FR003',
                  DETAIL = format('The lease ended at %s and the item was taken by other reviewers.', a.lease_until),
                  HINT = 'Claim another item.';
    END IF;
END
$fn$;

-- Whether the current labels of an item disagree on any field that has a
-- comparable value (boolean, category, number, pairwise).
CREATE OR REPLACE FUNCTION flywheel.review_item_disagrees(item bigint, def jsonb)
RETURNS boolean
LANGUAGE plpgsql
STABLE
AS $fn$
BEGIN
    RETURN (SELECT coalesce(bool_or(n > 1), false)
    FROM (
        -- an explicit null is no value, like an absent field
        SELECT f->>'name' AS field,
               count(DISTINCT nullif(cur.value->(f->>'name'), 'null'::jsonb)) AS n
        FROM (SELECT DISTINCT ON (l.reviewer) l.value
              FROM flywheel.review_labels l
              WHERE l.item_id = item AND NOT l.is_adjudication
              ORDER BY l.reviewer, l.version DESC) cur,
             jsonb_array_elements(def->'fields') f
        WHERE f->>'type' IN ('boolean', 'category', 'number', 'pairwise')
        GROUP BY 1
    ) s);
END
$fn$;

-- Submits a label for a claimed item; returns the label id. The value is a
-- JSON object {field: value} checked against the queue's rubric (FR002 names
-- the field). When the item reaches its overlap it becomes 'labelled', or
-- 'disputed' when the labels disagree.
CREATE OR REPLACE FUNCTION flywheel.review_submit(item bigint, label jsonb, reviewer text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
SET plan_cache_mode = force_generic_plan   -- prune partitions at run time, plan once
AS $fn$
DECLARE
    r    text := flywheel.review_caller(reviewer);
    c    record;
    def  jsonb;
    lid  bigint;
    done boolean;
BEGIN
    c := flywheel.review_lock_claimed(item, r);
    SELECT definition INTO def FROM flywheel.review_rubrics
     WHERE name = (c.q).rubric_name AND version = (c.q).rubric_version;
    -- The output is needed only to check span ranges: fetch it only when
    -- the label marks a span (a span field with a non-empty array; any other
    -- value of a span field fails without looking at the output).
    PERFORM flywheel.review_validate_label(def, label,
        CASE WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(def->'fields') f
                          WHERE f->>'type' = 'span'
                            AND CASE jsonb_typeof(label->(f->>'name'))
                                WHEN 'array' THEN jsonb_array_length(label->(f->>'name')) > 0
                                ELSE false END) THEN
            flywheel.review_generation_output((c.it).event_id, (c.it).event_time) END,
        (c.it).event_id_b IS NOT NULL);
    INSERT INTO flywheel.review_labels (item_id, queue_id, reviewer, version, value,
                                        rubric_name, rubric_version)
    VALUES (item, (c.q).id, r, 1, label, (c.q).rubric_name, (c.q).rubric_version)
    RETURNING id INTO lid;
    UPDATE flywheel.review_assignments SET state = 'submitted', finished_at = clock_timestamp()
     WHERE id = (c.a).id;
    -- Leases of others on this item that ran out are recorded as lost.
    IF EXISTS (SELECT 1 FROM unnest((c.it).lease_holders, (c.it).lease_until) AS l(h, u)
               WHERE h <> r AND u <= clock_timestamp()) THEN
        UPDATE flywheel.review_assignments x SET state = 'expired', finished_at = least(x.lease_until, clock_timestamp())
         WHERE x.item_id = item AND x.state = 'active' AND x.lease_until <= clock_timestamp();
    END IF;
    done := NOT (c.it).is_gold AND (c.it).n_labels + 1 >= (c.it).overlap;
    UPDATE flywheel.review_items i
       SET n_labels = i.n_labels + 1,
           done_by = i.done_by || r,
           (lease_holders, lease_until) = (
               SELECT coalesce(array_agg(h ORDER BY o), '{}'), coalesce(array_agg(u ORDER BY o), '{}')
               FROM unnest(i.lease_holders, i.lease_until) WITH ORDINALITY AS l(h, u, o)
               WHERE h <> r),
           status = CASE WHEN NOT done AND i.is_gold THEN i.status
                         WHEN NOT done THEN 'in_review'
                         WHEN i.overlap > 1 AND flywheel.review_item_disagrees(i.id, def) THEN 'disputed'
                         ELSE 'labelled' END,
           completed_at = CASE WHEN done THEN clock_timestamp() END
     WHERE i.id = item;
    IF done THEN
        PERFORM flywheel.review_end_leases(item);
        -- Agreement counts only items with labels of two reviewers or more;
        -- with one (an overlap of 1, the common queue) adding it changes no
        -- sum, so the advisory lock and the two statements are skipped.
        IF (c.it).n_labels + 1 >= 2 THEN
            PERFORM flywheel.review_agreement_add(item, 1);
        END IF;
    END IF;
    RETURN lid;
END
$fn$;

-- Skips a claimed item with a reason; the item is never offered to this
-- reviewer again, and leaves the queue as 'skipped' once skip_limit
-- reviewers have skipped it.
CREATE OR REPLACE FUNCTION flywheel.review_skip(item bigint, reason text, reviewer text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    r text := flywheel.review_caller(reviewer);
    c record;
BEGIN
    IF reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION 'a skip needs a reason' USING ERRCODE = 'FR002', COLUMN = 'reason',
            HINT = 'Say why, e.g. "not in English" or "output truncated".';
    END IF;
    c := flywheel.review_lock_claimed(item, r);
    UPDATE flywheel.review_assignments SET state = 'skipped', finished_at = clock_timestamp(),
                                           skip_reason = reason
     WHERE id = (c.a).id;
    UPDATE flywheel.review_items i
       SET n_skips = i.n_skips + 1,
           done_by = i.done_by || r,
           (lease_holders, lease_until) = (
               SELECT coalesce(array_agg(h ORDER BY o), '{}'), coalesce(array_agg(u ORDER BY o), '{}')
               FROM unnest(i.lease_holders, i.lease_until) WITH ORDINALITY AS l(h, u, o)
               WHERE h <> r),
           status = CASE WHEN NOT i.is_gold AND i.n_skips + 1 >= (c.q).skip_limit THEN 'skipped'
                         ELSE i.status END,
           completed_at = CASE WHEN NOT i.is_gold AND i.n_skips + 1 >= (c.q).skip_limit
                               THEN clock_timestamp() END
     WHERE i.id = item;
    IF NOT (c.it).is_gold AND (c.it).n_skips + 1 >= (c.q).skip_limit THEN
        PERFORM flywheel.review_end_leases(item);
    END IF;
END
$fn$;

-- Gives a claimed item back without labelling it; the reviewer may be
-- offered it again later.
CREATE OR REPLACE FUNCTION flywheel.review_release(item bigint, reviewer text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    r text := flywheel.review_caller(reviewer);
    c record;
BEGIN
    c := flywheel.review_lock_claimed(item, r);
    UPDATE flywheel.review_assignments SET state = 'released', finished_at = clock_timestamp()
     WHERE id = (c.a).id;
    UPDATE flywheel.review_items i
       SET (lease_holders, lease_until) = (
               SELECT coalesce(array_agg(h ORDER BY o), '{}'), coalesce(array_agg(u ORDER BY o), '{}')
               FROM unnest(i.lease_holders, i.lease_until) WITH ORDINALITY AS l(h, u, o)
               WHERE h <> r)
     WHERE i.id = item;
END
$fn$;

-- A new version of the reviewer's own label on an item (history kept);
-- returns the new label id.
CREATE OR REPLACE FUNCTION flywheel.review_revise(item bigint, label jsonb, reviewer text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
SET plan_cache_mode = force_generic_plan   -- prune partitions at run time, plan once
AS $fn$
DECLARE
    r    text := flywheel.review_caller(reviewer);
    it   flywheel.review_items;
    q    flywheel.review_queues;
    prev flywheel.review_labels;
    def  jsonb;
    lid  bigint;
BEGIN
    SELECT * INTO it FROM flywheel.review_items WHERE id = item FOR UPDATE;
    SELECT * INTO prev FROM flywheel.review_labels l
     WHERE l.item_id = item AND l.reviewer = r AND NOT l.is_adjudication
     ORDER BY l.version DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'reviewer "%" has no label on item % to revise', r, item USING ERRCODE = 'FR003';
    END IF;
    SELECT * INTO q FROM flywheel.review_queues WHERE id = it.queue_id;
    SELECT definition INTO def FROM flywheel.review_rubrics
     WHERE name = prev.rubric_name AND version = prev.rubric_version;
    PERFORM flywheel.review_validate_label(def, label,
        (SELECT g.output_messages FROM flywheel.generations g
          WHERE g.event_id = it.event_id AND g.event_time = it.event_time
            AND g.id_time = flywheel.event_id_time(it.event_id)),
        it.event_id_b IS NOT NULL);
    PERFORM flywheel.review_agreement_add(item, -1);   -- a no-op unless the item counts
    INSERT INTO flywheel.review_labels (item_id, queue_id, reviewer, version, value, supersedes,
                                        rubric_name, rubric_version)
    VALUES (item, it.queue_id, r, prev.version + 1, label, prev.id, prev.rubric_name, prev.rubric_version)
    RETURNING id INTO lid;
    IF it.status IN ('labelled', 'disputed') AND it.overlap > 1 THEN
        UPDATE flywheel.review_items i
           SET status = CASE WHEN flywheel.review_item_disagrees(i.id, def) THEN 'disputed' ELSE 'labelled' END
         WHERE i.id = item;
    END IF;
    PERFORM flywheel.review_agreement_add(item, 1);
    RETURN lid;
END
$fn$;

-- Records an authoritative label resolving a disagreement (admins only) and
-- marks the item adjudicated; returns the label id. A second adjudication is
-- a new version of the first.
CREATE OR REPLACE FUNCTION flywheel.review_adjudicate(item bigint, label jsonb, note text DEFAULT NULL,
                                           reviewer text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
SET plan_cache_mode = force_generic_plan   -- prune partitions at run time, plan once
AS $fn$
DECLARE
    r    text := flywheel.review_caller(reviewer);
    it   flywheel.review_items;
    q    flywheel.review_queues;
    def  jsonb;
    prev flywheel.review_labels;
    lid  bigint;
BEGIN
    SELECT * INTO it FROM flywheel.review_items WHERE id = item FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'review item % does not exist', item USING ERRCODE = 'FR005';
    END IF;
    IF it.is_gold OR it.n_labels = 0 THEN
        RAISE EXCEPTION 'item % cannot be adjudicated: %', item,
            CASE WHEN it.is_gold THEN 'it is a gold item' ELSE 'it has no labels' END
            USING ERRCODE = 'FR006';
    END IF;
    SELECT * INTO q FROM flywheel.review_queues WHERE id = it.queue_id;
    SELECT definition INTO def FROM flywheel.review_rubrics
     WHERE name = q.rubric_name AND version = q.rubric_version;
    PERFORM flywheel.review_validate_label(def, label,
        (SELECT g.output_messages FROM flywheel.generations g
          WHERE g.event_id = it.event_id AND g.event_time = it.event_time
            AND g.id_time = flywheel.event_id_time(it.event_id)),
        it.event_id_b IS NOT NULL);
    SELECT * INTO prev FROM flywheel.review_labels l
     WHERE l.item_id = item AND l.is_adjudication ORDER BY l.version DESC LIMIT 1;
    INSERT INTO flywheel.review_labels (item_id, queue_id, reviewer, version, value, is_adjudication,
                                        note, supersedes, rubric_name, rubric_version)
    VALUES (item, it.queue_id, r, coalesce(prev.version, 0) + 1, label, true, note, prev.id,
            q.rubric_name, q.rubric_version)
    RETURNING id INTO lid;
    UPDATE flywheel.review_items SET status = 'adjudicated', completed_at = coalesce(completed_at, clock_timestamp())
     WHERE id = item;
    PERFORM flywheel.review_end_leases(item);
    IF it.status NOT IN ('labelled', 'disputed', 'adjudicated') THEN
        PERFORM flywheel.review_agreement_add(item, 1);   -- it counts from now on
    END IF;
    RETURN lid;
END
$fn$;

-- The queues a reviewer can work on, with the rubric's instructions.
CREATE OR REPLACE FUNCTION flywheel.review_queues_for_me()
RETURNS TABLE (queue text, description text, rubric text, rubric_version integer,
               overlap integer, paused boolean, instructions text)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
    SELECT q.name, q.description, q.rubric_name, q.rubric_version, q.overlap, q.paused,
           r.definition->>'instructions'
    FROM flywheel.review_queues q
    JOIN flywheel.review_rubrics r ON r.name = q.rubric_name AND r.version = q.rubric_version
    ORDER BY q.name
$fn$;

-- ---------------------------------------------------------------------------
-- Agreement sums (tables in V0037)
-- ---------------------------------------------------------------------------

-- Adds (sign 1) or subtracts (sign -1) the contribution of `items` to the
-- agreement sums. An item contributes while it is finished (labelled,
-- disputed, adjudicated) and not gold: per comparable rubric field with at
-- least two current labels holding a value (an explicit null is no value),
-- one unit: its pairwise agreement sum_k n_k (n_k - 1) / (m (m - 1)), its
-- value count m, and for number fields the sums alpha needs; and one count
-- per value, pooled and per reviewer. Callers hold the items' row locks and
-- call it with -1 before changing what counts and with 1 after. A per
-- (queue, shard) advisory lock orders concurrent callers, so they never
-- deadlock on the sum rows.
CREATE OR REPLACE FUNCTION flywheel.review_agreement_apply(items bigint[], sign integer)
RETURNS void
LANGUAGE plpgsql
-- Plan once: a custom plan of these statements costs more than running
-- them for one item (measured ~5 ms against ~1 ms), and the generic plan
-- (index lookups per item) stays linear for a rebuild's many items.
SET plan_cache_mode = force_generic_plan
AS $fn$
BEGIN
    IF cardinality(items) = 1 THEN
        PERFORM pg_advisory_xact_lock(1919379314, (i.queue_id * 16 + i.id % 16)::integer)
           FROM flywheel.review_items i WHERE i.id = items[1];
    END IF;
    WITH cur AS (
        SELECT DISTINCT ON (l.item_id, l.reviewer) l.item_id, l.reviewer, l.value
        FROM unnest(items) AS t(id)
        JOIN flywheel.review_items i ON i.id = t.id
        JOIN flywheel.review_labels l ON l.item_id = i.id AND NOT l.is_adjudication
        WHERE NOT i.is_gold AND i.status IN ('labelled', 'disputed', 'adjudicated')
        ORDER BY l.item_id, l.reviewer, l.version DESC
    ), vals AS (
        SELECT i.queue_id, (i.id % 16)::smallint AS shard, f.name AS field, c.item_id,
               c.value->>f.name AS v,
               CASE WHEN f.type = 'number' THEN (c.value->>f.name)::numeric END AS x
        FROM cur c
        JOIN flywheel.review_items i ON i.id = c.item_id
        JOIN flywheel.review_queues q ON q.id = i.queue_id
        JOIN flywheel.review_rubrics r ON r.name = q.rubric_name AND r.version = q.rubric_version
        CROSS JOIN LATERAL (SELECT e->>'name' AS name, e->>'type' AS type
                            FROM jsonb_array_elements(r.definition->'fields') e
                            WHERE e->>'type' IN ('boolean', 'category', 'pairwise', 'number')) f
        WHERE c.value->f.name IS NOT NULL AND c.value->f.name <> 'null'::jsonb
    ), units AS (
        -- Straight from the per-value counts, without joining anything back:
        -- every step is one aggregation, linear in the labels.
        SELECT queue_id, shard, field, item_id, sum(n) AS m, sum(n * (n - 1)) AS nn,
               sum(n * x) AS s1, sum(n * x * x) AS s2
        FROM (SELECT queue_id, shard, field, item_id, v, max(x) AS x, count(*) AS n
              FROM vals GROUP BY 1, 2, 3, 4, 5) cells
        GROUP BY 1, 2, 3, 4 HAVING sum(n) >= 2
    )
    INSERT INTO flywheel.review_agreement_sums AS t
           (queue_id, field, shard, items, sum_p, not_pairs, sum_m, s1, s2, do_num)
    SELECT u.queue_id, u.field, u.shard,
           sign * count(*),
           sign * sum(u.nn::numeric / (u.m * (u.m - 1))),
           sign * count(*) FILTER (WHERE u.m <> 2),
           sign * sum(u.m),
           sign * coalesce(sum(u.s1), 0),
           sign * coalesce(sum(u.s2), 0),
           sign * coalesce(sum(2 * (u.m * u.s2 - u.s1 * u.s1) / (u.m - 1)), 0)
    FROM units u
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (queue_id, field, shard) DO UPDATE
       SET items = t.items + EXCLUDED.items, sum_p = t.sum_p + EXCLUDED.sum_p,
           not_pairs = t.not_pairs + EXCLUDED.not_pairs, sum_m = t.sum_m + EXCLUDED.sum_m,
           s1 = t.s1 + EXCLUDED.s1, s2 = t.s2 + EXCLUDED.s2, do_num = t.do_num + EXCLUDED.do_num;

    WITH cur AS (
        SELECT DISTINCT ON (l.item_id, l.reviewer) l.item_id, l.reviewer, l.value
        FROM unnest(items) AS t(id)
        JOIN flywheel.review_items i ON i.id = t.id
        JOIN flywheel.review_labels l ON l.item_id = i.id AND NOT l.is_adjudication
        WHERE NOT i.is_gold AND i.status IN ('labelled', 'disputed', 'adjudicated')
        ORDER BY l.item_id, l.reviewer, l.version DESC
    ), vals AS (
        SELECT i.queue_id, (i.id % 16)::smallint AS shard, f.name AS field, c.item_id, c.reviewer,
               c.value->>f.name AS v
        FROM cur c
        JOIN flywheel.review_items i ON i.id = c.item_id
        JOIN flywheel.review_queues q ON q.id = i.queue_id
        JOIN flywheel.review_rubrics r ON r.name = q.rubric_name AND r.version = q.rubric_version
        CROSS JOIN LATERAL (SELECT e->>'name' AS name
                            FROM jsonb_array_elements(r.definition->'fields') e
                            WHERE e->>'type' IN ('boolean', 'category', 'pairwise', 'number')) f
        WHERE c.value->f.name IS NOT NULL AND c.value->f.name <> 'null'::jsonb
    ), counted AS (
        SELECT v.*, count(*) OVER (PARTITION BY v.item_id, v.field) AS m FROM vals v
    )
    INSERT INTO flywheel.review_agreement_counts AS t (queue_id, field, reviewer, value, shard, n)
    SELECT c.queue_id, c.field, who.reviewer, c.v, c.shard, sign * count(*)
    FROM counted c CROSS JOIN LATERAL (VALUES (''), (c.reviewer)) AS who(reviewer)
    WHERE c.m >= 2
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (queue_id, field, reviewer, value, shard) DO UPDATE SET n = t.n + EXCLUDED.n;
END
$fn$;

CREATE OR REPLACE FUNCTION flywheel.review_agreement_add(item bigint, sign integer)
RETURNS void
LANGUAGE sql
AS $fn$
    SELECT flywheel.review_agreement_apply(ARRAY[item], sign);
$fn$;

-- Recomputes every agreement sum from the labels (what the incremental
-- updates maintain). Blocks concurrent submits while it runs.
CREATE OR REPLACE FUNCTION flywheel.review_agreement_rebuild()
RETURNS void
LANGUAGE plpgsql
AS $fn$
DECLARE
    ids bigint[];
BEGIN
    LOCK TABLE flywheel.review_agreement_sums, flywheel.review_agreement_counts IN EXCLUSIVE MODE;
    DELETE FROM flywheel.review_agreement_sums;
    DELETE FROM flywheel.review_agreement_counts;
    SELECT array_agg(i.id) INTO ids FROM flywheel.review_items i
     WHERE NOT i.is_gold AND i.status IN ('labelled', 'disputed', 'adjudicated') AND i.n_labels >= 2;
    IF ids IS NOT NULL THEN
        PERFORM flywheel.review_agreement_apply(ids, 1);
    END IF;
END
$fn$;

-- ---------------------------------------------------------------------------
-- Results and statistics
-- ---------------------------------------------------------------------------

-- The latest version of each reviewer's label on each item.
CREATE OR REPLACE VIEW flywheel.review_current_labels AS
SELECT DISTINCT ON (l.item_id, l.reviewer)
       l.id AS label_id, l.item_id, l.queue_id, l.reviewer, l.version, l.value, l.created_at
FROM flywheel.review_labels l
WHERE NOT l.is_adjudication
ORDER BY l.item_id, l.reviewer, l.version DESC;

-- One row per finished item: the final label (the latest adjudication, else
-- the current labels merged when the item is 'labelled': every field with a
-- value, taken from the first reviewer by name who gave one; the labels
-- agree on every comparable field). An explicit null is no value: it never
-- appears in `value`, and a field left null by one reviewer and filled by
-- another takes the filled value.
CREATE OR REPLACE VIEW flywheel.review_results AS
SELECT q.name AS queue, i.id AS item_id, i.event_id, i.event_time, i.event_id_b, i.status,
       coalesce(adj.value, CASE WHEN i.status = 'labelled' THEN merged.value END) AS value,
       (adj.value IS NOT NULL) AS adjudicated,
       (SELECT jsonb_agg(jsonb_build_object('reviewer', c.reviewer, 'value', c.value) ORDER BY c.reviewer)
          FROM flywheel.review_current_labels c WHERE c.item_id = i.id) AS labels,
       i.completed_at
FROM flywheel.review_items i
JOIN flywheel.review_queues q ON q.id = i.queue_id
LEFT JOIN LATERAL (SELECT (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb)
                           FROM jsonb_each(l.value) e WHERE e.value <> 'null'::jsonb) AS value
                   FROM flywheel.review_labels l
                   WHERE l.item_id = i.id AND l.is_adjudication
                   ORDER BY l.version DESC LIMIT 1) adj ON true
LEFT JOIN LATERAL (SELECT coalesce(jsonb_object_agg(f.key, f.value), '{}'::jsonb) AS value
                   FROM (SELECT DISTINCT ON (e.key) e.key, e.value
                         FROM flywheel.review_current_labels c, jsonb_each(c.value) e
                         WHERE c.item_id = i.id AND e.value <> 'null'::jsonb
                         ORDER BY e.key, c.reviewer) f) merged ON true
WHERE i.status IN ('labelled', 'disputed', 'adjudicated') AND NOT i.is_gold;

-- Progress per queue, with the backlog's age.
CREATE OR REPLACE VIEW flywheel.review_progress AS
SELECT q.name AS queue, q.paused, q.overlap,
       count(i.id) FILTER (WHERE NOT i.is_gold) AS items,
       -- in review: some labels, or an unexpired lease on an item without labels yet
       count(i.id) FILTER (WHERE i.status = 'pending' AND NOT i.is_gold
                             AND NOT EXISTS (
                                 SELECT 1 FROM unnest(i.lease_until) u WHERE u > now())) AS pending,
       count(i.id) FILTER (WHERE NOT i.is_gold AND (i.status = 'in_review' OR (i.status = 'pending'
                             AND EXISTS (SELECT 1 FROM unnest(i.lease_until) u WHERE u > now()))))
           AS in_review,
       count(i.id) FILTER (WHERE i.status = 'labelled') AS labelled,
       count(i.id) FILTER (WHERE i.status = 'disputed') AS disputed,
       count(i.id) FILTER (WHERE i.status = 'adjudicated') AS adjudicated,
       count(i.id) FILTER (WHERE i.status = 'skipped') AS skipped,
       count(i.id) FILTER (WHERE i.is_gold) AS gold,
       coalesce(sum(i.n_labels), 0) AS labels,
       now() - min(i.created_at) FILTER (WHERE i.status IN ('pending', 'in_review') AND NOT i.is_gold)
           AS oldest_open_age,
       q.last_fill_at
FROM flywheel.review_queues q
LEFT JOIN flywheel.review_items i ON i.queue_id = q.id
GROUP BY q.id;

-- Labels per reviewer per queue per day.
CREATE OR REPLACE VIEW flywheel.review_throughput AS
SELECT q.name AS queue, l.reviewer, date_trunc('day', l.created_at) AS day,
       count(*) FILTER (WHERE l.version = 1) AS labels,
       count(*) FILTER (WHERE l.version > 1) AS revisions
FROM flywheel.review_labels l
JOIN flywheel.review_queues q ON q.id = l.queue_id
WHERE NOT l.is_adjudication
GROUP BY 1, 2, 3;

-- Time from claim to submit per reviewer per queue, in seconds.
CREATE OR REPLACE VIEW flywheel.review_time_per_item AS
SELECT q.name AS queue, a.reviewer, count(*) AS items,
       avg(extract(epoch FROM a.finished_at - a.claimed_at)) AS mean_s,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.finished_at - a.claimed_at)) AS p50_s,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.finished_at - a.claimed_at)) AS p90_s,
       count(*) FILTER (WHERE a.state = 'skipped') AS skipped
FROM flywheel.review_assignments a
JOIN flywheel.review_queues q ON q.id = a.queue_id
WHERE a.state IN ('submitted', 'skipped')
GROUP BY 1, 2;

-- Agreement per queue and field, over finished non-gold items with at least
-- two current labels holding a value for the field (an explicit null is no
-- value). Nominal fields (boolean, category, pairwise):
--   percent_agreement = mean over items of sum_k n_ik (n_ik - 1) / (m_i (m_i - 1))
--     (pairwise agreement; for two raters, the share of items they agree on)
--   kappa: Cohen's when exactly two reviewers labelled every item of the
--     field, else Fleiss' (chance agreement from the pooled category shares).
-- Number fields: Krippendorff's alpha, interval metric:
--   alpha = 1 - D_o / D_e, D_o = (1/n) sum_u sum_{i!=j in u} (v_i - v_j)^2 / (m_u - 1),
--   D_e = sum_{i!=j over all n values} (v_i - v_j)^2 / (n (n - 1)),
--   using sum_{i!=j} (v_i - v_j)^2 = 2 (m sum v^2 - (sum v)^2).
-- Percent agreement of a number field is exact equality.
-- It reads the running sums of V0037 (kept by review_agreement_apply), so it
-- costs the same at a thousand labels as at millions.
CREATE OR REPLACE VIEW flywheel.review_agreement AS
WITH fields AS (
    SELECT q.id AS queue_id, q.name AS queue, f->>'name' AS field, f->>'type' AS type
    FROM flywheel.review_queues q
    JOIN flywheel.review_rubrics r ON r.name = q.rubric_name AND r.version = q.rubric_version,
         jsonb_array_elements(r.definition->'fields') f
    WHERE f->>'type' IN ('boolean', 'category', 'pairwise', 'number')
), s AS (
    SELECT queue_id, field, sum(items) AS items, sum(sum_p) AS sum_p, sum(not_pairs) AS not_pairs,
           sum(sum_m) AS sum_m, sum(s1) AS s1, sum(s2) AS s2, sum(do_num) AS do_num
    FROM flywheel.review_agreement_sums GROUP BY 1, 2 HAVING sum(items) > 0
), c AS (
    SELECT queue_id, field, reviewer, value, sum(n) AS n
    FROM flywheel.review_agreement_counts GROUP BY 1, 2, 3, 4 HAVING sum(n) > 0
), fleiss AS (   -- pooled category shares
    SELECT queue_id, field, sum(p * p) AS pe
    FROM (SELECT queue_id, field, n::double precision / sum(n) OVER (PARTITION BY queue_id, field) AS p
          FROM c WHERE reviewer = '') x
    GROUP BY 1, 2
), rater_shares AS (   -- per-rater category shares (Cohen)
    SELECT queue_id, field, reviewer, value,
           n::double precision / sum(n) OVER (PARTITION BY queue_id, field, reviewer) AS p
    FROM c WHERE reviewer <> ''
), raters AS (
    SELECT queue_id, field, count(DISTINCT reviewer) AS raters FROM rater_shares GROUP BY 1, 2
), cohen AS (
    SELECT a.queue_id, a.field, sum(a.p * b.p) AS pe
    FROM rater_shares a
    JOIN rater_shares b ON b.queue_id = a.queue_id AND b.field = a.field AND b.value = a.value
                       AND a.reviewer < b.reviewer
    GROUP BY 1, 2
)
SELECT fl.queue, fl.field, fl.type,
       s.items::bigint AS items,
       ra.raters,
       (s.sum_p / s.items)::double precision AS percent_agreement,
       CASE WHEN fl.type = 'number' THEN NULL
            WHEN ra.raters = 2 AND s.not_pairs = 0 THEN 'cohen' ELSE 'fleiss' END AS kappa_kind,
       CASE WHEN fl.type = 'number' THEN NULL
            WHEN ra.raters = 2 AND s.not_pairs = 0 THEN
                 ((s.sum_p / s.items)::double precision - coalesce(cp.pe, 0)) / nullif(1 - coalesce(cp.pe, 0), 0)
            ELSE ((s.sum_p / s.items)::double precision - fp.pe) / nullif(1 - fp.pe, 0) END AS kappa,
       CASE WHEN fl.type = 'number' THEN
            1 - (s.do_num / s.sum_m)::double precision
                / nullif((2 * (s.sum_m * s.s2 - s.s1 * s.s1) / (s.sum_m * (s.sum_m - 1)))::double precision, 0)
       END AS alpha_interval
FROM fields fl
JOIN s ON s.queue_id = fl.queue_id AND s.field = fl.field
JOIN raters ra ON ra.queue_id = fl.queue_id AND ra.field = fl.field
LEFT JOIN cohen cp ON cp.queue_id = fl.queue_id AND cp.field = fl.field
LEFT JOIN fleiss fp ON fp.queue_id = fl.queue_id AND fp.field = fl.field;

-- Each reviewer's accuracy on gold items, per field: a value is correct when
-- it equals the gold value (JSON equality).
CREATE OR REPLACE VIEW flywheel.review_gold_accuracy AS
SELECT q.name AS queue, c.reviewer, f->>'name' AS field,
       count(*) AS gold_items,
       count(*) FILTER (WHERE c.value->(f->>'name') = i.gold_label->(f->>'name')) AS correct,
       count(*) FILTER (WHERE c.value->(f->>'name') = i.gold_label->(f->>'name'))::double precision
           / count(*) AS accuracy
FROM flywheel.review_items i
JOIN flywheel.review_queues q ON q.id = i.queue_id
JOIN flywheel.review_current_labels c ON c.item_id = i.id
JOIN flywheel.review_rubrics r ON r.name = q.rubric_name AND r.version = q.rubric_version,
     jsonb_array_elements(r.definition->'fields') f
WHERE i.is_gold AND i.gold_label ? (f->>'name') AND i.gold_label->(f->>'name') <> 'null'::jsonb
GROUP BY 1, 2, 3;

-- ---------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------
-- Every function of this file, by name: nobody but the roles below may
-- execute any of them (functions are executable by PUBLIC when created).
REVOKE ALL ON FUNCTION
    flywheel.review_refuse_change(),
    flywheel.review_caller(text),
    flywheel.review_validate_rubric(jsonb),
    flywheel.review_rubric_create(text, jsonb),
    flywheel.review_validate_label(jsonb, jsonb, jsonb, boolean),
    flywheel.review_validate_queue_rules(jsonb, jsonb),
    flywheel.review_queue_create(jsonb),
    flywheel.review_queue_pause(text, boolean),
    flywheel.review_queue_get(text),
    flywheel.review_fill(text, boolean, interval),
    flywheel.review_fill_all(),
    flywheel.review_add_item(text, uuid, uuid, double precision),
    flywheel.review_add_gold(text, uuid, jsonb),
    flywheel.review_generation_json(uuid, timestamptz),
    flywheel.review_generation_output(uuid, timestamptz),
    flywheel.review_item_json(flywheel.review_items, flywheel.review_queues,
                              flywheel.review_assignments),
    flywheel.review_claim(text, text),
    flywheel.review_lock_claimed(bigint, text),
    flywheel.review_item_disagrees(bigint, jsonb),
    flywheel.review_submit(bigint, jsonb, text),
    flywheel.review_skip(bigint, text, text),
    flywheel.review_release(bigint, text),
    flywheel.review_revise(bigint, jsonb, text),
    flywheel.review_adjudicate(bigint, jsonb, text, text),
    flywheel.review_queues_for_me(),
    flywheel.review_end_leases(bigint),
    flywheel.review_agreement_apply(bigint[], integer),
    flywheel.review_agreement_add(bigint, integer),
    flywheel.review_agreement_rebuild()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    flywheel.review_refuse_change(),
    flywheel.review_caller(text),
    flywheel.review_validate_rubric(jsonb),
    flywheel.review_rubric_create(text, jsonb),
    flywheel.review_validate_label(jsonb, jsonb, jsonb, boolean),
    flywheel.review_validate_queue_rules(jsonb, jsonb),
    flywheel.review_queue_create(jsonb),
    flywheel.review_queue_pause(text, boolean),
    flywheel.review_queue_get(text),
    flywheel.review_fill(text, boolean, interval),
    flywheel.review_fill_all(),
    flywheel.review_add_item(text, uuid, uuid, double precision),
    flywheel.review_add_gold(text, uuid, jsonb),
    flywheel.review_generation_json(uuid, timestamptz),
    flywheel.review_generation_output(uuid, timestamptz),
    flywheel.review_item_json(flywheel.review_items, flywheel.review_queues,
                              flywheel.review_assignments),
    flywheel.review_claim(text, text),
    flywheel.review_lock_claimed(bigint, text),
    flywheel.review_item_disagrees(bigint, jsonb),
    flywheel.review_submit(bigint, jsonb, text),
    flywheel.review_skip(bigint, text, text),
    flywheel.review_release(bigint, text),
    flywheel.review_revise(bigint, jsonb, text),
    flywheel.review_adjudicate(bigint, jsonb, text, text),
    flywheel.review_queues_for_me(),
    flywheel.review_end_leases(bigint),
    flywheel.review_agreement_apply(bigint[], integer),
    flywheel.review_agreement_add(bigint, integer),
    flywheel.review_agreement_rebuild()
    TO flywheel_admin;
GRANT SELECT ON flywheel.review_current_labels, flywheel.review_results, flywheel.review_progress,
                flywheel.review_throughput, flywheel.review_time_per_item,
                flywheel.review_agreement, flywheel.review_gold_accuracy
    TO flywheel_admin;
GRANT SELECT ON flywheel.review_progress, flywheel.review_throughput, flywheel.review_time_per_item,
                flywheel.review_agreement, flywheel.review_gold_accuracy
    TO flywheel_reader;

GRANT EXECUTE ON FUNCTION
    flywheel.review_claim(text, text),
    flywheel.review_submit(bigint, jsonb, text),
    flywheel.review_skip(bigint, text, text),
    flywheel.review_release(bigint, text),
    flywheel.review_revise(bigint, jsonb, text),
    flywheel.review_queues_for_me()
    TO flywheel_reviewer;

-- The agreement sums follow the functions above: recompute them whenever
-- this file is applied (the first time, from the labels already there).
SELECT flywheel.review_agreement_rebuild();
