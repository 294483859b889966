"""The normalisers: concrete cases from issue 5 and the synthetic noise, properties, and synth truth."""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cruce.resolve.normalise as normalise
from cruce.resolve.normalise import (
    PersonName,
    curp_info,
    fold,
    name_similarity,
    normalise_address,
    normalise_org_name,
    normalise_phone,
    normalise_plate,
    normalise_serial,
    org_aliases,
    parse_person_name,
    rfc_valid,
    serials_match,
    ssn_valid,
    vin_valid,
)
from cruce.synth import names as synth_names

# -- the public API -----------------------------------------------------------------------------


def test_exported_names_are_the_public_api() -> None:
    assert set(normalise.__all__) == {
        "CurpInfo", "PersonName", "SerialNumber", "curp_info", "fold", "name_similarity", "normalise_address",
        "normalise_org_name", "normalise_phone", "normalise_plate", "normalise_serial", "org_aliases",
        "parse_person_name", "rfc_valid", "serials_match", "ssn_valid", "vin_valid",
        "GIVEN_NAMES", "SURNAMES", "NICKNAMES",  # the lexicon, for search's name rules
    }  # fmt: skip


def test_every_normaliser_is_documented() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "reference" / "normalisers.md").read_text(encoding="utf-8")
    missing = [name for name in normalise.__all__ if name[0].islower() and f"`{name}" not in text]
    assert not missing


