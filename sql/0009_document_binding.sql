-- A document is bound by its SHA-256, not stored: rendering is a pure
-- function of the order's snapshot (kofu sets the PDF file identifier to the
-- order id), so the process that rendered it hands the bytes over from memory
-- and any other process renders them again and must match the hash bound
-- here. New rows leave `pdf` NULL; rows stored before this migration keep
-- their bytes and are delivered from them.
ALTER TABLE documents ALTER COLUMN pdf DROP NOT NULL;
COMMENT ON COLUMN documents.pdf IS
    'NULL since 0009: the PDF is re-rendered from orders.snapshot and checked against sha256';
