"""A case package: an investigation case as a ZIP that another cruce imports (issue #11, part 4).

A package holds

* ``entities.ftm.jsonl`` — the case's records the exporter may see, as FollowTheMoney entities
  (the mapping of ``cruce.graph.exchange_ftm``; the FtM id is the record's id);
* ``provenance.jsonl`` — for each record, every value that may leave with where it came from:
  dataset, source file, row and import (the same protection rule as the entities);
* ``briefing.<lang>.<pdf|html>`` — the case's briefing in the language the exporter chose;
* ``manifest.json`` — the case's title, description and marking, cruce's version, the date, the
  package's id and dataset, the properties released, and the SHA-256 and size of every other file.

Protected values (victims' and tipsters' identities, ``cruce.security.policy``) are left out —
not redacted, absent — unless the exporter releases their properties by name, and then only those
the exporter may see; every release is recorded in the audit log (who, which case, which
properties, how many values). The briefing in the package is always redacted: released values
travel in the entities, where the manifest names them.

Import checks the manifest and every hash before anything is written (a changed, missing or extra
file refuses the package and names the file), imports the entities into the package's own
dataset through the ordinary FtM import (so every value points at the package's dataset, file and
line), and opens a case whose records keep their original provenance in the case item. A package
imported twice is recognised: the second import adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cruce import __version__
from cruce.i18n import _
from cruce.ingest.compile import _is_a, entity_id
from cruce.investigations.access import Desk, record_kind
from cruce.investigations.store import Investigation
from cruce.schema.model import Schema
from cruce.security import Role
from cruce.security.audit import now
from cruce.security.guard import Access
from cruce.security.policy import NON_IDENTIFYING, Marking, protected_properties, protected_references
from cruce.store.base import Entity, Statement

FORMAT = "cruce-case-package"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ENTITIES = "entities.ftm.jsonl"
PROVENANCE = "provenance.jsonl"
MAX_MEMBER_BYTES = 512 * 1024 * 1024
"""The most one file of a package may hold once unpacked (a package is checked before it is read)."""


class PackageError(ValueError):
    """A package that cannot be written or imported; the message says why (and names the file)."""


@dataclass(frozen=True)
class Exported:
    """What an export wrote: ids and counts for the user and the audit log, never values."""

    package_id: str
    path: Path
    records: int
    withheld: int
    released: dict[str, int]  # property → values released


@dataclass(frozen=True)
class Imported:
    """What an import did: the case it made (or found), the records it holds, whether it was new."""

    case: Investigation
    records: int
    skipped: int
    new: bool


# -- export ----------------------------------------------------------------------------------------------
def _protection(desk: Desk, ids: list[str]) -> tuple[set[tuple[str, str]], set[str]]:
    """The protected (type, property) pairs, and which of the records are protected people."""
    guard = desk.guard
    return protected_properties(guard.schema), guard._protected_people(ids)


def releasable(schema: Schema) -> set[str]:
    """The property names a release may name: those flagged protected, and the identifying
    properties of the entities a protected property points at (a victim's name)."""
    names = {prop for _type, prop in protected_properties(schema)}
    for type_name, prop in protected_references(schema):
        target = schema.types.get(schema.types[type_name].properties[prop].range or "")
        for kind in schema.types.values():
            if target is not None and _is_a(schema, kind.name, target.name):
                names.update(p for p in kind.properties if p not in NON_IDENTIFYING)
    return names


def _is_protected(st: Statement, pairs: set[tuple[str, str]], person: bool) -> bool:
    return (st.schema, st.prop) in pairs or (person and st.prop not in NON_IDENTIFYING)


def shareable(desk: Desk, ids: list[str], released: frozenset[str]) -> tuple[dict[str, Entity], dict[str, int]]:
    """The records with the statements that may leave: in datasets the exporter sees, protected
    values only of released properties and only where the exporter may see them (their caseload);
    and how many values of each released property went out."""
    pairs, people = _protection(desk, ids)
    visible, caseload = desk.access.visible, desk.access.caseload
    out: dict[str, Entity] = {}
    counts: dict[str, int] = dict.fromkeys(sorted(released), 0)
    for eid, statements in desk.guard.store.statements_of(ids).items():
        entity = Entity(eid, statements[0].schema)
        for st in statements:
            if st.dataset not in visible:
                continue
            if _is_protected(st, pairs, eid in people):
                if st.prop not in released or st.dataset not in caseload:
                    continue
                counts[st.prop] += 1
            entity.add(st)
        if entity.statements:
            out[eid] = entity
    return out, counts


def ftm_entity(entity: Entity) -> dict[str, Any] | None:
    """A record as an FtM entity (its id kept), or None for a type FollowTheMoney cannot hold."""
    from followthemoney import model as ftm_model

    from cruce.graph import exchange_ftm as fx

    if entity.schema not in fx.TYPES:
        return None
    schema, props = fx.TYPES[entity.schema]
    proxy = ftm_model.make_entity(schema)
    proxy.id = entity.id
    for prop, target in props.items():
        for value in entity.properties.get(prop, []):
            proxy.add(target, value, quiet=True, cleaned=False)
    if entity.schema == "Firearm":
        proxy.add("keywords", fx.FIREARM_KEYWORD)
        if text := fx._firearm_description(entity):
            proxy.add("description", text, quiet=True)
    out: dict[str, Any] = proxy.to_dict()
    return out


def provenance_row(entity: Entity) -> dict[str, Any]:
    return {
        "id": entity.id,
        "schema": entity.schema,
        "statements": [
            {"prop": s.prop, "value": s.value, "dataset": s.dataset, "row": s.source_row, "import": s.import_id,
             "file": PurePosixPath(s.source_file.replace("\\", "/")).name}
            for s in entity.statements
        ],
    }  # fmt: skip


def _jsonl(rows: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def export_case(
    desk: Desk,
    case_id: str,
    out: Path,
    *,
    lang: str = "en",
    fmt: str = "pdf",
    release: Iterable[str] = (),
) -> Exported:
    """Write the case's package to ``out`` for the desk's principal (audited, releases with their counts)."""
    from cruce.reports import render
    from cruce.reports.briefing import case_briefing

    released = frozenset(p.strip() for p in release if p.strip())
    unknown = sorted(released - releasable(desk.guard.schema))
    if unknown:
        raise PackageError(_("{name} is not a protected property; these are: {names}").format(
            name=unknown[0], names=", ".join(sorted(releasable(desk.guard.schema)))))  # fmt: skip
    opened = desk.open(case_id)
    if not opened.material:
        raise PermissionError(case_id)
    material = desk.material(opened, lang)
    ids = [r.item.ref for r in material.records]
    entities, counts = shareable(desk, ids, released)
    rows = [(e, f) for eid in ids if (e := entities.get(eid)) is not None and (f := ftm_entity(e)) is not None]
    # the briefing travels redacted whatever the exporter may see: released values go in the entities only
    redacting = Desk(desk.guard, desk.principal, address=desk.address, access=Access(desk.access.visible, frozenset()))
    briefing = case_briefing(redacting, opened.case.id, lang)
    files = {
        ENTITIES: _jsonl(f for _e, f in rows),
        PROVENANCE: _jsonl(provenance_row(e) for e, _f in rows),
        f"briefing.{lang}.{fmt}": render.render(briefing, fmt),
    }
    package_id = uuid.uuid4().hex
    case = opened.case
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_id": package_id,
        "dataset": f"package-{package_id[:12]}",
        "cruce_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "created_by": desk.principal.username,
        "case": {"id": case.id, "title": case.title, "description": case.description,
                 "marking": briefing.marking.value, "status": case.status},
        "lang": lang,
        "records": len(rows),
        "released": sorted(released),
        "files": {name: {"sha256": sha256(data), "size": len(data)} for name, data in files.items()},
    }  # fmt: skip
    out = Path(out)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True))
        for name, data in files.items():
            zf.writestr(name, data)
    if released:
        desk.audit("release", case.id, package=package_id, properties=sorted(released), values=counts)
    desk.audit("export", case.id, package=package_id, records=len(rows), lang=lang, format=fmt,
               marking=briefing.marking.value, released=sorted(released))  # fmt: skip
    return Exported(package_id, out, len(rows), material.withheld + len(ids) - len(rows), counts)