# -- fold ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("  MARÍA  de la Peña-O'Brien ", "maria de la pena obrien"),
        ("Güero", "guero"),
        ("NÚÑEZ", "nunez"),
        ("Straße", "strasse"),
        ("José\tLuis\n", "jose luis"),
        ("", ""),
        ("¿¡!?", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


# -- person names ----------------------------------------------------------------------------

JOSE_LUIS = (
    "José Luis Ramírez Hernández",
    "Jose L. Ramirez",
    "RAMIREZ HERNANDEZ JOSE LUIS alias El Güero",
    "Pepe Ramírez",
)


@pytest.mark.parametrize(
    ("text", "given_", "surnames", "aliases"),
    [
        ("José Luis Ramírez Hernández", ("jose", "luis"), ("ramirez", "hernandez"), ()),
        ("Jose L. Ramirez", ("jose", "l"), ("ramirez",), ()),
        ("RAMIREZ HERNANDEZ JOSE LUIS alias El Güero", ("jose", "luis"), ("ramirez", "hernandez"), ("el guero",)),
        ("Ramírez Hernández, José Luis", ("jose", "luis"), ("ramirez", "hernandez"), ()),
        ("Pepe Ramírez", ("pepe",), ("ramirez",), ()),
        ("María de la Luz Pérez", ("maria", "de la luz"), ("perez",), ()),
        ("Ma. Guadalupe", ("ma", "guadalupe"), (), ()),
        ("Juan Carlos de la Cruz y Pérez", ("juan", "carlos"), ("de la cruz", "perez"), ()),
        ("RAMÍREZ LÓPEZ JUAN", ("juan",), ("ramirez", "lopez"), ()),
        ("Ramírez López, Juan (a) El Güero", ("juan",), ("ramirez", "lopez"), ("el guero",)),
        ('Juan Ramírez López "El Güero"', ("juan",), ("ramirez", "lopez"), ("el guero",)),
        ("JUAN RAMIREZ LOPEZ a. EL GÜERO", ("juan",), ("ramirez", "lopez"), ("el guero",)),
        ("Juan Ramírez a.k.a. El Güero", ("juan",), ("ramirez",), ("el guero",)),
        ("Juan Ramírez aka Guero", ("juan",), ("ramirez",), ("guero",)),
        ("Juan Ramírez alias El Güero y/o El Flaco", ("juan",), ("ramirez",), ("el guero", "el flaco")),
        ("Juan Pérez el Güero", ("juan",), ("perez",), ("el guero",)),
        ("Delacruz Garza Juan", ("juan",), ("de la cruz", "garza"), ()),
        ("Maria Elena Delarosa Garza", ("maria", "elena"), ("de la rosa", "garza"), ()),
        ("Mary Ann Smith", ("mary", "ann"), ("smith",), ()),
        ("James Lee Smith", ("james", "lee"), ("smith",), ()),
        ("Kyle Allen Johnson", ("kyle", "allen"), ("johnson",), ()),
        ("John Mc Donald", ("john",), ("mcdonald",), ()),
        ("Sr. Juan Pérez Jr.", ("juan",), ("perez",), ()),
        ("María de los Ángeles del Río Núñez", ("maria", "de los angeles"), ("del rio", "nunez"), ()),
        ("José de Jesús Garza", ("jose", "de jesus"), ("garza",), ()),
        ("", (), (), ()),
    ],
)
def test_parse_person_name(
    text: str, given_: tuple[str, ...], surnames: tuple[str, ...], aliases: tuple[str, ...]
) -> None:
    name = parse_person_name(text)
    assert (name.given, name.surnames, name.aliases) == (given_, surnames, aliases)


def test_nicknames_resolve_to_their_given_name() -> None:
    cases = {"Pepe": "jose", "Paco": "francisco", "Chuy": "jesus", "Lupe": "guadalupe", "Ma.": "maria", "Bob": "robert"}
    for nick, canonical in cases.items():
        name = parse_person_name(f"{nick} Ramírez")
        assert name.first_given == canonical, nick
        assert name.given[0] == fold(nick)


def test_person_name_properties() -> None:
    name = parse_person_name("RAMIREZ HERNANDEZ PEPE LUIS")
    assert name.first_given == "jose"
    assert name.first_surname == "ramirez"
    assert name.second_surname == "hernandez"
    assert name.full == "jose luis ramirez hernandez"
    assert name.sorted_tokens == ("hernandez", "jose", "luis", "ramirez")
    assert PersonName().full == ""
    assert PersonName().second_surname == ""


def test_surnames_first_is_obeyed() -> None:
    assert parse_person_name("Juan Luis", surnames_first=True).surnames == ("juan",)
    told = parse_person_name("Garza López María", surnames_first=False)
    assert told.given[0] == "garza"
    assert told.surnames[-1] == "maria"


def _sim(a: str, b: str) -> float:
    return name_similarity(parse_person_name(a), parse_person_name(b))


def test_the_four_jose_luis_records_are_one_person() -> None:
    for a in JOSE_LUIS:
        for b in JOSE_LUIS:
            assert _sim(a, b) >= 0.9, (a, b)


@pytest.mark.parametrize(
    "other", ["Juan Carlos Ramírez Flores", "María Guadalupe Ramírez Soto", "Ramírez Gómez Carlos"]
)
def test_a_different_person_with_the_same_first_surname_scores_low(other: str) -> None:
    lowest_same = min(_sim(a, b) for a in JOSE_LUIS for b in JOSE_LUIS)
    for a in JOSE_LUIS:
        assert _sim(a, other) < 0.6, (a, other)
        assert _sim(a, other) < lowest_same - 0.3


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("María Guadalupe Hernández López", "Ma. Guadalupe Hernandez Lopez"),  # Ma. for María
        ("María Guadalupe Hernández López", "Lupita Hernández"),  # nickname of the second given name
        ("Francisco Javier Ortiz Ruiz", "Paco Ortiz"),  # nickname, missing second surname
        ("Jesús Manuel Soto Vega", "Chuy Soto Vega"),
        ("Juan de la Cruz Pérez", "Juan Delacruz Pérez"),  # particle glued
        ("Juan de la Cruz Pérez", "JUAN CRUZ PEREZ"),  # particle dropped
        ("Laura Vázquez Ibarra", "Laura Vasquez Ybarra"),  # spellings that sound alike
        ("Ricardo Gutiérrez Salazar", "Ricardo Gutierez Salazar"),  # one typo
        ("Ricardo Gutiérrez Salazar", "Ricardo Salazar Gutiérrez"),  # surnames swapped
        ("Ricardo Gutiérrez Salazar", "GUTIERREZ SALAZAR, RICARDO"),  # surnames first with a comma
        ("Robert Lee Smith", "Bob Smith"),
        ("Jennifer Anne Miller", "MILLER JENNIFER"),
    ],
)
def test_same_person_variants_score_high(a: str, b: str) -> None:
    assert _sim(a, b) >= 0.8, (a, b, _sim(a, b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("José Hernández López", "José Fernández López"),  # two real surnames, one letter apart
        ("Juan Pérez García", "Pedro Pérez García"),  # brothers
        ("Robert Smith", "Robert Johnson"),
        ("Ana María Torres", "Rosa Ortiz"),
    ],
)
def test_different_people_score_lower(a: str, b: str) -> None:
    assert _sim(a, b) < 0.75, (a, b, _sim(a, b))


