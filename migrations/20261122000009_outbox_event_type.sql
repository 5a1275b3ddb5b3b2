-- Lanes of their own (the media pipeline) find their events by type and time.
CREATE INDEX outbox_event_type ON outbox (event_type, occurred_at);
