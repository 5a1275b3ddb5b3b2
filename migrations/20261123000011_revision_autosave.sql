-- A revision saved by the editor's autosave is its author's working copy: their next
-- autosaves rewrite it in place, and their next ordinary save completes it (sets this
-- back to FALSE), instead of one revision per pause in typing.
ALTER TABLE story_revisions ADD COLUMN autosave BOOLEAN NOT NULL DEFAULT FALSE;
