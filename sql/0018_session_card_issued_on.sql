-- The day (JST) the session's card certificate was issued (its notBefore),
-- set with the card binding: a card is not used at a store on the day it
-- was issued, and the acceptance re-decides that inside its transaction.
ALTER TABLE sessions ADD COLUMN card_issued_on date;
