"""A briefing: what a report says about an investigation case or an entity, read for one reader.

Everything in it is read through ``Guard`` for the reader (``Desk`` for a case): records they may
not see are left out and counted, protected values (victims' and tipsters' identities) come
redacted unless their role allows them. Each figure carries the records behind it (dataset, file,
row). The marking printed on every page is the highest of the case's own and of the datasets
whose records the briefing shows, so a briefing never travels under a lower marking than its
sources. The language is the report's own, chosen per report, whatever the reader's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cruce.graph import explorer, service
from cruce.graph.graph import open_graph, view_for
from cruce.graph.present import GuardNamer
from cruce.graph.questions import GraphQuestionError
from cruce.i18n import catalog
from cruce.investigations.access import Desk, Opened
from cruce.reports.figures import BarFigure, MapFigure, NetworkFigure, bar_figure, map_figure, network_figure
from cruce.schema.model import PropertyType, prop_label, type_label
from cruce.security import REDACTED, Guard, Principal
from cruce.security.audit import now
from cruce.security.guard import Access, caption
from cruce.security.policy import Marking
from cruce.store.base import Entity
from cruce.timeline import Item, Timeline, timeline_of
from cruce.timeline.axis import Axis, layout
from cruce.timeline.present import when

KEY_ENTITIES = 12
"""Identity blocks: the best connected of the case's entities (people and organizations first)."""
MAX_SOURCES = 3
"""Records named for one link, one place or one event (the count says how many more)."""
MAX_TIMELINE = 200
ORDER = {Marking.CLEAR: 0, Marking.GREEN: 1, Marking.AMBER: 2, Marking.RED: 3}
IDENTITY_FIRST = ("Person", "Organization", "Vehicle", "Phone", "Account", "Firearm", "Location")


def _(message: str) -> str:
    """Mark a message for the catalog; ``tr`` writes it in the report's language."""
    return message


def tr(message: str, lang: str) -> str:
    return catalog(lang).get(message, message)


@dataclass(frozen=True)
class SourceRef:
    dataset: str
    file: str
    row: int | None


@dataclass(frozen=True)
class ValueRow:
    label: str
    value: str
    redacted: bool
    source: SourceRef


@dataclass(frozen=True)
class Identity:
    """One key entity: its values with where each came from (no photos: none are stored)."""

    id: str
    caption: str
    type_label: str
    rows: tuple[ValueRow, ...]
    links: int


@dataclass(frozen=True)
class EntityRow:
    id: str
    caption: str
    type_label: str
    kind: str
    datasets: tuple[str, ...]
    source: SourceRef


@dataclass(frozen=True)
class LinkSource:
    a: str
    b: str
    relation: str
    count: int
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class PlaceSource:
    code: str
    name: str
    count: int
    sources: tuple[tuple[str, SourceRef], ...]  # (entity caption, where)


@dataclass(frozen=True)
class TimelineRow:
    when: str
    label: str
    type_label: str
    sources: tuple[SourceRef, ...]
    more: int


@dataclass
class Briefing:
    """Everything the report template shows, already in the report's language."""

    lang: str
    kind: str  # "case", "entity" or "dashboard"
    title: str
    subtitle: str
    marking: Marking
    reader: str
    reader_role: str
    generated_at: datetime
    summary: list[tuple[str, str]] = field(default_factory=list)
    description: str = ""
    members: list[tuple[str, str]] = field(default_factory=list)
    tasks: list[tuple[str, str, str, str]] = field(default_factory=list)  # title, owner, due, state
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # author, when, text
    identities: list[Identity] = field(default_factory=list)
    entities: list[EntityRow] = field(default_factory=list)
    withheld: int = 0
    network: NetworkFigure | None = None
    links: list[LinkSource] = field(default_factory=list)
    map: MapFigure | None = None
    places: list[PlaceSource] = field(default_factory=list)
    by_type: BarFigure | None = None
    axis: Axis | None = None
    timeline: list[TimelineRow] = field(default_factory=list)
    timeline_more: int = 0
    searches: list[tuple[str, str]] = field(default_factory=list)
    views: list[tuple[str, str]] = field(default_factory=list)
    charts: list[tuple[str, int]] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    dashboard: list[Any] = field(default_factory=list)  # a dashboard's figures (``dashboards.FigureBlock``)


# -- building blocks ------------------------------------------------------------------------------------
def _first_source(entity: Entity) -> SourceRef:
    st = min(entity.statements, key=lambda s: (s.dataset, s.source_file, s.source_row or 0))
    return SourceRef(st.dataset, Path(st.source_file).name, st.source_row)


