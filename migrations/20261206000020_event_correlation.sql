-- Correlation and causation (ADR 0020): the outbox already has the columns; the admin
-- reads a correlation's events together, and an outbound call records what set it off.
CREATE INDEX outbox_correlation ON outbox (correlation_id, occurred_at);
ALTER TABLE calls ADD COLUMN correlation_id TEXT;
ALTER TABLE calls ADD COLUMN causation_id TEXT;
