-- orders_state (0002) is covered by the narrower indexes of 0003: the
-- sweeper's look for accepted orders uses orders_unrendered, the print
-- deadline sweep orders_deadlines, and the dashboard counts every order
-- anyway. Every state change inserted into it; dropping it takes one index
-- insertion off each of an order's four updates. Safe for older processes
-- during a rollout: no query needs it.
DROP INDEX IF EXISTS orders_state;
