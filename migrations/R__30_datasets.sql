-- R__30_datasets: functions and triggers of dataset versions (repeatable;
-- the tables are in V0020__datasets.sql). Re-applied whenever this file
-- changes and after any versioned migration: every statement is idempotent.

-- Members and versions never change once written.
CREATE OR REPLACE FUNCTION flywheel.dataset_refuse_update()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, flywheel
AS $fn$
BEGIN
    IF TG_TABLE_NAME = 'dataset_versions' AND OLD.manifest IS NULL
       AND NEW.dataset = OLD.dataset AND NEW.version = OLD.version
       AND NEW.parameters = OLD.parameters AND NEW.format = OLD.format THEN
        RETURN NEW;  -- the export filling in its manifest and member count
    END IF;
    RAISE EXCEPTION 'UPDATE on %.% is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'A dataset version is immutable once recorded.',
              HINT = 'Export a new version instead.';
END
$fn$;
CREATE OR REPLACE TRIGGER dataset_members_immutable BEFORE UPDATE ON flywheel.dataset_members
    FOR EACH ROW EXECUTE FUNCTION flywheel.dataset_refuse_update();
CREATE OR REPLACE TRIGGER dataset_versions_immutable BEFORE UPDATE ON flywheel.dataset_versions
    FOR EACH ROW EXECUTE FUNCTION flywheel.dataset_refuse_update();

-- The resolved label of a set of label rows: per field, the value given by
-- the most labels, ties going to the value of the lowest label id; null
-- values are ignored. With one label (an adjudication, or an overlap-1
-- item) it is that label's value. Depends only on the rows named, which
-- never change, so it is reproducible.
CREATE OR REPLACE FUNCTION flywheel.dataset_label_value(label_ids bigint[])
RETURNS jsonb
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, flywheel
AS $fn$
    SELECT coalesce(jsonb_object_agg(s.key, s.value), '{}'::jsonb)
    FROM (
        SELECT DISTINCT ON (e.key) e.key, e.value
        FROM flywheel.review_labels l, jsonb_each(l.value) e
        WHERE l.id = ANY (label_ids) AND e.value <> 'null'::jsonb
        GROUP BY e.key, e.value
        ORDER BY e.key, count(*) DESC, min(l.id)
    ) s
$fn$;

-- Whether every one of `fields` has a strict majority value among the
-- label rows (a field nobody filled counts as agreed).
CREATE OR REPLACE FUNCTION flywheel.dataset_label_majority(label_ids bigint[], fields text[])
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, flywheel
AS $fn$
    SELECT coalesce(bool_and(top * 2 > cardinality(label_ids)), true)
    FROM (
        SELECT f.name, max(n) AS top
        FROM unnest(fields) AS f(name)
        JOIN LATERAL (
            SELECT count(*) AS n
            FROM flywheel.review_labels l
            WHERE l.id = ANY (label_ids) AND l.value ? f.name
              AND l.value -> f.name <> 'null'::jsonb
            GROUP BY l.value -> f.name
        ) c ON true
        GROUP BY f.name
    ) s
$fn$;

-- What changed between two versions: members only in one of them, and
-- members whose label rows differ.
CREATE OR REPLACE FUNCTION flywheel.dataset_diff(name text, from_version integer, to_version integer)
RETURNS TABLE (change text, event_id uuid, item_id bigint, old_label_ids bigint[],
               new_label_ids bigint[])
LANGUAGE sql
STABLE
SET search_path = pg_catalog, flywheel
AS $fn$
    SELECT CASE WHEN a.event_id IS NULL THEN 'added'
                WHEN b.event_id IS NULL THEN 'removed'
                ELSE 'relabelled' END,
           coalesce(a.event_id, b.event_id), coalesce(a.item_id, b.item_id),
           a.label_ids, b.label_ids
    FROM (SELECT * FROM flywheel.dataset_members m
          WHERE m.dataset = name AND m.version = from_version) a
    FULL JOIN (SELECT * FROM flywheel.dataset_members m
               WHERE m.dataset = name AND m.version = to_version) b
      ON a.event_id = b.event_id AND a.item_id = b.item_id
    WHERE a.event_id IS NULL OR b.event_id IS NULL OR a.label_ids <> b.label_ids
    ORDER BY 2, 3
$fn$;

-- Functions are executable by PUBLIC when created: revoke that from every
-- one of them (the trigger function included, which V0020 forgot).
REVOKE ALL ON FUNCTION flywheel.dataset_label_value(bigint[]),
                       flywheel.dataset_label_majority(bigint[], text[]),
                       flywheel.dataset_diff(text, integer, integer),
                       flywheel.dataset_refuse_update() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flywheel.dataset_label_value(bigint[]),
                          flywheel.dataset_label_majority(bigint[], text[]),
                          flywheel.dataset_diff(text, integer, integer),
                          flywheel.dataset_refuse_update()
    TO flywheel_admin;