def _marking_of(guard: Guard, datasets: set[str], floor: Marking) -> Marking:
    policies = guard.policies()
    found = [policies[d].marking for d in datasets if d in policies] + [floor]
    return max(found, key=lambda m: ORDER[m])


def _display(guard: Guard, schema: str, prop: str, value: str, lang: str, names: dict[str, str]) -> str:
    if value == REDACTED:
        return tr("[redacted]", lang)
    stype = guard.schema.types.get(schema)
    spec = stype.properties.get(prop) if stype else None
    if spec is not None and spec.type is PropertyType.ENTITY:
        return names.get(value, tr("[redacted]", lang))
    if spec is not None and spec.type is PropertyType.ENUM and spec.enum in guard.schema.enums:
        code = guard.schema.enums[spec.enum].values.get(value)
        return code.label(lang) if code else value
    return value


def _identity(guard: Guard, entity: Entity, lang: str, links: int, names: dict[str, str]) -> Identity:
    rows = []
    for st in sorted(entity.statements, key=lambda s: (s.prop, s.dataset, s.source_row or 0)):
        rows.append(
            ValueRow(
                prop_label(guard.schema, entity.schema, st.prop, lang),
                _display(guard, entity.schema, st.prop, st.value, lang, names), st.value == REDACTED,
                SourceRef(st.dataset, Path(st.source_file).name, st.source_row),
            )
        )  # fmt: skip
    return Identity(
        entity.id, _caption(entity, lang), type_label(guard.schema, entity.schema, lang), tuple(rows), links
    )


def _caption(entity: Entity, lang: str) -> str:
    text = caption(entity)
    return tr("[redacted]", lang) if text == REDACTED else text


def _states(guard: Guard, entities: list[Entity]) -> dict[str, list[tuple[Entity, SourceRef]]]:
    """ISO 3166-2 code → the entities whose state-typed values name it, with the statement's source."""
    found: dict[str, list[tuple[Entity, SourceRef]]] = {}
    for entity in entities:
        stype = guard.schema.types.get(entity.schema)
        if stype is None:
            continue
        for st in entity.statements:
            spec = stype.properties.get(st.prop)
            if spec is None or spec.type is not PropertyType.STATE or st.value == REDACTED:
                continue
            found.setdefault(st.value, []).append((entity, SourceRef(st.dataset, Path(st.source_file).name,
                                                                     st.source_row)))  # fmt: skip
    return found


def _network(
    guard: Guard, principal: Principal, access: Access, ids: list[str], lang: str, address: str | None
) -> tuple[NetworkFigure | None, list[LinkSource], list[Entity]]:
    """The case's entities and the links among them (as the reader may see the graph), drawn, with the
    records behind each link; also the records behind the links, read through the guard."""
    namer = GuardNamer(guard, principal, address)
    namer.access = access  # the reader's (the command line's operator may see less than an admin)
    try:
        g = view_for(open_graph(guard.store), access.visible)
        answer = explorer.among(g, namer, ids)
    except GraphQuestionError:
        return None, [], []
    if not answer["nodes"]:
        return None, [], []
    labels = {t.name: t.label.get(lang) for t in guard.schema.types.values()}
    for node in answer["nodes"]:
        if node["caption"] == REDACTED:
            node["caption"] = tr("[redacted]", lang)
    figure = network_figure(answer["nodes"], answer["edges"], labels)
    names = {n["id"]: n["caption"] for n in answer["nodes"]}
    wanted = [r for e in answer["edges"] for r in e["records"][:MAX_SOURCES]]
    evidence = {ev.id: ev for ev in namer.evidence(list(dict.fromkeys(wanted)))}
    links = []
    for e in answer["edges"]:
        shown = [evidence[r] for r in e["records"][:MAX_SOURCES] if r in evidence]
        links.append(
            LinkSource(names.get(e["source"], ""), names.get(e["target"], ""), _relation(guard, e["type"], lang),
                       int(e["count"]), tuple(SourceRef(ev.dataset, ev.file, ev.row) for ev in shown))
        )  # fmt: skip
    return figure, links, []


def _relation(guard: Guard, edge_type: str, lang: str) -> str:
    from cruce.graph.model import graph_model, snake

    for name in graph_model().relations:
        if snake(name) == edge_type:
            return type_label(guard.schema, name, lang)
    for stype in guard.schema.types.values():
        if edge_type in stype.properties:
            return stype.properties[edge_type].label.get(lang)
    return edge_type.replace("_", " ")


