-- The W3C trace context (`traceparent`) of the request that wrote an event, so the
-- consumers' spans join the request's trace.
ALTER TABLE outbox ADD COLUMN trace_parent TEXT;
