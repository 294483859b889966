"""A small hand-made world for timelines: one man's records in six files, resolved into one person,
and a victim screened in a protected dataset who also crossed the border under her name.

Juan Pérez López: two gun purchases (2019-03-14, 2020-07-02, each naming a different record of
him), a recovery of the first gun in his hands known to the month (2021-03), a crossing known to
the year (2018) and one with no date, a tip reporting him (2022-06-11 23:39, drugs), and an
undated recruitment of Ana Ruiz Torres (protected: the person recruited). María Pérez López: a
screening in ``screenings-a`` (amber, victim services) and a crossing in 2023 (green).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pytest

from cruce.ingest.pipeline import import_file
from cruce.resolve.store import CLUSTER_SCHEMA, ResolutionStore
from cruce.schema.loader import default_schema
from cruce.security import Guard, Marking, Principal, Role, Security
from cruce.security.audit import now
from cruce.security.db import AppDB
from cruce.store import Store, open_store
from tests.conftest import SCREENING_MAPPING

JUAN = "Juan Pérez López"
VICTIM = "María Pérez López"
RECRUIT = "Ana Ruiz Torres"
TIPSTER = "Rosa Informante Díaz"

SALES = """
name: t-sales
description: test
dataset: gun-sales
source: test
entities:
  purchase:
    schema: FirearmPurchase
    key: [pid]
    properties:
      transaction_number: pid
      date: {column: date, format: "%Y-%m-%d"}
      purchaser: {entity: buyer}
      firearm: {entity: gun}
      state: {column: state, country: US}
  buyer:
    schema: Person
    key: [pid]
    properties:
      name: buyer
      birth_date: {column: dob, format: "%Y-%m-%d"}
  gun:
    schema: Firearm
    key: [serial]
    properties:
      serial_number: serial
"""
RECOVERIES = """
name: t-recoveries
description: test
dataset: gun-recoveries
source: test
entities:
  recovery:
    schema: FirearmRecovery
    key: [rid]
    properties:
      name: rid
      date: {column: month, format: "%Y-%m"}
      firearm: {entity: gun}
      possessor: {entity: holder}
  gun:
    schema: Firearm
    key: [serial]
    properties:
      serial_number: serial
  holder:
    schema: Person
    key: [rid]
    properties:
      name: holder
"""
CROSSINGS = """
name: t-crossings
description: test
dataset: crossings
source: test
entities:
  crossing:
    schema: BorderCrossing
    key: [xid]
    properties:
      name: xid
      date: {column: year, format: "%Y"}
      person: {entity: traveler}
      port: {entity: port}
  traveler:
    schema: Person
    key: [xid]
    properties:
      name: traveler
  port:
    schema: Location
    key: [port]
    properties:
      name: port
  crossed_at:
    schema: CrossedAt
    key: [xid]
    properties:
      crosser: {entity: traveler}
      port: {entity: port}
      crossing: {entity: crossing}
"""
TIPS = """
name: t-tips
description: test
dataset: tips
source: test
entities:
  tip:
    schema: Tip
    key: [tip_id]
    properties:
      name: tip_id
      received_at: {column: received_at, format: "%Y-%m-%d %H:%M"}
      flow: flow
      text: text
      tipster_name: tipster
  subject:
    schema: Person
    key: [tip_id]
    properties:
      name: subject
"""
NETWORK = """
name: t-network
description: test
dataset: network
source: test
entities:
  recruited:
    schema: Recruited
    key: [nid]
    properties:
      recruiter: {entity: recruiter}
      recruit: {entity: recruit}
      method: method
  recruiter:
    schema: Person
    key: [nid]
    properties:
      name: recruiter
  recruit:
    schema: Person
    key: [nid]
    key_prefix: recruit
    properties:
      name: recruit
