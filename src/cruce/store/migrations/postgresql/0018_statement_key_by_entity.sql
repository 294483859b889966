-- cruce store, version 18: a statement's key leads with its entity.
--
-- A statement's id hashes its dataset, entity, property and value, so two statements with one id
-- have one entity, and (entity_id, id) is as unique as id alone. Keyed that way, one index both
-- keeps the statements unique and finds an entity's statements, which the index on entity_id
-- alone did: one index fewer for every import to write. And an import, which inserts its
-- statements sorted by that key, adds each entry next to the one before, where the index on
-- entity_id took them in the random order of the ids (profiled during a 10M-record import: the
-- server's time went to finding index pages for the entries, 60 % of it).

CREATE UNIQUE INDEX statement_entity_key ON statement (entity_id, id);
ALTER TABLE statement DROP CONSTRAINT statement_pkey;
ALTER TABLE statement ADD CONSTRAINT statement_pkey PRIMARY KEY USING INDEX statement_entity_key;
DROP INDEX IF EXISTS statement_entity_idx;
