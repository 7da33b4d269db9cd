-- Revocation store: imported CRLs (full and delta) and revocations reported
-- as events before a CRL lists them. At start the gateway rebuilds its
-- in-memory index from the newest full CRL per issuer, the newest delta on
-- top of it, and the events.
--
-- The signed DER is kept, not a derived index: it is the authoritative,
-- auditable artefact, its SHA-256 is re-checked on restore, and a change to
-- the in-memory layout needs no migration. Rebuilding 10 million entries from
-- it takes seconds. It is split into chunks (8 MiB) so no single value nears
-- bytea's 1 GB limit, stored EXTERNAL: signed random-looking bytes do not
-- compress and pglz would only burn CPU.

CREATE TABLE revocation_crl (
    id          bigserial PRIMARY KEY,
    -- SHA-256 over the CA's subject Name DER and its SubjectPublicKeyInfo DER.
    issuer_key  bytea NOT NULL CHECK (length(issuer_key) = 32),
    -- cRLNumber, big-endian, left-padded to 20 bytes: bytea order is numeric order.
    crl_number  bytea NOT NULL CHECK (length(crl_number) = 20),
    -- NULL for a full CRL; BaseCRLNumber (padded likewise) for a delta CRL.
    delta_base  bytea CHECK (length(delta_base) = 20),
    this_update timestamptz NOT NULL,
    next_update timestamptz,
    sha256      bytea NOT NULL CHECK (length(sha256) = 32),
    size_bytes  bigint NOT NULL CHECK (size_bytes > 0),
    imported_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (issuer_key, sha256)
);

CREATE INDEX revocation_crl_latest ON revocation_crl (issuer_key, crl_number DESC);

CREATE TABLE revocation_crl_chunk (
    crl_id bigint NOT NULL REFERENCES revocation_crl (id) ON DELETE CASCADE,
    seq    integer NOT NULL CHECK (seq >= 0),
    data   bytea NOT NULL,
    PRIMARY KEY (crl_id, seq)
);

ALTER TABLE revocation_crl_chunk ALTER COLUMN data SET STORAGE EXTERNAL;

-- Revocations and suspensions (reason 6, certificateHold) reported by J-LIS
-- events. Additive only: a reported revocation is never lifted here.
CREATE TABLE revocation_event (
    issuer_key  bytea NOT NULL CHECK (length(issuer_key) = 32),
    -- canonical big-endian magnitude, 1 to 20 bytes
    serial      bytea NOT NULL CHECK (length(serial) BETWEEN 1 AND 20),
    reason      smallint CHECK (reason BETWEEN 0 AND 10),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer_key, serial)
);
