-- cruce store, version 3: entity resolution (docs/guide/resolution.md).
--
-- Resolution never rewrites statements: it records which record (entity id) belongs to which
-- canonical entity, run by run. Models are versioned per entity type; pairs above a floor keep
-- their probability, blocking rule and the match weight of each compared field, so any match
-- can be explained; judgements (an analyst's same / not same / unsure) override the model in
-- both directions and survive re-runs; undoing one marks it undone and re-clusters.

CREATE TABLE resolution_model (
    entity_type TEXT NOT NULL,
    version INTEGER NOT NULL,
    settings TEXT NOT NULL,
    threshold DOUBLE PRECISION NOT NULL,
    records BIGINT NOT NULL,
    trained_at TIMESTAMP NOT NULL,
    PRIMARY KEY (entity_type, version)
);

CREATE TABLE resolution_run (
    id TEXT PRIMARY KEY,
    entity_type TEXT NOT NULL,
    model_version INTEGER NOT NULL,
    threshold DOUBLE PRECISION NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    records BIGINT NOT NULL DEFAULT 0,
    pairs BIGINT NOT NULL DEFAULT 0,
    clusters BIGINT NOT NULL DEFAULT 0,
    seconds DOUBLE PRECISION NOT NULL DEFAULT 0
);

-- Only the newest finished run of each type keeps its clusters and pairs; older runs stay as
-- history in resolution_run. (No keys on these two: they are written in bulk, once per run.)
CREATE TABLE entity_cluster (
    run_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id UUID NOT NULL,
    canonical_id UUID NOT NULL
);

CREATE TABLE match_pair (
    run_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    id_l UUID NOT NULL,
    id_r UUID NOT NULL,
    probability DOUBLE PRECISION NOT NULL,
    match_weight DOUBLE PRECISION NOT NULL,
    blocking_rule TEXT NOT NULL,
    weights TEXT NOT NULL
);

-- An analyst's decision about two records (id_l < id_r). Decisions made together (a split of
-- a record from its cluster) share a group id, and are undone together.
CREATE TABLE judgement (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    kind TEXT NOT NULL,
    id_l UUID NOT NULL,
    id_r UUID NOT NULL,
    decision TEXT NOT NULL,
    actor TEXT NOT NULL,
    made_at TIMESTAMP NOT NULL,
    note TEXT,
    undone_at TIMESTAMP,
    undone_by TEXT
);

CREATE INDEX judgement_pair_idx ON judgement (id_l, id_r);
CREATE INDEX entity_cluster_entity_idx ON entity_cluster (entity_id);
CREATE INDEX entity_cluster_canonical_idx ON entity_cluster (canonical_id);
CREATE INDEX match_pair_l_idx ON match_pair (id_l);
CREATE INDEX match_pair_r_idx ON match_pair (id_r);
