-- V0035: accounts, sign-in tokens, sessions, drafts and the audit log of the
-- web review server (`flywheel serve`).
--
-- Every web account is a PostgreSQL role: the server runs each request's
-- queries after `SET ROLE <account>`, so the review functions, row-level
-- security and blind review decide what a web user sees, exactly as for a
-- psql user. The server logs in as a member of flywheel_web, which is
-- NOINHERIT: its login has no privileges of the accounts granted to it, it
-- can only switch to them, one request at a time. `flywheel reviewer add`
-- creates the account's role (NOLOGIN: a web-only reviewer cannot log in to
-- PostgreSQL), puts it in flywheel_reviewer (and flywheel_adjudicator or
-- flywheel_admin for those kinds) and grants it to flywheel_web.
--
-- Secrets are never stored: sign-in tokens and session ids are 256-bit
-- random values of which only the SHA-256 is kept.

-- Roles are cluster-wide and other databases of the cluster may be migrated
-- at the same moment (each run holds only its own database's lock): create
-- them only when missing, tolerate a concurrent creation, and never ALTER a
-- role that is already right (two concurrent ALTERs of one role fail with
-- "tuple concurrently updated").
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['flywheel_web', 'flywheel_adjudicator'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN %s', r,
                               CASE WHEN r = 'flywheel_web' THEN 'NOINHERIT' ELSE '' END);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'flywheel_web' AND rolinherit) THEN
        ALTER ROLE flywheel_web NOINHERIT;
    END IF;
END
$roles$;

CREATE TABLE flywheel.web_accounts (
    name            text        PRIMARY KEY,     -- the role the account acts as
    kind            text        NOT NULL CHECK (kind IN ('reviewer', 'adjudicator', 'admin')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text        NOT NULL DEFAULT session_user,
    disabled_at     timestamptz
);
COMMENT ON TABLE flywheel.web_accounts IS
    'Web review accounts; each is the PostgreSQL role of the same name';

CREATE TABLE flywheel.web_signin_tokens (
    token_hash      bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    account         text        NOT NULL REFERENCES flywheel.web_accounts (name) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);
CREATE INDEX web_signin_tokens_account_idx ON flywheel.web_signin_tokens (account);
COMMENT ON TABLE flywheel.web_signin_tokens IS
    'One-time sign-in links: SHA-256 of the token, single use, short lived';

CREATE TABLE flywheel.web_sessions (
    session_hash    bytea       PRIMARY KEY CHECK (length(session_hash) = 32),
    account         text        NOT NULL REFERENCES flywheel.web_accounts (name) ON DELETE CASCADE,
    csrf_token      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen       timestamptz NOT NULL DEFAULT now(),
    client_addr     text
);
CREATE INDEX web_sessions_account_idx ON flywheel.web_sessions (account);
COMMENT ON TABLE flywheel.web_sessions IS
    'Signed-in browser sessions: SHA-256 of the cookie value; expiry is decided by the server';

-- What the web server did on someone's behalf: sign-ins (and refused ones),
-- sign-outs, submits, skips, releases, drafts, adjudications. Insert-only
-- for the server; admins may read and prune it.
CREATE TABLE flywheel.web_audit (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    account         text,
    action          text        NOT NULL,
    item_id         bigint,
    client_addr     text,
    detail          jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX web_audit_at_idx ON flywheel.web_audit (at);

-- A reviewer's unsent answer on an item, saved from the web page; one per
-- reviewer and item, replaced on each save, removed on submit or skip.
-- Reviewers reach only their own rows (row-level security below).
CREATE TABLE flywheel.review_drafts (
    reviewer        text        NOT NULL DEFAULT current_user,
    item_id         bigint      NOT NULL REFERENCES flywheel.review_items (id) ON DELETE CASCADE,
    value           jsonb       NOT NULL,
    saved_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (reviewer, item_id)
);
ALTER TABLE flywheel.review_drafts ENABLE ROW LEVEL SECURITY;
CREATE POLICY review_drafts_own ON flywheel.review_drafts TO flywheel_reviewer
    USING (reviewer = current_user) WITH CHECK (reviewer = current_user);
CREATE POLICY review_drafts_admin ON flywheel.review_drafts TO flywheel_admin
    USING (true) WITH CHECK (true);

GRANT USAGE ON SCHEMA flywheel TO flywheel_web, flywheel_adjudicator;
GRANT SELECT ON flywheel.web_accounts TO flywheel_web;
GRANT SELECT, UPDATE ON flywheel.web_signin_tokens TO flywheel_web;
GRANT SELECT, INSERT, UPDATE, DELETE ON flywheel.web_sessions TO flywheel_web;
GRANT INSERT ON flywheel.web_audit TO flywheel_web;
GRANT ALL ON flywheel.web_accounts, flywheel.web_signin_tokens, flywheel.web_sessions,
             flywheel.web_audit, flywheel.review_drafts TO flywheel_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON flywheel.review_drafts TO flywheel_reviewer;
