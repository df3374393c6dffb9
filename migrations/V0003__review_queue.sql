-- V0003: the review queue.
--
-- Humans label production generations here, with every operation a SQL
-- function so that psql, the `flywheel review` CLI or any other SQL client is
-- a labelling tool. The model:
--
--   review_rubrics      versioned label schemas (jsonb, validated on creation,
--                       immutable: a change is a new version)
--   review_queues       a rubric version, overlap N (reviewers per item), lease
--                       length, population rules (structured jsonb, never SQL
--                       text), deterministic sampling, a priority (weighted
--                       structured terms), continuous flag, paused flag
--   review_items        one per (queue, generation); the item row carries its
--                       own lease slots and the reviewers who are done with it,
--                       so that the capacity check of a claim reads only the
--                       row it locks (see review_claim)
--   review_assignments  one row per claim: lease, outcome, skip reason, times
--   review_labels       append-only; a revision is a new version, an
--                       adjudication is a label with is_adjudication
--
-- Internal helpers (not SECURITY DEFINER, not executable by reviewers) use
-- schema-qualified names and run under the search_path their SECURITY
-- DEFINER callers pin; they carry no SET clause of their own, which would
-- cost a configuration change on every call of the claim and submit paths.
--
-- Identity: a reviewer is the session user (the login role). A session whose
-- user is a superuser or a member of flywheel_admin may act for any reviewer
-- name by passing it explicitly (the CLI's --as); anyone else passing a name
-- other than their own gets SQLSTATE 42501.
--
-- Errors raised by these functions use their own SQLSTATEs (class FR):
--   FR001 invalid rubric definition      FR002 label does not match the rubric
--   FR003 item not claimed / lease lost  FR004 invalid queue definition
--   FR005 no such queue, rubric or item  FR006 queue paused / item closed
-- A label error names its field in the message and in the COLUMN field of
-- the error (PG_DIAG_COLUMN_NAME), with a DETAIL and a HINT.
--
-- Continuous queues are filled by a periodic `flywheel review fill --all`
-- (cron, a systemd timer; the quick start runs it), never by the collector:
-- the ingest path stays free of review logic.

--
-- This file holds the tables, indexes, row-level security and table grants;
-- the functions and views are in the repeatable R__20_review.sql (split when
-- repeatable migrations were introduced; see docs/store.md, "Migrations").
-- ---------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------
CREATE TABLE flywheel.review_rubrics (
    name            text        NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    version         integer     NOT NULL CHECK (version >= 1),
    definition      jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text        NOT NULL DEFAULT session_user,
    PRIMARY KEY (name, version)
);
COMMENT ON TABLE flywheel.review_rubrics IS
    'Label schemas for review queues; a version never changes once created';

CREATE TABLE flywheel.review_queues (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text        NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    description     text        NOT NULL DEFAULT '',
    rubric_name     text        NOT NULL,
    rubric_version  integer     NOT NULL,
    overlap         integer     NOT NULL DEFAULT 1 CHECK (overlap BETWEEN 1 AND 50),
    lease           interval    NOT NULL DEFAULT '15 minutes' CHECK (lease > '0'),
    skip_limit      integer     NOT NULL DEFAULT 2 CHECK (skip_limit >= 1),
    gold_rate       double precision NOT NULL DEFAULT 0 CHECK (gold_rate BETWEEN 0 AND 1),
    rules           jsonb       NOT NULL DEFAULT '{}',
    priority        jsonb       NOT NULL DEFAULT '[]',
    continuous      boolean     NOT NULL DEFAULT false,
    paused          boolean     NOT NULL DEFAULT false,
    filled_until    timestamptz,            -- high-water mark of continuous fills
    last_fill_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text        NOT NULL DEFAULT session_user,
    FOREIGN KEY (rubric_name, rubric_version) REFERENCES flywheel.review_rubrics
);
COMMENT ON TABLE flywheel.review_queues IS
    'Review queues: rubric, overlap, lease, population rules, priority';

CREATE TABLE flywheel.review_items (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue_id        bigint      NOT NULL REFERENCES flywheel.review_queues ON DELETE CASCADE,
    -- The generation (no foreign key: generations is partitioned by time).
    event_id        uuid        NOT NULL,
    event_time      timestamptz NOT NULL,
    -- The second generation of a pairwise comparison, if any.
    event_id_b      uuid,
    event_time_b    timestamptz,
    priority        double precision NOT NULL DEFAULT 0,
    overlap         integer     NOT NULL CHECK (overlap >= 1),
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'in_review', 'labelled', 'disputed',
                                      'adjudicated', 'skipped')),
    n_labels        integer     NOT NULL DEFAULT 0,
    n_skips         integer     NOT NULL DEFAULT 0,
    -- Active leases, parallel arrays; an entry whose time has passed is an
    -- expired lease and is pruned by the next claim of the item.
    lease_holders   text[]      NOT NULL DEFAULT '{}',
    lease_until     timestamptz[] NOT NULL DEFAULT '{}',
    -- Reviewers who submitted or skipped: never offered the item again.
    done_by         text[]      NOT NULL DEFAULT '{}',
    is_gold         boolean     NOT NULL DEFAULT false,
    gold_label      jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    UNIQUE (queue_id, event_id),
    CHECK (is_gold = (gold_label IS NOT NULL)),
    CHECK ((event_id_b IS NULL) = (event_time_b IS NULL))
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02,
        autovacuum_vacuum_threshold = 1000);
