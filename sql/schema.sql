-- locus database schema, version 2.
--
-- Idempotent: loading it again changes nothing.  locus refuses to start
-- when locus.meta says another version (see location/persist.c).  Loading
-- it over a database of an earlier version upgrades it: every statement
-- below creates or changes only what is missing or different (version 2
-- added the binding's nat flag, intercom grants, click-to-call and
-- parking, traces, and HOT refreshes without an index on expires).
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
INSERT INTO locus.meta (key, value) VALUES ('schema_version', '2')
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;

-- One row per binding of a Contact to an AOR (RFC 3261 §10.3).
-- Keys compare byte by byte (COLLATE "C"): locus compares them so, and
-- the indexes are faster for it than with a linguistic collation.
CREATE TABLE IF NOT EXISTS locus.location (
    aor         text COLLATE "C" NOT NULL, -- 'user@domain', domain lower-case
    binding_key text COLLATE "C" NOT NULL, -- '<instance>;reg-id=N' or the contact
    contact     text        NOT NULL,   -- Contact URI
    params      text        NOT NULL DEFAULT '',  -- other Contact params
    instance    text COLLATE "C",       -- +sip.instance URN, without <>
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

-- Reaching the device (README, "Registrar behaviour"): whether requests go
-- to the REGISTER's source address (true: the device is behind a NAT, as
-- registrar.nat decided) or to its Contact (false).  NULL on rows stored
-- before the column existed: reached at the source, as they were then.
-- Here rather than at the end: the locus.bindings view below shows it.
ALTER TABLE locus.location ADD COLUMN IF NOT EXISTS nat boolean;

-- GRUU state per (AOR, instance), kept after the device goes offline:
-- its pub-gruu stays valid (RFC 5627 §5.3), and temp-gruus carry the
-- generation they were issued in.
CREATE TABLE IF NOT EXISTS locus.instance (
    aor          text COLLATE "C" NOT NULL,
    instance     text COLLATE "C" NOT NULL,
    generation   bigint      NOT NULL DEFAULT 1 CHECK (generation > 0),
    call_id      text        NOT NULL DEFAULT '',
    first_seen   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aor, instance)
);

