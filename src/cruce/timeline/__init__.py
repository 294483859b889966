"""Timelines: the events of an entity (its resolved cluster's every record) or of a set of entities, in order.

Use ``entity_timeline(guard, principal, entity_id, lang=..., filters=Filters(...))`` for one entity,
``timeline_of(guard, principal, ids, ...)`` for a set (a case's entities). Both read through the
guard, so the web pages, the API and the command line show the same, redacted, picture.
"""

from cruce.timeline.collect import cluster_members, entity_timeline, timeline_of
from cruce.timeline.dates import PartialDate
from cruce.timeline.model import FLOW_CHOICES, KINDS, SHARED, Filters, Item, Party, Source, Timeline

__all__ = [
    "FLOW_CHOICES",
    "KINDS",
    "SHARED",
    "Filters",
    "Item",
    "PartialDate",
    "Party",
    "Source",
    "Timeline",
    "cluster_members",
    "entity_timeline",
    "timeline_of",
]
