"""The timeline of a set of entities, read for one principal through ``Guard``.

A set is an entity with the other records of its resolved cluster, or (later) a case's entities.
What is on it:

- the events and relations whose entity-reference properties name one of the records (a purchase
  naming the buyer, a recovery naming the gun, a recruitment naming the recruiter);
- the events a record names itself (a trace's recovery), and a record that is an event itself;
- the tips and documents written from the same source row as a record (the person a tip reports);
- the records' own dates (born, founded, opened).

The store's link index (``entity_ref``) and resolution tables say which records to read; every
record shown is read through ``Guard.entities_by_id``: what the principal may not see is left
out, protected values come redacted, and each disclosure of one is audited by the guard.

Protected people (victims, people screened) stay protected: when the set holds one whose name the
principal may not read, only the items recorded in datasets of the principal's caseload are kept,
whatever the other records of the cluster — a victim merged with a named traveller must not
have the traveller's crossings shown beside the victim's redacted name.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from cruce.resolve.store import ResolutionStore
from cruce.schema.model import Schema, prop_label, type_label
from cruce.security import REDACTED, Guard, Principal
from cruce.security.guard import Access, caption
from cruce.store.base import Entity
from cruce.timeline.dates import PartialDate
from cruce.timeline.model import (
    END_PROPS,
    START_PROPS,
    Filters,
    Item,
    OtherDate,
    Party,
    Source,
    Timeline,
    TimelineModel,
    timeline_model,
)

MAX_LINKED = 5_000
"""The most records linked to a timeline's entities that are read (the most recently imported)."""


@dataclass(frozen=True)
class _Link:
    """A record pointing at one of the set: (record, the one it names, by which property, in which dataset)."""

    record: str
    target: str
    schema: str
    prop: str
    protected: bool
    dataset: str
    import_no: int = 0


def _uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(str(text)))
    except ValueError:
        return None


def cluster_members(guard: Guard, entity_id: str) -> tuple[str | None, list[str]]:
    """(canonical id, every record of its cluster) of a record; (None, [record]) if never resolved."""
    resolution = ResolutionStore(guard.store)
    found = resolution.canonical_of(entity_id)
    if found is None:
        return None, [entity_id]
    members = resolution.members(found[0])
    return found[0], members if entity_id in members else [entity_id, *members]


def entity_timeline(
    guard: Guard,
    principal: Principal,
    entity_id: str,
    *,
    lang: str = "en",
    filters: Filters | None = None,
    cluster: bool = True,
    address: str | None = None,
    access: Access | None = None,
) -> Timeline | None:
    """The timeline of an entity (with its cluster's records unless ``cluster`` is off); None if not visible."""
    record = _uuid(entity_id)
    if record is None:
        return None
    canonical, members = cluster_members(guard, record) if cluster else (None, [record])
    return timeline_of(
        guard, principal, members, subject=record, canonical=canonical, lang=lang, filters=filters,
        address=address, access=access,
    )  # fmt: skip


def timeline_of(
    guard: Guard,
    principal: Principal,
    entity_ids: Iterable[str],
    *,
    subject: str | None = None,
    canonical: str | None = None,
    lang: str = "en",
    filters: Filters | None = None,
    address: str | None = None,
    access: Access | None = None,
) -> Timeline | None:
    """The timeline of a set of records (a case's entities: pass them all); None if ``subject`` is not visible."""
    access = access or guard.access(principal)
    ids = list(dict.fromkeys(i for i in (_uuid(e) for e in entity_ids) if i))
    members = guard.entities_by_id(principal, ids, access=access, address=address)
    if subject is not None and subject not in members:
        return None
    reader = _Reader(guard, principal, access, address, lang, timeline_model(guard.schema))
    items = reader.items(members)
    timeline = _assemble(subject or (ids[0] if ids else ""), members, canonical, items, filters or Filters())
    return replace(timeline, left_out=reader.left_out)


