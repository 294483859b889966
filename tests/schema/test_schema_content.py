"""The shipped schema: the types DESIGN.md promises, bilingual labels, valid edges, protected
fields, and enums that resolve the raw values of the public datasets cruce imports."""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console, RenderableType

from cruce.schema.describe import describe_type, describe_types, schema_as_dict
from cruce.schema.loader import TYPES_DIR, default_schema
from cruce.schema.model import EnumType, PropertyType, Schema, SchemaType
from cruce.schema.places import normalize_key

SHARED_DATA = Path(__file__).parents[2].parent / "shared" / "data"

# DESIGN.md, "Data model".
ENTITY_TYPES = [
    "Person",
    "Organization",
    "Location",
    "Firearm",
    "Vehicle",
    "Phone",
    "Account",
    "Document",
    "Case",
    "Tip",
]
EVENT_TYPES = [
    "FirearmPurchase",
    "FirearmRecovery",
    "Trace",
    "DrugSeizure",
    "BorderCrossing",
    "CrossingCount",
    "ViolenceEvent",
    "TraffickingCase",
    "Screening",
]
RELATIONS = [
    "member_of",
    "leads",
    "allied_with",
    "rival_of",
    "controls",
    "family_of",
    "associate_of",
    "employed_by",
    "owns",
    "uses",
    "purchased",
    "sold",
    "possessed",
    "recovered_in",
    "crossed_at",
    "seized_from",
    "recruited",
    "exploited",
    "contacted",
]
UNDIRECTED = {"AlliedWith", "RivalOf", "FamilyOf", "AssociateOf"}

# Words that are the same in English and Spanish; any other identical pair is a missing translation.
SAME_IN_BOTH = {
    "Alias",
    "Bitcoin",
    "CLABE",
    "CURP",
    "Color",
    "Derringer",
    "Euro",
    "IMEI",
    "K'iche'",
    "Kaqchikel",
    "Khat",
    "LSD",
    "Mam",
    "No",
    "Plaza",
    "Q'eqchi'",
    "Rifle",
    "Rival",
    "Tether (USDT)",
    "Tseltal",
    "Tsotsil",
    "URL",
}

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


@pytest.fixture(scope="module")
def schema() -> Schema:
    return default_schema()


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def _ancestors(schema: Schema, stype: SchemaType) -> set[str]:
    seen: set[str] = set()
    todo = list(stype.extends)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(schema.types[name].extends)
    return seen


def _resolver(enum: EnumType) -> dict[str, str | None]:
    """Spelling key → code, as the importer builds it (a key meaning two codes maps to None)."""
    keys: dict[str, str | None] = {}
    for code, value in enum.values.items():
        for spelling in (code, value.en, value.es, *value.aliases):
            key = normalize_key(spelling)
            keys[key] = code if keys.get(key, code) == code else None
    return keys


def _resolve(schema: Schema, enum_name: str, raw: str) -> str | None:
    return _resolver(schema.enums[enum_name]).get(normalize_key(raw))


def _render(renderable: RenderableType) -> str:
    console = Console(width=250, color_system=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def _all_labels(schema: Schema) -> Iterator[tuple[str, str, str]]:
    """(where, en, es) for every label in the schema."""
    for stype in schema.types.values():
        yield f"type {stype.name}", stype.label.en, stype.label.es
        yield f"type {stype.name} (plural)", stype.plural.en, stype.plural.es
        for prop in stype.properties.values():
            yield f"{stype.name}.{prop.name}", prop.label.en, prop.label.es
        if stype.edge is not None:
            yield f"{stype.name} edge", stype.edge.label.en, stype.edge.label.es
    for enum in schema.enums.values():
        yield f"enum {enum.name}", enum.label.en, enum.label.es
        for code, value in enum.values.items():
            yield f"enum {enum.name}.{code}", value.en, value.es


# --- the types DESIGN.md names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [(n, "entity") for n in ENTITY_TYPES]
    + [(n, "event") for n in EVENT_TYPES]
    + [(_camel(r), "relation") for r in RELATIONS],
)
def test_design_type_exists_with_its_kind(schema: Schema, name: str, kind: str) -> None:
    stype = schema.get(name)
    assert stype.kind == kind
    assert not stype.abstract


