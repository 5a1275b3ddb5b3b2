-- Timers, outbound calls (their read model and attempts), webhook endpoints, and
-- consumer checkpoints.

-- A persisted "do this at due_at". `key` makes scheduling idempotent; a lease lets one
-- replica fire a timer while another skips it, and a crashed firing is retried.
CREATE TABLE timers (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    due_at      BIGINT NOT NULL,
    lease_until BIGINT,
    attempts    BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT,
    fired_at    BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX timers_due ON timers (fired_at, due_at);

-- One outbound HTTP call (a webhook delivery, a connector callback, a scheduled call).
-- `headers` holds the allowlisted headers with credential values redacted; the
-- credentials themselves are in `sealed_headers`, sealed by the vault.
CREATE TABLE calls (
    id               TEXT PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    request_hash     TEXT NOT NULL,
    source           TEXT NOT NULL,
    method           TEXT NOT NULL,
    url              TEXT NOT NULL,
    target           TEXT NOT NULL,
    headers          TEXT NOT NULL,
    sealed_headers   TEXT,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('scheduled', 'running', 'succeeded', 'failed')),
    due_at           BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    lease_until      BIGINT,
    last_status_code BIGINT,
    last_latency_ms  BIGINT,
    last_error       TEXT,
    created_by       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    completed_at     BIGINT
);
CREATE INDEX calls_listing ON calls (created_at, id);
CREATE INDEX calls_status ON calls (status, created_at);
CREATE INDEX calls_target ON calls (target, created_at);

CREATE TABLE call_attempts (
    call_id          TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    attempt          BIGINT NOT NULL,
    started_at       BIGINT NOT NULL,
    latency_ms       BIGINT NOT NULL,
    status_code      BIGINT,
    error            TEXT,
    response_snippet TEXT NOT NULL,
    PRIMARY KEY (call_id, attempt)
);

-- Endpoints an admin registered to receive events; the signing secret is sealed.
CREATE TABLE webhooks (
    id            TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    event_types   TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    active        BIGINT NOT NULL DEFAULT 1,
    created_by    TEXT NOT NULL REFERENCES users (id),
    created_at    BIGINT NOT NULL
);

-- How far each consumer has got: its last handled event and how many it handled.
CREATE TABLE consumer_checkpoints (
    consumer        TEXT PRIMARY KEY,
    last_message_id TEXT NOT NULL,
    handled         BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