-- Live changes (psql or another node): every change to a binding or to
-- GRUU state tells the locus nodes which AOR to reload, on channel
-- locus_change; the payload is one AOR, or several separated by newlines.
-- A node ignores the echoes of its own writes (by the notifying backend's
-- PID).  Within one transaction, PostgreSQL folds identical notifications,
-- so a DELETE of many bindings of one AOR is one reload.
--
-- locus's own sessions set locus.writer: they notify once per commit with
-- locus.notify_aors() instead of once per row, and only while another
-- node runs: each node's writer session holds a share of the advisory
-- lock hashtext('locus.node'), and a commit that can take it alone has
-- nobody to tell (location/persist.c).  Expiry cleanup sets
-- locus.quiet: every node expires those bindings on its own timer already.
CREATE OR REPLACE FUNCTION locus.notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('locus.writer', true) = 'on'
       OR current_setting('locus.quiet', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('locus_change', OLD.aor);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM pg_notify('locus_change', NEW.aor);
    END IF;
    RETURN NULL;
END $$;

-- The AORs of one commit, in as few notifications as fit the 8000-byte
-- payload limit (locus refuses AORs longer than 256 bytes).
CREATE OR REPLACE FUNCTION locus.notify_aors(aors text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a text;
    payload text := '';
BEGIN
    FOREACH a IN ARRAY aors LOOP
        IF octet_length(payload) + octet_length(a) >= 7900 THEN
            PERFORM pg_notify('locus_change', payload);
            payload := '';
        END IF;
        payload := payload || CASE WHEN payload = '' THEN '' ELSE E'\n' END || a;
    END LOOP;
    IF payload <> '' THEN
        PERFORM pg_notify('locus_change', payload);
    END IF;
END $$;

-- The WHEN clause keeps locus's own writes from even calling the
-- function: per row, that is most of what a trigger costs.
DROP TRIGGER IF EXISTS location_notify ON locus.location;
CREATE TRIGGER location_notify AFTER INSERT OR UPDATE OR DELETE
    ON locus.location FOR EACH ROW
    WHEN (current_setting('locus.writer', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION locus.notify_change();
DROP TRIGGER IF EXISTS instance_notify ON locus.instance;
CREATE TRIGGER instance_notify AFTER INSERT OR UPDATE OR DELETE
    ON locus.instance FOR EACH ROW
    WHEN (current_setting('locus.writer', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION locus.notify_change();

-- Raised by locus's upsert when another node already stored a newer CSeq
-- of the same Call-ID (RFC 3261 §10.3 step 7, across nodes): the REGISTER
-- fails as a whole and its node reloads the AOR.
CREATE OR REPLACE FUNCTION locus.stale_cseq(stored bigint, offered bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'locus: stale CSeq % (stored %)', offered, stored
        USING ERRCODE = 'LS001';
END $$;

-- Removes bindings that expired at or before UNTIL, at most 5000 at a
-- time so that the commit it shares the single writer connection with
-- stays short (locus calls again while it returns 5000).  With several
-- nodes, whichever gets the lock does it; the others skip (returns -1).
-- locus.quiet is on while it deletes: the nodes expire these bindings on
-- their own timers already.  It is set with set_config() at run time, not
-- with the function's SET clause: PostgreSQL 15 lets only a superuser (or
-- a role granted SET on it) create a function that sets a parameter it
-- does not know, and the schema is loaded by the database's owner.
CREATE OR REPLACE FUNCTION locus.expire(until timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('locus.expire')) THEN
        RETURN -1;
    END IF;
    PERFORM set_config('locus.quiet', 'on', true);
    -- expires is tested again on the row DELETE finds: a refresh committed
    -- by another node after the scan made a new version, which a ctid
    -- alone would still match
    DELETE FROM locus.location WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM locus.location WHERE expires <= until LIMIT 5000))
        AND expires <= until;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('locus.quiet', 'off', true);
    RETURN n;
END $$;

-- The same for the bindings (AORS[i], KEYS[i]) that expired at or before
-- UNTIL, found by their primary key: locus's nodes name those that
-- expired in their memory, so that no scan of the table is needed.
CREATE OR REPLACE FUNCTION locus.expire_bindings(aors text[], keys text[],
                                                 until timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('locus.expire')) THEN
        RETURN -1;
    END IF;
    PERFORM set_config('locus.quiet', 'on', true);
    DELETE FROM locus.location l USING unnest(aors, keys) AS x(aor, k)
     WHERE l.aor = x.aor AND l.binding_key = x.k AND l.expires <= until;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('locus.quiet', 'off', true);
    RETURN n;
END $$;

CREATE OR REPLACE VIEW locus.bindings AS
    SELECT aor, contact, instance, reg_id, expires, call_id, cseq, q, path,
           received, transport, user_agent,
           CASE WHEN instance IS NOT NULL
                THEN 'sip:' || aor || ';gr=' || instance END AS pub_gruu,
           updated_at, params, binding_key, nat
      FROM locus.location;

-- Administration (README, "Administering bindings with psql").  Every
-- change reaches the running nodes through the triggers above.

-- Removes every binding of one device (AOR and instance); its pub-gruu
-- stays valid and answers 480 until it registers again.
CREATE OR REPLACE FUNCTION locus.unregister_device(p_aor text, p_instance text)
RETURNS integer LANGUAGE sql AS $$
    WITH d AS (DELETE FROM locus.location
               WHERE aor = p_aor AND instance = p_instance RETURNING 1)
    SELECT count(*)::integer FROM d
$$;

-- Removes every binding of an AOR.
CREATE OR REPLACE FUNCTION locus.unregister_aor(p_aor text)
RETURNS integer LANGUAGE sql AS $$
    WITH d AS (DELETE FROM locus.location WHERE aor = p_aor RETURNING 1)
    SELECT count(*)::integer FROM d
$$;

-- A binding that never expires (a PBX trunk, a gateway): requests to the
-- AOR go to CONTACT itself (its host, port and ;transport=).
CREATE OR REPLACE FUNCTION locus.add_static_binding(p_aor text, p_contact text,
                                                    p_q numeric DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO locus.location (aor, binding_key, contact, q, expires,
                                call_id, cseq, user_agent)
    VALUES (p_aor, p_contact, p_contact, p_q, 'infinity', 'static', 0,
            'static binding')
    ON CONFLICT (aor, binding_key) DO UPDATE
        SET contact = EXCLUDED.contact, q = EXCLUDED.q,
            expires = 'infinity', updated_at = now()
$$;

-- Every device that ever registered, its GRUU state and whether it is
-- registered now.  Temporary GRUUs are not listed: they are not stored,
-- each REGISTER's 200 OK carries a new one.
CREATE OR REPLACE VIEW locus.instances AS
    SELECT i.aor, i.instance, 'sip:' || i.aor || ';gr=' || i.instance
               AS pub_gruu,
           i.generation, i.first_seen, i.updated_at,
           EXISTS (SELECT 1 FROM locus.location l
                   WHERE l.aor = i.aor AND l.instance = i.instance
                     AND l.expires > now()) AS registered
      FROM locus.instance i;

-- Subscribers: who may register and place calls (RFC 3261 §22, digest
-- with RFC 7616 / RFC 8760).  The realm is the domain.  Only the HA1
-- values are kept, never the password:
--   ha1_md5    = hex MD5(username ":" domain ":" password)
--   ha1_sha256 = hex SHA-256(username ":" domain ":" password)
-- Usernames compare exactly (case matters in digest); domains are stored
-- lower-case.
CREATE TABLE IF NOT EXISTS locus.subscriber (
    username   text COLLATE "C" NOT NULL CHECK (username <> ''),
    domain     text COLLATE "C" NOT NULL CHECK (domain = lower(domain)),
    ha1_md5    text NOT NULL CHECK (ha1_md5 ~ '^[0-9a-f]{32}$'),
    ha1_sha256 text NOT NULL CHECK (ha1_sha256 ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (username, domain)
);

CREATE OR REPLACE FUNCTION locus.ha1(p_username text, p_domain text,
                                     p_password text, p_algorithm text)
RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE upper(p_algorithm)
        WHEN 'MD5' THEN md5(convert_to(p_username || ':' || lower(p_domain)
                                       || ':' || p_password, 'UTF8'))
        WHEN 'SHA-256' THEN encode(sha256(convert_to(p_username || ':'
                              || lower(p_domain) || ':' || p_password,
                              'UTF8')), 'hex')
    END
$$;

-- Adds a subscriber, or sets the password of an existing one.
CREATE OR REPLACE FUNCTION locus.set_password(p_username text, p_domain text,
                                              p_password text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO locus.subscriber (username, domain, ha1_md5, ha1_sha256)
    VALUES (p_username, lower(p_domain),
            locus.ha1(p_username, p_domain, p_password, 'MD5'),
            locus.ha1(p_username, p_domain, p_password, 'SHA-256'))
    ON CONFLICT (username, domain) DO UPDATE
        SET ha1_md5 = EXCLUDED.ha1_md5, ha1_sha256 = EXCLUDED.ha1_sha256,
            updated_at = now()
$$;

-- Adds a subscriber; fails if there is one by that name already.
CREATE OR REPLACE FUNCTION locus.add_subscriber(p_username text,
                                                p_domain text,
                                                p_password text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO locus.subscriber (username, domain, ha1_md5, ha1_sha256)
    VALUES (p_username, lower(p_domain),
            locus.ha1(p_username, p_domain, p_password, 'MD5'),
            locus.ha1(p_username, p_domain, p_password, 'SHA-256'))
$$;

-- Removes a subscriber and every binding of its AOR.
CREATE OR REPLACE FUNCTION locus.remove_subscriber(p_username text,
                                                   p_domain text)
RETURNS integer LANGUAGE sql AS $$
    WITH s AS (DELETE FROM locus.subscriber
               WHERE username = p_username AND domain = lower(p_domain)
               RETURNING username, domain),
         b AS (DELETE FROM locus.location l USING s
               WHERE l.aor = s.username || '@' || s.domain)
    SELECT count(*)::integer FROM s
$$;

-- ---- Intercom (README, "Intercom") ------------------------------------
-- Who may make intercom calls (the feature code features.intercom, "*6"):
-- a caller (user and domain) and whom the grant covers, one callee of
-- callee_domain or, with callee NULL, every user of callee_domain.
-- Without a grant a caller dialling the code gets 403 Intercom Not
-- Allowed.  Usernames compare exactly (case matters in a SIP user part);
-- domains are stored lower-case.  Change grants with the functions below
-- or plain INSERT/DELETE on the view locus.intercom: every change reaches
-- the running nodes through the trigger (channel locus_intercom).
CREATE TABLE IF NOT EXISTS locus.intercom_grant (
    caller        text COLLATE "C" NOT NULL CHECK (caller <> ''),
    domain        text COLLATE "C" NOT NULL
                  CHECK (domain <> '' AND domain = lower(domain)),
    callee        text COLLATE "C" CHECK (callee <> ''),
    callee_domain text COLLATE "C" NOT NULL
                  CHECK (callee_domain <> ''
                         AND callee_domain = lower(callee_domain)),
    granted_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS intercom_grant_key ON locus.intercom_grant
    (caller, domain, callee_domain, coalesce(callee, ''));

CREATE OR REPLACE VIEW locus.intercom AS
    SELECT caller, domain, callee, callee_domain, granted_at
      FROM locus.intercom_grant;

-- Each statement that changes grants makes every node reload them all
-- (they are few); the payload is empty.
CREATE OR REPLACE FUNCTION locus.notify_intercom() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('locus_intercom', '');
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS intercom_grant_notify ON locus.intercom_grant;
CREATE TRIGGER intercom_grant_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON locus.intercom_grant
    FOR EACH STATEMENT EXECUTE FUNCTION locus.notify_intercom();

-- CALLER@DOMAIN may make intercom calls to CALLEE@CALLEE_DOMAIN, or to
-- every user of CALLEE_DOMAIN when CALLEE is NULL; CALLEE_DOMAIN defaults
-- to DOMAIN.  Granting what is granted already changes nothing.
--   SELECT locus.allow_intercom('alice', 'example.com');
--   SELECT locus.allow_intercom('reception', 'example.com', callee => 'bob');
CREATE OR REPLACE FUNCTION locus.allow_intercom(caller text, domain text,
                                                callee text DEFAULT NULL,
                                                callee_domain text DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO locus.intercom_grant (caller, domain, callee, callee_domain)
    VALUES (allow_intercom.caller, lower(allow_intercom.domain),
            allow_intercom.callee,
            lower(coalesce(allow_intercom.callee_domain,
                           allow_intercom.domain)))
    ON CONFLICT (caller, domain, callee_domain, coalesce(callee, ''))
    DO NOTHING
$$;

-- Revokes grants of CALLER@DOMAIN: with CALLEE (and CALLEE_DOMAIN, which
-- defaults to DOMAIN) only that one; without CALLEE, every grant the
-- caller has (into CALLEE_DOMAIN only, when given).  Returns how many
-- were removed.
CREATE OR REPLACE FUNCTION locus.disallow_intercom(caller text, domain text,
                                                   callee text DEFAULT NULL,
                                                   callee_domain text DEFAULT NULL)
RETURNS integer LANGUAGE sql AS $$
    WITH d AS (
        DELETE FROM locus.intercom_grant g
         WHERE g.caller = disallow_intercom.caller
           AND g.domain = lower(disallow_intercom.domain)
           AND CASE WHEN disallow_intercom.callee IS NULL
                    THEN disallow_intercom.callee_domain IS NULL
                         OR g.callee_domain
                            = lower(disallow_intercom.callee_domain)
                    ELSE g.callee = disallow_intercom.callee
                         AND g.callee_domain = lower(coalesce(
                             disallow_intercom.callee_domain,
                             disallow_intercom.domain))
                END
        RETURNING 1)
    SELECT count(*)::integer FROM d
$$;

-- ---- Click-to-call and parking (ua/) --------------------------------------
-- The calls locus places itself (README, "Click-to-call") and the calls
-- parked in its slots (README, "Parking").  locus writes these rows as
-- things happen; psql orders through the functions below, and each wakes
-- the nodes on channel locus_ua ("call ID", "hangup ID", "unpark ID").

-- One row per locus.originate().  node is NULL until a node takes the
-- call (one node per call: FOR UPDATE SKIP LOCKED), then names it.
CREATE TABLE IF NOT EXISTS locus.call (
    id             bigserial PRIMARY KEY,
    caller         text NOT NULL,
    callee         text NOT NULL,
    caller_device  text,
    auto_answer    boolean NOT NULL DEFAULT false,
    caller_timeout integer NOT NULL DEFAULT 30,
    callee_timeout integer NOT NULL DEFAULT 60,
    mode           text NOT NULL DEFAULT 'bridge'
                   CHECK (mode IN ('bridge', 'refer')),
    state          text NOT NULL DEFAULT 'calling caller'
                   CHECK (state IN ('calling caller', 'calling callee',
                                    'connected', 'ended')),
    cause          text,
    node           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    answered_at    timestamptz,
    ended_at       timestamptz
);
CREATE INDEX IF NOT EXISTS call_waiting_idx ON locus.call (id)
    WHERE node IS NULL AND state <> 'ended';

-- In refer mode 'connected' is final: the caller called the callee
-- herself and locus left the call.
CREATE OR REPLACE VIEW locus.calls AS
    SELECT id, caller, callee, mode, state, cause, created_at, answered_at,
           ended_at, node, caller_device, auto_answer, caller_timeout,
           callee_timeout
      FROM locus.call;

-- Calls CALLER ('alice@example.com' or a sip: URI) and, once she answers,
-- connects her to CALLEE (a sip: URI).  Returns the call's id.
CREATE OR REPLACE FUNCTION locus.originate(caller text, callee text,
                                           caller_device text DEFAULT NULL,
                                           auto_answer boolean DEFAULT false,
                                           caller_timeout integer DEFAULT 30,
                                           callee_timeout integer DEFAULT 60,
                                           mode text DEFAULT 'bridge')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    IF originate.caller IS NULL OR originate.caller !~
       '^(sips?:)?[^@\s<>";:]+@[^@\s<>";]+$' THEN
        RAISE EXCEPTION 'caller % is not an address of record', originate.caller
            USING HINT = 'Write it as user@domain, e.g. ''alice@example.com''.';
    END IF;
    IF originate.callee IS NULL OR originate.callee !~ '^sips?:[^\s<>"]+$' THEN
        RAISE EXCEPTION 'callee % is not a SIP URI', originate.callee
            USING HINT = 'Write it as a sip: URI, e.g. ''sip:bob@example.com''.';
    END IF;
    IF originate.caller_device IS NOT NULL AND
       originate.caller_device !~ '^sips?:[^\s<>"]+$' THEN
        RAISE EXCEPTION 'caller_device % is not a SIP URI', originate.caller_device
            USING HINT = 'Give the device''s pub-gruu, as locus.bindings shows it.';
    END IF;
    IF originate.mode IS NULL OR originate.mode NOT IN ('bridge', 'refer') THEN
        RAISE EXCEPTION 'mode % is neither bridge nor refer', originate.mode
            USING HINT = 'Write mode => ''bridge'' (the default) or mode => ''refer''.';
    END IF;
    IF originate.caller_timeout IS NULL OR originate.caller_timeout NOT BETWEEN 1 AND 3600
       OR originate.callee_timeout IS NULL OR originate.callee_timeout NOT BETWEEN 1 AND 3600 THEN
        RAISE EXCEPTION 'caller_timeout and callee_timeout must be 1 to 3600 seconds'
            USING HINT = 'They say how long each phone may ring.';
    END IF;
    INSERT INTO locus.call (caller, callee, caller_device, auto_answer,
                            caller_timeout, callee_timeout, mode)
    VALUES (originate.caller, originate.callee, originate.caller_device,
            coalesce(originate.auto_answer, false), originate.caller_timeout,
            originate.callee_timeout, originate.mode)
    RETURNING id INTO new_id;
    PERFORM pg_notify('locus_ua', 'call ' || new_id);
    RETURN new_id;
END $$;

-- Ends call CALL_ID; false when it is over already (or was never placed).
CREATE OR REPLACE FUNCTION locus.hangup(call_id bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    -- not taken by any node yet: it ends here
    UPDATE locus.call SET state = 'ended', cause = 'locus.hangup()',
                          ended_at = now()
     WHERE id = call_id AND node IS NULL AND state <> 'ended';
    IF FOUND THEN
        RETURN true;
    END IF;
    PERFORM 1 FROM locus.call WHERE id = call_id AND state <> 'ended'
        AND NOT (mode = 'refer' AND state = 'connected');
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM pg_notify('locus_ua', 'hangup ' || call_id);
    RETURN true;
END $$;

-- One row per call parked: while parked (state 'parked', or 'calling
-- parker' once the timeout rings the parker back), then with what ended
-- the park: 'retrieved', 'returned' (to the parker) or 'ended' (cause).
CREATE TABLE IF NOT EXISTS locus.park (
    id         text PRIMARY KEY,
    slot       text NOT NULL,
    parked     text NOT NULL,
    parked_by  text,
    state      text NOT NULL DEFAULT 'parked'
               CHECK (state IN ('parked', 'calling parker', 'retrieved',
                                'returned', 'ended')),
    cause      text,
    node       text NOT NULL,
    since      timestamptz NOT NULL DEFAULT now(),
    ended_at   timestamptz
);
CREATE INDEX IF NOT EXISTS park_slot_idx ON locus.park (slot)
    WHERE ended_at IS NULL;

CREATE OR REPLACE VIEW locus.parked AS
    SELECT slot, parked, parked_by, since, state, cause, ended_at, node, id
      FROM locus.park;

-- Ends the call parked in SLOT; false when none is.
CREATE OR REPLACE FUNCTION locus.unpark(slot text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    p record;
    found_one boolean := false;
BEGIN
    FOR p IN SELECT id FROM locus.park
              WHERE park.slot = unpark.slot AND ended_at IS NULL LOOP
        PERFORM pg_notify('locus_ua', 'unpark ' || p.id);
        found_one := true;
    END LOOP;
    RETURN found_one;
END $$;

-- By number: slots are written with the digits their range has ("001"),
-- so the number is compared, not its text.
CREATE OR REPLACE FUNCTION locus.unpark(slot integer)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    p record;
    found_one boolean := false;
BEGIN
    FOR p IN SELECT id FROM locus.park
              WHERE park.slot ~ '^[0-9]{1,9}$' AND park.slot::integer = unpark.slot
                AND ended_at IS NULL LOOP
        PERFORM pg_notify('locus_ua', 'unpark ' || p.id);
        found_one := true;
    END LOOP;
    RETURN found_one;
END $$;

-- ---- Tracing one user (README "Tracing") ---------------------------------
-- SELECT locus.trace('alice@example.com', interval '10 minutes') makes
-- every node log every SIP message to or from alice's AOR, her GRUUs and
-- her devices' addresses, whole, until then (and send it as HEP where
-- trace.hep is set); locus.untrace('alice@example.com') ends it sooner.
-- The nodes follow this table on channel locus_trace (transport/trace.c).
CREATE TABLE IF NOT EXISTS locus.trace (
    aor        text COLLATE "C" PRIMARY KEY,  -- 'user@domain', domain lower-case
    until      timestamptz NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION locus.notify_trace() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('locus_trace', '');
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS trace_notify ON locus.trace;
CREATE TRIGGER trace_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON locus.trace FOR EACH STATEMENT EXECUTE FUNCTION locus.notify_trace();

-- An AOR as locus keys it: 'user@domain' with the domain lower-cased and
-- without a trailing dot; a leading 'sip:' is dropped.  Anything without
-- a user and a domain is an error that says what to write.
CREATE OR REPLACE FUNCTION locus.aor_key(p_aor text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    a text := regexp_replace(coalesce(p_aor, ''), '^sips?:', '', 'i');
    at integer := length(a) - strpos(reverse(a), '@') + 1;
BEGIN
    IF strpos(a, '@') = 0 OR at = 1 OR at = length(a) THEN
        RAISE EXCEPTION 'not an AOR: %', coalesce(quote_literal(p_aor), 'NULL')
            USING HINT = 'write it as user@domain, e.g. ''alice@example.com''';
    END IF;
    RETURN left(a, at) || rtrim(lower(substr(a, at + 1)), '.');
END
$$;

-- Starts (or extends, or shortens) the trace of AOR for P_FOR; returns
-- when it ends.  Traces whose time is up are cleared on the way.
CREATE OR REPLACE FUNCTION locus.trace(p_aor text,
                                       p_for interval DEFAULT '10 minutes')
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
    ends timestamptz;
BEGIN
    IF p_for IS NULL OR p_for <= interval '0' THEN
        RAISE EXCEPTION 'a trace must last a while, not %',
            coalesce(p_for::text, 'NULL')
            USING HINT = 'e.g. interval ''10 minutes''';
    END IF;
    DELETE FROM locus.trace WHERE until <= now();
    INSERT INTO locus.trace (aor, until)
    VALUES (locus.aor_key(p_aor), now() + p_for)
    ON CONFLICT (aor) DO UPDATE SET until = EXCLUDED.until
    RETURNING until INTO ends;
    RETURN ends;
END
$$;

-- Ends the trace of AOR; false when it had none.
CREATE OR REPLACE FUNCTION locus.untrace(p_aor text) RETURNS boolean
LANGUAGE sql AS $$
    WITH d AS (DELETE FROM locus.trace
               WHERE aor = locus.aor_key(p_aor) AND until > now()
               RETURNING 1)
    SELECT count(*) > 0 FROM d
$$;

-- ---- Refreshes without index updates ------------------------------------
-- A refresh changes a binding's expires and nothing indexed once expires
-- has no index of its own: PostgreSQL then writes the new version in the
-- same page without touching any index (a HOT update), if the page has
-- room, which the fill factor keeps for it.  Expired rows are found by
-- their keys (locus.expire_bindings(), from each node's memory) and by a
-- scan now and then (locus.expire()).
DROP INDEX IF EXISTS locus.location_expires_idx;
ALTER TABLE locus.location SET (fillfactor = 85);

COMMIT;
