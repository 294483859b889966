-- cruce store, version 16: nothing to do on DuckDB.
--
-- PostgreSQL's version 16 indexes statements by import and source row for the entity page's
-- timeline. DuckDB finds an import's rows by the zone maps of ``statement`` (its rows are stored
-- import by import), and an index over every statement would cost each import more than it saves.

SELECT 1;
