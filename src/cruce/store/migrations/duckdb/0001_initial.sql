-- cruce store, version 1: statements with provenance, imports and rejects.
CREATE TABLE import_run (
    id VARCHAR PRIMARY KEY,
    dataset VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    file_size BIGINT NOT NULL,
    mapping VARCHAR NOT NULL,
    mapping_sha256 VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    rows_read BIGINT NOT NULL DEFAULT 0,
    rows_stored BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0,
    statements_added BIGINT NOT NULL DEFAULT 0,
    seconds DOUBLE NOT NULL DEFAULT 0
);

-- A statement's id is not stored here: it is md5(dataset, entity_id, prop, value), computed on read.
CREATE TABLE statement (
    entity_id UUID NOT NULL,
    schema VARCHAR NOT NULL,
    prop VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    original VARCHAR,
    dataset VARCHAR NOT NULL,
    import_id VARCHAR NOT NULL,
    source_row BIGINT,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL
);

CREATE TABLE reject (
    import_id VARCHAR NOT NULL,
    dataset VARCHAR NOT NULL,
    source_row BIGINT,
    field VARCHAR,
    reason VARCHAR NOT NULL,
    value VARCHAR
);