def _timeline(tl: Timeline | None, lang: str) -> tuple[Axis | None, list[TimelineRow], int]:
    if tl is None:
        return None, [], 0
    rows = []
    for item in (*tl.items, *tl.undated)[:MAX_TIMELINE]:
        rows.append(_timeline_row(item, lang))
    more = len(tl.items) + len(tl.undated) - len(rows)
    return layout(tl.items[:MAX_TIMELINE], lang), rows, more


def _timeline_row(item: Item, lang: str) -> TimelineRow:
    sources = tuple(SourceRef(s.dataset, s.file, s.row) for s in item.sources[:MAX_SOURCES])
    label = item.label.replace(REDACTED, tr("[redacted]", lang))
    return TimelineRow(when(item, lang) or tr("undated", lang), label, item.type_label, sources,
                       max(0, len(item.sources) - MAX_SOURCES))  # fmt: skip


def _figures(
    b: Briefing, guard: Guard, principal: Principal, entities: dict[str, Entity], access: Access, address: str | None,
    tl: Timeline | None,
) -> None:  # fmt: skip
    """Network, map, entities by type and timeline of a set of entities, each with its sources."""
    lang = b.lang
    ids = list(entities)
    b.network, b.links, _unused = _network(guard, principal, access, ids, lang, address)
    from cruce.analyses.geo import state_boundaries

    states = _states(guard, list(entities.values()))
    counts = {code: len({e.id for e, _s in found}) for code, found in states.items()}
    b.map = map_figure(state_boundaries(guard.db), counts, lang)
    names = {r.code: r.name for r in b.map.regions} if b.map else {}
    b.places = [
        PlaceSource(code, names.get(code, code), counts[code],
                    tuple((_caption(e, lang), s) for e, s in found[:MAX_SOURCES]))
        for code, found in sorted(states.items(), key=lambda kv: (-counts[kv[0]], kv[0]))
    ]  # fmt: skip
    by_type = Counter(type_label(guard.schema, e.schema, lang) for e in entities.values())
    b.by_type = bar_figure(list(by_type.items()))
    b.axis, b.timeline, b.timeline_more = _timeline(tl, lang)


def _key_entities(guard: Guard, entities: dict[str, Entity], b: Briefing) -> list[Identity]:
    degree: Counter[str] = Counter()
    if b.network is not None:
        for link in b.links:
            degree[link.a] += 1
            degree[link.b] += 1

    def rank(e: Entity) -> tuple[int, int, int, str]:
        first = IDENTITY_FIRST.index(e.schema) if e.schema in IDENTITY_FIRST else len(IDENTITY_FIRST)
        return (first, -degree[caption(e)], -len(e.statements), e.id)

    names = {eid: _caption(e, b.lang) for eid, e in entities.items()}
    chosen = sorted((e for e in entities.values() if guard.schema.types.get(e.schema) is not None
                     and guard.schema.types[e.schema].kind == "entity"), key=rank)[:KEY_ENTITIES]  # fmt: skip
    return [_identity(guard, e, b.lang, degree[caption(e)], names) for e in chosen]


# -- a case ---------------------------------------------------------------------------------------------
def case_briefing(desk: Desk, case_id: str, lang: str) -> Briefing:
    """The briefing of a case for the desk's reader; ``NotFound``/``PermissionError`` as ``Desk.open``."""
    opened = desk.open(case_id, audit=False)
    if not opened.material:
        raise PermissionError(case_id)
    guard, principal = desk.guard, desk.principal
    access = desk.access
    material = desk.material(opened, lang)
    entities = material.entities
    datasets = sorted({d for e in entities.values() for d in e.datasets})
    case = opened.case
    b = Briefing(
        lang, "case", case.title, tr("Investigation case briefing", lang),
        _marking_of(guard, set(datasets), case.marking), principal.username, principal.role.value, now(),
        description=case.description, datasets=datasets, withheld=material.withheld,
    )  # fmt: skip
    tl = timeline_of(guard, principal, list(entities), lang=lang, access=access, address=desk.address)
    _figures(b, guard, principal, entities, access, desk.address, tl)
    b.identities = _key_entities(guard, entities, b)
    b.entities = _entity_rows(guard, material.records, lang)
    _case_summary(b, desk, opened, material.by_kind, lang)
    b.searches = [(i.label or i.ref, i.ref) for i in material.searches]
    b.views = [(i.label or i.ref, i.ref) for i in material.views]
    b.charts = [(i.label or "", len((i.data or {}).get("nodes") or [])) for i in material.charts]
    return b


