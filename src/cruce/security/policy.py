"""Need-to-know in one place: which datasets a principal may see, and which values are redacted.

Datasets carry a handling marking (TLP-style) and need-to-know groups:

* ``clear`` and ``green``: every signed-in user;
* ``amber``: users who share a group with the dataset;
* ``red``: analysts and caseworkers who share a group with the dataset.

Admins see everything. A dataset without a policy row is ``green``. Protected properties (the
identities of victims and tipsters, flagged ``protected`` in the schema) are a second, finer
rule: they are shown only to admins and to caseworkers who share a group with one of the
entity's datasets (their own caseload); everyone else gets ``REDACTED``. A person referenced
through a protected property (the victim of a case, the person screened) is a protected
person: their identifying properties are redacted too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cruce.i18n import _
from cruce.schema.model import Schema
from cruce.security.accounts import AccountError, Principal, Role
from cruce.security.db import AppDB

REDACTED = "[redacted]"
NON_IDENTIFYING = frozenset({"nationality", "country", "sex", "gender", "age_band", "citizenship", "language"})
"""Properties of a protected person that stay visible (aggregate statistics need them)."""


class Marking(StrEnum):
    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


DEFAULT_MARKING = Marking.GREEN


@dataclass(frozen=True)
class DatasetPolicy:
    dataset: str
    marking: Marking
    groups: frozenset[str]


def may_see(principal: Principal, policy: DatasetPolicy) -> bool:
    """Whether the principal may see a dataset's records at all."""
    if principal.role is Role.ADMIN or policy.marking in (Marking.CLEAR, Marking.GREEN):
        return True
    shared = bool(principal.groups & policy.groups)
    if policy.marking is Marking.AMBER:
        return shared
    return shared and principal.role in (Role.ANALYST, Role.CASEWORKER)


def may_see_protected(principal: Principal, policies: Iterable[DatasetPolicy]) -> bool:
    """Whether the principal may see protected values of a record held in these datasets."""
    if principal.role is Role.ADMIN:
        return True
    if principal.role is not Role.CASEWORKER:
        return False
    return any(principal.groups & p.groups for p in policies)


def protected_properties(schema: Schema) -> set[tuple[str, str]]:
    """(type, property) pairs flagged protected, inherited ones included."""
    return {(t.name, name) for t in schema.types.values() for name, prop in t.properties.items() if prop.protected}


def protected_references(schema: Schema) -> set[tuple[str, str]]:
    """Protected properties that point at an entity (a case's victim): that entity is protected too."""
    return {
        (t.name, name)
        for t in schema.types.values()
        for name, prop in t.properties.items()
        if prop.protected and prop.type.value == "entity"
    }


class Policies:
    """Dataset markings and groups, kept in the application tables."""

    def __init__(self, db: AppDB) -> None:
        self.db = db

    def get(self, dataset: str) -> DatasetPolicy:
        row = self.db.one("SELECT marking, groups FROM dataset_policy WHERE dataset = ?", (dataset,))
        if not row:
            return DatasetPolicy(dataset, DEFAULT_MARKING, frozenset())
        return DatasetPolicy(dataset, Marking(str(row[0])), frozenset(g for g in str(row[1]).split(",") if g))

    def all(self, datasets: Iterable[str]) -> dict[str, DatasetPolicy]:
        """The policy of each dataset (the default one where none was set), in one query."""
        rows = self.db.fetch("SELECT dataset, marking, groups FROM dataset_policy")
        found = {
            str(r[0]): DatasetPolicy(str(r[0]), Marking(str(r[1])), frozenset(g for g in str(r[2]).split(",") if g))
            for r in rows
        }
        return {d: found.get(d) or DatasetPolicy(d, DEFAULT_MARKING, frozenset()) for d in datasets}

    def of_imported(self) -> dict[str, DatasetPolicy]:
        """The policy of every dataset imported into (the default where none was set), by name, in one query."""
        rows = self.db.fetch(
            "SELECT DISTINCT i.dataset, p.marking, p.groups FROM import_run i "
            "LEFT JOIN dataset_policy p ON p.dataset = i.dataset ORDER BY i.dataset"
        )
        return {
            str(r[0]): (
                DatasetPolicy(str(r[0]), Marking(str(r[1])), frozenset(g for g in str(r[2]).split(",") if g))
                if r[1] is not None
                else DatasetPolicy(str(r[0]), DEFAULT_MARKING, frozenset())
            )
            for r in rows
        }

    def set(self, dataset: str, marking: Marking | str, groups: Iterable[str], *, now: datetime) -> DatasetPolicy:
        try:
            marking = Marking(marking)
        except ValueError:
            raise AccountError(
                _("Unknown marking {marking}; choose clear, green, amber or red.").format(marking=marking)
            ) from None
        text = ",".join(sorted({g.strip() for g in groups if g.strip()}))
        with self.db.transaction():
            self.db.execute("DELETE FROM dataset_policy WHERE dataset = ?", (dataset,))
            self.db.execute(
                "INSERT INTO dataset_policy (dataset, marking, groups, updated_at) VALUES (?, ?, ?, ?)",
                (dataset, marking.value, text, now),
            )
        return self.get(dataset)