"""
FILES = {
    "sales": (SALES, f"pid,date,buyer,dob,serial,state\nP1,2019-03-14,{JUAN},1980-05-01,S100,TX\n"
                     f"P2,2020-07-02,JUAN PEREZ LOPEZ,1980-05-01,S200,AZ\n"),
    "recoveries": (RECOVERIES, "rid,month,serial,holder\nR1,2021-03,S100,Juan Perez\n"),
    "crossings": (CROSSINGS, f"xid,year,traveler,port\nX1,2018,{JUAN},Nogales\nX2,2023,{VICTIM},Nogales\n"
                             "X3,,Juan Pérez,Laredo\n"),
    "tips": (TIPS, f"tip_id,received_at,flow,text,tipster,subject\nT1,2022-06-11 23:39,drugs,moves loads,{TIPSTER},"
                   f"{JUAN}\n"),
    "network": (NETWORK, f"nid,recruiter,recruit,method\nN1,{JUAN},{RECRUIT},false job offer\n"),
}  # fmt: skip

ADMIN = Principal("u-admin", "admin", Role.ADMIN, frozenset())
ANALYST = Principal("u-analyst", "analyst", Role.ANALYST, frozenset({"victim-services"}))
CASEWORKER = Principal("u-caseworker", "caseworker", Role.CASEWORKER, frozenset({"victim-services"}))
VIEWER = Principal("u-viewer", "viewer", Role.VIEWER, frozenset())


@dataclass
class People:
    """Record ids: Juan's (by file and row key), the victim's two, the recruit's."""

    juan: dict[str, str] = field(default_factory=dict)
    victim: str = ""
    victim_traveler: str = ""
    recruit: str = ""


def _import(store: Store, tmp: Path, name: str, mapping: str, rows: str) -> None:
    (tmp / f"{name}.yaml").write_text(mapping, encoding="utf-8")
    (tmp / f"{name}.csv").write_text(rows, encoding="utf-8")
    assert import_file(store, tmp / f"{name}.csv", tmp / f"{name}.yaml").rows_stored > 0


def person(store: Store, dataset: str, name: str) -> list[str]:
    """Ids of the Person records of a dataset with this name."""
    rows = AppDB(store).fetch(
        "SELECT DISTINCT CAST(entity_id AS VARCHAR) FROM statements WHERE dataset = ? AND schema = 'Person' "
        "AND prop = 'name' AND value = ? ORDER BY 1",
        (dataset, name),
    )
    return [str(r[0]) for r in rows]


def cluster(store: Store, groups: list[list[str]]) -> None:
    """Make each group one resolved person (a resolution run with these clusters)."""
    rs = ResolutionStore(store)
    run = rs.begin_run("Person", 1, 0.9, "tests", "tests")
    rows = [(m, g[0]) for g in groups for m in g]
    table = pa.table({"entity_id": [r[0] for r in rows], "canonical_id": [r[1] for r in rows]}, schema=CLUSTER_SCHEMA)
    rs.finish_run(run, "Person", table, None, records=len(rows), seconds=0.0)


def add_timeline_data(store: Store, tmp: Path, victim: str) -> People:
    """Import the files (the victim's screening record ``victim`` is already there) and resolve."""
    for name, (mapping, rows) in FILES.items():
        _import(store, tmp, f"timeline-{name}", mapping, rows)
    people = People(victim=victim)
    people.juan = {
        "P1": person(store, "gun-sales", JUAN)[0],
        "P2": person(store, "gun-sales", "JUAN PEREZ LOPEZ")[0],
        "R1": person(store, "gun-recoveries", "Juan Perez")[0],
        "X1": person(store, "crossings", JUAN)[0],
        "X3": person(store, "crossings", "Juan Pérez")[0],
        "T1": person(store, "tips", JUAN)[0],
        "N1": person(store, "network", JUAN)[0],
    }
    people.victim_traveler = person(store, "crossings", VICTIM)[0]
    people.recruit = person(store, "network", RECRUIT)[0]
    cluster(store, [list(people.juan.values()), [victim, people.victim_traveler]])
    return people


@dataclass
class TimelineWorld:
    store: Store
    guard: Guard
    people: People


@pytest.fixture(scope="module")
def tworld(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimelineWorld]:
    tmp = tmp_path_factory.mktemp("timeline")
    store = open_store(str(tmp / "store.duckdb"))
    security = Security(store)
    _import(store, tmp, "screenings", SCREENING_MAPPING.format(dataset="screenings-a"),
            f"sid,date,person_name,nationality,screener\nS1,2024-03-01,{VICTIM},GT,Ana Ruiz\n")  # fmt: skip
    security.policies.set("screenings-a", Marking.AMBER, {"victim-services"}, now=now())
    people = add_timeline_data(store, tmp, person(store, "screenings-a", VICTIM)[0])
    yield TimelineWorld(store, Guard(store, security, default_schema()), people)
    store.close()