def test_concrete_types_extend_the_base_of_their_kind(schema: Schema) -> None:
    base = {"entity": "Thing", "event": "Event", "relation": "Relation"}
    for stype in schema.concrete():
        assert base[stype.kind] in _ancestors(schema, stype), stype.name


def test_events_have_time_and_place(schema: Schema) -> None:
    for stype in schema.concrete():
        if stype.kind == "event":
            for prop in ("date", "end_date", "place", "summary"):
                assert prop in stype.properties, f"{stype.name}.{prop}"
            assert stype.properties["place"].range == "Location"


def test_relations_are_time_bounded(schema: Schema) -> None:
    for stype in schema.concrete():
        if stype.kind == "relation":
            for prop in ("start_date", "end_date", "role", "confidence", "summary"):
                assert prop in stype.properties, f"{stype.name}.{prop}"


# --- labels -------------------------------------------------------------------------------------


def test_every_label_is_bilingual_and_trimmed(schema: Schema) -> None:
    for where, en, es in _all_labels(schema):
        assert en.strip(), where
        assert es.strip(), where
        assert en == en.strip(), where
        assert es == es.strip(), where


def test_spanish_labels_are_translated(schema: Schema) -> None:
    labels = _all_labels(schema)
    untranslated = sorted({(w, en) for w, en, es in labels if en == es and en not in SAME_IN_BOTH})
    assert not untranslated, f"Spanish label equals the English one: {untranslated}"


def test_every_schema_file_starts_with_a_comment() -> None:
    paths = sorted(TYPES_DIR.glob("*.yaml"))
    assert len(paths) >= 5
    for path in paths:
        assert path.read_text(encoding="utf-8").startswith("#"), path.name


# --- relation edges -----------------------------------------------------------------------------


def test_relation_edges_join_two_required_entity_properties(schema: Schema) -> None:
    for stype in schema.concrete():
        if stype.kind != "relation":
            assert stype.edge is None, stype.name
            continue
        assert stype.edge is not None, stype.name
        assert stype.edge.source != stype.edge.target, stype.name
        for end in (stype.edge.source, stype.edge.target):
            prop = stype.properties[end]
            where = f"{stype.name}.{end}"
            assert prop.type is PropertyType.ENTITY, where
            assert prop.required, where
            assert not prop.multiple, where
            assert prop.range in schema.types


def test_symmetric_relations_are_undirected(schema: Schema) -> None:
    undirected = {t.name for t in schema.concrete() if t.edge is not None and not t.edge.directed}
    assert undirected == UNDIRECTED


def test_controls_links_an_organization_to_a_place(schema: Schema) -> None:
    controls = schema.get("Controls")
    assert controls.edge is not None
    assert controls.properties[controls.edge.source].range == "Organization"
    assert controls.properties[controls.edge.target].range == "Location"


# --- properties ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        "TraffickingCase.victim",
        "Screening.person",
        "Exploited.victim",
        "Recruited.recruit",
        "Tip.tipster_name",
        "Tip.tipster_phone",
        "Tip.tipster_email",
        "Tip.tipster_contact",
    ],
)
def test_victim_and_tipster_identities_are_protected(schema: Schema, where: str) -> None:
    tname, pname = where.split(".")
    assert schema.get(tname).properties[pname].protected


def test_every_tipster_field_is_protected(schema: Schema) -> None:
    tipster = [p for p in schema.get("Tip").properties.values() if p.name.startswith("tipster_")]
    assert tipster
    assert all(p.protected for p in tipster)