def test_similarity_bounds_and_symmetry() -> None:
    names = [parse_person_name(t) for t in (*JOSE_LUIS, "", "Smith", "Juan Carlos Ramírez Flores")]
    for a in names:
        for b in names:
            s = name_similarity(a, b)
            assert 0.0 <= s <= 1.0
            assert s == pytest.approx(name_similarity(b, a), abs=1e-6)
    assert name_similarity(PersonName(), names[0]) == 0.0


def test_shared_alias_raises_similarity() -> None:
    plain = _sim("Juan Ramírez", "Juan Ramírez López")
    assert _sim("Juan Ramírez alias El Güero", "Juan Ramírez López (a) El Güero") > plain


_WORD = st.sampled_from(
    [*synth_names.SPANISH_MALE, *synth_names.SPANISH_FEMALE, *synth_names.ENGLISH_MALE, "Pepe", "Ma.", "J."]
)
_SURNAME = st.sampled_from(
    [*synth_names.SPANISH_SURNAMES, *synth_names.PARTICLE_SURNAMES, *synth_names.ENGLISH_SURNAMES]
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parse_full_parse_reaches_a_fixed_point_on_any_text(text: str) -> None:
    once = parse_person_name(parse_person_name(text).full, surnames_first=False)
    again = parse_person_name(once.full, surnames_first=False)
    assert again.full == once.full
    assert all(part == fold(part) for part in (*once.given, *once.surnames, *once.aliases))


@settings(max_examples=300, deadline=None)
@given(_WORD, _SURNAME, st.one_of(st.just(""), _SURNAME), st.booleans())
def test_parse_full_parse_keeps_the_parts_of_real_names(given_: str, last1: str, last2: str, upper: bool) -> None:
    text = f"{given_} {last1} {last2}".strip()
    once = parse_person_name(text.upper() if upper else text)
    again = parse_person_name(once.full)
    assert again.full == once.full
    assert (again.given_canonical, again.surnames) == (once.given_canonical, once.surnames)
    assert name_similarity(once, again) == 1.0


@settings(max_examples=300, deadline=None)
@given(_WORD, _SURNAME, _SURNAME)
def test_surnames_first_reads_back_the_same_words(given_: str, last1: str, last2: str) -> None:
    once = parse_person_name(f"{last1} {last2} {given_}", surnames_first=True)
    again = parse_person_name(once.full, surnames_first=False)
    assert again.sorted_tokens == once.sorted_tokens
    assert name_similarity(once, again) >= 0.9


# -- organizations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("Los Hermanos Pérez, S.A. de C.V.", "hermanos perez"),
        ("Armas del Norte S. de R.L. de C.V.", "armas del norte"),
        ("Inversiones Frontera SAPI de CV", "inversiones frontera"),
        ("Hill's Pawn & Gun LLC", "hills pawn and gun"),
        ("Hill's Pawn and Gun, L.L.C.", "hills pawn and gun"),
        ("Border Arms Inc.", "border arms"),
        ("Border Arms Corp", "border arms"),
        ("Border Arms Co.", "border arms"),
        ("Border Arms, Ltd.", "border arms"),
        ("Border Arms L.P.", "border arms"),
        ("The Home Depot, Inc.", "home depot"),
        ("Cártel del Golfo", "cartel golfo"),
        ("CARTEL DEL GOLFO", "cartel golfo"),
        ("El Cártel de Sinaloa", "cartel sinaloa"),
        ("Sinaloa Cartel", "cartel sinaloa"),
        ("Los Zetas", "zetas"),
        ("CDG", "cdg"),
        ("C.D.G.", "cdg"),
        ("Cártel de Jalisco Nueva Generación (CJNG)", "cartel jalisco nueva generacion"),
    ],
)
def test_normalise_org_name(text: str, normal: str) -> None:
    assert normalise_org_name(text) == normal


def test_org_aliases() -> None:
    assert org_aliases("Cártel del Golfo") == ("cartel golfo", "golfo", "cdg")
    cjng = org_aliases("Cártel de Jalisco Nueva Generación (CJNG)")
    assert cjng[0] == "cartel jalisco nueva generacion"
    assert {"jalisco nueva generacion", "cjng"} <= set(cjng)
    assert "cds" in org_aliases("El Cártel de Sinaloa")
    assert "lfm" in org_aliases("La Familia Michoacana")
    assert org_aliases("ACME Guns Co. d/b/a Border Guns") == ("acme guns", "border guns")


