-- cruce store, version 16: statements found by their import and source row.
--
-- The entity page's timeline looks for the tips and documents written from the same source rows
-- as the entity's records (``cruce.timeline.collect``): one query per import, by import number and
-- row. With the import number alone indexed, PostgreSQL read every statement of the import to
-- keep a few (164,283 rows and 44 ms for each entity page at 20,000 records, and in proportion
-- beyond): the longest query of the page under load.

CREATE INDEX statement_import_row_idx ON statement (import_no, source_row);
