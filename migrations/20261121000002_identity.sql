-- Sign-in methods and signed-in sessions (docs/adr/0005).

-- One argon2id hash (PHC string) per user who has a password.
CREATE TABLE password_credentials (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A user's identity at an OpenID Connect provider: (provider id from config, `sub`).
CREATE TABLE oidc_identities (
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX oidc_identities_user ON oidc_identities (user_id);

-- Every sign-in. The cookie session (tower-sessions) points at a row here; deleting the
-- row signs that browser out, which is how "revoke" and "sign out everywhere" work.
CREATE TABLE user_sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    method        TEXT NOT NULL,
    user_agent    TEXT NOT NULL,
    ip            TEXT NOT NULL,
    id_token      TEXT,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

-- Single-use links that let someone sign up when sign-up is invite-only.
CREATE TABLE signup_invites (
    token_hash TEXT PRIMARY KEY,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
    used_at    BIGINT
);
