-- Members follow every legacy they belong to (its new stories reach their bell) until
-- they stop. Each stop and each return is a row, so a new story is told to those who
-- followed the legacy when it was published, however late the notifications consumer
-- reads it; no row means following. Replies, mentions and reactions to what a member
-- wrote reach them whatever they follow.
CREATE TABLE legacy_follow_changes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    legacy_id  TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    state      TEXT NOT NULL CHECK (state IN ('following', 'stopped')),
    at         BIGINT NOT NULL
);
CREATE INDEX legacy_follow_changes_legacy ON legacy_follow_changes (legacy_id, user_id, at);
