"""A timeline as plain data (the API's JSON, the command line's ``--format json``) and as CSV rows."""

from __future__ import annotations

import csv
from typing import Any, TextIO

from cruce.i18n import catalog
from cruce.timeline.dates import PartialDate
from cruce.timeline.model import Item, Timeline

CSV_COLUMNS = ("date", "end", "precision", "when", "type", "label", "flows", "roles", "parties", "place", "datasets",
               "files", "rows", "id", "kind")  # fmt: skip


def _(message: str) -> str:
    """Mark a message for the catalog; ``translate`` writes it in the reader's language."""
    return message


PRECISION_NOTES = {"year": _("year only"), "month": _("month only")}
FLOW_LABELS = {
    "firearms": _("Firearms"), "drugs": _("Drugs"), "people": _("People"), "shared": _("Shared (no flow)"),
}  # fmt: skip


def translate(message: str, lang: str) -> str:
    return catalog(lang).get(message, message)


def when(item: Item, lang: str) -> str:
    """The item's date as the reader writes it, at the precision known: "2019", "marzo de 2021 – 2022"."""
    if item.start is None:
        return ""
    text = item.start.format(lang)
    if item.end is not None and item.end.text != item.start.text:
        text = f"{text} – {item.end.format(lang)}"
    return text


def precision_note(date: PartialDate | None, lang: str) -> str:
    """ "year only" / "solo el año" for a date not known to the day; empty otherwise."""
    note = PRECISION_NOTES.get(date.precision) if date else None
    return translate(note, lang) if note else ""


def item_out(item: Item, lang: str) -> dict[str, Any]:
    return {
        "id": item.id, "kind": item.kind, "type": item.schema, "type_label": item.type_label, "label": item.label,
        "caption": item.caption, "date": item.start.text if item.start else None,
        "end": item.end.text if item.end else None, "precision": item.start.precision if item.start else None,
        "when": when(item, lang), "flows": list(item.flows), "roles": list(item.roles), "place": item.place,
        "property": item.prop,
        "parties": [
            {"id": p.id, "schema": p.schema, "caption": p.caption, "role": p.role, "role_label": p.role_label,
             "subject": p.subject}
            for p in item.parties
        ],
        "sources": [
            {"dataset": s.dataset, "file": s.file, "row": s.row, "import_id": s.import_id} for s in item.sources
        ],
        "other_dates": [
            {"property": o.prop, "label": o.label, "date": o.date.text, "precision": o.date.precision,
             "when": o.date.format(lang)}
            for o in item.other_dates
        ],
    }  # fmt: skip


def timeline_out(tl: Timeline, lang: str) -> dict[str, Any]:
    return {
        "subject": tl.subject, "caption": tl.caption, "canonical": tl.canonical, "members": list(tl.members),
        "clustered": tl.clustered, "items": [item_out(i, lang) for i in tl.items],
        "undated": [item_out(i, lang) for i in tl.undated],
        "types": [{"type": t, "label": label} for t, label in tl.types], "flows": list(tl.flows),
        "left_out": tl.left_out,
    }  # fmt: skip


def csv_row(item: Item, lang: str) -> list[str]:
    def joined(values: Any) -> str:
        return "; ".join(str(v) for v in values)

    return [
        item.start.text if item.start else "", item.end.text if item.end else "",
        item.start.precision if item.start else "", when(item, lang), item.schema, item.label, joined(item.flows),
        joined(item.roles), joined(f"{p.role_label}: {p.caption}" for p in item.parties), item.place or "",
        joined(s.dataset for s in item.sources), joined(s.file for s in item.sources),
        joined(s.row if s.row is not None else "" for s in item.sources), item.id, item.kind,
    ]  # fmt: skip


def write_csv(tl: Timeline, out: TextIO, lang: str) -> None:
    """Dated items in order, then the undated ones (an empty ``date``)."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for item in (*tl.items, *tl.undated):
        writer.writerow(csv_row(item, lang))
