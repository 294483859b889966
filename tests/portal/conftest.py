"""A small store for the portal's tests: a synth scenario of the three flows imported through the
real pipeline, and a few law, enforcement and program records from CSV files written here."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.store import open_store

SCALE = 1000
LAW_MAPPING = """
name: test-laws
dataset: test-laws
entities:
  law:
    schema: Law
    key: [law_id]
    properties:
      name: name
      jurisdiction: jurisdiction
      level: level
      law_kind: {column: law_kind, split: ";"}
      in_force_date: in_force_date
      repealed_date: repealed_date
      country: country
      source_title: source_title
"""
LAWS = [
    ("L1", "Texas Penal Code 20A.02", "US-TX", "state", "sex_trafficking;labor_trafficking", "2003-09-01", "", "US"),
    ("L2", "Arizona Revised Statutes 13-1307", "US-AZ", "state", "sex_trafficking", "2005-08-12", "", "US"),
    ("L3", "Ley de trata del Estado de Chihuahua", "MX-CHH", "state", "sex_trafficking", "2012-06-15", "", "MX"),
    ("L4", "New Mexico Statutes 30-52-1", "US-NM", "state", "sex_trafficking", "2008-07-01", "2015-03-01", "US"),
    ("L5", "Trafficking Victims Protection Act", "", "federal", "sex_trafficking;victim_protection", "2000-10-28", "",
     "US"),
    ("L6", "Ley General para Prevenir, Sancionar y Erradicar los Delitos en Materia de Trata de Personas", "",
     "federal", "sex_trafficking;labor_trafficking", "2012-06-15", "", "MX"),
    # known only by its year: in force from the end of 2026 (cruce.legal's rule), so not on the tests' day
    ("L7", "Ley de trata del Estado de Sonora", "MX-SON", "state", "sex_trafficking", "2026", "", "MX"),
]  # fmt: skip
LAW_SOURCE = "Test gazette of laws"
OUTCOME_MAPPING = """
name: test-outcomes
dataset: test-outcomes
entities:
  outcome:
    schema: EnforcementOutcome
    key: [outcome_id]
    properties:
      jurisdiction: jurisdiction
      level: level
      year: year
      flow: flow
      measure: measure
      value: value
      country: country
      source_title: source_title
"""
OUTCOMES = [
    ("E1", "", "federal", "2020", "people", "investigations", "24", "MX", "Test report on trafficking, 2021"),
    ("E2", "", "federal", "2020", "people", "convictions", "0", "MX", "Test report on trafficking, 2021"),
]
PROGRAM_MAPPING = """
name: test-programs
dataset: test-programs
entities:
  program:
    schema: Program
    key: [program_id]
    properties:
      name: name
      level: level
      country: country
      flow: flow
      amount: amount
      currency: currency
      start_date: start_date
      end_date: end_date
      purpose: purpose
      source_title: source_title
"""
PROGRAMS = [
    ("P1", "Test services grant", "federal", "US", "people", "73500000", "usd", "2019-10-01", "2022-09-30",
     "Services for victims", "Test grant announcement"),
]  # fmt: skip


def _write_csv(path: Path, header: list[str], rows: Sequence[tuple[str, ...]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def load_legal_records(store: object, folder: Path) -> None:
    """The laws, enforcement outcomes and programs above, through the import pipeline."""
    (folder / "laws.yaml").write_text(LAW_MAPPING, encoding="utf-8")
    (folder / "outcomes.yaml").write_text(OUTCOME_MAPPING, encoding="utf-8")
    header = ["law_id", "name", "jurisdiction", "level", "law_kind", "in_force_date", "repealed_date", "country"]
    laws = _write_csv(folder / "laws.csv", [*header, "source_title"], [(*r, LAW_SOURCE) for r in LAWS])
    outcomes = _write_csv(
        folder / "outcomes.csv",
        ["outcome_id", "jurisdiction", "level", "year", "flow", "measure", "value", "country", "source_title"],
        OUTCOMES,
    )
    (folder / "programs.yaml").write_text(PROGRAM_MAPPING, encoding="utf-8")
    programs = _write_csv(
        folder / "programs.csv",
        ["program_id", "name", "level", "country", "flow", "amount", "currency", "start_date", "end_date", "purpose",
         "source_title"],
        PROGRAMS,
    )  # fmt: skip
    assert import_file(store, laws, folder / "laws.yaml").rows_rejected == 0  # type: ignore[arg-type]
    assert import_file(store, programs, folder / "programs.yaml").rows_rejected == 0  # type: ignore[arg-type]
    assert import_file(store, outcomes, folder / "outcomes.yaml").rows_rejected == 0  # type: ignore[arg-type]


def protected_values(scenario: Path) -> set[str]:
    """Names and contacts of the scenario's people screened and tipsters (protected), and of the
    purchasers and possessors of its guns: none of them may appear on the portal."""
    wanted = {
        "screenings.csv": ("person_name",),
        "tips.csv": ("tipster_name", "tipster_phone", "tipster_email"),
        "traces.csv": ("possessor_name", "purchaser_name"),
    }
    found: set[str] = set()
    for name, columns in wanted.items():
        with (scenario / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                found.update(row[c].strip() for c in columns if len(row.get(c, "").strip()) >= 6)
    return found


@pytest.fixture(scope="session")
def portal_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The database (path) and the scenario folder."""
    from cruce.synth.scenario import MANIFEST, generate

    folder = tmp_path_factory.mktemp("portal")
    generate(folder / "scenario", scale=SCALE, seed=1)
    manifest = json.loads((folder / "scenario" / MANIFEST).read_text(encoding="utf-8"))
    db = str(folder / "store.duckdb")
    with open_store(db) as store:
        for entry in manifest["files"]:
            import_file(store, folder / "scenario" / entry["path"], entry["mapping"])
        load_legal_records(store, folder)
    return db, folder / "scenario"
