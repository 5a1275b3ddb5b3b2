-- Event consumers: which outbox events each has handled (so redelivery is harmless)
-- and the events it gave up on after repeated failures.

CREATE TABLE processed_events (
    consumer     TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (consumer, message_id)
);

CREATE TABLE dead_letters (
    consumer     TEXT NOT NULL,
    message_id   TEXT NOT NULL REFERENCES outbox (message_id),
    attempts     BIGINT NOT NULL,
    last_error   TEXT NOT NULL,
    failed_at    BIGINT NOT NULL,
    PRIMARY KEY (consumer, message_id)
);
