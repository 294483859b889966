"""A backup archive: one ZIP file holding a Parquet file per table and ``manifest.json``.

ZIP rather than tar: a member can be written as a stream, before its size is known, so a table
goes from the store's snapshot into the archive batch by batch, hashed on the way. Members are
stored, not compressed again (Parquet is compressed with zstd already), so a restore reads a
table straight from its bytes inside the archive. The archive is written under a temporary name,
with mode 0600 (it holds everything the store holds), and renamed when complete.

``Archive`` reads one back; ``verify`` checks every table against the manifest (present, the
same size, the same SHA-256, the same rows and columns) before a restore writes anything.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cruce.i18n import _
from cruce.store.transfer import snapshot as reading
from cruce.store.transfer.catalog import KINDS, arrow_schema
from cruce.store.transfer.manifest import Manifest, TableEntry, TransferError
from cruce.store.transfer.snapshot import Snapshot

MANIFEST = "manifest.json"
KEY_MEMBER = "secret.key"
MAX_MANIFEST_BYTES = 16 << 20
CHUNK = 1 << 20

Progress = Callable[[str, int], None]
"""Told the table being read or written and its rows so far."""


def write_archive(snapshot: Snapshot, out: Path, manifest: Manifest, *, key: bytes | None = None,
                  on_progress: Progress | None = None) -> Manifest:  # fmt: skip
    """Write every table of ``snapshot`` into the archive ``out``, completing ``manifest`` (and
    adding the deployment's key file when ``key`` is given); all or nothing."""
    partial = out.with_name(out.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                for name in snapshot.table_names():
                    manifest.tables.append(_write_table(zf, snapshot, name, on_progress))
                if key is not None:
                    zf.writestr(_info(KEY_MEMBER), key)
                    manifest.secret_key_sha256 = hashlib.sha256(key).hexdigest()
                zf.writestr(_info(MANIFEST), manifest.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=datetime.now(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o600 << 16
    return info


def _write_table(zf: zipfile.ZipFile, snapshot: Snapshot, name: str, on_progress: Progress | None) -> TableEntry:
    columns = snapshot.columns(name)
    file = f"tables/{name}.parquet"
    rows = 0
    with zf.open(_info(file), "w", force_zip64=True) as member:
        sink = _HashingSink(member)
        with pq.ParquetWriter(sink, arrow_schema(columns), compression="zstd") as writer:
            for batch in snapshot.batches(name):
                writer.write_batch(batch)
                rows += batch.num_rows
                if on_progress:
                    on_progress(name, rows)
    return TableEntry(name, file, rows, sink.sha256.hexdigest(), sink.size, columns)


class _HashingSink:
    """A write-only file that passes bytes on to a ZIP member, hashing and counting them."""

    def __init__(self, target: Any) -> None:
        self._target = target
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        self._target.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        """Nothing to do: the ZIP member is flushed when it is closed."""

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True  # the ZIP member itself is closed by its ``with``


class Archive:
    """A backup archive opened for reading; the same reading interface as ``Snapshot``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise TransferError(
                _("{file} is not a cruce backup, or it is damaged or incomplete (its list of contents, at "
                  "the end of the file, cannot be read): {reason}").format(file=path, reason=exc)
            ) from None  # fmt: skip
        try:
            info = self._zip.getinfo(MANIFEST)
        except KeyError:
            self.close()
            raise TransferError(_("{file} is not a cruce backup: it has no manifest.json.").format(file=path)) from None
        if info.file_size > MAX_MANIFEST_BYTES:
            self.close()
            raise TransferError(_("{file} is not a cruce backup: its manifest is too large.").format(file=path))
        try:
            text = self._zip.read(MANIFEST).decode("utf-8")
        except (zipfile.BadZipFile, UnicodeDecodeError, OSError) as exc:
            self.close()
            raise TransferError(
                _("{file} is damaged: its manifest cannot be read ({reason}).").format(file=path, reason=exc)
            ) from None
        self.manifest = Manifest.from_json(text, str(path))
        self.backend = self.manifest.backend
        self.store_version = self.manifest.store_version
        self.sequences = self.manifest.sequences

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the reading interface (as Snapshot) --------------------------------------------------
    def table_names(self) -> list[str]:
        return [t.name for t in self.manifest.tables]

    def columns(self, name: str) -> list[tuple[str, str]]:
        return self._entry(name).columns

    def batches(self, name: str, rows: int | None = None) -> Iterator[pa.RecordBatch]:
        """The table's rows, ``rows`` at a time (by default ``BATCH_ROWS``, as a snapshot reads them)."""
        entry = self._entry(name)
        schema = arrow_schema(entry.columns)
        try:
            with self._open(entry) as fh:
                parquet = pq.ParquetFile(fh)
                # row group by row group: iter_batches holds on to the string data of every batch it
                # gave until it is done (measured: memory grew by each row group's strings)
                for group in range(parquet.metadata.num_row_groups):
                    table = parquet.read_row_group(group, use_threads=False)
                    for batch in table.to_batches(max_chunksize=rows or reading.BATCH_ROWS):
                        yield batch.cast(schema)
                    del table
        except (pa.ArrowException, OSError, zipfile.BadZipFile) as exc:
            raise self._damaged(name, str(exc)) from None

    # -- checks ------------------------------------------------------------------------------
    def verify(self, on_progress: Progress | None = None) -> None:
        """Check every table of the manifest against its file in the archive (and the key, if
        any); raise ``TransferError`` naming the first table that does not match."""
        for entry in self.manifest.tables:
            self._verify_bytes(entry.name, entry.file, entry.bytes, entry.sha256)
            self._verify_parquet(entry)
            if on_progress:
                on_progress(entry.name, entry.rows)
        if self.manifest.secret_key_sha256 is not None:
            self.secret_key()

    def secret_key(self) -> bytes | None:
        """The deployment's key file the archive holds (checked), or None."""
        expected = self.manifest.secret_key_sha256
        if expected is None:
            return None
        try:
            data = self._zip.read(KEY_MEMBER)
        except (KeyError, zipfile.BadZipFile, OSError):
            raise TransferError(
                _("{file} is damaged: the key file it lists is missing.").format(file=self.path)
            ) from None
        if hashlib.sha256(data).hexdigest() != expected:
            raise TransferError(
                _("{file} is damaged: its key file does not match its checksum.").format(file=self.path)
            )
        return data

    def _entry(self, name: str) -> TableEntry:
        entry = self.manifest.entry(name)
        if entry is None:
            raise TransferError(_("{file} holds no table {table}.").format(file=self.path, table=name))
        return entry

    def _damaged(self, table: str, reason: str) -> TransferError:
        return TransferError(
            _("{file} is damaged: table {table} {reason}. Nothing was written; use another backup.").format(
                file=self.path, table=table, reason=reason
            )
        )

    def _verify_bytes(self, table: str, member: str, size: int, sha256: str) -> None:
        try:
            info = self._zip.getinfo(member)
        except KeyError:
            raise self._damaged(table, _("is missing from it")) from None
        if info.file_size != size:
            raise self._damaged(table, _("has {found} bytes instead of {expected}").format(
                found=info.file_size, expected=size))  # fmt: skip
        digest = hashlib.sha256()
        try:
            with self._zip.open(info) as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise self._damaged(table, _("cannot be read ({reason})").format(reason=exc)) from None
        if digest.hexdigest() != sha256:
            raise self._damaged(table, _("does not match its SHA-256 checksum"))

    def _verify_parquet(self, entry: TableEntry) -> None:
        try:
            with self._open(entry) as fh:
                meta = pq.ParquetFile(fh).metadata
                schema = meta.schema.to_arrow_schema()
        except (pa.ArrowException, OSError) as exc:
            raise self._damaged(entry.name, _("is not a readable Parquet file ({reason})").format(reason=exc)) from None
        if meta.num_rows != entry.rows:
            raise self._damaged(entry.name, _("has {found} rows instead of {expected}").format(
                found=meta.num_rows, expected=entry.rows))  # fmt: skip
        expected = [(n, KINDS[k]) for n, k in entry.columns]
        if [(f.name, f.type) for f in schema] != expected:
            raise self._damaged(entry.name, _("does not have the columns its manifest lists"))

    def _open(self, entry: TableEntry) -> Any:
        """The member's bytes as a seekable file: in place when stored, else through zipfile."""
        info = self._zip.getinfo(entry.file)
        if info.compress_type != zipfile.ZIP_STORED:
            return self._zip.open(info)
        with open(self.path, "rb") as fh:
            fh.seek(info.header_offset)
            header = fh.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise self._damaged(entry.name, _("has a damaged header"))
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        return _Slice(self.path, info.header_offset + 30 + name_length + extra_length, info.file_size)


class _Slice(io.RawIOBase):
    """``length`` bytes of a file from ``offset``, as a seekable read-only file."""

    def __init__(self, path: Path, offset: int, length: int) -> None:
        super().__init__()
        self._fh = open(path, "rb")  # noqa: SIM115 - closed with the slice
        self._offset = offset
        self._length = length
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}[whence]
        self._position = max(0, min(self._length, base + offset))
        return self._position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._length - self._position)
        if wanted <= 0:
            return 0
        self._fh.seek(self._offset + self._position)
        data = self._fh.read(wanted)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        self._fh.close()
        super().close()
