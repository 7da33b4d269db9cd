-- Heap-only updates for orders, and no statistics for the snapshot.
--
-- An order is updated four times on its way to printed. Every update changed
-- `state`, which both partial indexes of 0003 named, so none was HOT: each
-- wrote a new entry into all five indexes of orders (and vacuum had to take
-- them out again), for rows that were about to change again in milliseconds.
-- The pipeline's background queries only ever look for unfinished orders, so
-- one partial index over those, keyed by ticket and bounded by the two
-- columns that are set exactly once when an order finishes, serves them all:
-- `rendered`, `released` and `delivered` now touch no indexed column and stay
-- on their page (fillfactor leaves the room), and only the final update
-- (printed or voided) writes index entries.
--
-- The index is only as good as the promise that an order is finished exactly
-- when one of those two stamps is set; every path already sets them (printed
-- sets printed_at, every void sets voided_at), and this constraint keeps it so.
ALTER TABLE orders ADD CONSTRAINT orders_finished_stamped
    CHECK ((state IN ('printed', 'voided')) = (printed_at IS NOT NULL OR voided_at IS NOT NULL));

-- The unfinished orders in ticket order: render claims that lapsed, late
-- renders (unordered mode) and late prints are all found here.
CREATE INDEX orders_unfinished ON orders (ticket) WHERE printed_at IS NULL AND voided_at IS NULL;
DROP INDEX IF EXISTS orders_deadlines;
DROP INDEX IF EXISTS orders_unrendered;

-- Room on each page for the three in-place updates (a row is about a kilobyte,
-- most of it the snapshot). Applies to pages written from now on.
ALTER TABLE orders SET (fillfactor = 60);

-- Autoanalyze sorted thousands of distinct ~800-byte snapshots (and the
-- options) every few seconds under load, about a tenth of the database's CPU,
-- for statistics no query uses: nothing filters on either column.
ALTER TABLE orders ALTER COLUMN snapshot SET STATISTICS 0,
                   ALTER COLUMN options SET STATISTICS 0;