@pytest.mark.parametrize(
    ("where", "ptype", "target"),
    [
        ("Organization.org_type", PropertyType.ENUM, "org_type"),
        ("Organization.ffl_number", PropertyType.IDENTIFIER, None),
        ("Location.location_type", PropertyType.ENUM, "location_type"),
        ("Location.state", PropertyType.STATE, None),
        ("Location.geo", PropertyType.GEOPOINT, None),
        ("Location.inegi_code", PropertyType.IDENTIFIER, None),
        ("Location.port_code", PropertyType.IDENTIFIER, None),
        ("Phone.number", PropertyType.PHONE, None),
        ("Firearm.serial_number", PropertyType.IDENTIFIER, None),
        ("Firearm.firearm_type", PropertyType.ENUM, "firearm_type"),
        ("Firearm.country_of_manufacture", PropertyType.COUNTRY, None),
        ("FirearmPurchase.price", PropertyType.MONEY, None),
        ("FirearmPurchase.multiple_sale", PropertyType.ENUM, "yes_no"),
        ("FirearmRecovery.possessor", PropertyType.ENTITY, "Person"),
        ("Trace.dealer", PropertyType.ENTITY, "Organization"),
        ("Trace.purchaser", PropertyType.ENTITY, "Person"),
        ("Trace.time_to_crime_days", PropertyType.NUMBER, None),
        ("Trace.trace_status", PropertyType.ENUM, "trace_status"),
        ("DrugSeizure.drug", PropertyType.ENUM, "drug"),
        ("DrugSeizure.quantity", PropertyType.QUANTITY, None),
        ("CrossingCount.port", PropertyType.ENTITY, "Location"),
        ("CrossingCount.measure", PropertyType.ENUM, "crossing_measure"),
        ("CrossingCount.value", PropertyType.NUMBER, None),
        ("CrossingCount.period", PropertyType.DATE, None),
        ("ViolenceEvent.violence_type", PropertyType.ENUM, "violence_type"),
        ("TraffickingCase.age_band", PropertyType.ENUM, "age_band"),
        ("TraffickingCase.citizenship", PropertyType.COUNTRY, None),
        ("TraffickingCase.country_of_exploitation", PropertyType.COUNTRY, None),
        ("TraffickingCase.means_of_control", PropertyType.ENUM, "means_of_control"),
        ("Screening.recommendation", PropertyType.ENUM, "screening_recommendation"),
        ("Tip.received_at", PropertyType.DATETIME, None),
    ],
)
def test_key_properties_have_their_types(schema: Schema, where: str, ptype: PropertyType, target: str | None) -> None:
    tname, pname = where.split(".")
    prop = schema.get(tname).properties[pname]
    assert prop.type is ptype
    assert (prop.enum or prop.range) == target


@pytest.mark.parametrize(
    "where",
    [
        "TraffickingCase.exploitation_type",
        "TraffickingCase.means_of_control",
        "TraffickingCase.labour_type",
        "TraffickingCase.sex_type",
        "TraffickingCase.recruiter_relation",
    ],
)
def test_ctdc_multi_choice_fields_are_multiple(schema: Schema, where: str) -> None:
    tname, pname = where.split(".")
    assert schema.get(tname).properties[pname].multiple


# --- enums --------------------------------------------------------------------------------------


def test_enum_names_and_codes_are_snake_case(schema: Schema) -> None:
    for enum in schema.enums.values():
        assert _SNAKE.match(enum.name), enum.name
        for code in enum.values:
            assert isinstance(code, str), f"{enum.name}.{code!r}"
            assert _SNAKE.match(code), f"{enum.name}.{code}"


def test_every_enum_is_used(schema: Schema) -> None:
    used = {p.enum for t in schema.types.values() for p in t.properties.values()}
    assert set(schema.enums) - used == set()


def test_no_spelling_means_two_codes(schema: Schema) -> None:
    for enum in schema.enums.values():
        seen: dict[str, str] = {}
        for code, value in enum.values.items():
            for spelling in (code, value.en, value.es, *value.aliases):
                key = normalize_key(spelling)
                assert key, f"{enum.name}.{code}: {spelling!r} has no letters or digits"
                assert seen.setdefault(key, code) == code, (
                    f"{enum.name}: {spelling!r} means both {seen[key]} and {code}"
                )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("m", "male"),
        ("M", "male"),
        ("Masculino", "male"),
        ("hombre", "male"),
        ("H", "male"),
        ("Male", "male"),
        ("f", "female"),
        ("Femenino", "female"),
        ("MUJER", "female"),
        ("Female", "female"),
        ("no especificado", "unknown"),
    ],
)
def test_gender_spellings(schema: Schema, raw: str, code: str) -> None:
    assert _resolve(schema, "gender", raw) == code


