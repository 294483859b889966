"""What the pages and the API show of an entity, the counts per flow, and case lists — built from
``Guard`` reads only, so that both surfaces show exactly the same (redacted) picture."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cruce.schema.model import PropertyType, Schema, prop_label, type_label
from cruce.security import REDACTED, Guard, Principal
from cruce.security.guard import caption
from cruce.timeline import FLOW_CHOICES, Filters, Item, PartialDate, Timeline, entity_timeline
from cruce.timeline.axis import Axis, layout
from cruce.timeline.present import FLOW_LABELS, PRECISION_NOTES, when

# Which types make up each flow on the dashboard; the rest is shared (people, places, vehicles...).
FLOWS: dict[str, tuple[str, ...]] = {
    "firearms": ("FirearmPurchase", "FirearmRecovery", "Trace", "Firearm", "BackgroundCheckCount"),
    "drugs": ("DrugSeizure", "ViolenceEvent", "CrossingCount", "BorderCrossing"),
    "people": ("TraffickingCase", "Screening", "Recruited", "Exploited", "Tip"),
}
DATE_PROPS = ("date", "start_date", "opened_date", "received_at", "birth_date")


@dataclass(frozen=True)
class PropertyRow:
    prop: str
    label: str
    value: str
    display: str
    type: str
    link: str | None  # an entity id this value points at
    dataset: str
    source_file: str
    source_row: int
    import_id: str
    imported_at: datetime
    redacted: bool


@dataclass(frozen=True)
class Related:
    entity_id: str
    schema: str
    schema_label: str
    prop: str
    prop_label: str
    caption: str
    kind: str
    date: str | None
    direction: str  # "in": it points here; "out": this points at it


@dataclass(frozen=True)
class EntityView:
    id: str
    schema: str
    schema_label: str
    kind: str
    caption: str
    datasets: tuple[str, ...]
    rows: tuple[PropertyRow, ...]
    related: tuple[Related, ...]
    timeline: tuple[Related, ...]


def value_display(schema: Schema, type_name: str, prop: str, value: str, lang: str) -> str:
    """An enum code as its label in the reader's language; anything else as stored."""
    stype = schema.types.get(type_name)
    if value == REDACTED or stype is None or prop not in stype.properties:
        return value
    spec = stype.properties[prop]
    if spec.type is PropertyType.ENUM and spec.enum and spec.enum in schema.enums:
        code = schema.enums[spec.enum].values.get(value)
        return code.label(lang) if code else value
    return value


def entity_view(
    guard: Guard, principal: Principal, entity_id: str, lang: str, *, address: str | None = None
) -> EntityView | None:
    # the entity, what it points at and what points at it, read together (the access worked out once)
    found = guard.entity_with_links(principal, entity_id, address=address)
    if found is None:
        return None
    entity, targets = found.entity, found.targets
    schema = guard.schema
    stype = schema.types.get(entity.schema)

    def is_link(prop: str, value: str) -> bool:
        spec = stype.properties.get(prop) if stype else None
        return spec is not None and spec.type is PropertyType.ENTITY and value != REDACTED

    rows = []
    out: list[Related] = []
    for st in sorted(entity.statements, key=lambda s: (s.prop, s.dataset, s.source_row or 0)):
        spec = stype.properties.get(st.prop) if stype else None
        link = st.value if is_link(st.prop, st.value) else None
        display = value_display(schema, entity.schema, st.prop, st.value, lang)
        if link:
            target = targets.get(link)
            if target is None:
                link, display = None, REDACTED
            else:
                display = caption(target)
                out.append(
                    Related(
                        target.id, target.schema, type_label(schema, target.schema, lang), st.prop,
                        prop_label(schema, entity.schema, st.prop, lang), display,
                        schema.types[target.schema].kind if target.schema in schema.types else "entity",
                        _date_of(target.properties), "out",
                    )
                )  # fmt: skip
        rows.append(
            PropertyRow(
                st.prop, prop_label(schema, entity.schema, st.prop, lang), st.value, display,
                spec.type.value if spec else "text", link, st.dataset, Path(st.source_file).name,
                int(st.source_row or 0), st.import_id, st.first_seen, st.value == REDACTED,
            )
        )  # fmt: skip
    incoming = []
    for ref in found.references:
        date = _date_of(ref.entity.properties) if ref.entity else None
        incoming.append(
            Related(
                ref.entity_id, ref.schema, type_label(schema, ref.schema, lang), ref.prop,
                prop_label(schema, ref.schema, ref.prop, lang), ref.caption,
                schema.types[ref.schema].kind if ref.schema in schema.types else "entity", date, "in",
            )
        )  # fmt: skip
    related = tuple(out + incoming)
    timeline = [r for r in related if r.kind == "event" and r.date]
    own_date = _date_of(entity.properties)
    kind = stype.kind if stype else "entity"
    if kind == "event" and own_date:
        label = type_label(schema, entity.schema, lang)
        timeline.append(Related(entity.id, entity.schema, label, "", "", caption(entity), kind, own_date, "self"))
    timeline.sort(key=lambda r: (r.date or "", r.caption))
    return EntityView(
        entity.id,
        entity.schema,
        type_label(schema, entity.schema, lang),
        kind,
        caption(entity),
        tuple(entity.datasets),
        tuple(rows),
        related,
        tuple(timeline),
    )


