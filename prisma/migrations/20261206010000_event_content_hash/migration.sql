-- A hash of each event's full content, so that a message with a stored event's (trial, attempt, seq)
-- but different content is told from a redelivery (docs/event-validation.md). NULL for events stored
-- before this column existed: those compare as equal.
ALTER TABLE "event" ADD COLUMN "content_hash" TEXT;
