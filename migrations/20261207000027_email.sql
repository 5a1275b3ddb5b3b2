-- Email: a durable queue of messages to send (`EmailQueued` events hand each to the
-- mailer, which sends it once) and the single-use password-reset tokens emails carry.

-- The text of a message is sealed with the vault (it may hold a reset link or a
-- family's words) and cleared once sent; what stays says what was sent to whom, when.
CREATE TABLE emails (
    id            TEXT PRIMARY KEY,
    to_address    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    sealed_body   TEXT,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent')),
    -- A sender holds the message until then; one that died lets another take it after.
    lease_until   BIGINT,
    attempts      BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    sent_at       BIGINT
);
CREATE INDEX emails_created ON emails (created_at);

-- Only a hash of the token is stored: the link in the email is the only copy.
CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX password_resets_user ON password_resets (user_id);