# -- import ----------------------------------------------------------------------------------------------
def _refuse(name: str, why: str) -> PackageError:
    return PackageError(_("The package is refused: {file}: {reason}").format(file=name, reason=why))


def _manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        data = json.loads(zf.read(MANIFEST))
    except KeyError:
        raise _refuse(MANIFEST, _("missing")) from None
    except (ValueError, zipfile.BadZipFile):
        raise _refuse(MANIFEST, _("not readable")) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
        raise _refuse(MANIFEST, _("not a cruce case package"))
    if data.get("format_version") != FORMAT_VERSION:
        raise _refuse(MANIFEST, _("format version {v} is not known").format(v=data.get("format_version")))
    package_id = str(data.get("package_id", ""))
    if len(package_id) != 32 or any(c not in "0123456789abcdef" for c in package_id):
        raise _refuse(MANIFEST, _("no package id"))
    case = data.get("case")
    if (
        not isinstance(case, dict)
        or not isinstance(case.get("title"), str)
        or not case["title"].strip()
        or not isinstance(case.get("description", ""), str)
        or case.get("marking") not in set(Marking)
    ):
        raise _refuse(MANIFEST, _("the case needs a title and a marking"))  # fmt: skip
    return data


def verified(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and the files of a package, every hash checked; ``PackageError`` names the first
    file that is missing, extra, too large or changed."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        raise _refuse(Path(path).name, _("not a ZIP file")) from None
    with zf:
        manifest = _manifest(zf)
        listed: dict[str, Any] = manifest["files"]
        members = {i.filename: i for i in zf.infolist()}
        for name in sorted(members):
            if name != MANIFEST and name not in listed:
                raise _refuse(name, _("not in the manifest"))
        files: dict[str, bytes] = {}
        for name, meta in sorted(listed.items()):
            info = members.get(name)
            if info is None:
                raise _refuse(name, _("missing"))
            if info.file_size > MAX_MEMBER_BYTES:
                raise _refuse(name, _("too large"))
            data = zf.read(info)
            if not isinstance(meta, dict) or sha256(data) != meta.get("sha256"):
                raise _refuse(name, _("its SHA-256 hash does not match the manifest"))
            files[name] = data
    for needed in (ENTITIES, PROVENANCE):
        if needed not in files:
            raise _refuse(needed, _("missing"))
    return manifest, files


def _case_of_package(desk: Desk, package_id: str) -> Investigation | None:
    """The case an earlier import of this package made, if any."""
    for case in desk.cases.all():
        if case.description.endswith(_package_line(package_id)):
            return case
    return None


def _package_line(package_id: str) -> str:
    return f"[cruce package {package_id}]"


def _origins(data: bytes) -> dict[str, dict[str, Any]]:
    """Each record's provenance by its id in the package; a line that is not one refuses the package."""
    out = {}
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            valid = isinstance(row, dict) and isinstance(row.get("id"), str) and isinstance(row.get("schema"), str)
        except ValueError:
            valid = False
        if not valid or not isinstance(row.get("statements"), list):
            raise _refuse(PROVENANCE, _("line {n} is not a record's provenance").format(n=number))
        out[row["id"]] = row
    return out


def import_package(desk: Desk, path: Path) -> Imported:
    """Import a package as a new case led by the desk's principal (nothing written if a hash fails)."""
    from cruce.graph.exchange import ExchangeError
    from cruce.graph.exchange_ftm import KEY_PREFIX, import_ftm

    if desk.principal.role is Role.VIEWER:
        raise PermissionError("import")  # checked first: a viewer could not open the case the records are for
    manifest, files = verified(Path(path))
    package_id, dataset = manifest["package_id"], f"package-{manifest['package_id'][:12]}"
    meta = manifest.get("case") or {}
    origins = _origins(files[PROVENANCE])
    with tempfile.TemporaryDirectory(prefix="cruce-package-") as folder:
        entities_file = Path(folder) / f"{dataset}.ftm.jsonl"
        entities_file.write_bytes(files[ENTITIES])
        try:
            skipped = sum(import_ftm(desk.guard.store, entities_file, dataset).skipped.values()) if origins else 0
        except ExchangeError as exc:
            raise PackageError(str(exc)) from None
    existing = _case_of_package(desk, package_id)
    if existing is not None:
        desk.audit("import", existing.id, package=package_id, outcome="already")
        return Imported(existing, len(origins), skipped, False)
    description = f"{meta.get('description', '')}\n\n{_package_line(package_id)}".strip()
    case = desk.create(str(meta.get("title") or package_id), description, str(meta.get("marking") or "amber"))
    records = 0
    for ftm_id, row in origins.items():
        new_id = entity_id(dataset, KEY_PREFIX, ftm_id)
        if desk.guard.store.entity(new_id) is None:
            continue
        desk.cases.add_item(case.id, record_kind(desk.guard, row["schema"]), new_id, by=desk.principal.username,
                            now=now(), data={"package": package_id, "origin": row})  # fmt: skip
        records += 1
    desk.audit("import", case.id, package=package_id, dataset=dataset, records=records,
               source_case=str(meta.get("id", ""))[:40])  # fmt: skip
    return Imported(case, records, skipped, True)


__all__ = ["Exported", "Imported", "PackageError", "export_case", "import_package", "verified"]
