-- Fees and settlement (src/gateway/municipality/settlement.rs). Each order
-- records at acceptance the store commission it will owe once printed
-- (123 yen per copy) and the store chain that took it (the first part of
-- the copier certificate's CN, `chain/store/copier`). `amount_yen` is the
-- municipality's fee for all copies and `refund_yen` what a voided order
-- gave back, as before. Expand-only: nullable columns, no new index (the
-- daily settlement reads orders once; an index on a stamp the final update
-- sets would make that update write one more entry).
ALTER TABLE orders
    ADD COLUMN commission_yen integer CHECK (commission_yen >= 0),
    ADD COLUMN store_chain text;
