-- The release pass also says whose orders it voided: `voided_by`, a JSON
-- array of [municipality_code, store_chain, count], so the voids past their
-- render deadline are counted per municipality and store chain like every
-- other void (`kofu_orders_voided_total`). The walk is 0013's, unchanged.
--
-- A new function beside 0013's, which stays for processes of the previous
-- version during a rollout (changing its result type would break their
-- prepared statements); a later migration drops it.
CREATE FUNCTION kofu_release_pass_v2(batch integer, print_deadline_secs double precision)
RETURNS TABLE (new_watermark bigint, released_count integer, voided_count integer,
               more_pending boolean, took_lock boolean, voided_by jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    start_at  bigint;
    walked_to bigint;
    now_ts    timestamptz;
    walked    integer := 0;
    stopped   boolean := false;
    to_release uuid[] := '{}';
    to_void    uuid[] := '{}';
    n_released integer := 0;
    n_voided   integer := 0;
    voided_groups jsonb := '[]';
    pending   record;
BEGIN
    SELECT rs.watermark INTO start_at FROM release_state rs FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN QUERY SELECT rs.watermark, 0, 0, false, false, '[]'::jsonb FROM release_state rs;
        RETURN;
    END IF;
    -- The clock is read only now, with the lock held: a pass that takes the
    -- lock after this one commits reads a later clock, so released_at never
    -- goes backwards across passes.
    now_ts := clock_timestamp();
    walked_to := start_at;
    FOR pending IN
        SELECT o.id, o.ticket, o.state, o.render_deadline < now_ts AS late
          FROM orders o WHERE o.ticket > start_at ORDER BY o.ticket LIMIT batch
    LOOP
        IF pending.ticket <> walked_to + 1 THEN
            stopped := true; -- tickets have no gaps; never skip one
            EXIT;
        END IF;
        IF pending.state = 'rendered' THEN
            to_release := to_release || pending.id;
        ELSIF pending.state = 'accepted' THEN
            IF NOT pending.late THEN
                stopped := true; -- still rendering in time
                EXIT;
            END IF;
            to_void := to_void || pending.id;
        END IF; -- voided, or already past release
        walked_to := pending.ticket;
        walked := walked + 1;
    END LOOP;
    IF walked_to > start_at THEN
        IF cardinality(to_release) > 0 THEN
            UPDATE orders
               SET state = 'released', released_at = now_ts,
                   print_deadline = now_ts + make_interval(secs => print_deadline_secs)
             WHERE id = ANY (to_release) AND state = 'rendered';
            GET DIAGNOSTICS n_released = ROW_COUNT;
        END IF;
        IF cardinality(to_void) > 0 THEN
            WITH v AS (
                UPDATE orders
                   SET state = 'voided', voided_at = now_ts, void_reason = 'render_deadline_missed',
                       refund_yen = amount_yen
                 WHERE id = ANY (to_void) AND state IN ('accepted', 'rendered')
             RETURNING municipality_code, coalesce(store_chain, '') AS chain
            ), g AS (SELECT municipality_code, chain, count(*)::integer AS n FROM v GROUP BY 1, 2)
            SELECT coalesce(sum(n), 0)::integer,
                   coalesce(jsonb_agg(jsonb_build_array(municipality_code, chain, n)), '[]')
              INTO n_voided, voided_groups FROM g;
        END IF;
        UPDATE release_state SET watermark = walked_to;
    END IF;
    RETURN QUERY SELECT walked_to, n_released, n_voided, (NOT stopped AND walked = batch), true,
                        voided_groups;
END
$$;
