-- cruce store, version 1: statements with provenance, imports and rejects.
--
-- A statement row is kept narrow (integers for its property and its imports) because an import
-- writes many of them; the view `statements` gives every statement with its full provenance.
CREATE SEQUENCE import_no_seq START 1;
CREATE SEQUENCE property_id_seq START 1;

CREATE TABLE import_run (
    no INTEGER PRIMARY KEY,
    id VARCHAR NOT NULL UNIQUE,
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

-- An import under way: its statements are committed batch by batch but stay invisible (the
-- view joins import_run) until the import's own row is written; an interrupted import's
-- statements are removed the next time the store is opened.
CREATE TABLE import_pending (
    no INTEGER PRIMARY KEY,
    id VARCHAR NOT NULL,
    dataset VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL
);

CREATE TABLE property (
    prop_id INTEGER PRIMARY KEY,
    schema VARCHAR NOT NULL,
    prop VARCHAR NOT NULL,
    UNIQUE (schema, prop)
);

-- The statement id is not stored in DuckDB: it is md5(dataset, entity_id, prop, value), computed
-- by the view (see docs/adr/0002-statement-ids-in-duckdb.md).
CREATE TABLE statement (
    entity_id UUID NOT NULL,
    prop_id INTEGER NOT NULL,
    value VARCHAR NOT NULL,
    original VARCHAR,
    source_row BIGINT,
    import_no INTEGER NOT NULL,
    last_import_no INTEGER NOT NULL
);

CREATE TABLE reject (
    import_no INTEGER NOT NULL,
    source_row BIGINT,
    field VARCHAR,
    reason VARCHAR NOT NULL,
    value VARCHAR
);

CREATE VIEW statements AS
SELECT
    CAST(md5(concat_ws(chr(31), i.dataset, CAST(s.entity_id AS VARCHAR), p.prop, s.value)) AS UUID) AS id,
    s.entity_id, p.schema, p.prop, s.value, s.original, i.dataset, i.id AS import_id, i.source_file,
    s.source_row, i.started_at AS first_seen, l.started_at AS last_seen
FROM statement s
JOIN property p ON p.prop_id = s.prop_id
JOIN import_run i ON i.no = s.import_no
JOIN import_run l ON l.no = s.last_import_no;
