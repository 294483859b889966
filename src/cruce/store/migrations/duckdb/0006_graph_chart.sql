-- cruce store, version 6: saved network charts (docs/guide/graph.md#the-network-explorer).
--
-- A chart is what an analyst arranged on the network explorer page: the entity ids on it, their
-- positions, which are pinned or hidden, and the filters. It holds ids only, never names: opening
-- it reads every entity again through the guard, as its owner may see them that day. A chart
-- belongs to the user who saved it; cases (issue #11) will attach charts to a case.

CREATE TABLE graph_chart (
    id VARCHAR PRIMARY KEY,
    username VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    chart VARCHAR NOT NULL,
    nodes INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX graph_chart_user_idx ON graph_chart (username);
