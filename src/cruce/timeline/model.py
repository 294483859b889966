"""What a timeline is made of, read from the schema through the graph's own reading of it.

The graph (``cruce.graph.model``) already decides which types are events (purchases, recoveries,
traces, seizures, crossings, cases, screenings, tips, documents; not the monthly aggregates),
which are relations, which date properties tell the time of a thing (not a birthday), and the
flow of each type. A timeline takes those decisions as they are, so that an entity's timeline and
its neighbourhood in the graph tell the same story.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cruce.graph.model import ANCHORS, FLOW_OF_TYPE, FLOWS, graph_model
from cruce.schema.loader import default_schema
from cruce.schema.model import PropertyType, Schema
from cruce.timeline.dates import PartialDate

SHARED = "shared"
"""The flow of what belongs to none (a border crossing, a document): what the flows share."""
FLOW_CHOICES = (*FLOWS, SHARED)
START_PROPS = ("date", "start_date", "period", "crossing_time", "received_at", "year_of_registration", "opened_date",
               "published_date")  # fmt: skip
"""The property that says when a thing happened, in order of preference."""
END_PROPS = ("end_date", "closed_date")
KINDS = ("event", "relation", "mention", "milestone")
"""How an item is on the timeline: an event or a relation that names the entity, an event written
from the same source row (a tip, a document), or a date of the entity's own (born, founded)."""


@dataclass(frozen=True)
class TimelineModel:
    """Per type: whether it is a timeline item, and which of its properties are dates and links."""

    item_types: frozenset[str]
    relation_types: frozenset[str]
    anchor_types: frozenset[str]
    time_props: dict[str, tuple[str, ...]]  # item type -> its date properties that tell its time
    own_dates: dict[str, tuple[str, ...]]  # any type -> all its date properties (for milestones)
    entity_props: dict[str, tuple[str, ...]]  # type -> its entity-reference properties

    def flows_of(self, schema: str, flow_values: list[str]) -> tuple[str, ...]:
        """The flows of a record: its type's (as the graph has it), else its own ``flow`` values."""
        if schema in FLOW_OF_TYPE:
            return (FLOW_OF_TYPE[schema],)
        own = tuple(f for f in FLOWS if f in flow_values)
        return own or (SHARED,)


_MODELS: dict[int, tuple[Schema, TimelineModel]] = {}


def timeline_model(schema: Schema) -> TimelineModel:
    """The model of ``schema``, worked out once per schema object (schemas are not hashable)."""
    cached = _MODELS.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = _MODELS[id(schema)] = (schema, _read(schema))
    return cached[1]


def _read(schema: Schema) -> TimelineModel:
    g = graph_model(schema) if schema is not default_schema() else graph_model()
    relations = frozenset(g.relations)
    dated = (PropertyType.DATE, PropertyType.DATETIME)
    return TimelineModel(
        item_types=g.event_types | relations,
        relation_types=relations,
        anchor_types=frozenset(ANCHORS),
        time_props=dict(g.date_props),
        own_dates={
            t.name: tuple(sorted(n for n, p in t.properties.items() if p.type in dated)) for t in schema.concrete()
        },
        entity_props={
            t.name: tuple(sorted(n for n, p in t.properties.items() if p.type is PropertyType.ENTITY))
            for t in schema.concrete()
        },
    )


@dataclass(frozen=True)
class Filters:
    """What to keep: event types (schema names), flows, and a date range (either end may be open).

    A dated item is kept when the days it may be meet the range, so "2019" is in a range that
    starts in June 2019. Undated items cannot be placed in a range: only types and flows apply.
    """

    types: frozenset[str] = frozenset()
    flows: frozenset[str] = frozenset()
    since: PartialDate | None = None
    until: PartialDate | None = None

    def keeps_kind(self, schema: str, flows: tuple[str, ...]) -> bool:
        if self.types and schema not in self.types:
            return False
        return not (self.flows and not self.flows & set(flows))

    def keeps_dates(self, start: PartialDate | None, end: PartialDate | None) -> bool:
        if start is None:
            return True
        last = (end or start).last
        if self.since is not None and last < self.since.first:
            return False
        return not (self.until is not None and start.first > self.until.last)

    @property
    def active(self) -> bool:
        return bool(self.types or self.flows or self.since or self.until)


@dataclass(frozen=True)
class Party:
    """An entity that took part in an item, as the principal may see it (name redacted where due)."""

    id: str
    schema: str
    caption: str
    role: str  # the property naming it: purchaser, firearm, dealer...
    role_label: str
    subject: bool  # one of the records whose timeline this is


@dataclass(frozen=True)
class Source:
    """Where an item was read: dataset, file and row of the source, and the import."""

    dataset: str
    file: str
    row: int | None
    import_id: str


@dataclass(frozen=True)
class OtherDate:
    prop: str
    label: str
    date: PartialDate


@dataclass(frozen=True)
class Item:
    """One thing on the timeline, with its labels in the reader's language."""

    id: str  # the record (for a milestone: the entity whose date it is)
    kind: str
    schema: str
    type_label: str
    caption: str
    label: str
    start: PartialDate | None
    end: PartialDate | None
    flows: tuple[str, ...]
    roles: tuple[str, ...]  # how the subject takes part, in words: "Purchaser", "Victim"...
    parties: tuple[Party, ...]
    sources: tuple[Source, ...]
    other_dates: tuple[OtherDate, ...] = ()
    place: str | None = None
    prop: str | None = None  # a milestone's date property

    def sort_key(self) -> tuple[object, ...]:
        if self.start is None:
            return (1, self.type_label, self.label, self.id)
        return (0, self.start.first, self.start.last, self.type_label, self.label, self.id)


@dataclass(frozen=True)
class Timeline:
    """The items of a set of entities: dated ones in order, undated ones apart."""

    subject: str
    members: tuple[str, ...]  # the records whose events these are (the cluster's, as the principal sees it)
    canonical: str | None
    items: tuple[Item, ...]
    undated: tuple[Item, ...]
    types: tuple[tuple[str, str], ...] = field(default=())  # (schema, label) found before filtering
    flows: tuple[str, ...] = field(default=())
    caption: str = ""  # the subject's, as the principal may see it
    left_out: int = 0  # linked records not read: past the cap, the least recently imported

    @property
    def clustered(self) -> bool:
        """More than one record: the events of a resolved entity's every record."""
        return len(self.members) > 1