def _date_of(properties: dict[str, list[str]]) -> str | None:
    for prop in DATE_PROPS:
        values = [v for v in properties.get(prop, []) if v and v != REDACTED]
        if values:
            return min(values)
    return None


def counts_by_flow(counts: dict[str, int]) -> dict[str, int]:
    flows = {flow: sum(counts.get(t, 0) for t in types) for flow, types in FLOWS.items()}
    in_flows = {t for types in FLOWS.values() for t in types}
    flows["shared"] = sum(n for t, n in counts.items() if t not in in_flows)
    return flows


def open_cases(guard: Guard, principal: Principal, limit: int = 10) -> list[tuple[str, str, str | None]]:
    """(id, caption, status) of Case entities not closed, in visible datasets."""
    cases = guard.entities(principal, "Case", limit=limit * 5)
    return [(c.id, caption(c), c.first("status")) for c in cases if c.first("status") != "closed"][:limit]


# -- the timeline (cruce.timeline) on the entity page and its own page ------------------------------
@dataclass(frozen=True)
class Chip:
    """One filter choice: its value in the query string, its label, whether it is on."""

    value: str
    label: str
    on: bool


@dataclass(frozen=True)
class TimelineRow:
    n: int
    item: Item
    when: str
    note: str  # "year only", "month only"
    flow_labels: tuple[str, ...]


@dataclass(frozen=True)
class TimelineView:
    entity_id: str
    timeline: Timeline
    axis: Axis | None
    rows: tuple[TimelineRow, ...]
    undated: tuple[TimelineRow, ...]
    types: tuple[Chip, ...]
    flows: tuple[Chip, ...]
    since: str
    until: str
    bad_dates: bool  # a date that is not one was given (and left out of the filters)
    lane_labels: dict[str, str]
    filtered: bool


def timeline_filters(params: Mapping[str, list[str]]) -> tuple[Filters, str, str, bool]:
    """The filters of a page's query string (``type``, ``flow``, ``since``, ``until``, as the API's)."""
    since, until = ((params.get(k) or [""])[0].strip()[:10] for k in ("since", "until"))
    since_date, until_date = PartialDate.bound(since), PartialDate.bound(until)
    bad = bool(since and not since_date) or bool(until and not until_date)
    flows = frozenset(f for f in params.get("flow", []) if f in FLOW_CHOICES)
    types = frozenset(t[:100] for t in params.get("type", [])[:50])
    return Filters(types, flows, since_date, until_date), since, until, bad


def timeline_view(
    guard: Guard, principal: Principal, entity_id: str, lang: str, tr: Callable[[str], str],
    params: Mapping[str, list[str]], *, address: str | None = None,
) -> TimelineView | None:  # fmt: skip
    """The entity's timeline (its resolved entity's every record) with the page's filters, its axis and chips."""
    filters, since, until, bad = timeline_filters(params)
    tl = entity_timeline(guard, principal, entity_id, lang=lang, filters=filters, address=address)
    if tl is None:
        return None
    flow_label = {f: tr(FLOW_LABELS[f]) for f in FLOW_CHOICES}

    def row(n: int, item: Item) -> TimelineRow:
        note = tr(PRECISION_NOTES[item.start.precision]) if item.start and not item.start.exact else ""
        return TimelineRow(n, item, when(item, lang), note, tuple(flow_label[f] for f in item.flows))

    rows = tuple(row(n, i) for n, i in enumerate(tl.items, 1))
    return TimelineView(
        tl.subject, tl, layout(tl.items, lang), rows,
        tuple(row(n, i) for n, i in enumerate(tl.undated, len(rows) + 1)),
        tuple(Chip(t, label, t in filters.types) for t, label in tl.types),
        tuple(Chip(f, flow_label[f], f in filters.flows) for f in FLOW_CHOICES if f in tl.flows),
        since, until, bad, flow_label, filters.active,
    )  # fmt: skip
