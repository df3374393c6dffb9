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
--
-- Tables and table grants; the functions and triggers are in the repeatable
-- R__30_datasets.sql.

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

GRANT ALL ON flywheel.datasets, flywheel.dataset_versions, flywheel.dataset_members
    TO flywheel_admin;
GRANT SELECT ON flywheel.datasets, flywheel.dataset_versions TO flywheel_reader;
