"""PPRL fixtures: the worker's environment (or a skip with the reason), and two agencies' files.

The scenario: people with Spanish names, each held by a shelter (names in parts, accents, dates
day/month/year), by a police unit (one name field, upper case without accents, surnames first
or given names first, a nickname for the given name, sometimes no second surname, ISO dates),
or by both. The truth is which records of the two are the same person.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from cruce.pprl.worker import PprlError, worker_command

GIVEN = ["José", "María", "Juan", "Guadalupe", "Francisco", "Ana", "Luis", "Rosa", "Jesús", "Verónica",
         "Alejandro", "Sofía", "Miguel", "Lucía", "Ramón", "Patricia", "Andrés", "Mónica", "Raúl", "Elena"]  # fmt: skip
SURNAMES = ["Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez", "Ramírez",
            "Cruz", "Gómez", "Flores", "Morales", "Vázquez", "Jiménez", "Reyes", "Díaz", "Torres", "Gutiérrez",
            "Ruiz", "de la Cruz", "Muñoz", "Ortiz", "Núñez"]  # fmt: skip
NICKNAMES = {"José": "Pepe", "Francisco": "Paco", "Guadalupe": "Lupe", "Jesús": "Chucho"}
SHELTER_MAPPING = """
name: refugio
dataset: refugio
entities:
  persona:
    schema: Person
    key: [folio]
    properties:
      first_name: nombre
      last_name: paterno
      second_last_name: materno
      birth_date: {column: nacimiento, format: "%d/%m/%Y"}
      gender: sexo
"""
POLICE_MAPPING = """
name: policia
dataset: policia
entities:
  persona:
    schema: Person
    key: [expediente]
    properties:
      name: nombre_completo
      birth_date: {column: fecha_nac, format: "%Y-%m-%d"}
"""


def pprl_env_or_skip() -> None:
    """Skip when tools/pprl/.venv is not there (fail in CI, where CRUCE_REQUIRE_PPRL=1)."""
    try:
        worker_command()
    except PprlError as exc:
        if os.environ.get("CRUCE_REQUIRE_PPRL") == "1":
            pytest.fail(f"CRUCE_REQUIRE_PPRL=1 but {exc}")
        pytest.skip(str(exc))


@pytest.fixture
def pprl_env() -> None:
    pprl_env_or_skip()


@dataclass(frozen=True)
class Person:
    given: str
    surname: str
    second: str
    born: date
    sex: str


@dataclass(frozen=True)
class Agencies:
    shelter_csv: Path
    shelter_mapping: Path
    police_csv: Path
    police_mapping: Path
    people: list[Person]
    shelter: dict[str, int]  # folio -> person
    police: dict[str, int]  # expediente -> person

    def true_pairs(self) -> set[tuple[str, str]]:
        """(folio, expediente) of every pair that is one person."""
        return {(f, e) for f, p in self.shelter.items() for e, q in self.police.items() if p == q}


def _plain(text: str) -> str:
    return text.translate(str.maketrans("áéíóúñÁÉÍÓÚÑ", "aeiounAEIOUN"))


def _police_name(person: Person, rng: random.Random) -> str:
    given = NICKNAMES.get(person.given, person.given) if rng.random() < 0.3 else person.given
    second = person.second if rng.random() < 0.8 else ""
    if rng.random() < 0.5:
        return _plain(f"{person.surname} {second}, {given}".replace(" ,", ",")).upper()
    return _plain(" ".join(p for p in (given, person.surname, second) if p)).upper()


def make_agencies(folder: Path, people: int = 240, seed: int = 7) -> Agencies:
    """Two agencies' files: a third of the people at the shelter only, a third at the police only,
    a third at both."""
    rng = random.Random(seed)
    crowd = [
        Person(
            rng.choice(GIVEN),
            rng.choice(SURNAMES),
            rng.choice(SURNAMES),
            date(1960, 1, 1) + timedelta(days=rng.randrange(15_000)),
            rng.choice("MF"),
        )
        for _ in range(people)
    ]
    shelter_rows, police_rows = [], []
    shelter: dict[str, int] = {}
    police: dict[str, int] = {}
    for i, person in enumerate(crowd):
        where = i % 3  # 0: shelter, 1: police, 2: both
        if where in (0, 2):
            folio = f"R{i:04d}"
            shelter[folio] = i
            born = person.born.strftime("%d/%m/%Y")
            shelter_rows.append(f"{folio};{person.given};{person.surname};{person.second};{born};{person.sex}")
        if where in (1, 2):
            case = f"E{i:04d}"
            police[case] = i
            police_rows.append(f"{case};{_police_name(person, rng)};{person.born.isoformat()}")
    rng.shuffle(shelter_rows)
    rng.shuffle(police_rows)
    paths = {name: folder / name for name in ("refugio.csv", "refugio.yaml", "policia.csv", "policia.yaml")}
    paths["refugio.csv"].write_text("folio;nombre;paterno;materno;nacimiento;sexo\n" + "\n".join(shelter_rows) + "\n")
    paths["policia.csv"].write_text("expediente;nombre_completo;fecha_nac\n" + "\n".join(police_rows) + "\n")
    paths["refugio.yaml"].write_text(SHELTER_MAPPING)
    paths["policia.yaml"].write_text(POLICE_MAPPING)
    return Agencies(
        paths["refugio.csv"], paths["refugio.yaml"], paths["policia.csv"], paths["policia.yaml"], crowd, shelter, police
    )


@pytest.fixture
def agencies(tmp_path: Path) -> Agencies:
    return make_agencies(tmp_path)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "shared.key"
    path.write_bytes(b"a secret both agencies share, 32+ bytes\n")
    return path
