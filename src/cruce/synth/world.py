"""What the flows of a scenario share: the cast, the border plazas, the fictional organizations.

A scenario is written flow by flow (firearms, then drugs and violence, then people). Each flow
writes its own source files and truth files, and hands on a ``Cast``: the people and
organizations that later flows bring back, so that one trafficker can appear as a straw-ring
boss in the traces, as a cartel member in the organization registry, as a driver at a port and
in a tip. Cross-flow links exist only in the truth; the source files never share keys.

Every organization here is fictional: the names are made up and resemble no real group on
purpose, so that synthetic events are never read as claims about a real one.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cruce.synth.names import Person

TRUTH_DIR = "truth"
PERSONS_TRUTH = "persons.csv"
IDENTITIES_TRUTH = "identities.csv"


@dataclass(frozen=True)
class SourceFile:
    """A source file a flow wrote, with the built-in mapping that imports it."""

    path: str
    mapping: str
    rows: int


@dataclass(frozen=True)
class FlowOutput:
    """What one flow wrote: its source files, its truth files (rows written or appended) and counts."""

    sources: tuple[SourceFile, ...]
    truth: dict[str, int]
    counts: dict[str, int]


@dataclass(frozen=True)
class Trafficker:
    """A straw-ring boss of the firearms flow, brought back by the other flows."""

    person: Person
    ring_id: str
    dealer_states: tuple[str, ...]  # USPS codes of the ring's dealers
    recovery_states: tuple[str, ...]  # Mexican state names where the ring's guns were recovered


@dataclass(frozen=True)
class Plaza:
    """A crossing area: a Mexican border municipality and the US ports of entry facing it."""

    plaza_id: str
    municipality: str
    mx_state: str  # ISO 3166-2, MX-BCN
    ports: tuple[tuple[str, str, str], ...]  # (BTS port name, port code, USPS state)


@dataclass(frozen=True)
class Organization:
    """A fictional criminal organization: its name, the other names it goes by, its home state."""

    org_id: str
    name: str
    aliases: tuple[str, ...]
    home_state: str  # ISO 3166-2


@dataclass
class Cast:
    """People and organizations one flow hands on to the next (filled as the flows run)."""

    traffickers: list[Trafficker] = field(default_factory=list)
    organizations: tuple[Organization, ...] = ()
    memberships: dict[str, str] = field(default_factory=dict)
    """person_id → org_id, for the traffickers the drugs flow placed in an organization."""
    plaza_control: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    """plaza_id → [(first ordinal day, last ordinal day, org_id)], set by the drugs flow."""


# BTS "Border Crossing Entry Data" port names and codes (the file in ../shared/data/border_crossing).
PLAZAS: tuple[Plaza, ...] = (
    Plaza("PZ01", "Tijuana", "MX-BCN", (("San Ysidro", "2504", "CA"), ("Otay Mesa", "2506", "CA"))),
    Plaza("PZ02", "Tecate", "MX-BCN", (("Tecate", "2505", "CA"),)),
    Plaza("PZ03", "Mexicali", "MX-BCN", (("Calexico", "2503", "CA"), ("Calexico East", "2507", "CA"))),
    Plaza("PZ04", "San Luis Río Colorado", "MX-SON", (("San Luis", "2608", "AZ"),)),
    Plaza("PZ05", "Nogales", "MX-SON", (("Nogales", "2604", "AZ"),)),
    Plaza("PZ06", "Agua Prieta", "MX-SON", (("Douglas", "2601", "AZ"),)),
    Plaza("PZ07", "Ascensión", "MX-CHH", (("Columbus", "2406", "NM"),)),
    Plaza("PZ08", "Juárez", "MX-CHH", (("El Paso", "2402", "TX"), ("Santa Teresa", "2408", "NM"))),
    Plaza("PZ09", "Ojinaga", "MX-CHH", (("Presidio", "2403", "TX"),)),
    Plaza("PZ10", "Acuña", "MX-COA", (("Del Rio", "2302", "TX"),)),
    Plaza("PZ11", "Piedras Negras", "MX-COA", (("Eagle Pass", "2303", "TX"),)),
    Plaza("PZ12", "Nuevo Laredo", "MX-TAM", (("Laredo", "2304", "TX"),)),
    Plaza("PZ13", "Miguel Alemán", "MX-TAM", (("Roma", "2310", "TX"),)),
    Plaza("PZ14", "Reynosa", "MX-TAM", (("Hidalgo", "2305", "TX"), ("Progreso", "2309", "TX"))),
    Plaza("PZ15", "Matamoros", "MX-TAM", (("Brownsville", "2301", "TX"),)),
)

ORGANIZATIONS: tuple[Organization, ...] = (
    Organization("O01", "Cártel del Desierto", ("CDD", "Desert Cartel", "Los del Desierto"), "MX-SON"),
    Organization("O02", "Cártel de la Frontera Norte", ("CFN", "Northern Border Cartel", "Los Fronterizos"), "MX-CHH"),
    Organization("O03", "La Hermandad del Bravo", ("Los Hermanos", "The Brotherhood", "HDB"), "MX-TAM"),
    Organization("O04", "Los Centinelas", ("The Sentinels", "Cártel de los Centinelas"), "MX-TAM"),
    Organization("O05", "Cártel de las Dunas", ("Dunes Cartel", "Gente de las Dunas"), "MX-BCN"),
    Organization("O06", "Nueva Alianza Serrana", ("NAS", "La Serrana", "New Highland Alliance"), "MX-DUR"),
    Organization("O07", "Los Coyotes del Valle", ("Valley Coyotes", "Los del Valle"), "MX-COA"),
    Organization("O08", "Grupo Halcón", ("Los Halcones", "The Falcons"), "MX-NLE"),
)


def truth_path(out_dir: Path, name: str) -> Path:
    return out_dir / TRUTH_DIR / name


def append_truth(out_dir: Path, name: str, rows: Iterable[Sequence[object]]) -> int:
    """Append rows to a truth file written by an earlier flow (same columns); returns how many."""
    path = truth_path(out_dir, name)
    if not path.exists():
        raise FileNotFoundError(f"{path}: the firearms flow writes it first")
    n = 0
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        for row in rows:
            writer.writerow(row)
            n += 1
    return n


def append_truth_file(out_dir: Path, name: str, rows_file: Path) -> int:
    """Append a headerless CSV file of rows (same columns) to a truth file; returns how many rows.

    For flows that stream many rows to a temporary file first: the text is copied as it is.
    """
    path = truth_path(out_dir, name)
    if not path.exists():
        raise FileNotFoundError(f"{path}: the firearms flow writes it first")
    n = 0
    with rows_file.open("rb") as src, path.open("ab") as dst:
        while chunk := src.read(1 << 20):
            n += chunk.count(b"\n")
            dst.write(chunk)
    return n
