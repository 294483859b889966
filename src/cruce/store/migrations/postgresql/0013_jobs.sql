-- cruce store, version 13: background jobs (docs/guide/web.md#background-jobs).
--
-- One row per job that a server runs in the background: an import of an uploaded file, or a
-- resolution run. Any server process may claim a queued job (on PostgreSQL with FOR UPDATE SKIP
-- LOCKED, so that two never take the same one), reports its progress here while it runs, and
-- stamps heartbeat_at every few seconds; a job whose heartbeat stopped (its process died) is
-- queued again, up to max_attempts, then failed with the reason. params and result are JSON
-- texts; they hold file names, mappings, dataset names and counts, never a name from the data.

CREATE TABLE job (
    id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    params VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    progress_done BIGINT NOT NULL DEFAULT 0,
    progress_total BIGINT NOT NULL DEFAULT 0,
    message VARCHAR,
    result VARCHAR,
    error VARCHAR,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    heartbeat_at TIMESTAMP,
    finished_at TIMESTAMP,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    worker VARCHAR,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX job_state_idx ON job (state, created_at);
CREATE INDEX job_owner_idx ON job (owner, created_at);
