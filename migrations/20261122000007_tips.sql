-- Tips (docs/adr/0012): connections to other apps with their sealed tokens, the OAuth
-- attempts in flight, the tasks fetched from them, the tips issued with their feedback,
-- and what the recommender learned per arm.

-- One user's link to one connector. The credential is sealed by the vault (key id in
-- the value); NULL once disconnected, by the user or because the provider refused it.
CREATE TABLE connector_connections (
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    connector         TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('connected', 'disconnected')),
    sealed_credential TEXT,
    connected_at      BIGINT,
    last_sync_at      BIGINT,
    last_sync_status  TEXT NOT NULL DEFAULT 'never' CHECK (last_sync_status IN ('never', 'ok', 'failed')),
    last_error        TEXT,
    item_count        BIGINT NOT NULL DEFAULT 0,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (user_id, connector)
);

-- An OAuth attempt between leaving for the provider and coming back: the state is
-- stored hashed, bound to the user and their session, single-use and short-lived.
CREATE TABLE connector_oauth_states (
    state_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    connector  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX connector_oauth_states_expiry ON connector_oauth_states (expires_at);

-- Open tasks fetched at the last sync; completed_at is set when Heirloom completed one.
CREATE TABLE connector_items (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    connector    TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    url          TEXT NOT NULL,
    due          TEXT NOT NULL,
    priority     BIGINT NOT NULL,
    revision     TEXT NOT NULL,
    fetched_at   BIGINT NOT NULL,
    completed_at BIGINT,
    PRIMARY KEY (user_id, connector, external_id)
);

-- Every tip issued: what, from which arm (empty: nothing to suggest, not learned from),
-- by which policy in which context, and its one outcome (done, skipped or dismissed).
CREATE TABLE tips (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('todo', 'prompt', 'draft', 'media', 'advice')),
    source        TEXT NOT NULL,
    candidate_key TEXT NOT NULL,
    arm           TEXT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    deep_link     TEXT NOT NULL,
    meta          TEXT NOT NULL,
    policy        TEXT NOT NULL,
    context       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    shown_at      BIGINT,
    outcome       TEXT CHECK (outcome IN ('done', 'skipped', 'dismissed')),
    outcome_at    BIGINT
);
CREATE INDEX tips_user ON tips (user_id, created_at);
CREATE INDEX tips_candidate ON tips (user_id, candidate_key);

-- Feedback given on a tip, once per action; learned_at is set in the transaction that
-- counts it into tip_arm_stats, so a redelivered TipFeedback event is not counted twice.
CREATE TABLE tip_feedback (
    id         TEXT PRIMARY KEY,
    tip_id     TEXT NOT NULL REFERENCES tips (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    action     TEXT NOT NULL CHECK (action IN ('shown', 'done', 'skipped', 'dismissed')),
    created_at BIGINT NOT NULL,
    learned_at BIGINT,
    UNIQUE (tip_id, action)
);

-- What the recommender learned: feedback counts per arm key (kind:group:bucket and its
-- coarser levels), per user and for everyone (scope '*', the global prior).
CREATE TABLE tip_arm_stats (
    scope      TEXT NOT NULL,
    arm        TEXT NOT NULL,
    shown      BIGINT NOT NULL DEFAULT 0,
    done       BIGINT NOT NULL DEFAULT 0,
    not_done   BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (scope, arm)
);
