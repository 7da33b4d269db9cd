-- Back to 0003's trigger, without 0014's WHEN condition.
--
-- A trigger's WHEN expression is read back from its stored text for every
-- statement that may fire it (as CHECK constraints are), and that list of
-- nine transitions cost more to parse than the plpgsql call it saved: perf
-- put 5.3% of the database's CPU under the BEFORE UPDATE triggers with it,
-- against 3.8% without. Same rule, same error either way.
DROP TRIGGER orders_forward_only ON orders;
CREATE TRIGGER orders_forward_only BEFORE UPDATE OF state ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_forward_only();
