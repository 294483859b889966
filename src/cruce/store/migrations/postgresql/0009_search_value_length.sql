-- cruce store, version 9: each posting keeps the length of the value its term came from (its words
-- besides particles), so that a name matching all of its words ranks above a longer one matching as
-- many of the query's (docs/adr/0009-search-in-memory.md). The index is emptied: the next search
-- (or `cruce search reindex`) builds it again from every finished import, lengths included.
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
    terms SMALLINT NOT NULL
);
CREATE INDEX search_posting_term_idx ON search_posting (term_id);
