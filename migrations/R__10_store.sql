-- R__10_store: the event store's functions and views (repeatable).
--
-- Re-applied whenever this file changes and after any versioned migration:
-- every statement is idempotent (CREATE OR REPLACE, grants). Tables live in
-- V0001__create_store.sql.

-- ---------------------------------------------------------------------------
-- Partition maintenance
-- ---------------------------------------------------------------------------

-- Partitions are by id_time, the time a row's event id carries
-- (flywheel.event_id_time(), V0038): a day partition holds the rows whose
-- ids were made that UTC day; rows whose ids are not UUIDv7 are all in
-- generations_19700101.
--
-- Creates the daily partition of flywheel.generations that holds `day`, if
-- missing, moving any rows of that day out of the default partition first
-- (PostgreSQL refuses to attach a partition whose range has rows in the
-- default one). Returns true when it created the partition.
CREATE OR REPLACE FUNCTION flywheel.ensure_generation_partition(day date)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    part   text := format('generations_%s', to_char(day, 'YYYYMMDD'));
    lo     timestamptz := (day::timestamp AT TIME ZONE 'UTC');
    hi     timestamptz := ((day + 1)::timestamp AT TIME ZONE 'UTC');
    moved  bigint;
BEGIN
    IF to_regclass(format('flywheel.%I', part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- Serialise with concurrent inserts into the default partition for the
    -- short time the rows move.
    LOCK TABLE flywheel.generations_default IN SHARE ROW EXCLUSIVE MODE;
    EXECUTE format('CREATE TABLE flywheel.%I (LIKE flywheel.generations INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMPRESSION INCLUDING STORAGE)', part);
    EXECUTE format('WITH m AS (DELETE FROM flywheel.generations_default
                               WHERE id_time >= $1 AND id_time < $2 RETURNING *)
                    INSERT INTO flywheel.%I SELECT * FROM m', part)
        USING lo, hi;
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE format('ALTER TABLE flywheel.generations ATTACH PARTITION flywheel.%I
                    FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
    IF moved > 0 THEN
        RAISE NOTICE 'moved % rows from generations_default into %', moved, part;
    END IF;
    RETURN true;
END
$fn$;

-- Creates the partitions for the days from `days_back` before today to
-- `days_ahead` after it (UTC), and for every day that has rows in the default
-- partition. Idempotent; safe to run concurrently (an advisory lock makes
-- concurrent callers wait). Returns the number of partitions created.
CREATE OR REPLACE FUNCTION flywheel.maintain_partitions(days_ahead integer DEFAULT 7,
                                             days_back integer DEFAULT 1)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
DECLARE
    today   date := (now() AT TIME ZONE 'UTC')::date;
    d       date;
    created integer := 0;
BEGIN
    IF days_ahead < 0 OR days_ahead > 366 OR days_back < 0 OR days_back > 366 THEN
        RAISE EXCEPTION 'days_ahead and days_back must be between 0 and 366'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('flywheel.maintain_partitions'));
    FOR d IN SELECT generate_series(today - days_back, today + days_ahead, interval '1 day')::date
             UNION
             SELECT DISTINCT (id_time AT TIME ZONE 'UTC')::date FROM flywheel.generations_default
    LOOP
        IF flywheel.ensure_generation_partition(d) THEN
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$fn$;

SELECT flywheel.maintain_partitions();

-- ---------------------------------------------------------------------------
-- Views
-- ---------------------------------------------------------------------------
CREATE OR REPLACE VIEW flywheel.orphan_feedback AS
SELECT f.*
FROM flywheel.feedback f
WHERE NOT EXISTS (
        SELECT 1 FROM flywheel.generations g
        WHERE (f.target_event_id IS NOT NULL AND g.event_id = f.target_event_id)
           OR (f.target_response_id IS NOT NULL AND g.response_id = f.target_response_id)
           OR (f.target_trace_id IS NOT NULL AND g.trace_id = f.target_trace_id
               AND (f.target_span_id IS NULL OR g.span_id = f.target_span_id)));

COMMENT ON VIEW flywheel.orphan_feedback IS
    'Feedback whose target generation has not been stored (yet), or whose target span is not an LLM call';

-- ---------------------------------------------------------------------------
-- Names
-- ---------------------------------------------------------------------------
-- The one rule for the names of rubrics, review queues, datasets and eval
-- runs: 1 to 63 characters, ASCII letters, digits, "_", "." and "-",
-- starting with a letter or a digit (file-name and URL safe, and short
-- enough for an identifier). The CHECK constraints of the tables hold the
-- same pattern; name_check says what is wrong before a constraint would,
-- with the rule in the DETAIL, under the SQLSTATE the caller documents
-- (FR001 for rubrics, FR004 for queues, 23514 check_violation for a direct
-- INSERT). The `flywheel` CLI checks the same rule before it sends a name.
CREATE OR REPLACE FUNCTION flywheel.name_check(kind text, name text, errcode text DEFAULT '23514')
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $fn$
DECLARE
    problem text;
BEGIN
    IF name IS NULL OR name = '' THEN
        problem := 'it is empty';
    ELSIF name !~ '^[A-Za-z0-9]' THEN
        problem := format('it starts with "%s"', left(name, 1));
    ELSIF name !~ '^[A-Za-z0-9_.-]*$' THEN
        problem := format('it contains "%s"', substring(name FROM '[^A-Za-z0-9_.-]'));
    ELSIF length(name) > 63 THEN
        problem := format('it is %s characters long', length(name));
    END IF;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'invalid % name "%": %', kind, coalesce(name, ''), problem
            USING ERRCODE = errcode,
                  DETAIL = format('A %s name is 1 to 63 characters: ASCII letters, digits, "_", "." '
                                  'and "-", starting with a letter or a digit.', kind),
                  HINT = 'For example "support-quality", "finetune_v2" or "2026.12-eval".';
    END IF;
END
$fn$;

-- BEFORE INSERT and name UPDATE triggers: the same message for a row
-- written directly (an export recording a dataset, an admin in psql).
CREATE OR REPLACE FUNCTION flywheel.name_check_row()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, flywheel
AS $fn$
BEGIN
    PERFORM flywheel.name_check(TG_ARGV[0], NEW.name);
    RETURN NEW;
END
$fn$;
CREATE OR REPLACE TRIGGER review_rubrics_name BEFORE INSERT OR UPDATE OF name
    ON flywheel.review_rubrics FOR EACH ROW EXECUTE FUNCTION flywheel.name_check_row('rubric');
CREATE OR REPLACE TRIGGER review_queues_name BEFORE INSERT OR UPDATE OF name
    ON flywheel.review_queues FOR EACH ROW EXECUTE FUNCTION flywheel.name_check_row('queue');
CREATE OR REPLACE TRIGGER datasets_name BEFORE INSERT OR UPDATE OF name
    ON flywheel.datasets FOR EACH ROW EXECUTE FUNCTION flywheel.name_check_row('dataset');
CREATE OR REPLACE TRIGGER eval_runs_name BEFORE INSERT OR UPDATE OF name
    ON flywheel.eval_runs FOR EACH ROW EXECUTE FUNCTION flywheel.name_check_row('eval run');

-- ---------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------
REVOKE ALL ON FUNCTION flywheel.ensure_generation_partition(date),
                       flywheel.maintain_partitions(integer, integer),
                       flywheel.name_check(text, text, text),
                       flywheel.name_check_row() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flywheel.maintain_partitions(integer, integer),
                          flywheel.ensure_generation_partition(date)
    TO flywheel_admin, flywheel_ingest;
GRANT ALL ON flywheel.orphan_feedback TO flywheel_admin;
GRANT SELECT ON flywheel.orphan_feedback TO flywheel_reader;
