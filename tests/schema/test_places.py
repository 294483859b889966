"""Country and state normalisation: the facts in the data files, real spellings, and agreement
between the Python lookups and the importer's DuckDB joins on the same key tables."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pycountry
import pytest

from cruce.schema import places
from cruce.schema.places import (
    country_keys,
    country_name,
    lookup_country,
    lookup_state,
    normalize_key,
    normalize_sql,
    state_keys,
    state_name,
    states,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
# NICS also reports US territories that are not in us_states.csv; they stay unresolved.
NICS_UNRESOLVED = {"Guam", "Mariana Islands", "Virgin Islands"}


def shared(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"shared test data not found: {path}")
    return path


def diegovalle_states(name: str) -> list[str]:
    # Latin-1 files; the "TOTAL" row of executions-bystate.csv is not a state.
    text = shared(f"mexico_drugwar_diegovalle/{name}").read_bytes().decode("latin-1")
    return [row["State"] for row in csv.DictReader(io.StringIO(text)) if row["State"] != "TOTAL"]


def real_state_names() -> list[str]:
    """State names from the shared data files that exist (none if the folder is absent)."""
    names: list[str] = []
    for path in SHARED.glob("geo_*/*.json"):
        names += [f["properties"]["name"] for f in json.loads(path.read_text(encoding="utf-8"))["features"]]
    for path in SHARED.glob("mexico_drugwar_diegovalle/*state.csv"):
        names += diegovalle_states(path.name)
    nics = SHARED / "nics_background_checks" / "nics-firearm-background-checks.csv"
    if nics.exists():
        with nics.open(encoding="utf-8") as fh:
            names += sorted({row["state"] for row in csv.DictReader(fh)})
    return names


@pytest.fixture(scope="module")
def db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table country_keys (key varchar, code varchar)")
    con.executemany("insert into country_keys values (?, ?)", country_keys())
    con.execute("create table state_keys (country varchar, key varchar, code varchar)")
    con.executemany("insert into state_keys values (?, ?, ?)", state_keys())
    return con


def sql_keys(con: duckdb.DuckDBPyConnection, texts: list[str]) -> dict[str, str]:
    rows = con.execute(f"select x, {normalize_sql('x')} from unnest(?) t(x)", [texts]).fetchall()
    return dict(rows)


# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Nuevo León", "nuevo leon"),
        ("  NUEVO  LEÓN ", "nuevo leon"),
        ("E.U.A.", "e u a"),
        ("Peña Nieto", "pena nieto"),
        ("Côte d’Ivoire", "cote d ivoire"),
        ("Hawaiʻi", "hawai i"),
        ("Straße", "stra e"),  # ß has no decomposition: DuckDB drops it too
        ("Ørsted", "rsted"),
        ("", ""),
        ("--", ""),
    ],
)
def test_normalize_key(db: duckdb.DuckDBPyConnection, text: str, key: str) -> None:
    assert normalize_key(text) == key
    assert sql_keys(db, [text])[text] == key


def test_python_key_equals_duckdb_for_every_source_text_and_key(db: duckdb.DuckDBPyConnection) -> None:
    texts = {text for text, _, _ in places._country_candidates()}
    for state in states():
        texts.update(places._state_texts(state) + places._state_codes(state))
    texts.update(key for key, _ in country_keys())
    texts.update(key for _, key, _ in state_keys())
    texts.update(n for c in pycountry.countries for n in (c.name, getattr(c, "official_name", "")) if n)
    sql = sql_keys(db, sorted(texts))
    assert {t: normalize_key(t) for t in texts} == sql
    for key, _ in country_keys():
        assert sql[key] == key
    for _, key, _ in state_keys():
        assert sql[key] == key


def test_python_key_equals_duckdb_on_latin_characters(db: duckdb.DuckDBPyConnection) -> None:
    chars = [chr(c) for c in (*range(0x20, 0x250), *range(0x300, 0x370), *range(0x1E00, 0x1F00))]
    texts = [f"A{ch}b" for ch in chars] + [f"{ch}é" for ch in chars]
    assert sql_keys(db, texts) == {t: normalize_key(t) for t in texts}


# --- countries --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Estados Unidos", "US"),
        ("Estados Unidos de América", "US"),
        ("EUA", "US"),
        ("E.U.A.", "US"),
        ("EE. UU.", "US"),
        ("USA", "US"),
        ("U.S.", "US"),
        ("us", "US"),
        ("United States of America", "US"),
        ("México", "MX"),
        ("Mexico", "MX"),
        ("MEX", "MX"),
        ("Estados Unidos Mexicanos", "MX"),
        ("Guatemala", "GT"),
        ("GT", "GT"),
        ("El Salvador", "SV"),
        ("Honduras", "HN"),
        ("Nicaragua", "NI"),
        ("Alemania", "DE"),
        ("Venezuela", "VE"),
        ("Bolivia", "BO"),
        ("Russia", "RU"),
        ("Federación Rusa", "RU"),
        ("South Korea", "KR"),
        ("Korea", "KR"),
        ("Corea del Norte", "KP"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Czechia", "CZ"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("República Democrática del Congo", "CD"),
        ("Costa de Marfil", "CI"),
        ("Brasil", "BR"),
        ("Perú", "PE"),
        ("Países Bajos", "NL"),
    ],
)
def test_lookup_country(text: str, code: str) -> None:
    assert lookup_country(text) == code


def test_country_keys_are_unique_and_keep_the_important_ones() -> None:
    keys = country_keys()
    table = dict(keys)
    assert len(table) == len(keys)
    important = ["mexico", "mex", "mx", "us", "usa", "estados unidos", "eua", "guatemala", "gt", "honduras"]
    assert {k: table.get(k) for k in important} == {
        "mexico": "MX", "mex": "MX", "mx": "MX", "us": "US", "usa": "US", "estados unidos": "US",
        "eua": "US", "guatemala": "GT", "gt": "GT", "honduras": "HN",
    }  # fmt: skip
    assert not set(table) & places.dropped_country_keys()
    # Only names that really are shared were dropped.
    assert places.dropped_country_keys() == {"virgin islands", "islas virgenes"}


def test_every_code_and_hand_alias_resolves_to_its_country() -> None:
    for country in pycountry.countries:
        assert lookup_country(country.alpha_2) == country.alpha_2
        assert lookup_country(country.alpha_3) == country.alpha_2
        assert lookup_country(country.name) == country.alpha_2
    for code, aliases in places._country_aliases().items():
        assert pycountry.countries.get(alpha_2=code) is not None
        for alias in aliases:
            assert lookup_country(alias) == code, alias


def test_unknown_country_is_none() -> None:
    assert lookup_country("Narnia") is None
    assert lookup_country("") is None


@pytest.mark.parametrize(
    ("code", "en", "es"),
    [
        ("MX", "Mexico", "México"),
        ("US", "United States", "Estados Unidos"),
        ("DE", "Germany", "Alemania"),
        ("KR", "South Korea", "Corea del Sur"),
        ("BO", "Bolivia", "Bolivia"),
        ("CD", "Democratic Republic of the Congo", "República Democrática del Congo"),
        ("gt", "Guatemala", "Guatemala"),
    ],
)
def test_country_name(code: str, en: str, es: str) -> None:
    assert country_name(code) == country_name(code, "en") == en
    assert country_name(code, "es") == es


def test_country_name_rejects_unknown_code_and_language() -> None:
    with pytest.raises(KeyError):
        country_name("XX")
    with pytest.raises(ValueError, match="language"):
        country_name("MX", "fr")


# --- states: the facts ------------------------------------------------------------------------


def test_mexican_states() -> None:
    mx = states("MX")
    assert len(mx) == 32
    assert sorted(s.inegi or "" for s in mx) == [f"{n:02d}" for n in range(1, 33)]
    assert len({s.iso for s in mx}) == 32
    assert all(s.country == "MX" and s.fips is None and s.usps is None for s in mx)


def test_us_states() -> None:
    us = states("us")
    assert len(us) == 52
    assert len({s.iso for s in us}) == len({s.fips for s in us}) == len({s.usps for s in us}) == 52
    assert all(s.iso == f"US-{s.usps}" and s.inegi is None for s in us)
    assert {s.usps for s in us} >= {"DC", "PR", "TX", "NM", "AZ", "CA"}


def test_states_agree_with_pycountry() -> None:
    subdivisions: Any = pycountry.subdivisions  # pycountry's get() is untyped
    for state in states():
        sub = subdivisions.get(code=state.iso)
        assert sub is not None, state.iso
        assert sub.country_code == state.country
        assert lookup_state(sub.name, state.country) == state.iso
    assert len(states()) == 84
    assert states("CA") == []


def test_state_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        states("MX")[0].iso = "MX-XXX"  # type: ignore[misc]


def test_state_name() -> None:
    assert state_name("MX-NLE", "es") == "Nuevo León"
    assert state_name("MX-CMX") == "Mexico City"
    assert state_name("MX-MEX", "es") == "Estado de México"
    assert state_name("US-NM", "es") == "Nuevo México"
    assert state_name("us-nc", "es") == "Carolina del Norte"
    assert state_name("US-TX") == "Texas"
    with pytest.raises(KeyError):
        state_name("MX-XXX")
    with pytest.raises(ValueError, match="language"):
        state_name("MX-SON", "fr")


# --- states: keys -----------------------------------------------------------------------------


def test_state_keys_are_unique_and_unqualified_ones_unambiguous() -> None:
    rows = state_keys()
    assert len({(country, key) for country, key, _ in rows}) == len(rows)
    table = {(country, key): code for country, key, code in rows}
    unqualified = {key for country, key, _ in rows if country is None}
    assert not any(key.isdigit() for key in unqualified)
    assert {("MX", "08"), ("MX", "8"), ("MX", "26"), ("US", "48"), ("US", "6"), ("US", "tx")} <= set(table)
    assert {"sonora", "texas", "nuevo leon", "mx son", "us tx", "son", "tx"} <= unqualified
    # Ambiguous without a country: a number, "Mich." (Michoacán, Michigan), "México" (the country).
    assert {"48", "19", "mich", "mexico", "mex"}.isdisjoint(unqualified)
    assert table["MX", "mich"] == "MX-MIC"
    assert table["US", "mich"] == "US-MI"
    assert table["MX", "mexico"] == table["MX", "mex"] == table["MX", "edomex"] == "MX-MEX"
    # Every unqualified key is also valid, with the same answer, under its own country.
    for (country, key), code in table.items():
        if country is None:
            assert table[code[:2], key] == code


@pytest.mark.parametrize(
    ("text", "country", "code"),
    [
        ("Nuevo León", None, "MX-NLE"),
        ("NUEVO LEON", None, "MX-NLE"),
        ("Nuevo Leon", None, "MX-NLE"),
        ("N.L.", None, "MX-NLE"),
        ("Coahuila de Zaragoza", None, "MX-COA"),
        ("Michoacán de Ocampo", None, "MX-MIC"),
        ("Veracruz de Ignacio de la Llave", None, "MX-VER"),
        ("Distrito Federal", None, "MX-CMX"),
        ("CDMX", None, "MX-CMX"),
        ("D.F.", None, "MX-CMX"),
        ("Ciudad de México", None, "MX-CMX"),
        ("Edo. de México", None, "MX-MEX"),
        ("Estado de México", None, "MX-MEX"),
        ("Edomex", "MX", "MX-MEX"),
        ("México", "MX", "MX-MEX"),
        ("MEX", "MX", "MX-MEX"),
        ("BC", None, "MX-BCN"),
        ("BCS", None, "MX-BCS"),
        ("Q. Roo", None, "MX-ROO"),
        ("SLP", None, "MX-SLP"),
        ("MX-SON", None, "MX-SON"),
        ("son", None, "MX-SON"),
        ("19", "MX", "MX-NLE"),
        ("8", "MX", "MX-CHH"),
        ("08", "MX", "MX-CHH"),
        ("TX", None, "US-TX"),
        ("Tex.", None, "US-TX"),
        ("Texas", None, "US-TX"),
        ("US-TX", None, "US-TX"),
        ("48", "US", "US-TX"),
        ("Nuevo México", None, "US-NM"),
        ("New Mexico", None, "US-NM"),
        ("N.M.", None, "US-NM"),
        ("Carolina del Norte", None, "US-NC"),
        ("Luisiana", None, "US-LA"),
        ("Misisipi", None, "US-MS"),
        ("Pensilvania", None, "US-PA"),
        ("Hawái", None, "US-HI"),
        ("Distrito de Columbia", None, "US-DC"),
        ("Washington, D.C.", None, "US-DC"),
        ("Washington", None, "US-WA"),
        ("Puerto Rico", None, "US-PR"),
        ("6", "US", "US-CA"),
    ],
)
def test_lookup_state(text: str, country: str | None, code: str) -> None:
    assert lookup_state(text, country) == code
    assert lookup_state(text, code[:2]) == code


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("México", None),
        ("Mexico", None),
        ("48", None),
        ("19", None),
        ("Mich.", None),
        ("Texas", "MX"),
        ("Sonora", "US"),
        ("Sonora", "GT"),
        ("Narnia", None),
        ("", None),
    ],
)
def test_lookup_state_unresolved(text: str, country: str | None) -> None:
    assert lookup_state(text, country) is None


# --- Python and DuckDB agree ------------------------------------------------------------------


def test_sql_join_agrees_with_python(db: duckdb.DuckDBPyConnection) -> None:
    texts = ["Estados Unidos", "EUA", "México", "Korea", "Virgin Islands", "Narnia", "", "  usa "]
    texts += [s.name_es for s in states()] + [s.name_en for s in states()] + ["48", "19", "Mich.", "8"]
    texts += [a for s in states() for a in s.aliases]
    texts += real_state_names()
    key = normalize_sql("i.text")
    db.execute("create or replace temp table inputs as select unnest(?) as text", [texts])
    countries = dict(
        db.execute(f"select i.text, c.code from inputs i left join country_keys c on c.key = {key}").fetchall()
    )
    assert countries == {t: lookup_country(t) for t in texts}
    for country in (None, "MX", "US"):
        found = db.execute(
            f"select i.text, s.code from inputs i left join state_keys s"
            f" on s.key = {key} and s.country is not distinct from ?",
            [country],
        ).fetchall()
        assert dict(found) == {t: lookup_state(t, country) for t in texts}, country


# --- real data --------------------------------------------------------------------------------


def test_geo_mexico_states_resolve_to_their_ids() -> None:
    data = json.loads(shared("geo_mexico/mexico_states.json").read_text(encoding="utf-8"))
    names = {f["properties"]["name"]: f["properties"]["id"] for f in data["features"]}
    assert len(names) == 32
    assert {name: lookup_state(name) for name in names} == names
    assert {name: lookup_state(name, "MX") for name in names} == names


def test_geo_mexico_municipio_states_match_file_inegi_codes() -> None:
    by_inegi = {s.inegi: s.iso for s in states("MX")}
    paths = sorted(shared("geo_mexico").glob("municipios_*.json.gz"))
    assert paths
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            features = json.load(fh)["features"]
        expected = by_inegi[path.name.split("_")[1]]
        for name in {f["properties"]["NAME_1"] for f in features}:
            assert lookup_state(name) == expected, (path.name, name)


def test_geo_us_states_resolve() -> None:
    data = json.loads(shared("geo_us_states/us-states.json").read_text(encoding="utf-8"))
    names = {f["properties"]["name"] for f in data["features"]}
    resolved = {name: lookup_state(name) for name in names}
    assert None not in resolved.values()
    assert len(set(resolved.values())) == len(names) == 52


@pytest.mark.parametrize("name", ["executions-bystate.csv", "firearm-hom-state.csv"])
def test_diegovalle_states_resolve(name: str) -> None:
    # "México" here is the state (Estado de México): it needs the country to resolve.
    names = diegovalle_states(name)
    resolved = {n: lookup_state(n, "MX") for n in names}
    assert None not in resolved.values()
    assert len(set(resolved.values())) == len(names) == 32
    assert resolved["México"] == "MX-MEX"
    assert {n for n in names if lookup_state(n) is None} == {"México"}


def test_nics_states_resolve() -> None:
    with shared("nics_background_checks/nics-firearm-background-checks.csv").open(encoding="utf-8") as fh:
        names = {row["state"] for row in csv.DictReader(fh)}
    unresolved = {n for n in names if lookup_state(n) is None}
    assert unresolved == NICS_UNRESOLVED
    assert {n for n in names if lookup_state(n, "US") is None} == NICS_UNRESOLVED
    assert len({lookup_state(n) for n in names - unresolved}) == 52


def test_state_counts_per_key_table() -> None:
    counts = Counter(country for country, _, _ in state_keys())
    assert counts["MX"] > 32 * 3
    assert counts["US"] > 52 * 4
    assert counts[None] > 84 * 3
