-- Project keys for flywheel-gateway (issue 12): an OTLP/HTTP or feedback
-- request carries `Authorization: Bearer <key>`; the gateway hashes the key
-- (SHA-256) and looks the hash up here to learn the request's project. The
-- key itself is shown once by `flywheel keys create` and never stored.
--
-- The gateway connects as a login role that is a member of flywheel_gateway,
-- which can read this table's lookup columns and nothing else in the store.

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'flywheel_gateway') THEN
        BEGIN
            CREATE ROLE flywheel_gateway NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$roles$;

CREATE TABLE flywheel.project_keys (
    key_id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project     text        NOT NULL CHECK (project <> ''),
    name        text        NOT NULL DEFAULT '',
    key_prefix  text        NOT NULL,  -- the first characters, to recognise a key in lists
    key_hash    bytea       NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text        NOT NULL DEFAULT current_user,
    revoked_at  timestamptz
);

COMMENT ON TABLE flywheel.project_keys IS
    'Gateway project keys: SHA-256 of each key and the project it maps to; revoked keys stay for the record';

GRANT USAGE ON SCHEMA flywheel TO flywheel_gateway;
GRANT SELECT (key_hash, project, revoked_at) ON flywheel.project_keys TO flywheel_gateway;
GRANT ALL ON flywheel.project_keys TO flywheel_admin;
