"""FollowTheMoney entities (Aleph, OpenSanctions, yente, nomenklatura) out of and into cruce.

One mapping table serves both ways (``TYPES``, ``RELATIONS``; docs/guide/graph.md#exchange).
FollowTheMoney has no firearm, phone or trafficking event, so the mapping is honest about it:

- a **firearm** goes out as an ``Asset`` (FtM's "thing of value") tagged with the keyword
  ``firearm``, its make, model, calibre and serial number in ``description``; only an Asset so
  tagged comes back as a Firearm;
- a **phone** is not an FtM entity but a property: its number is added to the ``phone`` of the
  people and organizations linked to it, and the phone node itself is not written;
- an **event** (purchase, recovery, trace, seizure, crossing…) goes out as an ``Event`` with its
  date, its place (``addressEntity``), the entities that took part (``involved``: FtM has no
  roles) and its cruce type in ``keywords``. Events are not imported: without roles, cruce
  could not tell a purchaser from a dealer;
- a **relation** goes out as the FtM interval that says the same (``Membership``, ``Family``,
  ``Associate``, ``Employment``, ``Ownership``), else as an ``UnknownLink`` whose ``role`` is the
  cruce relation type, which brings it back as that type on import.

Entities come from the selection's namer (``exchange.Selection``): a node the user may not see
is not written, and a protected person the user may not read is written with a redacted name and
nothing else.

Import reads a JSON Lines file of FtM entities, checks every line with FtM's model (a bad line
stops the import and names its line), writes a flat JSON Lines file beside a generated mapping
in a temporary folder and imports it through the ordinary pipeline (``import_file``): the same
normalisation, provenance (the file's name and line on every statement) and all-or-nothing
commit as any import, and a second import of the same file is recognised and skipped.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TextIO

from followthemoney import model as ftm_model
from followthemoney.exc import InvalidData

from cruce.graph import questions as q
from cruce.graph.exchange import ExchangeError, Selection
from cruce.graph.model import graph_model, snake
from cruce.graph.present import GuardNamer, StoreNamer
from cruce.i18n import _
from cruce.ingest.compile import _is_a
from cruce.ingest.mapping import EntitySpec, Mapping, PropertySpec
from cruce.ingest.pipeline import ImportResult, import_file
from cruce.schema.loader import default_schema
from cruce.security.policy import REDACTED
from cruce.store.base import Entity, Store

_COMMON = {"name": "name", "alias": "alias", "description": "description", "country": "country", "notes": "notes",
           "source_url": "sourceUrl"}  # fmt: skip
_PARTY = {**_COMMON, "email": "email", "phone": "phone", "address": "address", "tax_id": "taxNumber",
          "website": "website"}  # fmt: skip

TYPES: dict[str, tuple[str, dict[str, str]]] = {
    "Person": ("Person", {
        **_PARTY, "first_name": "firstName", "last_name": "lastName", "second_last_name": "motherName",
        "birth_date": "birthDate", "birth_place": "birthPlace", "gender": "gender", "nationality": "nationality",
        "id_number": "idNumber", "passport_number": "passportNumber", "occupation": "position",
    }),
    "Organization": ("Organization", {
        **_PARTY, "registration_number": "registrationNumber", "founded_date": "incorporationDate",
        "dissolved_date": "dissolutionDate",
    }),
    "Location": ("Address", {
        **_COMMON, "address": "full", "locality": "city", "state": "region", "postal_code": "postalCode",
    }),
    "Vehicle": ("Vehicle", {**_COMMON, "plate": "registrationNumber", "vehicle_type": "type", "model": "model"}),
    "Account": ("BankAccount", {
        **_COMMON, "number": "accountNumber", "institution": "bankName", "account_type": "accountType",
        "currency": "currency",
    }),
    "Document": ("Document", {
        **_COMMON, "title": "title", "body_text": "bodyText", "published_date": "publishedAt", "author": "author",
        "publisher": "publisher",
    }),
    "Case": ("CourtCase", {
        **_COMMON, "case_number": "caseNumber", "status": "status", "opened_date": "fileDate",
        "closed_date": "closeDate",
    }),
    "Firearm": ("Asset", dict(_COMMON)),
    "Tip": ("Note", {**_COMMON, "text": "description"}),
}  # fmt: skip
"""cruce type → (FtM schema, cruce property → FtM property); the other properties are not written."""

IMPORT_SCHEMATA = {
    "Person": "Person", "Organization": "Organization", "Company": "Organization", "LegalEntity": "Organization",
    "PublicBody": "Organization", "Address": "Location", "Vehicle": "Vehicle", "BankAccount": "Account",
    "Document": "Document", "Article": "Document", "CourtCase": "Case", "Asset": "Firearm",
}  # fmt: skip
"""FtM schema → cruce type on import (an ``Asset`` only with the keyword ``firearm``)."""

FIREARM_KEYWORD = "firearm"

RELATIONS: dict[str, tuple[str, str, str]] = {
    "MemberOf": ("Membership", "member", "organization"),
    "Leads": ("Membership", "member", "organization"),
    "FamilyOf": ("Family", "person", "relative"),
    "AssociateOf": ("Associate", "person", "associate"),
    "EmployedBy": ("Employment", "employee", "employer"),
    "Owns": ("Ownership", "owner", "asset"),
}  # fmt: skip
"""cruce relation → (FtM interval, its source property, its target property); every other
relation is an ``UnknownLink`` (``subject``, ``object``, ``role`` = the cruce type)."""

IMPORT_RELATIONS = {"Membership": "MemberOf", "Family": "FamilyOf", "Associate": "AssociateOf",
                    "Employment": "EmployedBy", "Ownership": "Owns"}  # fmt: skip

EVENT_PLACE = "place"


# -- export --------------------------------------------------------------------------------------------
def _entities(sel: Selection, namer: Any, include_protected: bool) -> dict[int, Entity]:
    """The selection's entities as the namer's user may see them (redacted by the guard for the API)."""
    g = sel.graph
    ids = {g.id_of(i): i for i in sel.nodes}
    if isinstance(namer, GuardNamer):
        found = namer.guard.entities_by_id(namer.principal, list(ids), access=namer.access, address=namer.address)
    elif isinstance(namer, StoreNamer):
        found = namer._entities(list(ids))
        if not include_protected:
            schema = default_schema()
            for entity in found.values():
                props = schema.types[entity.schema].properties
                entity.properties = {p: v for p, v in entity.properties.items() if p in props
                                     and not props[p].protected}  # fmt: skip
    else:  # pragma: no cover - the two namers are the only ones
        raise ExchangeError(type(namer).__name__)
    return {ids[eid]: e for eid, e in found.items()}


def _proxy(schema: str, eid: str) -> Any:
    proxy = ftm_model.make_entity(schema)
    proxy.id = eid
    return proxy


def _firearm_description(entity: Entity) -> str:
    parts = [f"{p}: {v[0]}" for p in ("manufacturer", "model", "caliber", "firearm_type", "serial_number")
             if (v := entity.properties.get(p))]  # fmt: skip
    return "; ".join(parts)


def _node(sel: Selection, i: int, entity: Entity | None, events: set[int]) -> Any | None:
    g = sel.graph
    cruce_type, eid, label = g.schema_of(i), g.id_of(i), sel.labels[i]
    if cruce_type in TYPES:
        schema, props = TYPES[cruce_type]
    elif i in events:
        schema, props = "Event", {**_COMMON, "date": "date", "end_date": "endDate", "summary": "summary"}
    else:
        return None
    proxy = _proxy(schema, eid)
    if label.caption == REDACTED or entity is None:
        proxy.add("name", label.caption, quiet=True)
        return proxy
    for prop, target in props.items():
        for value in entity.properties.get(prop, []):
            proxy.add(target, value, quiet=True, cleaned=False)
    if not proxy.get("name"):
        proxy.add("name", label.caption, quiet=True)
    if cruce_type == "Firearm":
        proxy.add("keywords", FIREARM_KEYWORD)
        if text := _firearm_description(entity):
            proxy.add("description", text, quiet=True)
    if schema == "Event":
        proxy.add("keywords", cruce_type)
    return proxy


def ftm_entities(sel: Selection, namer: Any, include_protected: bool = False) -> Iterator[dict[str, Any]]:
    """The selection as FtM entities: its nodes, then a link entity for each relation and reference."""
    g = sel.graph
    entities = _entities(sel, namer, include_protected)
    event_types = graph_model().event_types - set(TYPES)
    events = {i for i in sel.nodes if g.schema_of(i) in event_types}
    proxies = {i: p for i in sel.nodes if (p := _node(sel, i, entities.get(i), events)) is not None}
    links = []
    for e in sel.edges:
        s, t, kind = int(g.src[e]), int(g.dst[e]), g.etypes[int(g.etype[e])]
        if g.schema_of(s) == "Phone" or g.schema_of(t) == "Phone":
            phone, party = (s, t) if g.schema_of(s) == "Phone" else (t, s)
            redacted = sel.labels[party].caption == REDACTED if party in sel.labels else True
            if party in proxies and proxies[party].schema.is_a("LegalEntity") and not redacted:
                number = (entities.get(phone) or Entity("", "")).properties.get("number", [])
                for value in number:
                    proxies[party].add("phone", value, quiet=True)
            continue
        if s not in proxies or t not in proxies:
            continue
        if s in events and kind == EVENT_PLACE:
            proxies[s].add("addressEntity", g.id_of(t))
        elif s in events:
            proxies[s].add("involved", g.id_of(t))
        else:
            links.append(_link(sel, e, kind, g.id_of(s), g.id_of(t)))
    for proxy in proxies.values():
        yield proxy.to_dict()
    yield from links


def _link(sel: Selection, e: int, kind: str, source: str, target: str) -> dict[str, Any]:
    relation = next((name for name in RELATIONS if snake(name) == kind), None)
    schema, sprop, tprop = RELATIONS[relation] if relation else ("UnknownLink", "subject", "object")
    proxy = _proxy(schema, sel.edge_id(e))
    proxy.add(sprop, source)
    proxy.add(tprop, target)
    first, last = q.edge_span(sel.graph, e)
    proxy.add("startDate", first, quiet=True)
    proxy.add("endDate", last, quiet=True)
    if relation == "Leads":
        proxy.add("role", "leader")
    elif relation is None:
        proxy.add("role", _camel(kind))
    return proxy.to_dict()  # type: ignore[no-any-return]


def _camel(kind: str) -> str:
    """``allied_with`` → ``AlliedWith`` (a relation's cruce type), other edge names as they are."""
    return _relation_names().get(kind, kind)


@cache
def _relation_names() -> dict[str, str]:
    return {snake(name): name for name, t in default_schema().types.items() if t.kind == "relation"}


def write_ftm(sel: Selection, namer: Any, out: TextIO, include_protected: bool = False) -> int:
    count = 0
    for data in ftm_entities(sel, namer, include_protected):
        out.write(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


# -- import --------------------------------------------------------------------------------------------
@dataclass
class FtmImport:
    """What an FtM import did: the pipeline's result and what FollowTheMoney had that cruce cannot hold."""

    result: ImportResult | None
    entities: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def _reverse(cruce_type: str) -> dict[str, str]:
    return {ftm: prop for prop, ftm in TYPES[cruce_type][1].items()}


def _target_type(proxy: Any) -> str | None:
    """The cruce type an FtM entity becomes, or None (it is skipped)."""
    name = proxy.schema.name
    if name in IMPORT_RELATIONS:
        return IMPORT_RELATIONS[name]
    if name == "UnknownLink":
        role = next(iter(proxy.get("role")), "")
        types = default_schema().types
        return role if role in types and types[role].kind == "relation" else None
    if name == "Asset" and FIREARM_KEYWORD not in proxy.get("keywords"):
        return None
    return IMPORT_SCHEMATA.get(name)


def _ends(cruce_type: str, ftm_schema: str) -> dict[str, str]:
    """FtM end property → cruce end property of a relation."""
    edge = default_schema().types[cruce_type].edge
    assert edge is not None
    sprop, tprop = RELATIONS[cruce_type][1:] if ftm_schema != "UnknownLink" else ("subject", "object")
    return {sprop: edge.source, tprop: edge.target}


@dataclass(frozen=True)
class _Row:
    """One FtM entity as a flat record for the mapping, and the mapping entity that reads it."""

    variant: str  # the cruce type, or "<relation>-<source type>-<target type>"
    values: dict[str, str]
    ends: tuple[tuple[str, str], ...] = ()  # a relation's (end property, type of the entity there)


def _values(proxy: Any, ftm_prop: str) -> list[str]:
    return [str(v) for v in proxy.get(ftm_prop, quiet=True)]


def _flat_row(proxy: Any, cruce_type: str, known: dict[str, str]) -> _Row | None:
    """``ftm_id``, ``is_<variant>``, ``<Type>__<prop>`` (values joined by ``SEP``); None when a
    relation's end is not an entity of the file that the relation may hold."""
    schema = default_schema()
    stype = schema.types[cruce_type]
    values = {"ftm_id": str(proxy.id)}
    ends = []
    if stype.kind == "relation":
        for ftm_prop, prop in _ends(cruce_type, proxy.schema.name).items():
            found = _values(proxy, ftm_prop)
            target = known.get(found[0]) if found else None
            if target is None or not _is_a(schema, target, stype.properties[prop].range or "Thing"):
                return None
            values[f"{cruce_type}__{prop}"] = found[0]
            ends.append((prop, target))
        pairs = {"startDate": "start_date", "endDate": "end_date", "summary": "summary", "sourceUrl": "source_url"}
        if proxy.schema.name != "UnknownLink":
            pairs["role"] = "role"
    else:
        pairs = _reverse(cruce_type)
    for ftm_prop, prop in pairs.items():
        found = _values(proxy, ftm_prop)
        if found and prop in stype.properties:
            values[f"{cruce_type}__{prop}"] = SEP.join(found) if stype.properties[prop].multiple else found[0]
    variant = "-".join([cruce_type, *(t for _p, t in ends)])
    values[f"is_{variant}"] = "1"
    return _Row(variant, values, tuple(ends))


SEP = "\x1e"
KEY_PREFIX = "ftm"


def _spec(schema: str, key: str, only_if: list[str], props: dict[str, PropertySpec]) -> EntitySpec:
    data = {"schema": schema, "key": [key], "key_prefix": KEY_PREFIX, "only_if": only_if, "properties": props}
    return EntitySpec.model_validate(data)


def _mapping(name: str, dataset: str, variants: dict[str, _Row], columns: dict[str, set[str]]) -> Mapping:
    """One mapping entity per variant met, made only in its rows, keyed by the FtM id; a relation's
    ends are entities of their own in its rows, keyed by the FtM id they name (so the same ids)."""
    schema = default_schema()
    entities: dict[str, EntitySpec] = {}
    for variant, row in sorted(variants.items()):
        cruce_type = variant.split("-", 1)[0]
        stype = schema.types[cruce_type]
        flag = f"is_{variant}"
        name = variant.lower().replace("-", "_")
        props = {
            p: PropertySpec(column=f"{cruce_type}__{p}", split=SEP if stype.properties[p].multiple else None)
            for p in sorted(columns[cruce_type]) if p not in dict(row.ends)
        }  # fmt: skip
        for prop, target in row.ends:
            column = f"{cruce_type}__{prop}"
            entities[f"{name}_{prop}"] = _spec(target, column, [flag, column], {})
            props[prop] = PropertySpec(entity=f"{name}_{prop}")
        entities[name] = _spec(cruce_type, "ftm_id", [flag], props)
    return Mapping(name=name, dataset=dataset, description="FollowTheMoney entities", entities=entities)


def read_ftm(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, FtM entity) for every line; a line that is not an FtM entity stops with its number."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                yield number, None
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict) or not data.get("id") or not data.get("schema"):
                    raise InvalidData("an entity needs an 'id' and a 'schema'")
                proxy = ftm_model.get_proxy(data, cleaned=False)
            except (ValueError, InvalidData, TypeError) as exc:
                raise ExchangeError(
                    _("{file}, line {line}: not a FollowTheMoney entity ({reason})").format(
                        file=path.name, line=number, reason=str(exc)[:200]
                    )
                ) from None
            yield number, proxy


def import_ftm(store: Store, path: Path, dataset: str, *, force: bool = False) -> FtmImport:
    """Import a FollowTheMoney JSON Lines file into ``dataset`` through the import pipeline."""
    path = Path(path)
    done = FtmImport(None)
    known = {  # every line is checked before anything is written; the types of the entities named
        str(proxy.id): t
        for _n, proxy in read_ftm(path)
        if proxy is not None and (t := _target_type(proxy)) and default_schema().types[t].kind != "relation"
    }
    variants: dict[str, _Row] = {}
    columns: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory(prefix="cruce-ftm-") as folder:
        flat = Path(folder) / (path.name if path.name.endswith(".jsonl") else f"{path.name}.jsonl")
        with flat.open("w", encoding="utf-8") as out:
            for _number, proxy in read_ftm(path):
                cruce_type = _target_type(proxy) if proxy is not None else None
                row = _flat_row(proxy, cruce_type, known) if cruce_type else None
                if row is None:
                    if proxy is not None:
                        done.skipped[proxy.schema.name] += 1
                    out.write("{}\n")  # one row a line, so that a statement's row is the file's line
                    continue
                variants.setdefault(row.variant, row)
                props = columns.setdefault(row.variant.split("-", 1)[0], set())
                props.update(k.split("__", 1)[1] for k in row.values if "__" in k)
                out.write(json.dumps(row.values, ensure_ascii=False) + "\n")
                done.entities += 1
        if not variants:
            raise ExchangeError(_("{file}: no entity that cruce can hold.").format(file=path.name))
        mapping = _mapping(f"ftm-{path.name}", dataset, variants, columns)
        done.result = import_file(store, flat, mapping, dataset=dataset, force=force)
    return done
