"""How well communities recover the groups planted in a ``cruce synth`` scenario.

Planted groups come from the truth files: **straw rings** (``truth/rings.csv``: the trafficker and
his purchasers) and **trafficking networks** (``truth/cases.csv``: the victims and perpetrators of a
case, cases that share a person joined into one network). Each true person is followed to the
store records the import made of them (``truth/persons.csv`` and the mappings' keys), then to
their canonical entity (resolution) and its node; a person whose records landed on several nodes
is placed at the node holding most of them.

Two figures per kind of group, over the planted people found in the graph:

- **pairwise co-membership**: a pair of planted people is *true* when they are in one group, and
  *predicted* when they are in one community; precision = correct ÷ predicted pairs, recall =
  correct ÷ true pairs (as ``cruce.resolve.evaluate.pairwise``);
- **best match**: for each group, the community holding most of its members; ``recall`` is the
  share of the group's members there, ``person_precision`` the share of that community's people
  who belong to the group (ordinary buyers at the same gun shop count against it). Means over the
  groups.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from cruce.graph.graph import LinkGraph
from cruce.ingest.compile import entity_id
from cruce.resolve.evaluate import pairwise, synth_truth

CASES_DATASET = "htcds-cases"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _ids(cell: str) -> list[str]:
    return [x for x in (cell or "").split(";") if x]


def planted_groups(scenario: Path) -> dict[str, dict[str, set[str]]]:
    """``{"rings": …, "networks": …, "cases": …}``: each a map of group → true people (two or more).

    ``cases`` are single cases (a person in several is scored in the first); ``networks`` join the
    cases that share a person (a recruiter with victims in several cases)."""
    truth = scenario / "truth"
    rings = {r["ring_id"]: {r["trafficker_id"], *_ids(r["purchaser_ids"])} for r in _rows(truth / "rings.csv")}
    cases = {
        r["case_id"]: set(_ids(r["victim_ids"])) | set(_ids(r["perpetrator_ids"])) | set(_ids(r["recruiter_ids"]))
        for r in _rows(truth / "cases.csv")
    }
    return {
        "rings": {k: v for k, v in rings.items() if len(v) >= 2},
        "networks": _join_overlapping(cases),
        "cases": {k: v for k, v in cases.items() if len(v) >= 2},
    }


def _join_overlapping(groups: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Groups that share a member become one (named after the first)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for name, members in groups.items():
        for m in members:
            a, b = find(name), find("p:" + m)
            if a != b:
                parent[b] = a
    joined: dict[str, set[str]] = defaultdict(set)
    for name, members in groups.items():
        joined[find(name)] |= members
    firsts = {find(name): name for name in reversed(list(groups))}
    return {firsts[root]: members for root, members in joined.items() if len(members) >= 2}


def person_records(scenario: Path) -> dict[str, list[str]]:
    """True person → the store record ids of the firearms flow and the case file."""
    found: dict[str, list[str]] = defaultdict(list)
    for record, person in synth_truth(scenario).items():
        found[person].append(record)
    for row in _rows(scenario / "truth" / "persons.csv"):
        if row["file"] != "trafficking-cases.csv":
            continue
        case, part = row["record_key"].split("/", 1)
        prefix = "htcds-victim" if row["role"] == "victim" else "htcds-perpetrator"
        found[row["person_id"]].append(entity_id(CASES_DATASET, prefix, case, part))
    return dict(found)


def person_nodes(g: LinkGraph, records: Mapping[str, list[str]], canonical: Mapping[str, str]) -> dict[str, int]:
    """True person → the node holding most of their records (people absent from the graph left out)."""
    out = {}
    for person, recs in records.items():
        nodes = Counter(i for r in recs if (i := g.index(canonical.get(r, r))) is not None)
        if nodes:
            out[person] = min(nodes, key=lambda i: (-nodes[i], i))
    return out


def recovery(
    g: LinkGraph, membership: np.ndarray, groups: Mapping[str, set[str]], nodes: Mapping[str, int]
) -> dict[str, Any]:
    """The figures of the module docstring for one kind of group."""
    truth: dict[str, str] = {}
    for name, members in groups.items():
        for person in members:
            if person in nodes:
                truth.setdefault(person, name)
    predicted = {p: str(int(membership[nodes[p]])) for p in truth}
    score = pairwise(predicted, truth)
    person_code = g.schemas.index("Person") if "Person" in g.schemas else -1
    people_per_community = np.bincount(membership[(g.schema == person_code) & (membership >= 0)])
    recalls, precisions = [], []
    for name, members in groups.items():
        found = [nodes[p] for p in members if p in nodes and truth.get(p) == name]
        if len(found) < 2:
            continue
        communities = Counter(int(membership[i]) for i in found)
        best, hits = min(communities.items(), key=lambda kv: (-kv[1], kv[0]))
        recalls.append(hits / len(members))
        total = int(people_per_community[best]) if best < len(people_per_community) else 0
        precisions.append(len({i for i in found if membership[i] == best}) / max(total, 1))
    return {
        "groups": len(groups),
        "groups_scored": len(recalls),
        "people": len(truth),
        "people_planted": sum(len(m) for m in groups.values()),
        "pairwise": score.as_dict(),
        "best_match_recall": round(float(np.mean(recalls)), 4) if recalls else None,
        "best_match_person_precision": round(float(np.mean(precisions)), 4) if precisions else None,
    }
