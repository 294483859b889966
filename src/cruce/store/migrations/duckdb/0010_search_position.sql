-- cruce store, version 10: each posting also keeps where its term stands among the value's words
-- (besides particles), so that a name whose words come in the query's order ranks first: "Leticia
-- Ybarra" finds "Leticia Ybarra Ortega" before "Leticia Soto Ybarra" (docs/adr/0009-search-in-memory.md).
-- The index is emptied: the next search (or `cruce search reindex`) builds it again.
DELETE FROM search_indexed;
DELETE FROM search_facet;
DELETE FROM search_term;
DROP TABLE search_posting;
CREATE TABLE search_posting (
    term_id INTEGER NOT NULL,
    entity_id UUID NOT NULL,
    import_no INTEGER NOT NULL,
    prop_id INTEGER NOT NULL,
    protected BOOLEAN NOT NULL,
    terms SMALLINT NOT NULL,
    position SMALLINT NOT NULL
);
