-- cruce store, version 17: statements indexed by import once, not twice.
--
-- Version 16's index on (import_no, source_row) finds an import's statements as the index on
-- import_no alone did (it is its first column), so that one only cost every import: each
-- statement written is an entry in every index of ``statement``, and inserting those entries is
-- most of what a large import does on PostgreSQL (profiled during a 10M-record import: B-tree
-- inserts took about 60 % of the server's time). One index fewer to write, and about 1.5 GB less
-- to store at 10M records.

DROP INDEX IF EXISTS statement_import_idx;
