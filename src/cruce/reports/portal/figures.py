"""What every figure of the portal is made of: the figure itself (a headline, a chart or a map with
its data as a table, or a list of records), the context it is computed in (store, published
imports, k, language), labels and numbers in the reader's language, and the generic count a
configuration may add. The flows' figures are in ``flows``, the law's in ``legal``.

Aggregates only: every table is a count by a code, a state, a country or a year; no record,
name or identifier is read into a figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cruce.reports.portal import charts
from cruce.reports.portal.disclosure import Table, suppress
from cruce.schema import places
from cruce.schema.model import PropertyType, Schema

Tr = Callable[[str], str]


FLOW_SCHEMAS = {
    "people": ("TraffickingCase",),
    "seizures": ("DrugSeizure",),
    "violence": ("ViolenceEvent",),
    "firearms": ("Trace", "FirearmRecovery"),
    "laws": ("Law",),
    "enforcement": ("EnforcementOutcome",),
    "programs": ("Program",),
}


@dataclass(frozen=True)
class Source:
    dataset: str
    imported: str  # YYYY-MM-DD of its latest import


@dataclass
class Figure:
    """One figure of a page: a headline, a chart or map with its data as a table, or a list of records."""

    id: str
    title: str
    kind: str  # headline | columns | bars | map | records
    sources: tuple[Source, ...] = ()
    period: str = ""
    note: str = ""
    headline: list[tuple[str, str]] = field(default_factory=list)
    table: Table | None = None
    headers: tuple[str, ...] = ()  # key, count (and extra) columns of ``table``; columns of ``rows``
    chart: Any = None
    rows: list[list[str]] = field(default_factory=list)  # records (laws), no count among them


@dataclass
class Context:
    """What every figure needs: the store, the imports published, k, the reader's language."""

    store: Any
    schema: Schema
    imports: list[int]
    sources: dict[str, tuple[Source, ...]]  # flow -> datasets its figures were computed from
    datasets: tuple[str, ...]
    k: int
    lang: str
    tr: Tr
    boundaries: dict[str, Any]
    today: date
    cache: dict[str, Any] = field(default_factory=dict)
    days: dict[str, str] = field(default_factory=dict)  # dataset -> day of its latest import

    def held(self, name: str, make: Callable[[], Any]) -> Any:
        """``make()`` once for the whole publication (both languages read the same tables)."""
        if name not in self.cache:
            self.cache[name] = make()
        return self.cache[name]


def enum_label(schema: Schema, type_name: str, prop: str, value: Any, lang: str) -> str:
    """A code as its label in ``lang`` (countries and states by name); anything else as it is."""
    text = str(value)
    stype = schema.types.get(type_name)
    spec = stype.properties.get(prop) if stype else None
    try:
        if spec is not None and spec.type is PropertyType.ENUM and spec.enum in schema.enums:
            code = schema.enums[spec.enum].values.get(text)
            return code.label(lang) if code else text
        if spec is not None and spec.type is PropertyType.COUNTRY:
            return places.country_name(text, lang)
        if spec is not None and spec.type is PropertyType.STATE:
            return places.state_name(text, lang)
    except (KeyError, LookupError, ValueError):
        return text
    return text


def state_label(code: str, lang: str) -> str:
    try:
        return places.state_name(code, lang)
    except (KeyError, LookupError, ValueError):
        return code


def number(n: float | int, lang: str, digits: int = 0) -> str:
    """A number as the portal's readers write it: 1,234.5 in English and in the Spanish of Mexico
    and the United States alike, where the decimal point is the common use (Spain's 1.234,5 would
    misread there). ``lang`` is kept for a language that writes numbers otherwise."""
    del lang
    return f"{n:,.{digits}f}"


def percent(x: float, lang: str) -> str:
    return number(100 * x, lang, 1) + " %"


def years_span(first: Any, last: Any) -> str:
    first, last = str(first or "")[:4], str(last or "")[:4]
    return first if first == last else f"{first}–{last}" if first and last else ""


def country_label(code: str, lang: str) -> str:
    try:
        return places.country_name(code, lang)
    except (KeyError, LookupError, ValueError):
        return code


# -- a configured count -------------------------------------------------------------------------------
def count_figure(c: Context, type_name: str, by: str) -> Figure:
    """Records of ``type_name`` by the property ``by`` (checked by the configuration: a code, a
    state, a country or a date, never protected), over the published imports."""
    _ = c.tr
    spec = c.schema.get(type_name).properties[by]
    numbers = ", ".join(str(int(n)) for n in c.imports) or "NULL"
    value = "substr(s.value, 1, 4)" if spec.type is PropertyType.DATE else "s.value"
    rows = c.store._fetch(
        f"SELECT {value} AS v, count(DISTINCT s.entity_id) FROM statement s JOIN property p ON p.prop_id = s.prop_id "
        f"WHERE p.schema = ? AND p.prop = ? AND s.import_no IN ({numbers}) GROUP BY 1 ORDER BY 1",
        (type_name, by),
    )
    cells = [
        (
            str(v),
            str(v) if spec.type is PropertyType.DATE else enum_label(c.schema, type_name, by, v, c.lang),
            int(n),
            "",
        )
        for v, n in rows
        if v
    ]
    table = suppress(cells, c.k)
    stype = c.schema.get(type_name)
    title = f"{stype.plural.get(c.lang)} · {spec.label.get(c.lang)}"
    return Figure(
        f"count-{type_name}-{by}",
        title,
        "bars",
        _sources_of(c, type_name),
        table=table,
        headers=(spec.label.get(c.lang), _("Records")),
        chart=charts.bar_chart(table),
    )


def _sources_of(c: Context, type_name: str) -> tuple[Source, ...]:
    """The published datasets holding records of ``type_name``, with their dates."""
    rows = c.store._fetch(
        "SELECT DISTINCT r.dataset FROM statement s JOIN property p ON p.prop_id = s.prop_id "
        "JOIN import_run r ON r.no = s.import_no WHERE p.schema = ? ORDER BY 1",
        (type_name,),
    )
    return tuple(Source(str(d), c.days.get(str(d), "")) for (d,) in rows if d in c.datasets)
