-- GEDCOM imports run in the background: the request reads the file and refuses it with
-- line-numbered errors, or stores it here and queues the import (`GedcomImportQueued`);
-- an event consumer writes its people in one transaction and leaves the report. The file
-- is kept (base64, so one TEXT column serves both engines) until the import ends.
CREATE TABLE gedcom_imports (
    id          TEXT PRIMARY KEY,
    legacy_id   TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    created_by  TEXT NOT NULL REFERENCES users (id),
    file_name   TEXT NOT NULL,
    file_base64 TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    -- Records (people and families) of the file, and how many were written when the
    -- import last recorded its progress.
    total       BIGINT NOT NULL,
    processed   BIGINT NOT NULL DEFAULT 0,
    -- The import report as JSON once done; the reason once failed.
    report      TEXT,
    error       TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX gedcom_imports_legacy ON gedcom_imports (legacy_id, created_at);
