-- The conversation around stories and media items: comments (one level of replies) and
-- reactions; reports of comments join the moderation queue.

-- A comment is on a story or on a media item, never both; deleting either deletes its
-- comments. A deleted comment keeps its row (text cleared) while it has replies.
CREATE TABLE comments (
    id          TEXT PRIMARY KEY,
    legacy_id   TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    story_id    TEXT REFERENCES stories (id) ON DELETE CASCADE,
    media_id    TEXT REFERENCES media (id) ON DELETE CASCADE,
    parent_id   TEXT REFERENCES comments (id) ON DELETE CASCADE,
    author_id   TEXT NOT NULL REFERENCES users (id),
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    edited_at   BIGINT,
    deleted_at  BIGINT,
    deleted_by  TEXT REFERENCES users (id),
    version     BIGINT NOT NULL DEFAULT 1,
    CHECK ((story_id IS NULL) <> (media_id IS NULL))
);
CREATE INDEX comments_story ON comments (story_id, created_at);
CREATE INDEX comments_media ON comments (media_id, created_at);
CREATE INDEX comments_parent ON comments (parent_id);

-- One row per person, reaction and thing reacted to. `subject_id` is the story's, the
-- item's or the comment's id (unique across them); the column naming the same id again
-- makes deleting the thing delete its reactions.
CREATE TABLE reactions (
    subject_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reaction    TEXT NOT NULL,
    subject     TEXT NOT NULL CHECK (subject IN ('story', 'media', 'comment')),
    legacy_id   TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    story_id    TEXT REFERENCES stories (id) ON DELETE CASCADE,
    media_id    TEXT REFERENCES media (id) ON DELETE CASCADE,
    comment_id  TEXT REFERENCES comments (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (subject_id, user_id, reaction)
);

-- Reports name a story or a comment (and the story the comment is on, for the link), so
-- `story_id` may be empty now: the table is rebuilt, as SQLite cannot drop NOT NULL.
CREATE TABLE moderation_flags_v2 (
    id          TEXT PRIMARY KEY,
    subject     TEXT NOT NULL DEFAULT 'story' CHECK (subject IN ('story', 'media', 'comment')),
    story_id    TEXT REFERENCES stories (id) ON DELETE CASCADE,
    comment_id  TEXT REFERENCES comments (id) ON DELETE CASCADE,
    legacy_id   TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    flagged_by  TEXT NOT NULL REFERENCES users (id),
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    resolved_by TEXT REFERENCES users (id),
    resolved_at BIGINT,
    resolution  TEXT
);
INSERT INTO moderation_flags_v2
    (id, subject, story_id, legacy_id, flagged_by, reason, created_at, resolved_by, resolved_at, resolution)
    SELECT id, 'story', story_id, legacy_id, flagged_by, reason, created_at, resolved_by, resolved_at, resolution
    FROM moderation_flags;
DROP TABLE moderation_flags;
ALTER TABLE moderation_flags_v2 RENAME TO moderation_flags;
CREATE INDEX moderation_flags_open ON moderation_flags (legacy_id, resolved_at);
