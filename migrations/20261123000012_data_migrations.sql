-- Data migrations (`backend::db::data`): rewrites of existing rows in Rust, for what
-- portable SQL cannot say (Unicode normalization). Each runs once, recorded here.
CREATE TABLE data_migrations (
    name       TEXT PRIMARY KEY,
    applied_at BIGINT NOT NULL
);
