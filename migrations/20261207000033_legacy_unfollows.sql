-- Members follow every legacy they belong to (its new stories reach their bell) until
-- they stop: one row per member and legacy they stopped following. Replies, mentions and
-- reactions to what they wrote still reach them; following again deletes the row.
CREATE TABLE legacy_unfollows (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    legacy_id  TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, legacy_id)
);
CREATE INDEX legacy_unfollows_legacy ON legacy_unfollows (legacy_id);
