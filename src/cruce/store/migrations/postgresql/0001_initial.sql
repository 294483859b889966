-- cruce store, version 1: statements with provenance, imports and rejects.
CREATE TABLE import_run (
    id TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    source_file TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    file_size BIGINT NOT NULL,
    mapping TEXT NOT NULL,
    mapping_sha256 TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    rows_read BIGINT NOT NULL DEFAULT 0,
    rows_stored BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0,
    statements_added BIGINT NOT NULL DEFAULT 0,
    seconds DOUBLE PRECISION NOT NULL DEFAULT 0
);

CREATE TABLE statement (
    id UUID PRIMARY KEY,
    entity_id UUID NOT NULL,
    schema TEXT NOT NULL,
    prop TEXT NOT NULL,
    value TEXT NOT NULL,
    original TEXT,
    dataset TEXT NOT NULL,
    import_id TEXT NOT NULL,
    source_row BIGINT,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL
);

CREATE TABLE reject (
    import_id TEXT NOT NULL,
    dataset TEXT NOT NULL,
    source_row BIGINT,
    field TEXT,
    reason TEXT NOT NULL,
    value TEXT
);

CREATE INDEX statement_entity_idx ON statement (entity_id);
CREATE INDEX statement_dataset_schema_idx ON statement (dataset, schema);
CREATE INDEX reject_import_idx ON reject (import_id);
CREATE INDEX import_run_file_idx ON import_run (dataset, file_sha256, mapping_sha256);
