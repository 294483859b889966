-- cruce store, version 1: statements with provenance, imports and rejects.
--
-- A statement row is kept narrow (integers for its property and its imports) because an import
-- writes many of them; the view `statements` gives every statement with its full provenance.
CREATE SEQUENCE import_no_seq START 1;
CREATE SEQUENCE property_id_seq START 1;

CREATE TABLE import_run (
    no INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
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

CREATE TABLE property (
    prop_id INTEGER PRIMARY KEY,
    schema TEXT NOT NULL,
    prop TEXT NOT NULL,
    UNIQUE (schema, prop)
);

-- The statement id, md5(dataset, entity_id, prop, value), is the primary key here, so that
-- ON CONFLICT merges an import into what is already stored.
CREATE TABLE statement (
    id UUID PRIMARY KEY,
    entity_id UUID NOT NULL,
    prop_id INTEGER NOT NULL,
    value TEXT NOT NULL,
    original TEXT,
    source_row BIGINT,
    import_no INTEGER NOT NULL,
    last_import_no INTEGER NOT NULL
);

CREATE TABLE reject (
    import_no INTEGER NOT NULL,
    source_row BIGINT,
    field TEXT,
    reason TEXT NOT NULL,
    value TEXT
);

CREATE INDEX statement_entity_idx ON statement (entity_id);
CREATE INDEX statement_import_idx ON statement (import_no);
CREATE INDEX reject_import_idx ON reject (import_no);
CREATE INDEX import_run_file_idx ON import_run (dataset, file_sha256, mapping_sha256);

CREATE VIEW statements AS
SELECT
    s.id, s.entity_id, p.schema, p.prop, s.value, s.original, i.dataset, i.id AS import_id, i.source_file,
    s.source_row, i.started_at AS first_seen, l.started_at AS last_seen
FROM statement s
JOIN property p ON p.prop_id = s.prop_id
JOIN import_run i ON i.no = s.import_no
JOIN import_run l ON l.no = s.last_import_no;
