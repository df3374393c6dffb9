-- V0034: eval runs (`flywheel eval`).
--
-- A run sends every case of a recorded eval dataset version to an
-- OpenAI-compatible endpoint and scores the answers. The run row holds what
-- makes it reproducible and comparable: the dataset version, the endpoint
-- and model, the prompt (text and sha256), the scorer configuration (the
-- whole file, and its sha256) and the request parameters. API keys are never
-- stored: the endpoint is refused when it carries credentials.
--
-- Each finished case is one eval_cases row and one eval_scores row per
-- scorer, written in one transaction together with the generation that
-- records the call (environment 'eval'), before the runner moves on: a
-- killed run resumes from the cases that have no row, so a finished case is
-- never sent again.

CREATE TABLE flywheel.eval_runs (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text        NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    dataset         text        NOT NULL,
    dataset_version integer     NOT NULL,
    endpoint        text        NOT NULL,
    model           text        NOT NULL,
    prompt          text,
    prompt_sha256   text        CHECK (prompt_sha256 ~ '^[0-9a-f]{64}$'),
    scorers         jsonb       NOT NULL,
    scorers_sha256  text        NOT NULL CHECK (scorers_sha256 ~ '^[0-9a-f]{64}$'),
    parameters      jsonb       NOT NULL DEFAULT '{}',
    status          text        NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'finished')),
    cases_total     integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text        NOT NULL DEFAULT session_user,
    finished_at     timestamptz,
    FOREIGN KEY (dataset, dataset_version) REFERENCES flywheel.dataset_versions,
    CHECK ((prompt IS NULL) = (prompt_sha256 IS NULL))
);
COMMENT ON TABLE flywheel.eval_runs IS
    'One row per eval run: dataset version, endpoint, model, prompt hash, scorer configuration';

CREATE TABLE flywheel.eval_cases (
    run_id          bigint      NOT NULL REFERENCES flywheel.eval_runs ON DELETE CASCADE,
    case_id         text        NOT NULL,           -- the eval line's "id" (the member's event id)
    seq             integer     NOT NULL,           -- position in the dataset version
    split           text        NOT NULL DEFAULT '',
    status          text        NOT NULL CHECK (status IN ('ok', 'error')),
    output          jsonb,                          -- the assistant message (content, tool_calls)
    output_text     text,
    error           text,
    http_status     integer,
    attempts        integer     NOT NULL DEFAULT 1,
    input_tokens    bigint,
    output_tokens   bigint,
    cost_usd        double precision,
    latency_ms      double precision,               -- the answered attempt
    event_id        uuid        NOT NULL,           -- the generation recording the call
    event_time      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, case_id)
);
COMMENT ON TABLE flywheel.eval_cases IS
    'One row per finished case of a run: output, usage, cost, latency, the generation recorded';
CREATE INDEX eval_cases_event_idx ON flywheel.eval_cases (event_id);

CREATE TABLE flywheel.eval_scores (
    run_id          bigint      NOT NULL,
    case_id         text        NOT NULL,
    scorer          text        NOT NULL,
    score           double precision CHECK (score BETWEEN 0 AND 1),  -- NULL: could not score
    explanation     text        NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, case_id, scorer),
    FOREIGN KEY (run_id, case_id) REFERENCES flywheel.eval_cases ON DELETE CASCADE
);
COMMENT ON TABLE flywheel.eval_scores IS
    'One row per (case, scorer): a score in [0, 1] (NULL when it could not be computed) and why';

GRANT ALL ON flywheel.eval_runs, flywheel.eval_cases, flywheel.eval_scores TO flywheel_admin;
GRANT SELECT ON flywheel.eval_runs, flywheel.eval_cases, flywheel.eval_scores TO flywheel_reader;
