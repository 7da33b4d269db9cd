-- The audit trail (src/gateway/audit): every card authentication, order
-- accepted, printed or voided, document withdrawal, registered-domicile
-- registration decision, J-LIS certificate event and administration change,
-- appended to a hash chain in the transaction that makes the change.
--
-- Rules:
-- - Each entry commits to the one before it: hash = SHA-256 of the
--   canonical bytes (kofu_audit_bytes below, reproduced in Rust by
--   `kofu audit verify`), which include the previous entry's hash.
-- - Appends come from constraint triggers DEFERRABLE INITIALLY DEFERRED on
--   the tables that hold the changes, so no writer can skip them (a SQL
--   function's UPDATE is audited like a handler's). An append inserts into
--   audit_pending in the change's own transaction, taking no lock shared
--   with any other writer: a rolled-back change rolls its entries back with
--   it, a committed one always has them.
-- - The sealer (kofu_audit_seal, run by every gateway every 100 ms, one at
--   a time) moves committed pending entries into the chain, in id order,
--   in batches: the chain head is locked by the sealer alone. Chaining
--   inside every writer's transaction instead held the head row's lock
--   through each commit's WAL flush, and serialised every durable commit
--   of the service on it (measured: 376 commits/s instead of 5,426 with 16
--   clients on a 2.7 ms flush; see the README's "Audit trail").
-- - Subjects hold opaque identifiers only: order, session and registration
--   ids, tickets, copier fingerprints (hex), municipality codes, resident
--   ids (the internal key, not the 住民票コード), signing key ids, operator
--   names (`operator:` + 16 hex digits of their certificate's SHA-256) and
--   card serials as kofu_audit_serial (a truncated SHA-256), never raw.
-- - audit_log and audit_checkpoints refuse UPDATE, DELETE and TRUNCATE,
--   audit_pending refuses UPDATE; the chain and the signed checkpoints are
--   what catch someone who goes around that.

-- The chain head: the last sealed entry. Genesis: seq 0 and 32 zero bytes.
CREATE TABLE audit_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq        bigint NOT NULL,
    hash       bytea NOT NULL CHECK (octet_length(hash) = 32)
) WITH (fillfactor = 10);
INSERT INTO audit_head (seq, hash) VALUES (0, decode(repeat('00', 32), 'hex'));

-- Entries appended by committed (or still open) changes, not chained yet.
CREATE TABLE audit_pending (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    action   text NOT NULL,
    subject  text NOT NULL
);

CREATE TABLE audit_log (
    seq        bigint PRIMARY KEY CHECK (seq >= 1),
    at         timestamptz NOT NULL,
    action     text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    -- The exact bytes hashed: jsonb's text form of the subject (keys
    -- sorted, no duplicates, nulls stripped), kept as text so that the
    -- hash never depends on how a later server prints JSON.
    subject    text NOT NULL,
    prev_hash  bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash       bytea NOT NULL CHECK (octet_length(hash) = 32)
);

-- The gateway's audit signing keys (Ed25519), sealed like the document
-- signing keys (AES-256-GCM under the signing secret, "audit:" || kid as
-- associated data). At most one is current.
CREATE TABLE audit_keys (
    kid          text PRIMARY KEY CHECK (kid ~ '^[0-9A-Za-z-]{1,64}$'),
    public_key   bytea NOT NULL CHECK (octet_length(public_key) = 32),
    sealed_seed  bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    retired_at   timestamptz
);
CREATE UNIQUE INDEX audit_keys_current ON audit_keys ((true)) WHERE retired_at IS NULL;

-- A signed chain head: Ed25519 over "kofu-audit-checkpoint-v1" || seq
-- (8 bytes, big-endian) || hash.
CREATE TABLE audit_checkpoints (
    seq        bigint PRIMARY KEY CHECK (seq >= 1),
    hash       bytea NOT NULL CHECK (octet_length(hash) = 32),
    kid        text NOT NULL REFERENCES audit_keys (kid),
    signature  bytea NOT NULL CHECK (octet_length(signature) = 64),
    signed_at  timestamptz NOT NULL DEFAULT now()
);