# -- serial numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "key", "partial", "obliterated"),
    [
        ("BS45J0C", "BS45J0C", "8545J0C", False, False),
        ("bs-45 joc", "BS45JOC", "8545J0C", False, False),
        ("S/N: ABZ-1234", "ABZ1234", "A821234", False, False),
        ("AB12*", "AB12*", "A812*", True, False),
        ("AB_12C4", "AB?12C4", "A8?12C4", True, False),
        ("ab?12", "AB?12", "A8?12", True, False),
        ("A1B", "A1B", "A18", True, False),
        ("obliterated", "", "", True, True),
        ("LIMADO", "", "", True, True),
        ("SM9H (partial)", "SM9H", "5M9H", True, False),
        ("12345 limado parcialmente", "12345", "12345", True, True),
        ("none", "", "", True, False),
    ],
)
def test_normalise_serial(text: str, value: str, key: str, partial: bool, obliterated: bool) -> None:
    serial = normalise_serial(text)
    assert (serial.value, serial.lookalike_key, serial.partial, serial.obliterated) == (
        value,
        key,
        partial,
        obliterated,
    )


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        ("BS45J0C", "bs-45-j0c", 1.0, 1.0),
        ("BS45J0C", "BS45JOC", 0.85, 0.95),  # O for 0
        ("SMI2345", "SM12345", 0.85, 0.95),  # I for 1
        ("BS45J0C", "BS45J0", 0.8, 0.9),  # last character dropped
        ("SM9HSJXG", "SM9HS partial", 0.5, 0.85),  # prefix of a partial read
        ("SM9HSJXG", "SM9H*", 0.5, 0.85),
        ("SM9HSJXG", "SM9HSJX?", 0.75, 0.9),
        ("SM9HSJXG", "*HSJXG", 0.6, 0.85),
        ("ABC1234", "ABC1235", 0.0, 0.0),  # a neighbour in a multiple sale is another gun
        ("ABC1234", "obliterated", 0.0, 0.0),
        ("AB", "AB12345", 0.0, 0.0),  # too little to go on
    ],
)
def test_serials_match(a: str, b: str, low: float, high: float) -> None:
    score = serials_match(normalise_serial(a), normalise_serial(b))
    assert low <= score <= high, score
    assert score == serials_match(normalise_serial(b), normalise_serial(a))


_LOOKALIKE_PAIRS = [("O", "0"), ("I", "1"), ("L", "1"), ("S", "5"), ("B", "8"), ("Z", "2"), ("G", "6")]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ABCDEFGHJKMNPRTUVWXY0123456789OILSBZG", min_size=4, max_size=12), st.data())
def test_lookalike_strings_share_a_key(serial: str, data: st.DataObject) -> None:
    swapped = "".join(
        data.draw(
            st.sampled_from(
                [ch, *(b for a, b in _LOOKALIKE_PAIRS if a == ch), *(a for a, b in _LOOKALIKE_PAIRS if b == ch)]
            )
        )
        for ch in serial
    )
    a, b = normalise_serial(serial), normalise_serial(swapped)
    assert a.lookalike_key == b.lookalike_key
    assert serials_match(a, b) >= 0.9


# -- phones -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("(915) 555-0134", "MX", "+19155550134"),
        ("(915) 555-0134", "US", "+19155550134"),
        ("656 123 4567", "MX", "+526561234567"),
        ("+52 (656) 123-4567", "US", "+526561234567"),
        ("+52 1 656 123 4567", "MX", "+526561234567"),
        ("044 656 123 4567", "MX", "+526561234567"),
        ("045 (656) 123-4567", "MX", "+526561234567"),
        ("01 656 123 4567", "MX", "+526561234567"),
        ("001 915 555 0134", "MX", "+19155550134"),
        ("1-915-555-0134", "MX", "+19155550134"),
        ("915.555.0134 ext. 12", "US", "+19155550134"),
        ("no tiene", "MX", None),
        ("123", "MX", None),
        ("", "MX", None),
    ],
)
def test_normalise_phone(text: str, region: str, e164: str | None) -> None:
    assert normalise_phone(text, region) == e164


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["656", "664", "81", "55", "33", "915", "520", "210", "619"]), st.integers(0, 10**7 - 1))
def test_phone_normalisation_of_an_e164_is_itself(area: str, rest: int) -> None:
    local = f"{rest:07d}" if len(area) == 3 else f"{rest:08d}"
    for region in ("MX", "US"):
        e164 = normalise_phone(f"+52{area}{local}" if area not in ("915", "520", "210", "619") else f"+1{area}{local}")
        if e164 is not None:
            assert normalise_phone(e164, region) == e164


# -- plates, VINs, identifiers, addresses ------------------------------------------------------


def test_plates() -> None:
    assert normalise_plate("abc-12-34") == normalise_plate("ABC 1234") == "ABC1234"
    assert normalise_plate("Ñ-12") == "N12"


