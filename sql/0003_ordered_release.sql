-- Ordered release with deadlines, and render claims for crash recovery.

-- released_at: when the document became fetchable (in ticket order).
-- render_deadline: an order not rendered by then is voided (render_deadline_missed).
-- print_deadline: a released order not confirmed printed by then is voided (print_deadline_missed).
-- render_claimed_by/_until: the render lease (which gateway process, until when); the
-- holder renews it when it starts rendering, an expired lease lets any process take over.
ALTER TABLE orders
    ADD COLUMN released_at timestamptz,
    ADD COLUMN render_deadline timestamptz NOT NULL DEFAULT now() + interval '10 seconds',
    ADD COLUMN print_deadline timestamptz,
    ADD COLUMN render_claimed_by uuid,
    ADD COLUMN render_claimed_until timestamptz;

CREATE INDEX orders_deadlines ON orders (state, print_deadline) WHERE state IN ('released', 'delivered');
CREATE INDEX orders_unrendered ON orders (ticket) WHERE state = 'accepted';

-- The release watermark: every order with ticket <= watermark is released or voided.
-- Whoever holds this row's lock is the one releaser at that moment.
CREATE TABLE release_state (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    watermark  bigint NOT NULL
);
INSERT INTO release_state (id, watermark) VALUES (true, 0);

-- Order states only move forward (invariant 3): no path to printed twice, or to
-- both printed and voided, whatever the code above does.
CREATE FUNCTION orders_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = NEW.state THEN
        RETURN NEW;
    END IF;
    IF (OLD.state, NEW.state) IN (
        ('accepted', 'rendered'), ('accepted', 'released'), ('rendered', 'released'),
        ('released', 'delivered'), ('delivered', 'printed'),
        ('accepted', 'voided'), ('rendered', 'voided'), ('released', 'voided'), ('delivered', 'voided'))
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'illegal order state transition % -> %', OLD.state, NEW.state
        USING ERRCODE = 'check_violation';
END
$$;
CREATE TRIGGER orders_forward_only BEFORE UPDATE OF state ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_forward_only();
