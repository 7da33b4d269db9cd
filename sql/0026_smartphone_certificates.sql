-- Smartphone user-authentication certificates (スマホ用利用者証明用電子証明書):
-- a second credential of a resident, derived from their card. J-LIS's
-- `smartphone_issued` event links the phone's serial to the card certificate
-- kofu knows (`certificate_links`); the resident is always found through that
-- card, so a phone can never lead to someone else than its card does.
--
-- Its life is its own and the card's at once: `smartphone_suspended` and
-- `smartphone_revoked` end the phone only; the card's renewal, revocation
-- or `signing_reissued` (its signing certificate renewed or reissued alone)
-- end every phone derived from it. The authentication statement reads this
-- table together with the card's `certificate_status`, so whatever any
-- gateway process committed counts at the phone's next authentication in
-- every process. Phone serials are another CA's: they live here, never in
-- `certificate_links` or `certificate_status`.
CREATE TABLE smartphone_links (
    serial       bytea PRIMARY KEY CHECK (octet_length(serial) BETWEEN 1 AND 20),
    card_serial  bytea NOT NULL CHECK (octet_length(card_serial) BETWEEN 1 AND 20),
    status       text NOT NULL DEFAULT 'active'
                 CHECK (status IN ('active', 'suspended', 'superseded', 'revoked')),
    reason       text,
    linked_at    timestamptz NOT NULL DEFAULT now(),
    changed_at   timestamptz
);
CREATE INDEX smartphone_links_card ON smartphone_links (card_serial);

ALTER TABLE certificate_events DROP CONSTRAINT certificate_events_kind_check;
ALTER TABLE certificate_events ADD CONSTRAINT certificate_events_kind_check
    CHECK (kind IN ('issued', 'renewed', 'suspended', 'revoked', 'signing_reissued',
                    'smartphone_issued', 'smartphone_suspended', 'smartphone_revoked'));
-- The card certificate a `smartphone_issued` phone was derived from.
ALTER TABLE certificate_events
    ADD COLUMN card_serial bytea CHECK (octet_length(card_serial) BETWEEN 1 AND 20);

-- Which credential authenticated a session and placed an order. A phone
-- session's `card_serial` is the card it was derived from (the resident's
-- card: a card and its phone sit in one copier at a time, share rate limits
-- and registered-domicile registrations); `smartphone_serial` is the phone's.
ALTER TABLE sessions
    ADD COLUMN credential text NOT NULL DEFAULT 'card' CHECK (credential IN ('card', 'smartphone')),
    ADD COLUMN smartphone_serial bytea;
ALTER TABLE orders
    ADD COLUMN credential text NOT NULL DEFAULT 'card' CHECK (credential IN ('card', 'smartphone'));

-- The audit entries say which credential authenticated (its serial only as
-- kofu_audit_serial, never raw).
CREATE OR REPLACE FUNCTION kofu_audit_sessions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kofu_audit_append('card.authenticated', jsonb_build_object(
        'session', NEW.id, 'copier', encode(NEW.copier_fingerprint, 'hex'),
        'resident', NEW.resident_id, 'card', kofu_audit_serial(NEW.card_serial),
        'credential', NEW.credential)
        || CASE WHEN NEW.smartphone_serial IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('smartphone', kofu_audit_serial(NEW.smartphone_serial)) END);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION kofu_audit_orders() RETURNS trigger
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
            'signing_key', NEW.signing_key_id, 'credential', NEW.credential));
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

-- A smartphone event names the phone (`smartphone`) and the card it was
-- derived from (`card`, for `smartphone_issued`); the others as before.
CREATE OR REPLACE FUNCTION kofu_audit_certificate_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind LIKE 'smartphone\_%' THEN
        PERFORM kofu_audit_append('certificate.' || NEW.kind, jsonb_build_object(
            'event', NEW.event_id, 'smartphone', kofu_audit_serial(NEW.serial),
            'card', kofu_audit_serial(NEW.card_serial), 'operator', kofu_audit_operator()));
    ELSE
        PERFORM kofu_audit_append('certificate.' || NEW.kind, jsonb_build_object(
            'event', NEW.event_id, 'card', kofu_audit_serial(NEW.serial),
            'new_card', kofu_audit_serial(NEW.new_serial), 'operator', kofu_audit_operator()));
    END IF;
    RETURN NULL;
END $$;
