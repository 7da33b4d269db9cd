-- Document signing (verifiable paper): each municipality's Ed25519 keys,
-- and on each order the verification code, the key and the content digest
-- its document is signed with.
--
-- A key's private half is stored sealed (AES-256-GCM under the gateway's
-- signing secret, the key id as associated data): only a gateway process
-- holding that secret can sign with it. At most one key per municipality is
-- current (neither retired nor revoked); a retired key still verifies the
-- documents it signed, a revoked one no longer does.
CREATE TABLE signing_keys (
    kid                text PRIMARY KEY CHECK (kid ~ '^[0-9A-Za-z-]{1,64}$'),
    municipality_code  text NOT NULL REFERENCES municipalities (code),
    algorithm          text NOT NULL DEFAULT 'Ed25519' CHECK (algorithm = 'Ed25519'),
    public_key         bytea NOT NULL CHECK (length(public_key) = 32),
    sealed_seed        bytea NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    retired_at         timestamptz,
    revoked_at         timestamptz
);
CREATE UNIQUE INDEX signing_keys_current ON signing_keys (municipality_code)
    WHERE retired_at IS NULL AND revoked_at IS NULL;

-- verification_code: the 13 characters printed (without hyphens), unique.
-- signing_key_id: the municipality's current key at acceptance.
-- signed_digest: SHA-256 of the canonical content, bound at render.
-- withdrawn_at: the municipality withdrew the document.
ALTER TABLE orders
    ADD COLUMN verification_code text,
    ADD COLUMN signing_key_id text REFERENCES signing_keys (kid),
    ADD COLUMN signed_digest bytea,
    ADD COLUMN withdrawn_at timestamptz;
CREATE UNIQUE INDEX orders_verification_code ON orders (verification_code);
