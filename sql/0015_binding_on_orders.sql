-- The document binding moves onto the order row.
--
-- Since 0009 a `documents` row held only the binding (no bytes): the
-- SHA-256, the document number, the page count and the session, copier and
-- resident the render saw. Writing it was an INSERT with two index entries
-- and a foreign-key check per issuance, and every delivery joined it back.
-- The same values now go into these columns of the order, in the UPDATE that
-- marks it rendered, which stays heap-only (no index names them; see 0012).
-- Delivery compares them with the order and its session exactly as before.
--
-- Orders bound before this migration keep their `documents` row, and
-- delivery reads it when these columns are NULL. The table is kept for them.
ALTER TABLE orders
    ADD COLUMN bound_session_id         uuid,
    ADD COLUMN bound_copier_fingerprint bytea,
    ADD COLUMN bound_resident_id        bigint,
    ADD COLUMN document_number          text,
    ADD COLUMN document_sha256          bytea,
    ADD COLUMN page_count               integer;
COMMENT ON TABLE documents IS
    'Bindings of orders rendered before 0015; newer orders carry theirs in orders.bound_* and orders.document_*';