def _entity_rows(guard: Guard, records: Any, lang: str) -> list[EntityRow]:
    rows = [
        EntityRow(r.entity.id, _caption(r.entity, lang), r.type_label, r.item.kind, tuple(r.entity.datasets),
                  _first_source(r.entity))
        for r in records if r.entity is not None
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (r.type_label, r.caption.lower(), r.id))


def _case_summary(b: Briefing, desk: Desk, opened: Opened, by_kind: dict[str, int], lang: str) -> None:
    case = opened.case
    b.members = [(m.username, tr(ROLE_LABELS[m.role], lang)) for m in opened.members]
    b.tasks = [
        (t.title, t.owner, t.due.isoformat() if t.due else "", tr(TASK_STATE_LABELS.get(t.state, t.state), lang))
        for t in desk.tasks(opened)
    ]
    b.notes = [(n.author, n.created_at.strftime("%Y-%m-%d %H:%M"), n.body) for n in desk.notes(opened)]
    open_tasks = sum(1 for t in desk.tasks(opened) if t.state != "done")
    b.summary = [
        (tr("Status", lang), tr(STATUS_LABELS.get(case.status, case.status), lang)),
        (tr("Opened", lang), case.created_at.strftime("%Y-%m-%d")),
        (tr("Entities", lang), str(by_kind.get("entity", 0))),
        (tr("Events", lang), str(by_kind.get("event", 0))),
        (tr("Documents", lang), str(by_kind.get("document", 0))),
        (tr("Records withheld from this reader", lang), str(b.withheld)),
        (tr("Open tasks", lang), str(open_tasks)),
        (tr("Datasets", lang), ", ".join(b.datasets) or "—"),
    ]


ROLE_LABELS = {"lead": _("lead"), "editor": _("editor"), "reader": _("reader")}
TASK_STATE_LABELS = {"open": _("to do"), "doing": _("under way"), "done": _("done")}
STATUS_LABELS = {"open": _("open"), "closed": _("closed")}


# -- an entity -----------------------------------------------------------------------------------------
def entity_briefing(
    guard: Guard, principal: Principal, entity_id: str, lang: str, *, address: str | None = None, hops: int = 1,
    access: Access | None = None,
) -> Briefing | None:  # fmt: skip
    """The briefing of one entity and its neighbourhood; None when the reader may not see it."""
    access = access or guard.access(principal)
    entity = guard.entity(principal, entity_id, address=address, access=access)
    if entity is None:
        return None
    namer = GuardNamer(guard, principal, address)
    namer.access = access
    ids = [entity.id]
    try:
        g = view_for(open_graph(guard.store), access.visible)
        near = explorer.neighbourhood(guard.store, g, namer, entity.id, hops, service.filters(), 60)
        ids += [n["id"] for n in near["nodes"] if n["id"] != entity.id]
    except GraphQuestionError:
        pass
    entities = guard.entities_by_id(principal, ids, access=access, address=address)
    datasets = sorted({d for e in entities.values() for d in e.datasets})
    b = Briefing(
        lang, "entity", _caption(entity, lang), tr("Entity briefing", lang),
        _marking_of(guard, set(datasets), Marking.GREEN), principal.username, principal.role.value, now(),
        datasets=datasets,
    )  # fmt: skip
    from cruce.timeline import entity_timeline

    tl = entity_timeline(guard, principal, entity.id, lang=lang, address=address, access=access)
    _figures(b, guard, principal, entities, access, address, tl)
    names = {eid: _caption(e, lang) for eid, e in entities.items()}
    b.identities = [_identity(guard, entity, lang, len(b.links), names)]
    b.entities = sorted(
        (EntityRow(e.id, _caption(e, lang), type_label(guard.schema, e.schema, lang), "entity", tuple(e.datasets),
                   _first_source(e)) for e in entities.values()),
        key=lambda r: (r.id != entity.id, r.type_label, r.caption.lower()),
    )  # fmt: skip
    b.summary = [
        (tr("Type", lang), type_label(guard.schema, entity.schema, lang)),
        (tr("Linked entities", lang), str(len(entities) - 1)),
        (tr("Datasets", lang), ", ".join(datasets) or "—"),
    ]
    return b
