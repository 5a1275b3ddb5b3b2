-- What ties people to the rest of the archive.
--
-- "This is me": a member may say which person of a legacy they are, at most one a legacy.
-- Pages then tell them how others are related to them, and a living person who is the
-- reader is never hidden from themselves.
ALTER TABLE persons ADD COLUMN user_id TEXT REFERENCES users (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX persons_user ON persons (legacy_id, user_id);

-- The people a story's text links to (`[Rose](/people/<id>)`, an `@` mention in the
-- editor), kept in step with the text at every save: the person page's backlinks.
CREATE TABLE story_mentions (
    story_id  TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    PRIMARY KEY (story_id, person_id)
);
CREATE INDEX story_mentions_person ON story_mentions (person_id);

-- People tagged in a photo, recording or video (the whole item; no face regions).
CREATE TABLE media_people (
    media_id   TEXT NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    person_id  TEXT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    tagged_by  TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (media_id, person_id)
);
CREATE INDEX media_people_person ON media_people (person_id);
