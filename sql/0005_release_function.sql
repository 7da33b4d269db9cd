-- One ordered-release pass as a single server-side call (src/queue/release.rs
-- keeps the rule and calls it). The same steps as the client-side pass it
-- replaces, without seven round trips and seven wake-ups per pass:
--   1. take the release_state row, or report the watermark and return when
--      another process holds it (SKIP LOCKED: never wait behind a peer);
--   2. read the orders after the watermark in ticket order, WITHOUT row locks
--      (render workers never queue behind the releaser);
--   3. walk them while tickets are consecutive: release `rendered`, void
--      `accepted` past its render deadline, stop at the first `accepted` still
--      in time (everything behind it waits) or at a gap (an acceptance not yet
--      committed);
--   4. guarded updates: only `rendered` rows are released, and late renders
--      are voided even if they turned `rendered` since step 2 (the watermark is
--      about to pass them).
CREATE FUNCTION kofu_release_pass(batch integer, print_deadline_secs double precision)
RETURNS TABLE (new_watermark bigint, released_count integer, voided_count integer,
               more_pending boolean, took_lock boolean)
LANGUAGE plpgsql AS $$
DECLARE
    start_at  bigint;
    walked_to bigint;
    now_ts    timestamptz := clock_timestamp();
    walked    integer := 0;
    stopped   boolean := false;
    to_release uuid[] := '{}';
    to_void    uuid[] := '{}';
    n_released integer := 0;
    n_voided   integer := 0;
    pending   record;
BEGIN
    SELECT rs.watermark INTO start_at FROM release_state rs FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN QUERY SELECT rs.watermark, 0, 0, false, false FROM release_state rs;
        RETURN;
    END IF;
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
        UPDATE orders
           SET state = 'released', released_at = now_ts,
               print_deadline = now_ts + make_interval(secs => print_deadline_secs)
         WHERE id = ANY (to_release) AND state = 'rendered';
        GET DIAGNOSTICS n_released = ROW_COUNT;
        UPDATE orders
           SET state = 'voided', voided_at = now_ts, void_reason = 'render_deadline_missed',
               refund_yen = amount_yen
         WHERE id = ANY (to_void) AND state IN ('accepted', 'rendered');
        GET DIAGNOSTICS n_voided = ROW_COUNT;
        UPDATE release_state SET watermark = walked_to;
    END IF;
    RETURN QUERY SELECT walked_to, n_released, n_voided, (NOT stopped AND walked = batch), true;
END
$$;
