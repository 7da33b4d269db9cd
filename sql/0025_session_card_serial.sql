-- A card sits in one copier: the card step refuses a card that another
-- copier's session authenticated a moment ago (`card_in_use_elsewhere`),
-- which reads the recent sessions of one card serial.
CREATE INDEX sessions_card_serial ON sessions (card_serial, authenticated_at)
    WHERE card_serial IS NOT NULL;
