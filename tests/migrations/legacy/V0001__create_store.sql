-- V0001: the event store.
--
-- Everything lives in the `flywheel` schema. Generations are range-partitioned
-- by event time, one partition per UTC day, with a DEFAULT partition so that an
-- event whose day has no partition yet is still stored, never rejected.
-- flywheel.maintain_partitions() creates the days ahead and moves rows that
-- landed in the default partition into their day; the collector calls it at
-- start and every hour, and `flywheel maintain` runs it from cron.
--
-- Large content (messages, tool definitions) sits in jsonb columns compressed
-- with lz4 and stored out of line by TOAST, so that scans of the narrow
-- metadata columns (dashboards, queue filters) never read prompt text.
--
-- Feedback has no foreign key to generations: it may arrive first, and the
-- orphan_feedback view shows what has no generation yet.

CREATE SCHEMA IF NOT EXISTS flywheel;

-- Roles are cluster-wide: create them only when missing, and tolerate a
-- concurrent migration of another database in the same cluster creating them
-- at the same moment.
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['flywheel_admin', 'flywheel_ingest',
                             'flywheel_reviewer', 'flywheel_reader'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$roles$;

COMMENT ON SCHEMA flywheel IS 'Flywheel: LLM generations, feedback, review and datasets';

-- ---------------------------------------------------------------------------
-- Generations
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

    trace_id            text,       -- 32 lower-case hex digits
    span_id             text,       -- 16 lower-case hex digits
    parent_span_id      text,
    conversation_id     text,
    session_id          text,
    user_id             text,

    operation_name      text        NOT NULL DEFAULT '',
    provider_name       text        NOT NULL DEFAULT '',
    request_model       text        NOT NULL DEFAULT '',
    response_model      text        NOT NULL DEFAULT '',
    response_id         text,

    -- gen_ai.request.* keyed by their convention names without the prefix:
    -- {"temperature": 0.2, "top_p": 1, "max_tokens": 512, "stop_sequences": [...], ...}
    request_params      jsonb       NOT NULL DEFAULT '{}',

    -- Messages as in gen_ai.input.messages / gen_ai.output.messages:
    -- [{"role": "user", "name"?: ..., "parts": [{"type": "text", "content": "..."},
    --   {"type": "tool_call", "id": ..., "name": ..., "arguments": {...}},
    --   {"type": "tool_call_response", "id": ..., "response": ...},
    --   {"type": "reasoning", "content": "..."}], "finish_reason"?: ...}]
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
    duration_ms         double precision,   -- end_time - start_time
    ttft_ms             double precision,   -- time to first token, streaming only

    status              text        NOT NULL DEFAULT 'unset'
                        CHECK (status IN ('unset', 'ok', 'error')),
    error_type          text,
    error_message       text,

    prompt_template     text,
    prompt_version      text,
    prompt_variables    jsonb       COMPRESSION lz4,
    truncated           text[]      NOT NULL DEFAULT '{}',  -- names of fields the sender cut

    -- Where the row came from, for tracing a row back to its Kafka message.
    source_topic        text,
    source_partition    integer,
    source_offset       bigint,

    PRIMARY KEY (event_id, event_time)
) PARTITION BY RANGE (event_time);

COMMENT ON TABLE flywheel.generations IS
    'One row per model call (flywheel.v1.Generation), partitioned by UTC day of event_time';

CREATE TABLE flywheel.generations_default PARTITION OF flywheel.generations DEFAULT;

CREATE INDEX generations_time_idx ON flywheel.generations (event_time);
CREATE INDEX generations_project_time_idx ON flywheel.generations (project, event_time);
CREATE INDEX generations_trace_idx ON flywheel.generations (trace_id);
CREATE INDEX generations_conversation_idx ON flywheel.generations (conversation_id)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX generations_response_id_idx ON flywheel.generations (response_id)
    WHERE response_id IS NOT NULL;
-- Event ids are unique per partition (primary key); this index answers
-- "which generation has event id X" without knowing its time.
CREATE INDEX generations_event_id_idx ON flywheel.generations (event_id);

-- ---------------------------------------------------------------------------
-- Feedback
-- ---------------------------------------------------------------------------
CREATE TABLE flywheel.feedback (
    event_id            uuid        PRIMARY KEY,
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

    target_event_id     uuid,
    target_response_id  text,
    target_trace_id     text,
    name                text        NOT NULL,
    value_type          text        NOT NULL
                        CHECK (value_type IN ('none', 'bool', 'number', 'category')),
    bool_value          boolean,
    number_value        double precision,
    category_value      text,
    comment             text,
    correction          jsonb       COMPRESSION lz4,  -- replacement output messages
    source              text        NOT NULL DEFAULT 'unspecified'
                        CHECK (source IN ('unspecified', 'end_user', 'automated',
                                          'model_judge', 'reviewer')),
    author_id           text,

    source_topic        text,
    source_partition    integer,
    source_offset       bigint,

    CHECK (target_event_id IS NOT NULL OR target_response_id IS NOT NULL
           OR target_trace_id IS NOT NULL)
);

