"""The organization registry mappings: organizations, members and leaders, alliances, rivalries
and plaza control, each pointing at the same organization entity across the three files."""

from __future__ import annotations

from pathlib import Path

from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from cruce.store.base import Entity, Store

ORGS = """org_id,name,aliases,org_type,home_state,country,founded,dissolved,description,source
O03,La Hermandad del Bravo,Los Hermanos;The Brotherhood;HDB,cartel,Tamaulipas,MX,,,,prensa local
O04,Los Centinelas,The Sentinels,cartel,Tamaulipas,MX,2019-06-01,,Escisión de La Hermandad del Bravo,court filing
"""
MEMBERS = """record_id,org_id,org_name,given_names,last_name,second_last_name,alias,birth_date,sex,nationality,role,member_since,member_until,leads_since,leads_until,confidence,source
M00001,O03,La Hermandad del Bravo,José Luis,Garza,Cantú,El Güero,1971-03-02,M,MX,líder,2008-01-10,2019-02-01,2012-05-01,2019-02-01,0.9,expediente judicial
M00002,O03,La Hermandad del Bravo,Ramón,Saldaña,,,02/11/1980,M,MX,lugarteniente,2010-04-01,2019-06-01,,,0.7,prensa local
M00003,O04,Los Centinelas,RAMON,SALDANA,TAMEZ,El Tigre,,,MX,líder,2019-06-01,,2019-06-01,,0.8,informe de inteligencia
"""  # noqa: E501
RELATIONS = """relation_id,relation,org_id,org_name,ally_id,rival_id,parent_id,plaza_id,other_name,plaza_state,start,end,disputed,confidence,source
OR0001,rival_of,O03,La Hermandad del Bravo,,O04,,,Los Centinelas,,2019-06-01,,,0.9,prensa local
OR0002,allied_with,O04,Los Centinelas,O08,,,,Grupo Halcón,,2019-09-15,,,0.6,informe de inteligencia
OR0003,controls,O03,La Hermandad del Bravo,,,,PZ14,Reynosa,Tamaulipas,2011-02-03,2020-04-30,no,0.8,prensa local
OR0004,controls,O04,Los Centinelas,,,,PZ14,Reynosa,Tamaulipas,2019-07-01,2020-04-30,yes,0.7,prensa local
OR0005,split_from,O04,Los Centinelas,,,O03,,La Hermandad del Bravo,,2019-06-01,,,0.8,court filing
"""  # noqa: E501


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _entities(store: Store) -> dict[str, Entity]:
    return {e.id: e for e in store.iter_entities(dataset="cruce-organizations")}


def _import_all(store: Store, folder: Path) -> None:
    for name, text, mapping in (
        ("organizations.csv", ORGS, "cruce-organizations"),
        ("org-members.csv", MEMBERS, "cruce-org-members"),
        ("org-relations.csv", RELATIONS, "cruce-org-relations"),
    ):
        result = import_file(store, _write(folder, name, text), mapping)
        assert result.dataset == "cruce-organizations"
        assert result.rows_read == result.rows_stored
        assert result.rows_rejected == 0


def test_organizations_with_aliases_and_home_state(tmp_path: Path) -> None:
    with open_store(":memory:") as store:
        _import_all(store, tmp_path)
        entities = _entities(store)
    orgs = {e.first("name"): e for e in entities.values() if e.schema == "Organization"}
    brotherhood = orgs["La Hermandad del Bravo"]
    assert sorted(brotherhood.properties["alias"]) == ["HDB", "Los Hermanos", "The Brotherhood"]
    assert brotherhood.first("org_type") == "cartel"
    assert brotherhood.first("country") == "MX"
    home = entities[brotherhood.first("headquarters") or ""]
    assert (home.schema, home.first("state"), home.first("location_type")) == ("Location", "MX-TAM", "state")
    assert orgs["Los Centinelas"].first("founded_date") == "2019-06-01"
    # the two organizations share one home-state Location
    assert orgs["Los Centinelas"].first("headquarters") == brotherhood.first("headquarters")


def test_members_and_leaders_point_at_the_registry_organizations(tmp_path: Path) -> None:
    with open_store(":memory:") as store:
        _import_all(store, tmp_path)
        entities = _entities(store)
    orgs = {e.first("name"): e.id for e in entities.values() if e.schema == "Organization"}
    members = [e for e in entities.values() if e.schema == "MemberOf"]
    leads = [e for e in entities.values() if e.schema == "Leads"]
    assert len(members) == 3
    assert len(leads) == 2  # only the rows with leads_since
    people = {e.id: e for e in entities.values() if e.schema == "Person"}
    assert len(people) == 3  # one person record per row: the same man in two rows is two records
    by_role = {(m.first("role"), m.first("organization")): m for m in members}
    boss = by_role["líder", orgs["La Hermandad del Bravo"]]
    assert people[boss.first("member") or ""].first("first_name") == "José Luis"
    assert people[boss.first("member") or ""].first("alias") == "El Güero"
    lieutenant = by_role["lugarteniente", orgs["La Hermandad del Bravo"]]
    assert (lieutenant.first("start_date"), lieutenant.first("end_date")) == ("2010-04-01", "2019-06-01")
    assert people[lieutenant.first("member") or ""].first("birth_date") == "1980-11-02"
    new_boss = next(lead for lead in leads if lead.first("organization") == orgs["Los Centinelas"])
    assert (new_boss.first("start_date"), new_boss.first("end_date")) == ("2019-06-01", None)
    assert new_boss.first("confidence") == "0.8"


def test_relation_type_follows_the_filled_column(tmp_path: Path) -> None:
    with open_store(":memory:") as store:
        _import_all(store, tmp_path)
        entities = _entities(store)
        counts = store.counts_by_schema(dataset="cruce-organizations")
    assert (counts["RivalOf"], counts["AlliedWith"], counts["Controls"], counts["SplitFrom"]) == (1, 1, 2, 1)
    orgs = {e.first("name"): e.id for e in entities.values() if e.schema == "Organization"}
    rivalry = next(e for e in entities.values() if e.schema == "RivalOf")
    assert {rivalry.first("organization"), rivalry.first("rival")} == {
        orgs["La Hermandad del Bravo"],
        orgs["Los Centinelas"],
    }
    ally = entities[next(e for e in entities.values() if e.schema == "AlliedWith").first("ally") or ""]
    assert ally.first("name") == "Grupo Halcón"  # an organization known only from the relations file
    controls = {e.first("disputed"): e for e in entities.values() if e.schema == "Controls"}
    plaza = entities[controls["no"].first("plaza") or ""]
    assert controls["yes"].first("plaza") == plaza.id
    assert (plaza.first("name"), plaza.first("location_type"), plaza.first("state")) == ("Reynosa", "plaza", "MX-TAM")
    assert controls["no"].first("start_date") == "2011-02-03"
    assert controls["yes"].first("organization") == orgs["Los Centinelas"]
    split = next(e for e in entities.values() if e.schema == "SplitFrom")
    assert (split.first("organization"), split.first("parent")) == (
        orgs["Los Centinelas"],
        orgs["La Hermandad del Bravo"],
    )
    assert split.first("start_date") == "2019-06-01"


def test_a_bad_date_rejects_the_row_with_its_reason(tmp_path: Path) -> None:
    bad = RELATIONS.replace("2019-09-15", "15 Sept 2019")
    with open_store(":memory:") as store:
        result = import_file(store, _write(tmp_path, "rel.csv", bad), "cruce-org-relations")
        assert (result.rows_stored, result.rows_rejected) == (4, 1)
        (reject,) = list(store.rejects())
    assert "start" in reject.field
