-- cruce store, version 15: watch digests (docs/guide/resolution.md#watch-digests).
--
-- A digest gathers a user's watch alerts raised since their previous digest of the same period
-- (daily or weekly). One row per digest made: who it was for, its period, the moment it covers up
-- to (the next digest starts there) and how many alerts it listed. Ids and counts only, no names.

CREATE TABLE watch_digest (
    id VARCHAR PRIMARY KEY,
    username VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    made_at TIMESTAMP NOT NULL,
    alerts INTEGER NOT NULL
);

CREATE INDEX watch_digest_user_idx ON watch_digest (username, period);