-- A claim rewrites only the lease arrays (no indexed column; the status does
-- not change until a label arrives), so with room on the page the update is
-- HOT and inserts nothing into the open-items index. That matters more than
-- it seems: claims start at the head of that index, where finished items
-- leave dead entries; PostgreSQL marks them dead (and later scans skip them
-- for free) only while nobody inserts into those index pages. Measured with
-- 16 reviewers on 100k items: fillfactor 85 -> ~12 % of claims HOT and 12,000
-- buffers read per claim after 7,000 labels; fillfactor 50 -> ~55 % HOT, 330
-- buffers, 1.6x the throughput. The price is a table twice as large. Vacuum
-- runs early (2 % dead rows) for the same reason: a queue table churns.
COMMENT ON TABLE flywheel.review_items IS
    'One row per (queue, generation); status pending -> in_review (some labels) -> labelled/disputed -> adjudicated, or skipped';

-- The claim path: open items of a queue in priority order.
CREATE INDEX review_items_open_idx ON flywheel.review_items (queue_id, priority DESC, id)
    WHERE status IN ('pending', 'in_review') AND NOT is_gold;
CREATE INDEX review_items_gold_idx ON flywheel.review_items (queue_id, id) WHERE is_gold;
CREATE INDEX review_items_event_idx ON flywheel.review_items (event_id);

CREATE TABLE flywheel.review_assignments (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id         bigint      NOT NULL REFERENCES flywheel.review_items ON DELETE CASCADE,
    queue_id        bigint      NOT NULL,
    reviewer        text        NOT NULL,
    claimed_at      timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz NOT NULL,
    state           text        NOT NULL DEFAULT 'active'
                    CHECK (state IN ('active', 'submitted', 'skipped', 'released', 'expired')),
    finished_at     timestamptz,
    skip_reason     text
);
COMMENT ON TABLE flywheel.review_assignments IS
    'Claims: who held which item, until when, and how it ended';
CREATE INDEX review_assignments_active_idx ON flywheel.review_assignments (reviewer, queue_id)
    WHERE state = 'active';
CREATE INDEX review_assignments_item_idx ON flywheel.review_assignments (item_id, reviewer);

CREATE TABLE flywheel.review_labels (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id         bigint      NOT NULL REFERENCES flywheel.review_items ON DELETE CASCADE,
    queue_id        bigint      NOT NULL,
    reviewer        text        NOT NULL,
    version         integer     NOT NULL CHECK (version >= 1),
    value           jsonb       NOT NULL,
    is_adjudication boolean     NOT NULL DEFAULT false,
    note            text,
    supersedes      bigint      REFERENCES flywheel.review_labels,
    rubric_name     text        NOT NULL,
    rubric_version  integer     NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text        NOT NULL DEFAULT session_user,
    UNIQUE (item_id, reviewer, is_adjudication, version)
);
COMMENT ON TABLE flywheel.review_labels IS
    'Append-only labels; a revision is a new version, an adjudication resolves disagreement';
CREATE INDEX review_labels_queue_idx ON flywheel.review_labels (queue_id, created_at);

-- ---------------------------------------------------------------------------
-- Row-level security and privileges
-- ---------------------------------------------------------------------------
-- Reviewers reach the data only through the SECURITY DEFINER functions
-- above; directly they may read their own claims and their own labels, and
-- nothing else (no generations, no items, no other reviewer's label).
ALTER TABLE flywheel.review_labels ENABLE ROW LEVEL SECURITY;
ALTER TABLE flywheel.review_assignments ENABLE ROW LEVEL SECURITY;
CREATE POLICY review_labels_own ON flywheel.review_labels FOR SELECT TO flywheel_reviewer
    USING (reviewer = current_user);
CREATE POLICY review_labels_admin ON flywheel.review_labels TO flywheel_admin
    USING (true) WITH CHECK (true);
CREATE POLICY review_assignments_own ON flywheel.review_assignments FOR SELECT TO flywheel_reviewer
    USING (reviewer = current_user);
CREATE POLICY review_assignments_admin ON flywheel.review_assignments TO flywheel_admin
    USING (true) WITH CHECK (true);

GRANT ALL ON flywheel.review_rubrics, flywheel.review_queues, flywheel.review_items,
             flywheel.review_assignments, flywheel.review_labels TO flywheel_admin;

GRANT SELECT ON flywheel.review_labels, flywheel.review_assignments TO flywheel_reviewer;
