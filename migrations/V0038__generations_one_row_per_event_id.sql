-- V0038: one generation row per event id.
--
-- flywheel.generations was partitioned by event_time with the primary key
-- (event_id, event_time), so the same event id sent again with another time
-- (a producer that recomputes the time on retry, an OTLP exporter re-sending
-- a span with a corrected time) became a second row in another partition.
-- The row's place is now a function of the event id alone: the new column
-- id_time is the time an event id carries, flywheel.event_id_time(event_id),
-- and the table is partitioned by it with the primary key (event_id,
-- id_time). A CHECK constraint holds id_time to that function, so whoever
-- inserts (the collector, eval runs, a psql session) the database itself
-- keeps one row per event id: a second copy of an id always lands in the
-- same partition and conflicts on the primary key.
--
-- event_time keeps its meaning (when the generation happened, as sent) and
-- stays indexed; views, dashboards, exports and review fills read it as
-- before. Only the partition key and the primary key change.
--
-- Event ids are UUIDv7 (schema/README.md): their first 48 bits are Unix
-- milliseconds, which places the row on the day its id was made. Any other
-- uuid carries no time; flywheel.event_id_time() gives it 1970-01-01 00:00
-- UTC, so such rows (SQL inserts, rows stored before this migration) still
-- have exactly one place, the partition generations_19700101. The collector
-- does not store a generation whose id is not a UUIDv7: it becomes a dead
-- letter with the reason invalid_event_id.
--
-- PostgreSQL cannot change a table's partition key, so the table is rebuilt:
-- its rows are copied aside, the old table and everything that depends on it
-- (views, re-created by the repeatable files that run after this one) are
-- dropped, the new table is created with the same columns, defaults,
-- indexes, comments and grants, its day partitions are created for the days
-- the rows' ids name, and the rows are copied back. Rows that shared an event
-- id (the defect this fixes) keep the copy received first (then the earliest
-- event_time); the others are kept, unchanged, in
-- flywheel.generations_v0038_duplicates for inspection (drop it when done),
-- and review items, dataset members and eval cases that pointed at a removed
-- copy by (event_id, event_time) are pointed at the kept one.
--
-- The rebuild rewrites every generation row under an exclusive lock: plan
-- the upgrade with the collectors stopped (they pause and retry meanwhile).

CREATE FUNCTION flywheel.event_id_time(event_id uuid)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
    SELECT CASE
        WHEN substr(event_id::text, 15, 1) = '7'
             AND substr(event_id::text, 20, 1) IN ('8', '9', 'a', 'b')
        THEN (timestamp 'epoch'
              + (('x' || substr(event_id::text, 1, 8) || substr(event_id::text, 10, 4))::bit(48)::bigint
                 / 86400000) * interval '1 day'
              + (('x' || substr(event_id::text, 1, 8) || substr(event_id::text, 10, 4))::bit(48)::bigint
                 % 86400000) * interval '1 millisecond') AT TIME ZONE 'UTC'
        ELSE timestamptz 'epoch'
    END
$fn$;

COMMENT ON FUNCTION flywheel.event_id_time(uuid) IS
    'The time a UUIDv7 event id carries (its 48-bit Unix milliseconds); 1970-01-01 UTC for any other uuid. Places a generation row: generations.id_time';

REVOKE ALL ON FUNCTION flywheel.event_id_time(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION flywheel.event_id_time(uuid)
    TO flywheel_admin, flywheel_ingest, flywheel_reviewer, flywheel_reader;

-- ---------------------------------------------------------------------------
-- The rows, set aside: the copy kept for each event id, and the others.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE v0038_keep ON COMMIT DROP AS
SELECT DISTINCT ON (event_id) event_id, event_time
FROM flywheel.generations
ORDER BY event_id, received_at, event_time;
ALTER TABLE v0038_keep ADD PRIMARY KEY (event_id, event_time);

CREATE TEMP TABLE v0038_rows ON COMMIT DROP AS
SELECT g.* FROM flywheel.generations g JOIN v0038_keep k USING (event_id, event_time);

DO $dups$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) - (SELECT count(*) FROM v0038_keep) INTO n FROM flywheel.generations;
    IF n = 0 THEN
        RETURN;
    END IF;
    CREATE TABLE flywheel.generations_v0038_duplicates AS
    SELECT g.* FROM flywheel.generations g
    WHERE NOT EXISTS (SELECT 1 FROM v0038_keep k
                      WHERE k.event_id = g.event_id AND k.event_time = g.event_time);
    COMMENT ON TABLE flywheel.generations_v0038_duplicates IS
        'Generation rows that repeated an event id before V0038 (the first received copy was kept in flywheel.generations); drop when inspected';
    GRANT ALL ON flywheel.generations_v0038_duplicates TO flywheel_admin;

    -- What pointed at a removed copy points at the kept one.
    UPDATE flywheel.review_items i SET event_time = k.event_time
      FROM v0038_keep k WHERE k.event_id = i.event_id AND k.event_time <> i.event_time;
    UPDATE flywheel.review_items i SET event_time_b = k.event_time
      FROM v0038_keep k WHERE k.event_id = i.event_id_b AND k.event_time <> i.event_time_b;
    UPDATE flywheel.eval_cases c SET event_time = k.event_time
      FROM v0038_keep k WHERE k.event_id = c.event_id AND k.event_time <> c.event_time;
    -- Dataset members are immutable (a trigger refuses updates); this is
    -- the one correction they get: the member is the same event.
    ALTER TABLE flywheel.dataset_members DISABLE TRIGGER USER;
    UPDATE flywheel.dataset_members m SET event_time = k.event_time
      FROM v0038_keep k WHERE k.event_id = m.event_id AND k.event_time <> m.event_time;
    UPDATE flywheel.dataset_members m SET event_time_b = k.event_time
      FROM v0038_keep k WHERE k.event_id = m.event_id_b AND k.event_time <> m.event_time_b;
    ALTER TABLE flywheel.dataset_members ENABLE TRIGGER USER;
    RAISE NOTICE '% generation rows repeated an event id; the first received copy of each was kept, the others are in flywheel.generations_v0038_duplicates', n;
