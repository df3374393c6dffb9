-- V0020: dataset versions for `flywheel export`.
--
-- A dataset is a name; each export into it records a version: the
-- parameters that decide the bytes (format, selection, consensus rule,
-- split seed and ratios, group key, dedupe, redaction rules, ...), the exact
-- member generations with the exact label rows used for each, and the
-- manifest (counts, rejected rows by reason, sha256 of every file).
-- Labels are append-only (V0003) and rubric versions immutable, so
-- re-exporting a version from its members and label ids gives the same
-- bytes however many labels have arrived since: `flywheel export --dataset
-- NAME --version K` checks the sha256s against the recorded manifest.
--
-- Members are written in the same transaction as the version row and its
-- manifest; an export that fails leaves no version behind.

CREATE TABLE flywheel.datasets (
    name            text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    description     text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text        NOT NULL DEFAULT session_user
);
COMMENT ON TABLE flywheel.datasets IS 'Named datasets produced by flywheel export';

CREATE TABLE flywheel.dataset_versions (
    dataset         text        NOT NULL REFERENCES flywheel.datasets ON DELETE CASCADE,
    version         integer     NOT NULL CHECK (version >= 1),
    format          text        NOT NULL,
    parameters      jsonb       NOT NULL,
    members         bigint      NOT NULL DEFAULT 0,
    manifest        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text        NOT NULL DEFAULT session_user,
    PRIMARY KEY (dataset, version)
);
COMMENT ON TABLE flywheel.dataset_versions IS
    'One row per recorded export: parameters, member count and manifest (sha256 per file)';

CREATE TABLE flywheel.dataset_members (
    dataset         text        NOT NULL,
    version         integer     NOT NULL,
    event_id        uuid        NOT NULL,
    event_time      timestamptz NOT NULL,
    item_id         bigint      NOT NULL DEFAULT 0,   -- review item; 0 for exports without a queue
    event_id_b      uuid,                             -- second generation of a pairwise item
    event_time_b    timestamptz,
    label_ids       bigint[]    NOT NULL DEFAULT '{}', -- the review_labels rows used
    PRIMARY KEY (dataset, version, event_id, item_id),
    FOREIGN KEY (dataset, version) REFERENCES flywheel.dataset_versions ON DELETE CASCADE
);
COMMENT ON TABLE flywheel.dataset_members IS
    'The exact generations and label rows of each dataset version, in export order (event_id, item_id)';

-- Members and versions never change once written.
CREATE FUNCTION flywheel.dataset_refuse_update()
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
CREATE TRIGGER dataset_members_immutable BEFORE UPDATE ON flywheel.dataset_members
    FOR EACH ROW EXECUTE FUNCTION flywheel.dataset_refuse_update();
CREATE TRIGGER dataset_versions_immutable BEFORE UPDATE ON flywheel.dataset_versions
    FOR EACH ROW EXECUTE FUNCTION flywheel.dataset_refuse_update();

-- The resolved label of a set of label rows: per field, the value given by
-- the most labels, ties going to the value of the lowest label id; null
-- values are ignored. With one label (an adjudication, or an overlap-1
-- item) it is that label's value. Depends only on the rows named, which
-- never change, so it is reproducible.
CREATE FUNCTION flywheel.dataset_label_value(label_ids bigint[])
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
CREATE FUNCTION flywheel.dataset_label_majority(label_ids bigint[], fields text[])
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
CREATE FUNCTION flywheel.dataset_diff(name text, from_version integer, to_version integer)
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

REVOKE ALL ON FUNCTION flywheel.dataset_label_value(bigint[]),
                       flywheel.dataset_label_majority(bigint[], text[]),
                       flywheel.dataset_diff(text, integer, integer) FROM PUBLIC;
GRANT ALL ON flywheel.datasets, flywheel.dataset_versions, flywheel.dataset_members
    TO flywheel_admin;
GRANT EXECUTE ON FUNCTION flywheel.dataset_label_value(bigint[]),
                          flywheel.dataset_label_majority(bigint[], text[]),
                          flywheel.dataset_diff(text, integer, integer),
                          flywheel.dataset_refuse_update()
    TO flywheel_admin;
GRANT SELECT ON flywheel.datasets, flywheel.dataset_versions TO flywheel_reader;
