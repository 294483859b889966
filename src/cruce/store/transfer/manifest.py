"""The manifest of a backup archive: what made it, from which store, and each table's checksum.

It is the first thing a restore reads and the thing it trusts least: an archive may be damaged,
truncated or made by someone else, so every field is checked here before anything is used.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from cruce.i18n import _
from cruce.store.base import StoreError
from cruce.store.transfer.catalog import KINDS

FORMAT = "cruce-backup"
FORMAT_VERSION = 1
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class TransferError(StoreError):
    """A backup, restore or copy that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class TableEntry:
    name: str
    file: str
    rows: int
    sha256: str
    bytes: int
    columns: list[tuple[str, str]]  # (name, kind)


@dataclass
class Manifest:
    cruce_version: str
    created_at: str  # UTC, ISO 8601
    backend: str
    store_version: int
    source: str  # the store's URL, passwords hidden
    sequences: dict[str, int | None]
    tables: list[TableEntry] = field(default_factory=list)
    secret_key_id: str | None = None  # which deployment key the encrypted fields and the audit log need
    secret_key_sha256: str | None = None  # set when the archive holds that key
    pending_imports_left_out: int = 0

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def entry(self, name: str) -> TableEntry | None:
        return next((t for t in self.tables if t.name == name), None)

    def to_json(self) -> str:
        data = {"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)}
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str, archive: str) -> Manifest:
        """The manifest of ``archive`` (named in errors), checked field by field."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("not a cruce backup manifest")
            if data.get("format_version") != FORMAT_VERSION:
                raise TransferError(
                    _("{file} is a backup of format {found}; this cruce reads format {known}. "
                      "Restore it with the cruce that made it ({version}).").format(
                        file=archive, found=data.get("format_version"), known=FORMAT_VERSION,
                        version=data.get("cruce_version", "?"))
                )  # fmt: skip
            return cls(
                cruce_version=str(data["cruce_version"]),
                created_at=str(data["created_at"]),
                backend=_one_of(data["backend"], ("duckdb", "postgresql")),
                store_version=_count(data["store_version"]),
                source=str(data["source"]),
                sequences={_name(k): None if v is None else _count(v) for k, v in dict(data["sequences"]).items()},
                tables=[_table(t) for t in data["tables"]],
                secret_key_id=None if data.get("secret_key_id") is None else str(data["secret_key_id"]),
                secret_key_sha256=_optional_sha256(data.get("secret_key_sha256")),
                pending_imports_left_out=_count(data.get("pending_imports_left_out", 0)),
            )
        except TransferError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise TransferError(
                _("{file} is not a cruce backup, or its manifest is damaged: {reason}").format(file=archive, reason=exc)
            ) from None


def _table(data: Any) -> TableEntry:
    name = _name(data["name"])
    columns = [(_name(c), _one_of(k, tuple(KINDS))) for c, k in data["columns"]]
    sha = _optional_sha256(data["sha256"])
    if sha is None or data["file"] != f"tables/{name}.parquet":
        raise ValueError(f"table {name}: bad file or checksum")
    return TableEntry(name, str(data["file"]), _count(data["rows"]), sha, _count(data["bytes"]), columns)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"bad name {value!r}")
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"bad number {value!r}")
    return value


def _one_of(value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _optional_sha256(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256.match(value):
        raise ValueError(f"bad checksum {value!r}")
    return value
