-- Email addresses shown to belong to their account (a link emailed there was opened, the
-- sign-in provider vouched for it, or a password was reset through it). Emails about the
-- family (notifications, digests) go only to these, so a typo at sign-up does not send a
-- family's words to a stranger.
CREATE TABLE verified_emails (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    verified_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, email)
);
-- Accounts made before addresses were verified keep getting the emails they got.
INSERT INTO verified_emails (user_id, email, verified_at) SELECT id, email, created_at FROM users;

-- The single-use links that verify an address; only a hash of the token is stored.
CREATE TABLE email_verifications (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX email_verifications_user ON email_verifications (user_id);