def _assemble(
    subject: str, members: dict[str, Entity], canonical: str | None, items: list[Item], filters: Filters
) -> Timeline:
    """Filtered and ordered; the types and flows found are those before filtering (the choices to offer)."""
    types = sorted({(i.schema, i.type_label) for i in items}, key=lambda t: t[1].lower())
    flows = sorted({f for i in items for f in i.flows})
    kept = [i for i in items if filters.keeps_kind(i.schema, i.flows) and filters.keeps_dates(i.start, i.end)]
    kept.sort(key=Item.sort_key)
    return Timeline(
        subject, tuple(members), canonical, tuple(i for i in kept if i.start is not None),
        tuple(i for i in kept if i.start is None), tuple(types), tuple(flows),
        caption(members[subject]) if subject in members else "",
    )  # fmt: skip


class _Reader:
    """One timeline's reads: links to the set, the records behind them and the entities they name."""

    def __init__(
        self, guard: Guard, principal: Principal, access: Access, address: str | None, lang: str, model: TimelineModel
    ) -> None:
        self.guard, self.principal, self.access, self.address = guard, principal, access, address
        self.lang, self.model = lang, model
        self.schema: Schema = guard.schema
        self.left_out = 0  # records linked to the set that were not read (``_capped``)

    def _shown(self, ids: Iterable[str]) -> dict[str, Entity]:
        return self.guard.entities_by_id(self.principal, list(ids), access=self.access, address=self.address)

    # -- what to read ---------------------------------------------------------------------------
    def _links_to(self, ids: list[str]) -> list[_Link]:
        """Items pointing at the set, and protected links whatever their type (they make a protected person)."""
        types = self.model.item_types
        return [
            _Link(lk.source, lk.target, lk.schema, lk.prop, lk.protected, lk.dataset, lk.import_no)
            for lk in self.guard.references_to(ids)
            if lk.dataset is not None and (lk.protected or lk.schema in types)
        ]

    def _mentions(self, members: dict[str, Entity]) -> dict[str, set[str]]:
        """Tips and documents written from the same source row as a record: anchor -> the records."""
        rows_of: dict[tuple[str, int], set[str]] = defaultdict(set)
        for entity in members.values():
            for st in entity.statements:
                if st.source_row:
                    rows_of[(st.import_id, int(st.source_row))].add(entity.id)
        if not rows_of:
            return {}
        found: dict[str, set[str]] = defaultdict(set)
        anchors = self.model.anchor_types
        props = sorted(n for n, (schema, _p) in self.guard.property_names().items() if schema in anchors)
        by_import: dict[str, list[int]] = defaultdict(list)
        for import_id, row in rows_of:
            by_import[import_id].append(row)
        for import_id, rows in sorted(by_import.items()):
            number = self.guard.import_number(import_id)
            if number is None or not props:
                continue
            rows = sorted(set(rows))[:1000]
            hits = self.guard.db.fetch(  # no join: the import's rows are together, and DuckDB skips the others
                "SELECT DISTINCT CAST(entity_id AS VARCHAR), source_row FROM statement "
                f"WHERE import_no = ? AND prop_id IN ({','.join('?' for _ in props)}) "
                f"AND source_row IN ({','.join('?' for _ in rows)})",
                (number, *props, *rows),
            )
            for anchor, row in hits:
                found[str(anchor)] |= rows_of[(import_id, int(row))]
        return found

    # -- the items ------------------------------------------------------------------------------
    def items(self, members: dict[str, Entity]) -> list[Item]:
        links = self._links_to(sorted(members))
        protected_members = {link.target for link in links if link.protected}
        restricted = any(
            m in protected_members and not set(members[m].datasets) <= self.access.caseload for m in members
        )
        links = [lk for lk in links if lk.schema in self.model.item_types and lk.dataset in self.access.visible]
        if restricted:  # a protected person the principal may not name: only what their caseload holds
            links = [lk for lk in links if lk.dataset in self.access.caseload]
        links = self._capped(links)
        roles: dict[str, dict[str, str]] = defaultdict(dict)  # record -> {subject member: property}
        for lk in links:
            roles[lk.record].setdefault(lk.target, lk.prop)
        mentions = self._mentions(members)
        records = self._item_records(members, set(roles) | set(mentions), restricted)
        parties = self._parties(records.values())
        items: list[Item] = []
        for rid, entity in records.items():
            kind = self._kind(entity, rid in mentions and rid not in roles and rid not in members)
            subject_roles = dict(roles.get(rid, {}))
            for mentioned in mentions.get(rid, ()):
                subject_roles.setdefault(mentioned, "")
            items.append(self._item(entity, kind, subject_roles, parties, set(members)))
        dated = [
            m for m in members.values()
            if m.schema not in self.model.item_types
            and not (restricted and not set(m.datasets) <= self.access.caseload)
        ]  # fmt: skip
        return items + self._milestones(dated)

    def _capped(self, links: list[_Link]) -> list[_Link]:
        """At most ``MAX_LINKED`` records, the most recently imported: a dealer with fifty thousand
        sales would otherwise be read whole for a page that shows a few (``left_out`` says how many
        were not read)."""
        newest: dict[str, int] = {}
        for lk in links:
            newest[lk.record] = max(newest.get(lk.record, 0), lk.import_no)
        if len(newest) <= MAX_LINKED:
            return links
        kept = set(sorted(newest, key=lambda r: (-newest[r], r))[:MAX_LINKED])
        self.left_out = len(newest) - len(kept)
        return [lk for lk in links if lk.record in kept]

    def _item_records(self, members: dict[str, Entity], linked: set[str], restricted: bool) -> dict[str, Entity]:
        """The records that are items: those linked to the set, those it names, and members that are events."""
        named = _named(self.model, members.values())
        records = self._shown(sorted((linked | named) - set(members)))
        records.update(members)
        found = {rid: e for rid, e in records.items() if e.schema in self.model.item_types}
        if restricted:
            found = {rid: e for rid, e in found.items() if set(e.datasets) <= self.access.caseload}
        return self._without_told_relations(found)

    def _kind(self, entity: Entity, mention: bool) -> str:
        if mention:
            return "mention"
        return "relation" if entity.schema in self.model.relation_types else "event"

    def _without_told_relations(self, records: dict[str, Entity]) -> dict[str, Entity]:
        """A relation that names an event on the timeline (a crossing's CrossedAt) tells it twice: left out."""
        kept = {}
        for rid, entity in records.items():
            if entity.schema in self.model.relation_types:
                props = self.model.entity_props.get(entity.schema, ())
                named = {v for p in props for v in entity.properties.get(p, [])}
                if any(n in records and records[n].schema not in self.model.relation_types for n in named):
                    continue
            kept[rid] = entity
        return kept

    def _parties(self, records: Iterable[Entity]) -> dict[str, Entity]:
        return self._shown(sorted(_named(self.model, records)))

    def _item(
        self, entity: Entity, kind: str, subject_roles: dict[str, str], parties: dict[str, Entity], subject: set[str]
    ) -> Item:
        schema = self.schema
        kind_label = type_label(schema, entity.schema, self.lang)
        start, end, others = self._dates(entity)
        shown = []
        for prop in self.model.entity_props.get(entity.schema, ()):
            for value in entity.properties.get(prop, []):
                party = parties.get(value)
                if party is None:
                    continue
                role = prop_label(schema, entity.schema, prop, self.lang)
                shown.append(Party(party.id, party.schema, caption(party), prop, role, party.id in subject))
        role_words = sorted({prop_label(schema, entity.schema, p, self.lang) for p in subject_roles.values() if p})
        label = self._label(entity, kind_label, {p.role: p.caption for p in reversed(shown)})
        return Item(
            entity.id, kind, entity.schema, kind_label, caption(entity), label, start, end,
            self.model.flows_of(entity.schema, entity.properties.get("flow", [])), tuple(role_words), tuple(shown),
            _sources(entity), tuple(others), _place(entity),
        )  # fmt: skip

    def _label(self, entity: Entity, type_label: str, party_of: dict[str, str]) -> str:
        """ "Firearm purchase: P00001"; a relation as a sentence: "Juan Pérez member of Cártel del Golfo"."""
        stype = self.schema.types.get(entity.schema)
        edge = stype.edge if stype else None
        if edge is not None and edge.source in party_of and edge.target in party_of:
            return f"{party_of[edge.source]} {edge.label.get(self.lang)} {party_of[edge.target]}"
        name = caption(entity)
        return f"{type_label}: {name}" if name != entity.schema else type_label

    def _dates(self, entity: Entity) -> tuple[PartialDate | None, PartialDate | None, list[OtherDate]]:
        props = self.model.time_props.get(entity.schema, ())
        values = {p: _parsed(entity.properties.get(p, [])) for p in props}
        start_prop = next((p for p in START_PROPS if values.get(p)), None)
        start = min(values[start_prop], key=_first) if start_prop else None
        end_prop = next((p for p in END_PROPS if values.get(p)), None)
        end = max(values[end_prop], key=_last) if end_prop else None
        others = [
            OtherDate(p, prop_label(self.schema, entity.schema, p, self.lang), d)
            for p in props if p not in (start_prop, end_prop) for d in values[p]
        ]  # fmt: skip
        if start is None and others:  # no "when" property: the earliest of its other dates
            first = min(others, key=lambda o: _first(o.date))
            start, others = first.date, [o for o in others if o is not first]
        return start, end, sorted(others, key=lambda o: (_first(o.date), o.prop))

    def _milestones(self, members: list[Entity]) -> list[Item]:
        """The records' own dates (born, founded, opened): one item per type, property and value, however
        many records of the cluster give it (with each of them as a party and a source)."""
        found: dict[tuple[str, str, str], list[Entity]] = defaultdict(list)
        for member in members:
            for prop in self.model.own_dates.get(member.schema, ()):
                for value in dict.fromkeys(member.properties.get(prop, [])):
                    if PartialDate.parse(value) is not None:  # not a date, or redacted
                        found[(member.schema, prop, value)].append(member)
        return [self._milestone(schema, prop, value, having) for (schema, prop, value), having in found.items()]

    def _milestone(self, schema: str, prop: str, value: str, having: list[Entity]) -> Item:
        when = PartialDate.parse(value)
        first = having[0]
        label = prop_label(self.schema, schema, prop, self.lang)
        sources = sorted(
            {_source(st.dataset, st.source_file, st.source_row, st.import_id)
             for m in having for st in m.statements if st.prop == prop and st.value == value},
            key=lambda s: (s.dataset, s.file, s.row or 0),
        )  # fmt: skip
        parties = tuple(Party(m.id, m.schema, caption(m), prop, label, True) for m in having)
        return Item(
            first.id, "milestone", schema, type_label(self.schema, schema, self.lang), caption(first),
            f"{label}: {caption(first)}", when, None, self.model.flows_of(schema, first.properties.get("flow", [])),
            (), parties, tuple(sources), prop=prop,
        )  # fmt: skip


