-- Legacies (who or what is remembered), their members, stories with revisions and
-- tags, moderation flags, idempotency keys for creates, and the transactional outbox.

CREATE TABLE legacies (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    -- Free text so partial dates work: "1932", "May 1932", "1932-05-01".
    born        TEXT NOT NULL DEFAULT '',
    died        TEXT NOT NULL DEFAULT '',
    summary     TEXT NOT NULL DEFAULT '',
    cover_url   TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL
);

CREATE TABLE memberships (
    legacy_id  TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'contributor', 'viewer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (legacy_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE legacy_invitations (
    token_hash TEXT PRIMARY KEY,
    legacy_id  TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('editor', 'contributor', 'viewer')),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
    used_at    BIGINT
);

CREATE TABLE stories (
    id           TEXT PRIMARY KEY,
    legacy_id    TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    author_id    TEXT NOT NULL REFERENCES users (id),
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    visibility   TEXT NOT NULL CHECK (visibility IN ('private', 'members', 'public')),
    status       TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    updated_by   TEXT NOT NULL REFERENCES users (id),
    published_at BIGINT
);
CREATE INDEX stories_legacy ON stories (legacy_id, updated_at);
CREATE INDEX stories_listing ON stories (updated_at, id);

CREATE TABLE story_tags (
    story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    PRIMARY KEY (story_id, tag)
);
CREATE INDEX story_tags_tag ON story_tags (tag);

-- Every save of a story: who, when, what. `version` matches stories.version after that save.
CREATE TABLE story_revisions (
    id            TEXT PRIMARY KEY,
    story_id      TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    version       BIGINT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    author_id     TEXT NOT NULL REFERENCES users (id),
    created_at    BIGINT NOT NULL,
    restored_from BIGINT,
    UNIQUE (story_id, version)
);

CREATE TABLE moderation_flags (
    id          TEXT PRIMARY KEY,
    story_id    TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    legacy_id   TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    flagged_by  TEXT NOT NULL REFERENCES users (id),
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    resolved_by TEXT REFERENCES users (id),
    resolved_at BIGINT,
    resolution  TEXT
);
CREATE INDEX moderation_flags_open ON moderation_flags (legacy_id, resolved_at);

-- A create's idempotency key and what it created: a replay returns the same resource.
CREATE TABLE idempotency_keys (
    user_id     TEXT NOT NULL,
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, scope, key)
);

-- Events appended in the writer's transaction; a publisher drains them in order.
CREATE TABLE outbox (
    message_id     TEXT PRIMARY KEY,
    aggregate_type TEXT NOT NULL,
    aggregate_id   TEXT NOT NULL,
    aggregate_seq  BIGINT NOT NULL,
    event_type     TEXT NOT NULL,
    schema_version BIGINT NOT NULL,
    occurred_at    BIGINT NOT NULL,
    correlation_id TEXT NOT NULL,
    causation_id   TEXT,
    actor          TEXT,
    payload        TEXT NOT NULL,
    published_at   BIGINT,
    UNIQUE (aggregate_type, aggregate_id, aggregate_seq)
);
CREATE INDEX outbox_unpublished ON outbox (published_at, message_id);
