-- cruce store, version 17: nothing to do on DuckDB.
--
-- PostgreSQL's version 17 drops its index on import_no alone, which its index on (import_no,
-- source_row) made redundant. DuckDB keeps no index on ``statement`` (see version 16).

SELECT 1;