-- The canonical bytes of an entry:
--   "kofu-audit-v1"                      13 ASCII bytes
--   seq                                   8 bytes, big-endian, signed
--   at, microseconds since 1970-01-01 UTC 8 bytes, big-endian, signed
--   length of action, then action         4 bytes big-endian + UTF-8
--   length of subject, then subject       4 bytes big-endian + UTF-8
--   prev_hash                            32 bytes
CREATE FUNCTION kofu_audit_bytes(seq bigint, at timestamptz, action text, subject text, prev_hash bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT convert_to('kofu-audit-v1', 'UTF8')
        || int8send(seq)
        || int8send((extract(epoch FROM at) * 1000000)::bigint)
        || int4send(octet_length(convert_to(action, 'UTF8'))) || convert_to(action, 'UTF8')
        || int4send(octet_length(convert_to(subject, 'UTF8'))) || convert_to(subject, 'UTF8')
        || prev_hash
$$;

-- A card serial as the audit log names it: the first 16 bytes of
-- SHA-256("kofu-serial-v1:" || serial), hexadecimal.
CREATE FUNCTION kofu_audit_serial(serial bytea) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT encode(substr(sha256(convert_to('kofu-serial-v1:', 'UTF8') || serial), 1, 16), 'hex')
$$;

-- Appends one entry in the caller's transaction; returns its pending id.
-- `at` is when the append ran; the chain's order is the sealer's.
CREATE FUNCTION kofu_audit_append(p_action text, p_subject jsonb) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO audit_pending (action, subject)
    VALUES (p_action, jsonb_strip_nulls(p_subject)::text)
    RETURNING id
$$;

-- Chains up to `max_rows` committed pending entries, in id order, and
-- returns how many; 0 at once when another sealer holds the head. The
-- head is updated once per batch. Lost in a crash, a seal is simply made
-- again: the pending rows come back with it.
CREATE FUNCTION kofu_audit_seal(max_rows integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_seq  bigint;
    v_hash bytea;
    ids    bigint[] := '{}';
    r      record;
BEGIN
    SELECT h.seq, h.hash INTO v_seq, v_hash FROM audit_head h FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    FOR r IN SELECT p.id, p.at, p.action, p.subject FROM audit_pending p ORDER BY p.id LIMIT max_rows LOOP
        INSERT INTO audit_log (seq, at, action, subject, prev_hash, hash)
             VALUES (v_seq + 1, r.at, r.action, r.subject, v_hash,
                     sha256(kofu_audit_bytes(v_seq + 1, r.at, r.action, r.subject, v_hash)))
          RETURNING seq, hash INTO v_seq, v_hash;
        ids := ids || r.id;
    END LOOP;
    IF cardinality(ids) > 0 THEN
        DELETE FROM audit_pending WHERE id = ANY (ids);
        UPDATE audit_head SET seq = v_seq, hash = v_hash;
    END IF;
    RETURN cardinality(ids);
END $$;

-- The operator an administration transaction acts for, when it said
-- (set_config('kofu.operator', ..., true)); NULL otherwise.
CREATE FUNCTION kofu_audit_operator() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('kofu.operator', true), '')
$$;

CREATE FUNCTION kofu_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION kofu_audit_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_audit_refuse_change();
CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION kofu_audit_refuse_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION kofu_audit_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_audit_refuse_change();

-- Orders: accepted, printed, voided, withdrawn.
CREATE FUNCTION kofu_audit_orders() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    base jsonb := jsonb_build_object(
        'order', NEW.id, 'ticket', NEW.ticket, 'municipality', NEW.municipality_code);
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM kofu_audit_append('order.accepted', base || jsonb_build_object(
            'session', NEW.session_id, 'copier', encode(NEW.copier_fingerprint, 'hex'),
            'resident', NEW.resident_id, 'kind', NEW.kind, 'copies', NEW.copies,
            'amount_yen', NEW.amount_yen, 'store_chain', NEW.store_chain,
            'signing_key', NEW.signing_key_id));
    ELSIF NEW.state = 'printed' AND OLD.state <> 'printed' THEN
        PERFORM kofu_audit_append('order.printed', base || jsonb_build_object(
            'copier', encode(NEW.copier_fingerprint, 'hex'), 'amount_yen', NEW.amount_yen));
    ELSIF NEW.state = 'voided' AND OLD.state <> 'voided' THEN
        PERFORM kofu_audit_append('order.voided', base || jsonb_build_object(
            'from', OLD.state, 'reason', NEW.void_reason, 'refund_yen', NEW.refund_yen));
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.withdrawn_at IS NULL AND NEW.withdrawn_at IS NOT NULL THEN
        PERFORM kofu_audit_append('document.withdrawn', base || jsonb_build_object(
            'operator', kofu_audit_operator()));
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER audit_orders_insert AFTER INSERT ON orders
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kofu_audit_orders();
CREATE CONSTRAINT TRIGGER audit_orders_update AFTER UPDATE ON orders
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((NEW.state IN ('printed', 'voided') AND OLD.state IS DISTINCT FROM NEW.state)
          OR (OLD.withdrawn_at IS NULL AND NEW.withdrawn_at IS NOT NULL))
    EXECUTE FUNCTION kofu_audit_orders();

-- Sessions: a card holder authenticated (bound to the session).
CREATE FUNCTION kofu_audit_sessions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kofu_audit_append('card.authenticated', jsonb_build_object(
        'session', NEW.id, 'copier', encode(NEW.copier_fingerprint, 'hex'),
        'resident', NEW.resident_id, 'card', kofu_audit_serial(NEW.card_serial)));
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER audit_sessions_update AFTER UPDATE ON sessions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.authenticated_at IS NOT NULL AND OLD.authenticated_at IS DISTINCT FROM NEW.authenticated_at)
    EXECUTE FUNCTION kofu_audit_sessions();