@pytest.mark.parametrize(
    ("raw", "code"),
    [("Sí", "yes"), ("si", "yes"), ("Y", "yes"), ("N", "no"), ("0", "no"), ("-99", "unknown")],
)
def test_yes_no_spellings(schema: Schema, raw: str, code: str) -> None:
    assert _resolve(schema, "yes_no", raw) == code


def test_age_bands_are_the_ctdc_bands(schema: Schema) -> None:
    bands = ["0--8", "9--17", "18--20", "21--23", "24--26", "27--29", "30--38", "39--47", "48+"]
    codes = [_resolve(schema, "age_band", band) for band in bands]
    assert codes == list(schema.enums["age_band"].values)


def test_crossing_measures_are_the_bts_measures(schema: Schema) -> None:
    measures = {
        "Personal Vehicles",
        "Personal Vehicle Passengers",
        "Pedestrians",
        "Buses",
        "Bus Passengers",
        "Trucks",
        "Truck Containers Loaded",
        "Truck Containers Empty",
        "Trains",
        "Train Passengers",
        "Rail Containers Loaded",
        "Rail Containers Empty",
    }
    assert {_resolve(schema, "crossing_measure", m) for m in measures} == set(schema.enums["crossing_measure"].values)


def test_firearm_types_follow_atf(schema: Schema) -> None:
    assert set(schema.enums["firearm_type"].values) >= {
        "pistol",
        "revolver",
        "rifle",
        "shotgun",
        "machine_gun",
        "derringer",
        "receiver_frame",
        "other",
    }


def test_ctdc_means_of_control_columns_resolve(schema: Schema) -> None:
    columns = [
        "DebtBondage",
        "TakesEarnings",
        "RestrictsFinancialAccess",
        "Threats",
        "PsychologicalAbuse",
        "PhysicalAbuse",
        "SexualAbuse",
        "FalsePromises",
        "PsychoactiveSubstances",
        "RestrictsMovement",
        "RestrictsMedicalCare",
        "ExcessiveWorkingHours",
        "UsesChildren",
        "ThreatOfLawEnforcement",
        "WithholdsNecessities",
        "WithholdsDocuments",
        "Other",
        "NotSpecified",
    ]
    codes = [_resolve(schema, "means_of_control", f"meansOfControl{c}") for c in columns]
    assert None not in codes
    assert len(set(codes)) == len(columns)


@pytest.mark.parametrize(
    "enum_name",
    [
        "age_band",
        "majority_status",
        "data_source",
        "exploitation_type",
        "means_of_control",
        "labour_type",
        "sex_type",
        "recruiter_relation",
        "firearm_type",
        "trace_status",
        "serial_obliteration",
        "crossing_measure",
        "drug",
    ],
)
def test_standard_enums_name_their_source(schema: Schema, enum_name: str) -> None:
    source = schema.enums[enum_name].source or ""
    assert any(std in source for std in ("HTCDS", "CTDC", "ATF", "BTS", "CBP")), enum_name


# --- the public datasets ------------------------------------------------------------------------


