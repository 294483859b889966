"""Accuracy of a resolution against ground truth: pairwise precision, recall and F1.

Two records are a true pair when the truth gives them one person, a predicted pair when they
are in one cluster. ``synth_truth`` reads a ``cruce synth`` scenario's ``truth/persons.csv`` and
works out which store record each truth row became (the id an import gives it, from the
mapping's key), for the files whose people the import keeps one per row.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cruce.ingest.compile import entity_id
from cruce.ingest.mapping import load_mapping


@dataclass(frozen=True)
class PairwiseScore:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    records: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "true_pairs": self.true_pairs,
            "predicted_pairs": self.predicted_pairs,
            "correct_pairs": self.correct_pairs,
            "records": self.records,
        }


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise(predicted: Mapping[str, str], truth: Mapping[str, str]) -> PairwiseScore:
    """Score clusters (record -> cluster) against truth (record -> true entity), on the records
    the truth names (a record missing from ``predicted`` counts as a cluster of its own)."""
    records = list(truth)
    by_cluster = Counter(predicted.get(r, f"\0{r}") for r in records)
    by_truth = Counter(truth[r] for r in records)
    by_both = Counter((predicted.get(r, f"\0{r}"), truth[r]) for r in records)
    predicted_pairs = sum(_pairs(n) for n in by_cluster.values())
    true_pairs = sum(_pairs(n) for n in by_truth.values())
    correct = sum(_pairs(n) for n in by_both.values())
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScore(precision, recall, f1, true_pairs, predicted_pairs, correct, len(records))


def pairwise_from_links(predicted: Iterable[tuple[str, str]], true: Iterable[tuple[str, str]]) -> PairwiseScore:
    """Score a set of predicted pairs against a set of true pairs (order within a pair ignored)."""
    p = {tuple(sorted(x)) for x in predicted}
    t = {tuple(sorted(x)) for x in true}
    correct = len(p & t)
    precision = correct / len(p) if p else 1.0
    recall = correct / len(t) if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScore(precision, recall, f1, len(t), len(p), correct, 0)


def cluster_pairs(clusters: Mapping[str, str]) -> set[tuple[str, str]]:
    """Every pair of records in one cluster."""
    groups: dict[str, list[str]] = {}
    for record, canonical in clusters.items():
        groups.setdefault(canonical, []).append(record)
    out = set()
    for members in groups.values():
        members.sort()
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                out.add((a, b))
    return out


# Which entity of a file's mapping holds the person of each truth role.
SYNTH_ROLES: dict[tuple[str, str], str] = {
    ("gunshop-sales.csv", "buyer"): "buyer",
    ("traces.csv", "purchaser"): "purchaser",
    ("traces.csv", "possessor"): "possessor",
}


def synth_truth(scenario: Path) -> dict[str, str]:
    """Store record id -> true person id, for the people of a scenario's firearms flow."""
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    mappings = {entry["path"]: entry["mapping"] for entry in manifest["files"]}
    wanted: dict[str, dict[str, dict[str, str]]] = {}
    with (scenario / "truth" / "persons.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if (row["file"], row["role"]) in SYNTH_ROLES:
                wanted.setdefault(row["file"], {}).setdefault(row["record_key"], {})[row["role"]] = row["person_id"]
    truth: dict[str, str] = {}
    for file, keyed in wanted.items():
        mapping = load_mapping(mappings[file])
        entities = {role: mapping.entities[SYNTH_ROLES[(file, role)]] for (f, role) in SYNTH_ROLES if f == file}
        with (scenario / file).open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            key_column = (reader.fieldnames or [""])[0]
            for row in reader:
                roles = keyed.get(row[key_column])
                if not roles:
                    continue
                for role, person in roles.items():
                    entity = entities[role]
                    keys = [(row.get(k) or "").strip() or None for k in entity.key]
                    record = entity_id(mapping.dataset or "", entity.key_prefix or SYNTH_ROLES[(file, role)], *keys)
                    truth.setdefault(record, person)
    return truth
