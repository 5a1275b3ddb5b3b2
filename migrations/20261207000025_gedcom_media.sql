-- The photos and recordings a GEDZIP archive brought into a legacy, by their path in the
-- archive: importing the archive again finds them instead of adding them twice.
CREATE TABLE gedcom_media (
    legacy_id TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    path      TEXT NOT NULL,
    media_id  TEXT NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    PRIMARY KEY (legacy_id, path)
);
CREATE INDEX gedcom_media_media ON gedcom_media (media_id);