def _shared(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared dataset {path} is not present (it belongs beside the repository, in ../shared/data)")
    return path


def _distinct(path: Path, columns: list[str]) -> dict[str, set[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {c: {row[c] for row in rows} for c in columns}


CTDC_COLUMNS = {
    "gender": "gender",
    "Datasource": "data_source",
    "ExploitType": "exploitation_type",
    "ControlCategory": "control_category",
    "RecruiterCategory": "recruiter_relation",
    "Labor_Type": "labour_type",
    "ageCategories": "age_band",
    "isForcedLabour": "yes_no",
}


def test_ctdc_values_resolve_to_enum_codes(schema: Schema) -> None:
    path = _shared("ctdc_trafficking_derived", "trafficking_cleaned.csv")
    distinct = _distinct(path, list(CTDC_COLUMNS))
    unresolved = {
        (column, raw)
        for column, enum_name in CTDC_COLUMNS.items()
        for raw in distinct[column]
        if _resolve(schema, enum_name, raw) is None
    }
    assert not unresolved, f"CTDC values with no enum code: {sorted(unresolved)}"


def test_ctdc_spot_values(schema: Schema) -> None:
    _shared("ctdc_trafficking_derived", "trafficking_cleaned.csv")
    assert _resolve(schema, "exploitation_type", "Forced Labor") == "forced_labour"
    assert _resolve(schema, "recruiter_relation", "Not Specified") == "unknown"
    assert _resolve(schema, "recruiter_relation", "Family/Relative") == "family"
    assert _resolve(schema, "labour_type", "Unknown") == "not_specified"
    assert _resolve(schema, "age_band", "Age 48+") == "age_48_plus"
    assert _resolve(schema, "yes_no", "-99") == "unknown"


def test_bts_measures_resolve(schema: Schema) -> None:
    path = _shared("border_crossing", "border_crossing_entry_data_us_mexico.csv.gz")
    measures = _distinct(path, ["Measure"])["Measure"]
    assert {m for m in measures if _resolve(schema, "crossing_measure", m) is None} == set()


def test_cbp_seizure_values_resolve(schema: Schema) -> None:
    columns = {"Drug Type": "drug", "Component": "agency_component", "Region": "border_region"}
    columns_mode = {"Land Filter": "transport_mode"}
    unresolved = set()
    for name in ("nationwide-drugs-fy19-fy22.csv", "amo-drug-seizures-fy19-fy22.csv"):
        distinct = _distinct(_shared("cbp_drug_seizures", name), [*columns, *columns_mode])
        for column, enum_name in {**columns, **columns_mode}.items():
            unresolved |= {(column, v) for v in distinct[column] if _resolve(schema, enum_name, v) is None}
    assert not unresolved, sorted(unresolved)


# --- describe -----------------------------------------------------------------------------------


def test_describe_types_headers_follow_the_language(schema: Schema) -> None:
    assert [c.header for c in describe_types(schema, "es").columns] == [
        "Nombre",
        "Clase",
        "Etiqueta",
        "Propiedades",
    ]
    assert [c.header for c in describe_types(schema, "en").columns] == ["Name", "Kind", "Label", "Properties"]


def test_describe_types_lists_every_concrete_type_in_spanish(schema: Schema) -> None:
    text = _render(describe_types(schema, "es"))
    assert "Tipos del esquema" in text
    for stype in schema.concrete():
        assert stype.name in text
        assert stype.label.es in text
    assert "Thing" not in text.split()  # abstract types are not listed
    for kind in ("entidad", "evento", "relación"):
        assert kind in text


def test_describe_type_in_spanish(schema: Schema) -> None:
    text = _render(describe_type(schema, "TraffickingCase", "es"))
    for header in ("Propiedad", "Etiqueta", "Tipo", "Múltiple", "Obligatoria", "Protegida", "Código"):
        assert header in text
    for english in ("Required", "Protected", "Multiple", "Code"):
        assert english not in text
    assert "Servidumbre por deudas" in text  # enum values labelled in Spanish
    assert "Caso de trata" in text
    assert "enumeración" in text


def test_describe_type_in_english_shows_edge_and_values(schema: Schema) -> None:
    text = _render(describe_type(schema, "FamilyOf", "en"))
    for fragment in ("person — relative", "undirected", "Required", "kinship", "Co-parent"):
        assert fragment in text


def test_describe_unknown_type_lists_the_known_ones(schema: Schema) -> None:
    with pytest.raises(KeyError, match="Person"):
        describe_type(schema, "Nobody", "es")


def test_schema_as_dict_is_json_and_round_trips(schema: Schema) -> None:
    data = schema_as_dict(schema)
    text = json.dumps(data, ensure_ascii=False)
    assert Schema.model_validate(json.loads(text)) == schema
    assert data["types"]["TraffickingCase"]["properties"]["victim"]["protected"] is True
    assert data["enums"]["gender"]["values"]["female"]["es"] == "Mujer"