def _named(model: TimelineModel, records: Iterable[Entity]) -> set[str]:
    """The ids the records' entity-reference properties hold (redacted ones aside)."""
    return {
        v for e in records for p in model.entity_props.get(e.schema, ()) for v in e.properties.get(p, [])
        if v != REDACTED
    }  # fmt: skip


def _parsed(values: list[str]) -> list[PartialDate]:
    return [d for d in (PartialDate.parse(v) for v in values) if d is not None]


def _first(d: PartialDate) -> tuple[object, ...]:
    return (d.first, d.last, d.text)


def _last(d: PartialDate) -> tuple[object, ...]:
    return (d.last, d.first, d.text)


def _source(dataset: str, file: str, row: int | None, import_id: str) -> Source:
    return Source(dataset, Path(file).name, int(row) if row else None, import_id)


def _sources(entity: Entity) -> tuple[Source, ...]:
    found = (_source(st.dataset, st.source_file, st.source_row, st.import_id) for st in entity.statements)
    return tuple(sorted(set(found), key=lambda s: (s.dataset, s.file, s.row or 0)))


def _place(entity: Entity) -> str | None:
    parts = [v for p in ("municipality", "state") for v in entity.properties.get(p, [])[:1] if v != REDACTED]
    return ", ".join(parts) or None
