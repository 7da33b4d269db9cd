-- Registered-domicile registration by serial (本籍地証明書交付サービス;
-- src/gateway/registry/domicile.rs). A resident, at a copier with their
-- card, names the 本籍 municipality, the 本籍 and the 筆頭者; the
-- registration is stored against the card's serial. It is active at once
-- when it matches that municipality's family register (name, birth date,
-- 本籍, 筆頭者), otherwise pending in that municipality's staff queue. A
-- renewal (new serial) ends it unless the municipality's policy carries it
-- over; a change of the 戸籍 entry (removal, a closed register) ends it.
CREATE TABLE domicile_registrations (
    id                uuid PRIMARY KEY,
    serial            bytea NOT NULL CHECK (octet_length(serial) BETWEEN 1 AND 20),
    resident_id       bigint NOT NULL REFERENCES residents (id),
    municipality_code text NOT NULL REFERENCES municipalities (code),   -- the 本籍 municipality
    domicile          text NOT NULL CHECK (domicile <> ''),
    head_of_register  text NOT NULL CHECK (head_of_register <> ''),
    member_id         bigint REFERENCES family_register_members (id),   -- the entry it stands for
    status            text NOT NULL CHECK (status IN ('active', 'pending', 'rejected', 'ended')),
    ended_reason      text CHECK (ended_reason IN ('card_renewed', 'card_revoked', 'register_changed')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    decided_at        timestamptz,
    decided_by        text,
    CHECK ((status = 'active') <= (member_id IS NOT NULL))
);
-- One open registration per card and 本籍 municipality.
CREATE UNIQUE INDEX domicile_registrations_open ON domicile_registrations (serial, municipality_code)
    WHERE status IN ('active', 'pending');
-- The staff queue.
CREATE INDEX domicile_registrations_pending ON domicile_registrations (municipality_code, created_at)
    WHERE status = 'pending';
