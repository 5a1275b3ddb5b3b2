-- A story's media are deleted with it (by the service, in the same transaction, so each
-- gets a MediaDeleted event and its files are removed). The old `ON DELETE SET NULL`
-- turned the media of a deleted story into the legacy's, readable by every member: a
-- private story's photos widened to everyone. Without an action, deleting a story that
-- still has media fails instead (an upload attached while the story was deleted), so
-- a photo's visibility can never widen by accident. Neither engine can change a foreign
-- key in place portably, so the table is rebuilt (nothing references it).
CREATE TABLE media_rebuilt (
    id             TEXT PRIMARY KEY,
    legacy_id      TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    story_id       TEXT REFERENCES stories (id),
    uploader_id    TEXT NOT NULL REFERENCES users (id),
    file_name      TEXT NOT NULL,
    declared_type  TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    upload_id      TEXT NOT NULL,
    part_size      BIGINT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('uploading', 'pending', 'processing', 'ready', 'failed', 'rejected')),
    kind           TEXT,
    detected_type  TEXT,
    scan           TEXT NOT NULL DEFAULT 'pending' CHECK (scan IN ('pending', 'clean', 'not_scanned', 'infected')),
    caption        TEXT NOT NULL DEFAULT '',
    meta           TEXT NOT NULL DEFAULT '{}',
    variants       TEXT NOT NULL DEFAULT '[]',
    failure        TEXT,
    attempts       BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1
);
INSERT INTO media_rebuilt (id, legacy_id, story_id, uploader_id, file_name, declared_type, size_bytes, sha256,
    upload_id, part_size, state, kind, detected_type, scan, caption, meta, variants, failure, attempts, created_at,
    updated_at, version)
SELECT id, legacy_id, story_id, uploader_id, file_name, declared_type, size_bytes, sha256, upload_id, part_size,
    state, kind, detected_type, scan, caption, meta, variants, failure, attempts, created_at, updated_at, version
FROM media;
DROP TABLE media;
ALTER TABLE media_rebuilt RENAME TO media;
CREATE INDEX media_legacy ON media (legacy_id, created_at);
CREATE INDEX media_story ON media (story_id, created_at);
CREATE INDEX media_uploader ON media (uploader_id);
