-- PDFs are already deflate-compressed: keep them out of line (TOAST) but do
-- not let PostgreSQL spend CPU trying to compress them again with pglz on
-- every insert. Affects new rows only; existing rows stay readable as they are.
ALTER TABLE documents ALTER COLUMN pdf SET STORAGE EXTERNAL;
