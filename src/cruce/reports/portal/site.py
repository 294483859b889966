"""Writing the public portal: every page in every language from the templates, the style sheet, and a
``manifest.json`` with the hash of every file; the publication audited (actor, configuration
hash, manifest hash).

The site is plain files with relative links only (``en/people.html`` → ``../es/people.html``,
``../assets/portal.css``): it works from a plain file server, from a folder opened offline, and
under ``/public`` of a running cruce. It loads nothing from anywhere and runs no script.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from cruce import __version__
from cruce.i18n import catalog, gettext
from cruce.reports.portal.config import PortalConfig
from cruce.reports.portal.figures import FLOW_SCHEMAS, Context, Figure, Source, count_figure, number
from cruce.reports.portal.flows import drugs_figure, firearms_figure, people_figure
from cruce.reports.portal.legal import laws_figure
from cruce.security.policy import Marking

PAGES = ("index", "people", "drugs", "firearms", "laws", "sources", "contact")
FLOW_PAGES = ("people", "drugs", "firearms", "laws")
HEADLINES = {"people": "victims_total", "drugs": "seizures_total", "firearms": "traces_total"}
MANIFEST = "manifest.json"
AUDIT_ACTION = "portal_publish"


def _(message: str) -> str:
    return message


TITLES = {
    "index": _("Home"),
    "people": _("Trafficking in persons"),
    "drugs": _("Drugs and violence"),
    "firearms": _("Firearms trafficking"),
    "laws": _("Laws by jurisdiction"),
    "sources": _("Sources and method"),
    "contact": _("Contact"),
}
NAV = {
    "index": _("Home"),
    "people": _("People"),
    "drugs": _("Drugs"),
    "firearms": _("Firearms"),
    "laws": _("Laws"),
    "sources": _("Sources"),
    "contact": _("Contact"),
}
INTROS = {
    "people": _(
        "Victims of sex and labor trafficking, counted from de-identified victim records in the shape of the CTDC "
        "data. No victim can be singled out: small counts are suppressed and the rest generalised."
    ),
    "drugs": _(
        "Drugs seized on their way north, and the violence around the routes and the crossings they use, "
        "as the seizure and violence records show it."
    ),
    "firearms": _(
        "Guns bought in the United States and recovered in Mexico, traced back to their first retail sale: where "
        "they were bought, where they were found and how long it took."
    ),
    "laws": _(
        "Which jurisdictions have which law in force and since when, what enforcement followed, and the programs "
        "funded against trafficking, each as its source published it."
    ),
}
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


BUILDERS: dict[str, Callable[[Context, str], Figure | None]] = {
    "people": people_figure,
    "drugs": drugs_figure,
    "firearms": firearms_figure,
    "laws": laws_figure,
}


def page_figures(c: Context, page: str, wanted: Sequence[str]) -> list[Figure]:
    """The figures of ``page`` in the configured order (those with no data left out)."""
    built = (BUILDERS[page](c, figure_id) for figure_id in wanted)
    return [f for f in built if f is not None]


class PublishError(ValueError):
    """A publication that cannot be written (the output folder, the store)."""


@dataclass(frozen=True)
class Publication:
    out: Path
    files: int
    manifest_sha256: str
    config_sha256: str
    audit_seq: int | None


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("cruce.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def translator(lang: str) -> Any:
    messages = catalog(lang)
    return lambda message: messages.get(message, message)


def _published_imports(store: Any, config: PortalConfig) -> tuple[list[int], tuple[str, ...], dict[str, str]]:
    """The import numbers and datasets the configuration publishes, and each dataset's latest
    import day; a dataset named but marked red (or never imported) is refused."""
    from cruce.security import Security

    policies = Security(store).policies.of_imported()
    red = {name for name, p in policies.items() if p.marking is Marking.RED}
    if config.sources is None:
        chosen = sorted(set(policies) - red)
    else:
        for name in config.sources:
            if name in red:
                raise PublishError(
                    gettext("{file}, sources: dataset {name} is marked red: it is never published").format(
                        file=config.path, name=name
                    )
                )
            if name not in policies:
                raise PublishError(
                    gettext("{file}, sources: no dataset {name} was imported").format(file=config.path, name=name)
                )
        chosen = list(config.sources)
    rows = store._fetch("SELECT no, dataset, finished_at FROM import_run ORDER BY no")
    numbers = [int(no) for no, dataset, _at in rows if dataset in chosen]
    days: dict[str, str] = {}
    for _no, dataset, at in rows:
        if dataset in chosen and at is not None:
            days[dataset] = max(days.get(dataset, ""), str(at)[:10])
    return numbers, tuple(chosen), days


def _flow_sources(store: Any, datasets: tuple[str, ...], days: dict[str, str]) -> dict[str, tuple[Source, ...]]:
    """Per page, the published datasets holding records of its types (from the statements' provenance)."""
    rows = store._fetch(
        "SELECT DISTINCT r.dataset, p.schema FROM statement s JOIN property p ON p.prop_id = s.prop_id "
        "JOIN import_run r ON r.no = s.import_no"
    )
    found: dict[str, set[str]] = {}
    for dataset, schema in rows:
        if dataset not in datasets:
            continue
        for flow, schemas in FLOW_SCHEMAS.items():
            if schema in schemas:
                found.setdefault(flow, set()).add(str(dataset))
    return {flow: tuple(Source(d, days.get(d, "")) for d in sorted(names)) for flow, names in found.items()}


def build_pages(store: Any, config: PortalConfig, *, today: date | None = None) -> dict[str, str]:
    """Every file of the site (relative path → text), computed from ``store`` as ``config`` says."""
    from cruce.analyses.geo import bundled_states
    from cruce.schema.loader import default_schema

    schema = default_schema()
    imports, datasets, days = _published_imports(store, config)
    sources = _flow_sources(store, datasets, days)
    now = datetime.now(UTC)
    today = today or now.date()
    shared: dict[str, Any] = {}
    files: dict[str, str] = {
        "index.html": _env()
        .get_template("portal/root.html")
        .render(languages=config.languages, names=LANGUAGE_NAMES, css="assets/portal.css")
    }
    files["assets/portal.css"] = (resources.files("cruce.reports") / "templates" / "portal" / "portal.css").read_text(
        encoding="utf-8"
    )
    for lang in config.languages:
        tr = translator(lang)
        c = Context(
            store, schema, imports, sources, datasets, config.k, lang, tr, bundled_states(), today, shared, days
        )
        pages: dict[str, list[Figure]] = {}
        for page in FLOW_PAGES:
            pages[page] = page_figures(c, page, config.pages.get(page, ()))
            for count in config.counts:
                if count.page == page:
                    pages[page].append(count_figure(c, count.schema, count.by))
        headlines = [(p, f) for p in ("people", "drugs", "firearms") for f in pages[p] if f.id == HEADLINES[p]]
        for name in PAGES:
            if name in FLOW_PAGES and name not in config.pages:
                continue
            files[f"{lang}/{name}.html"] = _render(
                name,
                lang,
                config,
                tr,
                figures=pages.get(name, []),
                headlines=headlines,
                sources=sources,
                datasets=datasets,
                days=days,
                published=now.strftime("%Y-%m-%d %H:%M UTC"),
            )
    for data in shared.values():
        close = getattr(data, "close", None)
        if close is not None:
            close()
    return files


def _render(name: str, lang: str, config: PortalConfig, tr: Any, live: bool = False, **values: Any) -> str:
    shown = [p for p in PAGES if p not in FLOW_PAGES or p in config.pages]
    return (
        _env()
        .get_template(f"portal/{name}.html")
        .render(
            _=tr,
            lang=lang,
            page=name,
            pages=shown,
            titles=TITLES,
            nav=NAV,
            languages=config.languages,
            names=LANGUAGE_NAMES,
            k=config.k,
            contact_url=config.contact_url,
            live=live,
            num=lambda n: number(n, lang),
            config_sha256=config.sha256,
            version=__version__,
            intro=INTROS,
            **values,
        )
    )


def contact_page(lang: str, config: PortalConfig, published: str) -> str:
    """The Contact page as a running cruce serves it at /public: a link to its own tip form."""
    return _render("contact", lang, config, translator(lang), live=True, published=published)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_site(files: dict[str, str], out: Path, config: PortalConfig) -> tuple[int, str]:
    """Write the files and ``manifest.json`` into ``out`` (replaced whole: written beside it, then
    swapped in); returns the number of files and the manifest's hash."""
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise PublishError(gettext("{folder}: not a folder").format(folder=out))
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise PublishError(
            gettext("{folder}: the folder is not empty and holds no published site; choose another").format(folder=out)
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".portal-", dir=out.parent))
    hashes: dict[str, str] = {}
    for rel, text in sorted(files.items()):
        data = text.encode("utf-8")
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        hashes[rel] = _sha256(data)
    manifest = {
        "generator": f"cruce {__version__}",
        "published": datetime.now(UTC).isoformat(timespec="seconds"),
        "config_sha256": config.sha256,
        "k": config.k,
        "languages": list(config.languages),
        "contact_url": config.contact_url,
        "files": hashes,
    }
    data = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
    (staging / MANIFEST).write_bytes(data)
    os.chmod(staging, 0o755)  # noqa: S103 - a published site is for everyone to read
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)
    return len(hashes), _sha256(data)


def publish(store: Any, config: PortalConfig, out: Path, actor: str, *, today: date | None = None) -> Publication:
    """Compute the site from ``store``, write it into ``out``, and audit the publication."""
    from cruce.security import Security

    files = build_pages(store, config, today=today)
    count, manifest_hash = write_site(files, Path(out), config)
    entry = Security(store).audit.record(
        actor,
        AUDIT_ACTION,
        target=str(Path(out).resolve()),
        detail={
            "config_sha256": config.sha256,
            "manifest_sha256": manifest_hash,
            "files": count,
            "k": config.k,
            "config": config.path,
            "languages": list(config.languages),
        },
    )
    return Publication(Path(out).resolve(), count, manifest_hash, config.sha256, entry.seq)


def last_published(store: Any, audit: Any = None) -> Path | None:
    """The folder of the latest publication still on disk (from the audit log, ``audit`` when the
    caller holds one), if any."""
    if audit is None:
        from cruce.security import Security

        audit = Security(store).audit
    for entry in audit.entries(action=AUDIT_ACTION, limit=20):
        if entry.outcome == "ok" and entry.target and (Path(entry.target) / MANIFEST).exists():
            return Path(entry.target)
    return None
