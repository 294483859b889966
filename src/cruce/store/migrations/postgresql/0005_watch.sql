-- cruce store, version 5: watchlists (docs/guide/resolution.md#watchlists).
--
-- A user watches an entity (a record id: the watch follows the record's canonical entity) or a
-- name. When incremental linking brings a record into the watched entity, or a person whose
-- name is like the watched one, an alert is written for that user, if they may see the record.
-- Removing a watch marks it inactive: its alerts stay.

CREATE TABLE watch (
    id VARCHAR PRIMARY KEY,
    username VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    threshold DOUBLE PRECISION NOT NULL,
    created_at TIMESTAMP NOT NULL,
    active BOOLEAN NOT NULL
);

CREATE INDEX watch_user_idx ON watch (username);

CREATE TABLE watch_alert (
    id VARCHAR PRIMARY KEY,
    watch_id VARCHAR NOT NULL,
    username VARCHAR NOT NULL,
    entity_id UUID NOT NULL,
    probability DOUBLE PRECISION NOT NULL,
    import_id VARCHAR,
    created_at TIMESTAMP NOT NULL,
    seen_at TIMESTAMP
);

CREATE INDEX watch_alert_user_idx ON watch_alert (username);
