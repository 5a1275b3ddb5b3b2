-- Every change to a legacy's relationships bumps its graph version, in the same
-- transaction; the relationship finder keeps each legacy's graph in memory and reloads it
-- (by legacy, hence the index) when the version it holds is not the stored one.
ALTER TABLE legacies ADD COLUMN graph_version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX relationships_legacy ON relationships (legacy_id);
