-- cruce store, version 18: nothing to do on DuckDB.
--
-- PostgreSQL's version 18 keys ``statement`` by (entity_id, id), one index where it had two.
-- DuckDB keeps no index on ``statement`` (see version 16).

SELECT 1;
