-- locus database schema, version 1.
--
-- Idempotent: loading it again changes nothing.  locus refuses to start
-- when locus.meta says another version (see location/persist.c).
--
--   psql -d locus -f sql/schema.sql
--
-- Operators read bindings through the view locus.bindings; it is a plain
-- projection of locus.location, so DELETE and UPDATE work on either.

\set ON_ERROR_STOP on

BEGIN;

CREATE SCHEMA IF NOT EXISTS locus;

CREATE TABLE IF NOT EXISTS locus.meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO locus.meta (key, value) VALUES ('schema_version', '1')
    ON CONFLICT (key) DO NOTHING;

-- One row per binding of a Contact to an AOR (RFC 3261 §10.3).
CREATE TABLE IF NOT EXISTS locus.location (
    aor         text        NOT NULL,   -- 'user@domain', domain lower-case
    binding_key text        NOT NULL,   -- '<instance>;reg-id=N' or the contact
    contact     text        NOT NULL,   -- Contact URI
    params      text        NOT NULL DEFAULT '',  -- other Contact params
    instance    text,                   -- +sip.instance URN, without <>
    reg_id      integer,                -- RFC 5626 reg-id
    q           numeric(4,3) CHECK (q BETWEEN 0 AND 1),
    expires     timestamptz NOT NULL,
    call_id     text        NOT NULL,
    cseq        bigint      NOT NULL,
    path        text[],                 -- Path header values, in order
    received    text,                   -- source 'ip:port' of the REGISTER
    transport   text,                   -- udp, tcp, ...
    user_agent  text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aor, binding_key)
);
CREATE INDEX IF NOT EXISTS location_expires_idx ON locus.location (expires);

-- GRUU state per (AOR, instance), kept after the device goes offline:
-- its pub-gruu stays valid (RFC 5627 §5.3), and temp-gruus carry the
-- generation they were issued in.
CREATE TABLE IF NOT EXISTS locus.instance (
    aor          text        NOT NULL,
    instance     text        NOT NULL,
    generation   bigint      NOT NULL DEFAULT 1 CHECK (generation > 0),
    call_id      text        NOT NULL DEFAULT '',
    first_seen   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aor, instance)
);

CREATE OR REPLACE VIEW locus.bindings AS
    SELECT aor, contact, instance, reg_id, expires, call_id, cseq, q, path,
           received, transport, user_agent,
           CASE WHEN instance IS NOT NULL
                THEN 'sip:' || aor || ';gr=' || instance END AS pub_gruu,
           updated_at, params, binding_key
      FROM locus.location;

COMMIT;
