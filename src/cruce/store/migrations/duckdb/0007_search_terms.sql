-- cruce store, version 7: the term index of search (docs/adr/0007-search-terms.md).
--
-- Not written by imports: cruce.search.terms adds the terms of every finished import that
-- search_indexed does not list yet, in one transaction per catch-up, before a search answers
-- (or at `cruce search reindex`). Nothing here is new information: the tables are rebuilt from
-- `statement` and `entity_ref` by a reindex.

-- The vocabulary: every word (folded: lower case, no accents) of a searchable value, numbered.
-- df: how many postings of the term are not protected (the rarity that ranks a match).
CREATE TABLE search_term (
    term_id INTEGER PRIMARY KEY,
    term VARCHAR NOT NULL,
    df INTEGER NOT NULL
);

-- Which entity has the term in which property, from which import (and with it, which dataset).
-- Each catch-up writes its rows sorted by term.
CREATE TABLE search_posting (
    term_id INTEGER NOT NULL,
    entity_id UUID NOT NULL,
    import_no INTEGER NOT NULL,
    prop_id INTEGER NOT NULL,
    protected BOOLEAN NOT NULL
);

-- What the facets count: an entity's flow, place (country or state code) and year, from the
-- import that says so (an event of a later import gives the people it names its flow and year).
CREATE TABLE search_facet (
    entity_id UUID NOT NULL,
    import_no INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    value VARCHAR NOT NULL
);

-- The imports whose terms and facets are in the tables above (the watermark of the term index):
-- how many entities have terms from each, and when (microseconds) the catch-up that added them
-- ran; a reindex, which may number terms anew, writes a new first run.
CREATE TABLE search_indexed (
    import_no INTEGER PRIMARY KEY,
    entities INTEGER NOT NULL,
    run BIGINT NOT NULL
);
