-- J-LIS certificate lifecycle events (発行, 更新, 一時保留, 失効): durable and
-- idempotent by J-LIS's event id, applied in the same transaction that
-- records them.
CREATE TABLE certificate_events (
    event_id      text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 128),
    kind          text NOT NULL CHECK (kind IN ('issued', 'renewed', 'suspended', 'revoked')),
    serial        bytea NOT NULL CHECK (octet_length(serial) BETWEEN 1 AND 20),
    new_serial    bytea CHECK (octet_length(new_serial) BETWEEN 1 AND 20),
    -- SHA-256 of the event as received: the same id with other content is refused.
    request_hash  bytea NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
);

-- What J-LIS has said about a serial since its last CRL. Checked in the same
-- statement that maps the serial to its resident, so a suspension committed
-- by any gateway process refuses the card's very next authentication in
-- every process. A suspension (certificateHold) is never lifted; a renewal
-- supersedes the old serial.
CREATE TABLE certificate_status (
    serial      bytea PRIMARY KEY CHECK (octet_length(serial) BETWEEN 1 AND 20),
    status      text NOT NULL CHECK (status IN ('suspended', 'revoked')),
    reason      text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
