"""What the graph is made of, decided from the schema: which types are nodes, which become edges.

**Events are nodes.** A purchase, a trace, a seizure, a crossing, a case or a tip is a node of its
own, joined to each entity that took part in it by an edge named for the part (``purchaser``,
``firearm``, ``dealer``, ``possessor``, ``victim``, ``port``…). We chose this over edges between
the participants because:

- a path then *names the record* that links two entities: ``buyer —purchaser— FirearmPurchase
  P00001 —firearm— gun —firearm— Trace T2021-000123 —possessor— boss`` reads as the story it is,
  and every step has one record behind it;
- an event with *k* participants costs *k* edges, not the *k(k−1)/2* of a clique, so a dealer with
  ten thousand sales does not join every buyer to every other within one hop;
- the event's date and place stay on one node, instead of being copied on every pair.

The price is that two people who took part in one event are two hops apart, not one.

**Relations are edges.** A relation type with an ``edge:`` block in the schema (``MemberOf``,
``AlliedWith``, ``Exploited``…) becomes one edge between its two ends, named in snake case
(``member_of``); parallel records of the same relation between the same two canonical entities
collapse into one edge with a count. Other entity references (a person's employer, a case's
agency) are edges named for the property.

Aggregates (``CrossingCount``, ``BackgroundCheckCount``) are counts, not events anyone took part
in: they are left out, as are the ``Location`` references of tips and documents' co-mentions,
which are joined by ``mentions`` edges instead (the entities written from the same source row as
a tip or a document).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from cruce.schema.loader import default_schema
from cruce.schema.model import PropertyType, Schema

FLOWS = ("firearms", "drugs", "people")
FLOW_BITS = {flow: 1 << i for i, flow in enumerate(FLOWS)}
AGGREGATES = frozenset({"CrossingCount", "BackgroundCheckCount"})
ANCHORS = frozenset({"Tip", "Document"})
"""Types whose source row's other entities are joined to them by a ``mentions`` edge."""
MENTIONS = "mentions"
NOT_TIME = frozenset({"birth_date", "founded_date", "dissolved_date"})
"""Date properties that are not the time of the thing (a birthday is not when a gun was bought)."""

# The flow of an event or relation by its type; Tip and Case use their own ``flow`` property.
FLOW_OF_TYPE: dict[str, str] = {
    **dict.fromkeys(("FirearmPurchase", "FirearmRecovery", "Trace", "Firearm"), "firearms"),
    **dict.fromkeys(("Purchased", "Sold", "Possessed", "RecoveredIn"), "firearms"),
    **dict.fromkeys(("DrugSeizure", "ViolenceEvent", "SeizedFrom"), "drugs"),
    **dict.fromkeys(("Controls", "AlliedWith", "RivalOf", "SplitFrom", "MemberOf", "Leads"), "drugs"),
    **dict.fromkeys(("TraffickingCase", "Screening", "Exploited", "Recruited"), "people"),
}
"""Crossings, places, phones and vehicles belong to no flow: they are what the flows share."""


def snake(name: str) -> str:
    """``MemberOf`` → ``member_of``: the edge type of a relation."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class GraphModel:
    """The schema read for the graph: node types, relation ends, date properties."""

    node_types: tuple[str, ...]
    event_types: frozenset[str]
    relations: dict[str, tuple[str, str, bool]]  # type -> (source prop, target prop, directed)
    date_props: dict[str, tuple[str, ...]]  # type -> its date properties that tell its time

    @property
    def undirected(self) -> frozenset[str]:
        return frozenset(snake(t) for t, (_s, _t, directed) in self.relations.items() if not directed)


def _is_event(schema: Schema, name: str) -> bool:
    return schema.types[name].kind == "event"


@cache
def graph_model(schema: Schema | None = None) -> GraphModel:
    schema = schema or default_schema()
    relations = {
        t.name: (t.edge.source, t.edge.target, t.edge.directed)
        for t in schema.concrete()
        if t.kind == "relation" and t.edge is not None
    }
    nodes = tuple(sorted(t.name for t in schema.concrete() if t.kind != "relation" and t.name not in AGGREGATES))
    dates = {
        t.name: tuple(
            sorted(
                n for n, p in t.properties.items() if p.type in (PropertyType.DATE, PropertyType.DATETIME)
                and n not in NOT_TIME
            )
        )
        for t in schema.concrete()
    }  # fmt: skip
    events = frozenset(n for n in nodes if _is_event(schema, n) or n in ANCHORS or n == "Case")
    return GraphModel(nodes, events, relations, {k: v for k, v in dates.items() if v})
