-- People and the family graph: each person belongs to one legacy (whose roles decide who
-- reads and edits them); relationships join two people of the same legacy; every saved
-- version of a person is kept as a revision. A legacy's subject is one of its people (`is_subject`).

CREATE TABLE persons (
    id              TEXT PRIMARY KEY,
    legacy_id       TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    given_names     TEXT NOT NULL DEFAULT '',
    surname         TEXT NOT NULL DEFAULT '',
    birth_surname   TEXT NOT NULL DEFAULT '',
    -- Also-known-as names, one a line.
    nicknames       TEXT NOT NULL DEFAULT '',
    sex             TEXT NOT NULL DEFAULT 'unknown' CHECK (sex IN ('female', 'male', 'unknown')),
    -- Genealogical dates as typed ("about 1921"); the sort keys order timelines.
    birth_date      TEXT NOT NULL DEFAULT '',
    birth_sort      BIGINT,
    birth_place     TEXT NOT NULL DEFAULT '',
    death_date      TEXT NOT NULL DEFAULT '',
    death_sort      BIGINT,
    death_place     TEXT NOT NULL DEFAULT '',
    living          BOOLEAN NOT NULL DEFAULT FALSE,
    -- The person the legacy remembers (one a legacy).
    is_subject      BOOLEAN NOT NULL DEFAULT FALSE,
    bio             TEXT NOT NULL DEFAULT '',
    portrait_id     TEXT REFERENCES media (id) ON DELETE SET NULL,
    -- The record's identifier in the GEDCOM file it was imported from: a re-import
    -- updates the person instead of adding a second one.
    gedcom_xref     TEXT,
    version         BIGINT NOT NULL,
    created_by      TEXT NOT NULL REFERENCES users (id),
    created_at      BIGINT NOT NULL,
    updated_by      TEXT NOT NULL REFERENCES users (id),
    updated_at      BIGINT NOT NULL
);
CREATE INDEX persons_legacy ON persons (legacy_id, surname, given_names);
CREATE UNIQUE INDEX persons_gedcom ON persons (legacy_id, gedcom_xref);
CREATE UNIQUE INDEX persons_subject ON persons (legacy_id) WHERE is_subject;

-- Every saved version of a person, as the JSON of its fields.
CREATE TABLE person_revisions (
    person_id  TEXT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    snapshot   TEXT NOT NULL,
    author_id  TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (person_id, version)
);

-- `parent`: person_a is a parent of person_b (kind birth, adoptive, step or foster).
-- `partner`: person_a and person_b are partners (married, partnered, divorced), a < b.
-- Siblings, grandparents and cousins are derived, never stored.
CREATE TABLE relationships (
    id          TEXT PRIMARY KEY,
    legacy_id   TEXT NOT NULL REFERENCES legacies (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('parent', 'partner')),
    subkind     TEXT NOT NULL CHECK (subkind IN ('birth', 'adoptive', 'step', 'foster', 'married', 'partnered', 'divorced')),
    person_a    TEXT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    person_b    TEXT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    start_date  TEXT NOT NULL DEFAULT '',
    end_date    TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    CHECK (person_a <> person_b),
    UNIQUE (kind, person_a, person_b)
);
CREATE INDEX relationships_a ON relationships (person_a);
CREATE INDEX relationships_b ON relationships (person_b);

-- Every existing legacy gets its subject: a person named as the legacy, with its dates as
-- typed (the id is the legacy's, unique among people as among legacies).
INSERT INTO persons (id, legacy_id, given_names, birth_date, death_date, bio, is_subject, version, created_by,
                     created_at, updated_by, updated_at)
SELECT id, id, name, born, died, summary, TRUE, 1, created_by, created_at, created_by, updated_at FROM legacies;
