-- Copier sessions, orders and rendered documents.

-- One copier session: a single-use challenge, then (after the card check) the resident.
CREATE TABLE sessions (
    id                  uuid PRIMARY KEY,
    copier_fingerprint  bytea NOT NULL,          -- SHA-256 of the copier's client certificate
    copier_id           text NOT NULL,           -- the certificate's CN, e.g. chain/store/copier
    challenge           bytea NOT NULL,
    challenge_used_at   timestamptz,
    expires_at          timestamptz NOT NULL,
    resident_id         bigint REFERENCES residents (id),
    card_serial         bytea,
    authenticated_at    timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Tickets are handed out from this one row, locked by the acceptance transaction:
-- the lock is held until commit, so tickets increase in commit order across all
-- gateway processes (a bare sequence would not).
CREATE TABLE ticket_counter (
    id    boolean PRIMARY KEY DEFAULT true CHECK (id),
    last  bigint NOT NULL
);
INSERT INTO ticket_counter (id, last) VALUES (true, 0);

CREATE TABLE orders (
    id                  uuid PRIMARY KEY,
    ticket              bigint NOT NULL UNIQUE,
    session_id          uuid NOT NULL REFERENCES sessions (id),
    idempotency_key     text NOT NULL,
    request_hash        bytea NOT NULL,          -- SHA-256 of the canonical request body
    copier_fingerprint  bytea NOT NULL,
    resident_id         bigint NOT NULL REFERENCES residents (id),
    municipality_code   text NOT NULL REFERENCES municipalities (code),
    kind                text NOT NULL,
    options             jsonb NOT NULL,
    copies              integer NOT NULL CHECK (copies BETWEEN 1 AND 10),
    amount_yen          integer NOT NULL,
    snapshot            jsonb NOT NULL,          -- the records as committed at acceptance
    state               text NOT NULL DEFAULT 'accepted'
                        CHECK (state IN ('accepted', 'rendered', 'released', 'delivered', 'printed', 'voided')),
    void_reason         text,
    refund_yen          integer,
    accepted_at         timestamptz NOT NULL DEFAULT now(),
    rendered_at         timestamptz,
    delivered_at        timestamptz,
    printed_at          timestamptz,
    voided_at           timestamptz,
    UNIQUE (session_id, idempotency_key),
    CHECK (NOT (printed_at IS NOT NULL AND voided_at IS NOT NULL))
);
CREATE INDEX orders_state ON orders (state) WHERE state NOT IN ('printed', 'voided');

-- The rendered PDF, bound to its order, session, copier and resident.
CREATE TABLE documents (
    order_id            uuid PRIMARY KEY REFERENCES orders (id),
    session_id          uuid NOT NULL,
    copier_fingerprint  bytea NOT NULL,
    resident_id         bigint NOT NULL,
    document_number     text NOT NULL UNIQUE,
    pdf                 bytea NOT NULL,
    sha256              bytea NOT NULL,
    page_count          integer NOT NULL,
    rendered_at         timestamptz NOT NULL DEFAULT now()
);
