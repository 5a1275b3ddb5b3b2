-- The activity feed: a projection of the outbox's events (rebuildable from them), one
-- row per group of like events ("Ann added 12 photos to The bees" within an hour).
-- No foreign keys: a row may name what was deleted since; the feed's query leaves out
-- what the reader may not read, or what no longer exists, at read time.
CREATE TABLE activities (
    id          TEXT PRIMARY KEY,
    legacy_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    -- What groups like events: kind, actor and place.
    group_key   TEXT NOT NULL,
    actor_id    TEXT,
    story_id    TEXT,
    media_id    TEXT,
    comment_id  TEXT,
    person_id   TEXT,
    count       BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
-- The feed walks rows newest first (all the reader's legacies, or one) and stops at a page.
CREATE INDEX activities_updated ON activities (updated_at, id);
CREATE INDEX activities_legacy_updated ON activities (legacy_id, updated_at, id);
CREATE INDEX activities_group ON activities (legacy_id, group_key, updated_at);

-- Which event went into which row: an event delivered again changes nothing.
CREATE TABLE activity_events (
    event_id    TEXT PRIMARY KEY,
    activity_id TEXT NOT NULL
);
