"""Entities out to the open formats people already use: CSV, Parquet and JSON Lines.

One row per entity, one column per property of its type — except protected properties (the
identities of victims and tipsters), left out unless explicitly asked for. Multi-valued properties
are lists in Parquet and JSON Lines and are joined with "; " in CSV. Entities are streamed from
the store, so memory stays bounded whatever the number of entities. A file is written under a
temporary name beside its own and renamed when complete (``written_whole``): an export that fails
part-way (a full disk) leaves no file that looks complete.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from cruce.i18n import _
from cruce.schema.model import SchemaType
from cruce.store.base import Entity, is_disk_full

FORMATS = ("csv", "parquet", "jsonl")
_BATCH = 10_000


class ExportError(Exception):
    """The export's file could not be written; the message says why (a full disk, no permission)."""


@contextlib.contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to, renamed to ``path`` once the block completes.

    If the block fails, the temporary file is removed and a file already at ``path`` is left as it
    was; an ``OSError`` becomes an ``ExportError`` naming the file and the reason.
    """
    part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        yield part
        os.replace(part, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            if is_disk_full(exc):
                message = _("Cannot write {file}: the disk is full (no space left on device); nothing was written.")
            else:
                message = _("Cannot write {file}: {reason}; nothing was written.")
            raise ExportError(message.format(file=path, reason=exc.strerror or exc)) from exc
        raise


def _chunks(entities: Iterable[Entity], size: int) -> Iterator[list[Entity]]:
    iterator = iter(entities)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _columns(stype: SchemaType, include_protected: bool) -> list[str]:
    """The properties to write; protected ones (victims', tipsters' identities) only when asked."""
    return [name for name, prop in stype.properties.items() if include_protected or not prop.protected]


def _visible(entity: Entity, props: list[str]) -> dict[str, list[str]]:
    return {p: v for p, v in entity.properties.items() if p in props}


def write_csv(entities: Iterable[Entity], stype: SchemaType, out: TextIO, include_protected: bool = False) -> int:
    props = _columns(stype, include_protected)
    writer = csv.writer(out)
    writer.writerow(["id", "schema", "datasets", *props])
    count = 0
    for entity in entities:
        values = ["; ".join(entity.properties.get(p, [])) for p in props]
        writer.writerow([entity.id, entity.schema, "; ".join(entity.datasets), *values])
        count += 1
    return count


def write_jsonl(entities: Iterable[Entity], stype: SchemaType, out: TextIO, include_protected: bool = False) -> int:
    props = _columns(stype, include_protected)
    count = 0
    for entity in entities:
        record = {
            "id": entity.id,
            "schema": entity.schema,
            "datasets": entity.datasets,
            "properties": _visible(entity, props),
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_parquet(entities: Iterable[Entity], stype: SchemaType, path: Path, include_protected: bool = False) -> int:
    props = _columns(stype, include_protected)
    fields = [
        pa.field("id", pa.string()),
        pa.field("schema", pa.string()),
        pa.field("datasets", pa.list_(pa.string())),
    ]
    fields += [pa.field(p, pa.list_(pa.string())) for p in props]
    arrow_schema = pa.schema(fields)
    count = 0
    with pq.ParquetWriter(path, arrow_schema) as writer:
        for chunk in _chunks(entities, _BATCH):
            columns: dict[str, list[object]] = {
                "id": [e.id for e in chunk],
                "schema": [e.schema for e in chunk],
                "datasets": [e.datasets for e in chunk],
            }
            for p in props:
                columns[p] = [e.properties.get(p, []) for e in chunk]
            writer.write_table(pa.table(columns, schema=arrow_schema))
            count += len(chunk)
    return count
