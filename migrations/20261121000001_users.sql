-- People who can sign in. Ids are UUIDv7 text; times are unix milliseconds.
-- Written in SQL that SQLite and PostgreSQL both accept (docs/adr/0002).
CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    email        TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    disabled     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- Emails are stored normalised (trimmed, lower-case), so plain uniqueness suffices.
CREATE UNIQUE INDEX users_email ON users (email);
