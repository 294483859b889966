-- cruce store, version 4: the search index (docs/adr/0004-search-index.md).
--
-- Written by each import in the transaction that makes it visible, and filled here from the
-- statements already stored (cruce.search.index.backfill runs after this script, in the same
-- transaction). Nothing here is new information: both tables can be rebuilt from `statement`.

-- Every value of a searchable property (name, text, identifier, phone, e-mail), folded. Narrow,
-- like `statement`: the property (and its type) and the import (and its dataset) by number; the
-- value as written is in `statement`.
CREATE TABLE search_value (
    entity_id UUID NOT NULL,
    import_no INTEGER NOT NULL,
    prop_id INTEGER NOT NULL,
    folded TEXT NOT NULL,
    protected BOOLEAN NOT NULL
);

-- Every entity-reference statement turned around: `target` is the entity pointed at by
-- `entity_id` through the property `prop_id`.
CREATE TABLE entity_ref (
    target UUID NOT NULL,
    entity_id UUID NOT NULL,
    import_no INTEGER NOT NULL,
    prop_id INTEGER NOT NULL,
    protected BOOLEAN NOT NULL
);

CREATE INDEX search_value_entity_idx ON search_value (entity_id);
CREATE INDEX entity_ref_target_idx ON entity_ref (target);
