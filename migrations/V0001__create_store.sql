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
--
-- Tables, indexes, roles and grants on tables only: the partition functions
-- and the orphan_feedback view live in the repeatable R__10_store.sql, which
-- also creates the first partitions (this file was split when repeatable
-- migrations were introduced; see docs/store.md, "Migrations").

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
-- Privileges on tables: least privilege per role. Functions and views carry
-- their own grants in the repeatable migrations.
-- ---------------------------------------------------------------------------
REVOKE ALL ON SCHEMA flywheel FROM PUBLIC;
GRANT USAGE ON SCHEMA flywheel
    TO flywheel_admin, flywheel_ingest, flywheel_reviewer, flywheel_reader;
GRANT ALL ON ALL TABLES IN SCHEMA flywheel TO flywheel_admin;

-- The collector: insert events and dead letters, read and write its offsets.
GRANT INSERT ON flywheel.generations, flywheel.feedback, flywheel.dead_letters
    TO flywheel_ingest;
GRANT SELECT, INSERT, UPDATE ON flywheel.ingest_offsets TO flywheel_ingest;