@pytest.mark.parametrize(
    ("vin", "valid"),
    [
        ("1M8GDM9AXKP042788", True),
        ("1m8gdm9a-xkp042788", True),
        ("1M8GDM9A1KP042788", False),  # wrong check digit
        ("1M8GDM9AXKP04278", False),  # 16 characters
        ("1M8GDM9AXKPO42788", False),  # O never appears in a VIN
        ("", False),
    ],
)
def test_vin_valid(vin: str, valid: bool) -> None:
    assert vin_valid(vin) is valid


def test_curp_rfc_ssn() -> None:
    info = curp_info("BOXW310820HNERXN09")
    assert info is not None
    assert (info.birth_date, info.sex, info.state) == (date(1931, 8, 20), "M", "NE")
    assert curp_info("BOXW310820HNERXN08") is None
    assert curp_info("not a curp") is None
    assert rfc_valid("GODE 561231 GR8")
    assert rfc_valid("MAB-930714-8T4")
    assert not rfc_valid("VACE-460910-SX6")  # check digit wrong
    assert not rfc_valid("COMG-600703")  # no check digit to check
    assert ssn_valid("536-90-4399")
    assert not ssn_valid("078-05-1120")
    assert not ssn_valid("666-00-0000")


@pytest.mark.parametrize(
    ("a", "b", "country"),
    [
        ("Av. Juárez No. 123, Col. Centro, C.P. 32000", "AVENIDA JUAREZ #123 COLONIA CENTRO CP 32000", None),
        ("C. Morelos 45 Int. 2, Col. Obrera", "Calle Morelos 45 Interior 2 Colonia Obrera", "MX"),
        ("C. Morelos 45 Int. 2", "calle morelos 45 interior 2", None),
        ("Calle Morelos S/N", "calle morelos sin número", None),
        ("123 N Main St Apt 4", "123 North Main Street #4", None),
        (
            "500 W. Overland Ave., Suite 100, El Paso, TX 79901",
            "500 West Overland Avenue Ste 100 El Paso TX 79901",
            "US",
        ),
        ("10 Mesa Rd", "10 MESA ROAD", "US"),
    ],
)
def test_addresses_agree_however_abbreviated(a: str, b: str, country: str | None) -> None:
    assert normalise_address(a, country) == normalise_address(b, country)


def test_address_examples() -> None:
    assert normalise_address("Av. Juárez No. 123, Col. Centro, C.P. 32000") == (
        "avenida juarez numero 123 colonia centro cp 32000"
    )
    assert normalise_address("Dr. Coss 200 Sur, Monterrey", "MX") == "doctor coss 200 sur monterrey"
    assert normalise_address("200 Coss Dr", "US") == "200 coss drive"


# -- the synthetic scenario's truth -------------------------------------------------------------


@pytest.fixture(scope="module")
def firearms_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cruce.synth.firearms import generate

    out = tmp_path_factory.mktemp("firearms")
    generate(out, scale=2000, seed=11)
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_true_identity_outranks_a_random_other_person(firearms_scenario: Path) -> None:
    out = firearms_scenario
    identities = {r["person_id"]: r for r in _rows(out / "truth" / "identities.csv")}
    truth = {(r["file"], r["record_key"], r["role"]): r["person_id"] for r in _rows(out / "truth" / "persons.csv")}
    canonical = {
        pid: parse_person_name(
            " ".join(p for p in (r["given_names"], r["last_name"], r["second_last_name"]) if p), surnames_first=False
        )
        for pid, r in identities.items()
    }
    records: list[tuple[str, str]] = []
    for r in _rows(out / "gunshop-sales.csv"):
        text = " ".join(p for p in (r["buyer_first"], r["buyer_last"], r["buyer_second_last"]) if p)
        records.append((text, truth["gunshop-sales.csv", r["purchase_id"], "buyer"]))
    for r in _rows(out / "traces.csv"):
        for column, role in (("purchaser_name", "purchaser"), ("possessor_name", "possessor")):
            if r[column]:
                records.append((r[column], truth["traces.csv", r["trace_number"], role]))
    assert len(records) > 1000
    rng = random.Random(5)
    people = sorted(identities)
    ranked = 0
    for text, pid in records:
        other = rng.choice(people)
        while other == pid:
            other = rng.choice(people)
        name = parse_person_name(text)
        ranked += name_similarity(name, canonical[pid]) > name_similarity(name, canonical[other])
    assert ranked / len(records) >= 0.95
