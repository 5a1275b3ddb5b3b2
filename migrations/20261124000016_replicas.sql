-- Replicas (ADR 0017): each server on the event bus claims its replica id here and keeps
-- the claim alive with a heartbeat, so a second live process with the same id (whose
-- replica-local consumers would split the events between them) is refused at start.
-- `nonce` is new in every process; a row whose heartbeat has stopped is taken over.
CREATE TABLE replicas (
    id           TEXT PRIMARY KEY,
    nonce        TEXT NOT NULL,
    host         TEXT NOT NULL,
    pid          BIGINT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