-- Registered-domicile registrations: requested (active at once or
-- pending), approved, rejected, ended, carried over to a renewed card.
CREATE FUNCTION kofu_audit_domicile() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    base jsonb := jsonb_build_object(
        'registration', NEW.id, 'municipality', NEW.municipality_code, 'resident', NEW.resident_id,
        'status', NEW.status, 'card', kofu_audit_serial(NEW.serial));
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM kofu_audit_append('domicile.registered', base);
    ELSIF OLD.status IS DISTINCT FROM NEW.status THEN
        PERFORM kofu_audit_append('domicile.decided', base || jsonb_build_object(
            'from', OLD.status, 'ended_reason', NEW.ended_reason,
            'operator', coalesce(NEW.decided_by, kofu_audit_operator())));
    ELSE
        PERFORM kofu_audit_append('domicile.card_renewed', base || jsonb_build_object(
            'old_card', kofu_audit_serial(OLD.serial)));
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER audit_domicile_insert AFTER INSERT ON domicile_registrations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kofu_audit_domicile();
CREATE CONSTRAINT TRIGGER audit_domicile_update AFTER UPDATE ON domicile_registrations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.serial IS DISTINCT FROM NEW.serial)
    EXECUTE FUNCTION kofu_audit_domicile();

-- J-LIS certificate events, as recorded.
CREATE FUNCTION kofu_audit_certificate_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kofu_audit_append('certificate.' || NEW.kind, jsonb_build_object(
        'event', NEW.event_id, 'card', kofu_audit_serial(NEW.serial),
        'new_card', kofu_audit_serial(NEW.new_serial), 'operator', kofu_audit_operator()));
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER audit_certificate_events_insert AFTER INSERT ON certificate_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kofu_audit_certificate_events();

-- Municipalities: created, went live; every settings version.
CREATE FUNCTION kofu_audit_municipalities() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kofu_audit_append(
        CASE WHEN TG_OP = 'INSERT' THEN 'municipality.created' ELSE 'municipality.went_live' END,
        jsonb_build_object('municipality', NEW.code, 'operator', kofu_audit_operator()));
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER audit_municipalities_insert AFTER INSERT ON municipalities
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kofu_audit_municipalities();
CREATE CONSTRAINT TRIGGER audit_municipalities_update AFTER UPDATE ON municipalities
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.live_at IS NULL AND NEW.live_at IS NOT NULL)
    EXECUTE FUNCTION kofu_audit_municipalities();

CREATE FUNCTION kofu_audit_settings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kofu_audit_append('municipality.settings_changed', jsonb_build_object(
        'municipality', NEW.municipality_code, 'version', NEW.version,
        'operator', coalesce(kofu_audit_operator(), NEW.changed_by)));
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER audit_settings_insert AFTER INSERT ON municipality_settings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kofu_audit_settings();

-- Document signing keys: made, retired (rotation), revoked.
CREATE FUNCTION kofu_audit_signing_keys() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kofu_audit_append(
        CASE WHEN TG_OP = 'INSERT' THEN 'signing_key.created'
             WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN 'signing_key.revoked'
             ELSE 'signing_key.retired' END,
        jsonb_build_object('kid', NEW.kid, 'municipality', NEW.municipality_code,
                           'operator', kofu_audit_operator()));
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER audit_signing_keys_insert AFTER INSERT ON signing_keys
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kofu_audit_signing_keys();
CREATE CONSTRAINT TRIGGER audit_signing_keys_update AFTER UPDATE ON signing_keys
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
          OR (OLD.retired_at IS NULL AND NEW.retired_at IS NOT NULL))
    EXECUTE FUNCTION kofu_audit_signing_keys();
