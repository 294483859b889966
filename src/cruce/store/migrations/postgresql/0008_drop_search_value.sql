-- cruce store, version 8: search reads its term index (version 7, docs/adr/0007-search-terms.md),
-- so the folded copy of every searchable value that imports wrote since version 4 is read by
-- nothing; imports no longer write it (docs/adr/0004-search-index.md) and it goes.
DROP TABLE IF EXISTS search_value;