END
$dups$;

-- The views over generations go with it; the repeatable files re-create them.
DROP TABLE flywheel.generations CASCADE;

-- ---------------------------------------------------------------------------
-- The table, partitioned by the time its event id carries. Columns as in
-- V0001 (see the comments there), then id_time.
-- ---------------------------------------------------------------------------
CREATE TABLE flywheel.generations (
    event_id            uuid        NOT NULL,
    event_time          timestamptz NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now(),
    project             text        NOT NULL DEFAULT '',
    environment         text        NOT NULL DEFAULT '',
    release             text        NOT NULL DEFAULT '',
    sdk_name            text        NOT NULL DEFAULT '',
    sdk_version         text        NOT NULL DEFAULT '',
    schema_version      integer     NOT NULL,
    attributes          jsonb       NOT NULL DEFAULT '{}',
    tags                text[]      NOT NULL DEFAULT '{}',

    trace_id            text,
    span_id             text,
    parent_span_id      text,
    conversation_id     text,
    session_id          text,
    user_id             text,

    operation_name      text        NOT NULL DEFAULT '',
    provider_name       text        NOT NULL DEFAULT '',
    request_model       text        NOT NULL DEFAULT '',
    response_model      text        NOT NULL DEFAULT '',
    response_id         text,

    request_params      jsonb       NOT NULL DEFAULT '{}',

    input_messages      jsonb COMPRESSION lz4 NOT NULL DEFAULT '[]',
    output_messages     jsonb COMPRESSION lz4 NOT NULL DEFAULT '[]',
    system_instructions text        COMPRESSION lz4,
    tool_definitions    jsonb       COMPRESSION lz4,
    finish_reasons      text[]      NOT NULL DEFAULT '{}',

    input_tokens                bigint,
    output_tokens               bigint,
    cache_read_input_tokens     bigint,
    cache_creation_input_tokens bigint,
    reasoning_output_tokens     bigint,
    cost_micro_usd              bigint NOT NULL DEFAULT 0,

    start_time          timestamptz,
    end_time            timestamptz,
    duration_ms         double precision,
    ttft_ms             double precision,

    status              text        NOT NULL DEFAULT 'unset'
                        CHECK (status IN ('unset', 'ok', 'error')),
    error_type          text,
    error_message       text,

    prompt_template     text,
    prompt_version      text,
    prompt_variables    jsonb       COMPRESSION lz4,
    truncated           text[]      NOT NULL DEFAULT '{}',

    source_topic        text,
    source_partition    integer,
    source_offset       bigint,

    -- Where the row lives: the time its event id carries. Set by whoever
    -- inserts (the collector computes it from the id's bytes); the check
    -- holds it to the id, so an event id has one possible place.
    id_time             timestamptz NOT NULL
                        CONSTRAINT generations_id_time_check
                        CHECK (id_time = flywheel.event_id_time(event_id)),

    PRIMARY KEY (event_id, id_time)
) PARTITION BY RANGE (id_time);

COMMENT ON TABLE flywheel.generations IS
    'One row per model call (flywheel.v1.Generation) and per event id, partitioned by UTC day of id_time, the time the event id carries';
COMMENT ON COLUMN flywheel.generations.id_time IS
    'flywheel.event_id_time(event_id): the partition key; event_time is when the generation happened';

CREATE TABLE flywheel.generations_default PARTITION OF flywheel.generations DEFAULT;

CREATE INDEX generations_time_idx ON flywheel.generations (event_time);
CREATE INDEX generations_project_time_idx ON flywheel.generations (project, event_time);
CREATE INDEX generations_trace_idx ON flywheel.generations (trace_id);
CREATE INDEX generations_conversation_idx ON flywheel.generations (conversation_id)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX generations_response_id_idx ON flywheel.generations (response_id)
    WHERE response_id IS NOT NULL;
-- The primary key leads with event_id, so it also answers "which generation
-- has event id X" (one probe per partition without id_time, one with it).

GRANT ALL ON flywheel.generations, flywheel.generations_default TO flywheel_admin;
GRANT INSERT ON flywheel.generations TO flywheel_ingest;

-- The day partitions the rows need, created as
-- flywheel.ensure_generation_partition() (R__10_store.sql) creates them,
-- then the rows.
DO $parts$
DECLARE
    d    date;
    part text;
BEGIN
    FOR d IN SELECT DISTINCT (flywheel.event_id_time(event_id) AT TIME ZONE 'UTC')::date
             FROM v0038_rows ORDER BY 1 LOOP
        part := format('generations_%s', to_char(d, 'YYYYMMDD'));
        EXECUTE format('CREATE TABLE flywheel.%I (LIKE flywheel.generations INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMPRESSION INCLUDING STORAGE)', part);
        EXECUTE format('ALTER TABLE flywheel.generations ATTACH PARTITION flywheel.%I
                        FOR VALUES FROM (%L) TO (%L)', part,
                       d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
    END LOOP;
END
$parts$;

INSERT INTO flywheel.generations
SELECT r.*, flywheel.event_id_time(r.event_id) FROM v0038_rows r;
