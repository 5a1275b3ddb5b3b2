-- Notifications: one row per member told of one event (a comment on what they wrote, a
-- reply, a mention, a reaction, a new story, an invitation), written by the
-- `notifications` consumer; an event delivered again adds nothing (event_id, user_id).
-- `digest` names the digest email it waits for (`daily`, `weekly`) until `emailed_at`.
CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    legacy_id   TEXT NOT NULL,
    actor_id    TEXT,
    story_id    TEXT,
    media_id    TEXT,
    comment_id  TEXT,
    created_at  BIGINT NOT NULL,
    read_at     BIGINT,
    digest      TEXT,
    emailed_at  BIGINT
);
CREATE UNIQUE INDEX notifications_event_user ON notifications (event_id, user_id);
-- The list walks a member's rows newest first; the bell counts the unread ones.
CREATE INDEX notifications_user ON notifications (user_id, created_at, id);
CREATE INDEX notifications_unread ON notifications (user_id, read_at);
-- The digest sender finds what waits, oldest first.
CREATE INDEX notifications_digest ON notifications (digest, emailed_at, created_at);

-- How a member hears of each kind; a kind with no row keeps its default.
CREATE TABLE notification_preferences (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    delivery    TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