COMMENT ON TABLE flywheel.feedback IS
    'Judgements about generations (flywheel.v1.Feedback); no foreign key, may arrive first';

CREATE INDEX feedback_target_event_idx ON flywheel.feedback (target_event_id)
    WHERE target_event_id IS NOT NULL;
CREATE INDEX feedback_target_response_idx ON flywheel.feedback (target_response_id)
    WHERE target_response_id IS NOT NULL;
CREATE INDEX feedback_target_trace_idx ON flywheel.feedback (target_trace_id)
    WHERE target_trace_id IS NOT NULL;
CREATE INDEX feedback_time_idx ON flywheel.feedback (event_time);

-- ---------------------------------------------------------------------------
-- Dead letters: messages the collector could not store, kept byte for byte.
-- ---------------------------------------------------------------------------
CREATE TABLE flywheel.dead_letters (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at         timestamptz NOT NULL DEFAULT now(),
    consumer_group      text        NOT NULL,
    topic               text        NOT NULL,
    partition           integer     NOT NULL,
    "offset"            bigint      NOT NULL,
    message_key         bytea,
    payload             bytea       NOT NULL,
    message_time        timestamptz,
    reason              text        NOT NULL,   -- a stable code, e.g. 'undecodable'
    detail              text        NOT NULL DEFAULT '',
    event_id            uuid,                   -- when it could be decoded that far
    replayed_at         timestamptz,
    replay_count        integer     NOT NULL DEFAULT 0,
    UNIQUE (topic, partition, "offset")
);

COMMENT ON TABLE flywheel.dead_letters IS
    'Kafka messages that could not be stored, with raw bytes and the reason';

CREATE INDEX dead_letters_reason_idx ON flywheel.dead_letters (reason, received_at);

-- ---------------------------------------------------------------------------
-- Ingest offsets: the next offset to read per partition, written in the same
-- transaction as the rows it covers. This, not Kafka's committed offset, is
-- where a collector starts reading after an assignment.
-- ---------------------------------------------------------------------------
CREATE TABLE flywheel.ingest_offsets (
    consumer_group      text        NOT NULL,
    topic               text        NOT NULL,
    partition           integer     NOT NULL,
    next_offset         bigint      NOT NULL CHECK (next_offset >= 0),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);

-- ---------------------------------------------------------------------------
-- Partition maintenance
-- ---------------------------------------------------------------------------

-- Creates the daily partition of flywheel.generations that holds `day`, if
-- missing, moving any rows of that day out of the default partition first
-- (PostgreSQL refuses to attach a partition whose range has rows in the
-- default one). Returns true when it created the partition.
CREATE FUNCTION flywheel.ensure_generation_partition(day date)
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
                               WHERE event_time >= $1 AND event_time < $2 RETURNING *)
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
CREATE FUNCTION flywheel.maintain_partitions(days_ahead integer DEFAULT 7,
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
             SELECT DISTINCT (event_time AT TIME ZONE 'UTC')::date FROM flywheel.generations_default
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
CREATE VIEW flywheel.orphan_feedback AS
SELECT f.*
FROM flywheel.feedback f
WHERE NOT EXISTS (
        SELECT 1 FROM flywheel.generations g
        WHERE (f.target_event_id IS NOT NULL AND g.event_id = f.target_event_id)
           OR (f.target_response_id IS NOT NULL AND g.response_id = f.target_response_id)
           OR (f.target_trace_id IS NOT NULL AND g.trace_id = f.target_trace_id));

COMMENT ON VIEW flywheel.orphan_feedback IS
    'Feedback whose target generation has not been stored (yet)';

-- ---------------------------------------------------------------------------
-- Privileges: least privilege per role.
-- ---------------------------------------------------------------------------
REVOKE ALL ON SCHEMA flywheel FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA flywheel FROM PUBLIC;
GRANT USAGE ON SCHEMA flywheel
    TO flywheel_admin, flywheel_ingest, flywheel_reviewer, flywheel_reader;
GRANT ALL ON ALL TABLES IN SCHEMA flywheel TO flywheel_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA flywheel TO flywheel_admin;

-- The collector: insert events and dead letters, read and write its offsets,
-- create partitions through the SECURITY DEFINER function.
GRANT INSERT ON flywheel.generations, flywheel.feedback, flywheel.dead_letters
    TO flywheel_ingest;
GRANT SELECT, INSERT, UPDATE ON flywheel.ingest_offsets TO flywheel_ingest;
GRANT EXECUTE ON FUNCTION flywheel.maintain_partitions(integer, integer),
                          flywheel.ensure_generation_partition(date)
    TO flywheel_ingest;

-- Dashboards: views only.
GRANT SELECT ON flywheel.orphan_feedback TO flywheel_reader;
