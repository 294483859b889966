"""The reviewed configuration of the public portal: which pages and figures, which datasets, which
k — checked before anything is computed, so that a file that would publish a protected property,
a red dataset or cells smaller than the floor is refused with the reason, and nothing is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cruce.i18n import _
from cruce.schema.model import PropertyType, Schema
from cruce.security.policy import protected_properties
from cruce.yaml_loader import safe_load

K_FLOOR = 5
"""No configuration may publish a cell standing for fewer records than this."""
LANGUAGES = ("en", "es")
FIGURES: dict[str, tuple[str, ...]] = {
    "people": (
        "victims_total",
        "victims_by_year",
        "victims_by_exploitation_type",
        "victims_by_gender",
        "victims_by_age_band",
        "victims_by_citizenship",
        "map_country_of_exploitation",
    ),
    "drugs": ("seizures_total", "seizures_by_drug", "seizures_by_year", "map_violence_by_state", "violence_by_year"),
    "firearms": ("traces_total", "time_to_crime", "map_recovery_states", "source_states", "recovery_states"),
    "laws": (
        "laws_in_force",
        "map_sex_trafficking_law",
        "laws_over_time",
        "laws_by_jurisdiction",
        "enforcement",
        "programs",
        "published_claims",
    ),
}
"""Every figure a page can show (the order of a page is the configuration's)."""
COUNTABLE = frozenset({PropertyType.ENUM, PropertyType.STATE, PropertyType.COUNTRY, PropertyType.DATE})
"""Property types a configured count may be by: codes and dates, never a name, number or text."""
KEYS = frozenset({"k", "languages", "sources", "contact_url", "pages", "counts"})


class ConfigError(ValueError):
    """A portal configuration that cannot be published, with the file and the reason."""


@dataclass(frozen=True)
class Count:
    """A configured count: records of ``schema`` by ``by``, on ``page``."""

    page: str
    schema: str
    by: str


@dataclass(frozen=True)
class PortalConfig:
    k: int
    languages: tuple[str, ...]
    sources: tuple[str, ...] | None  # None: every dataset not marked red
    contact_url: str
    pages: dict[str, tuple[str, ...]]
    counts: tuple[Count, ...] = ()
    text: str = field(default="", repr=False)
    path: str = "publish.yaml"

    @property
    def sha256(self) -> str:
        """The hash of the file as reviewed (what the audit entry names)."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def default_text() -> str:
    return resources.files("cruce.reports.portal").joinpath("publish.yaml").read_text(encoding="utf-8")


def load(path: str | Path | None, schema: Schema) -> PortalConfig:
    """The configuration at ``path`` (the shipped one when None), checked against ``schema``."""
    if path is None:
        text, name = default_text(), "publish.yaml"
    else:
        try:
            text, name = Path(path).read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise ConfigError(_("{file}: cannot be read ({reason})").format(file=path, reason=exc.strerror)) from None
    try:
        raw = safe_load(text)
    except Exception as exc:  # yaml.YAMLError and its C twin
        raise ConfigError(_("{file}: not valid YAML ({reason})").format(file=name, reason=exc)) from None
    return parse(raw if raw is not None else {}, schema, text=text, name=name)


def _fail(name: str, key: str, reason: str) -> ConfigError:
    return ConfigError(_("{file}, {key}: {reason}").format(file=name, key=key, reason=reason))


def parse(raw: Any, schema: Schema, *, text: str = "", name: str = "publish.yaml") -> PortalConfig:
    """Check a configuration read from YAML; ConfigError names the file, the key and the reason."""
    if not isinstance(raw, dict):
        raise _fail(name, "-", _("expected a mapping of settings"))
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise _fail(
            name, unknown[0], _("unknown setting; the settings are {keys}").format(keys=", ".join(sorted(KEYS)))
        )
    k = raw.get("k", 10)
    if not isinstance(k, int) or isinstance(k, bool):
        raise _fail(name, "k", _("must be a whole number"))
    if k < K_FLOOR:
        raise _fail(
            name,
            "k",
            _("{k} is below the floor of {floor}: cells that small may single a person out").format(k=k, floor=K_FLOOR),
        )
    languages = tuple(raw.get("languages") or LANGUAGES)
    if not set(languages) <= set(LANGUAGES):
        raise _fail(name, "languages", _("each must be one of {choices}").format(choices=", ".join(LANGUAGES)))
    sources = raw.get("sources", "all")
    if sources != "all" and not (isinstance(sources, list) and all(isinstance(s, str) for s in sources)):
        raise _fail(name, "sources", _("must be all or a list of dataset names"))
    contact = str(raw.get("contact_url") or "")
    if contact and not contact.startswith(("https://", "http://")):
        raise _fail(name, "contact_url", _("must be an http(s) address, such as https://example.org/tip"))
    return PortalConfig(
        k=k,
        languages=tuple(dict.fromkeys(languages)),
        sources=None if sources == "all" else tuple(sources),
        contact_url=contact,
        pages=_pages(raw.get("pages"), name),
        counts=_counts(raw.get("counts") or [], schema, name),
        text=text,
        path=name,
    )


def _pages(raw: Any, name: str) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return dict(FIGURES)
    if not isinstance(raw, dict):
        raise _fail(name, "pages", _("expected a mapping of page to figures"))
    pages: dict[str, tuple[str, ...]] = {}
    for page, figures in raw.items():
        if page not in FIGURES:
            raise _fail(
                name, f"pages.{page}", _("unknown page; the pages are {pages}").format(pages=", ".join(FIGURES))
            )
        for figure in figures or []:
            if figure not in FIGURES[page]:
                raise _fail(
                    name,
                    f"pages.{page}",
                    _("unknown figure {figure}; this page has {figures}").format(
                        figure=figure, figures=", ".join(FIGURES[page])
                    ),
                )
        pages[page] = tuple(figures or ())
    return pages


def _counts(raw: Any, schema: Schema, name: str) -> tuple[Count, ...]:
    """The configured counts, each refused when its property is protected or could identify someone."""
    if not isinstance(raw, list):
        raise _fail(name, "counts", _("expected a list of {page, schema, by}"))
    protected = protected_properties(schema)
    found = []
    for i, item in enumerate(raw, 1):
        key = f"counts[{i}]"
        if not isinstance(item, dict) or set(item) != {"page", "schema", "by"}:
            raise _fail(name, key, _("expected page, schema and by"))
        page, type_name, by = str(item["page"]), str(item["schema"]), str(item["by"])
        if page not in ("people", "drugs", "firearms"):
            raise _fail(name, key, _("page must be people, drugs or firearms"))
        stype = schema.types.get(type_name)
        if stype is None or by not in stype.properties:
            raise _fail(name, key, _("{schema}.{prop} is not in the schema").format(schema=type_name, prop=by))
        if (type_name, by) in protected or stype.properties[by].protected:
            raise _fail(
                name,
                key,
                _("{schema}.{prop} is a protected property: it is never published").format(schema=type_name, prop=by),
            )
        if stype.properties[by].type not in COUNTABLE:
            raise _fail(
                name,
                key,
                _(
                    "{schema}.{prop} is a {type}: only codes, states, countries and dates may be "
                    "counted on the public portal"
                ).format(schema=type_name, prop=by, type=stype.properties[by].type.value),
            )
        found.append(Count(page, type_name, by))
    return tuple(found)
