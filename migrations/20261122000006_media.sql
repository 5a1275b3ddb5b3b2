-- Media: one row per uploaded file, from the moment an upload is asked for until it is
-- deleted. Sizes are counted against quotas from that first moment (a reservation), so
-- a limit is refused before any byte is stored.
CREATE TABLE media (
    id             TEXT PRIMARY KEY,
    legacy_id      TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    story_id       TEXT REFERENCES stories (id) ON DELETE SET NULL,
    uploader_id    TEXT NOT NULL REFERENCES users (id),
    file_name      TEXT NOT NULL,
    declared_type  TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    -- The storage's handle of an unfinished multipart upload (S3's upload id).
    upload_id      TEXT NOT NULL,
    part_size      BIGINT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('uploading', 'pending', 'processing', 'ready', 'failed', 'rejected')),
    -- image, audio, video: known after content sniffing.
    kind           TEXT,
    detected_type  TEXT,
    scan           TEXT NOT NULL DEFAULT 'pending' CHECK (scan IN ('pending', 'clean', 'not_scanned', 'infected')),
    caption        TEXT NOT NULL DEFAULT '',
    -- JSON: dimensions, taken_at, camera, duration, has_gps, transcoded...
    meta           TEXT NOT NULL DEFAULT '{}',
    -- JSON list of the derived files: name, content type, width, height, bytes.
    variants       TEXT NOT NULL DEFAULT '[]',
    failure        TEXT,
    attempts       BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX media_legacy ON media (legacy_id, created_at);
CREATE INDEX media_story ON media (story_id, created_at);
CREATE INDEX media_uploader ON media (uploader_id);
