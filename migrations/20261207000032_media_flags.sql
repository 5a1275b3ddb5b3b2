-- Reports of a photo or recording name the item (and its story, when it has one, for
-- the moderation page's link); removing the item takes its reports with it.
ALTER TABLE moderation_flags ADD COLUMN media_id TEXT REFERENCES media (id) ON DELETE CASCADE;
