-- An order is updated four times on its way to printed (rendered, released,
-- delivered, printed) and a session twice, so both tables make dead tuples
-- at four to five times the issuance rate. PostgreSQL's default (vacuum at
-- 20% dead) lets an orders table of millions of rows carry hundreds of
-- thousands of dead versions that every index scan of the pipeline has to
-- step over. Vacuum them early and often instead; each run is small.
ALTER TABLE orders SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 2000,
                        autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE sessions SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 2000,
                          autovacuum_analyze_scale_factor = 0.05);
