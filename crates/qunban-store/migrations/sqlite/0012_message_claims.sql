-- Claiming logged messages across instances (see `Store::claim_unprocessed`):
-- claimed_until is the end of the lease (unix seconds) of the instance that
-- is interpreting the message; NULL or past = free to take. The partial
-- index keeps finding the unapplied tail of a long log cheap.
ALTER TABLE messages ADD COLUMN claimed_until INTEGER;
CREATE INDEX messages_unprocessed ON messages (id) WHERE processed_at IS NULL;
