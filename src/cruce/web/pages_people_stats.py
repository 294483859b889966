"""The people flow's statistics page (/people/statistics): victim records in the shape of the CTDC
data — by year, gender, exploitation type, age band, citizenship, means of control — over the
datasets the signed-in user may see, as charts and tables, each exportable; and the k-anonymous
table to share (/people/statistics/release.csv) with its suppression report on the page.

Aggregates only: no name or record of a person is ever shown here. Counts come from
``cruce.people.stats`` (a victim counted once under each value of a multi-valued dimension), the
release from ``cruce.people.kanon``; both are those of ``cruce people stats|release`` and the API.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from cruce.analyses.service import Analysis, analysis, sources_of
from cruce.people import kanon, stats
from cruce.web.context import Ctx, page
from cruce.web.i18n import mark as _

router = APIRouter(include_in_schema=False)

Dimension = Literal[stats.DIMENSIONS]  # type: ignore[valid-type]
CROSSTABS = (
    ("exploitation_type", "gender"),
    ("age_band", "exploitation_type"),
    ("control_category", "exploitation_type"),
    ("recruiter_relation", "gender"),
)
RELEASE_BY = ("year", "gender", "age_band", "citizenship", "exploitation_type")
TOP_CITIZENSHIPS = 15
DIMENSION_LABELS = {
    "year": _("Year"),
    "gender": _("Gender"),
    "age_band": _("Age band"),
    "majority_status": _("Adult or minor"),
    "citizenship": _("Citizenship"),
    "data_source": _("Data source"),
    "dataset": _("Dataset"),
    "country_of_exploitation": _("Country of exploitation"),
    "exploitation_type": _("Exploitation type"),
    "means_of_control": _("Means of control"),
    "control_category": _("Means of control (group)"),
    "recruiter_relation": _("Recruiter relation"),
    "labour_type": _("Type of labour"),
}


def _held(ctx: Ctx) -> Analysis[stats.CaseData]:
    return analysis(ctx.guard.store, stats.CaseData, ctx.guard.visible_imports(ctx.principal))


def _labeller(ctx: Ctx) -> Any:
    """``label(dimension, value)``: a code as its label in the reader's language (countries by name)."""
    from cruce.schema import places
    from cruce.web.views import value_display

    def label(dimension: str, value: Any) -> str:
        if value is None or value == stats.NOT_STATED:
            return ctx._(_("not stated"))
        if dimension in ("citizenship", "country_of_exploitation"):
            try:
                return places.country_name(str(value), ctx.lang)
            except (KeyError, LookupError, ValueError):
                return str(value)
        props = {**stats.SINGLE, **stats.MULTI}.get(dimension)
        if not props:
            return str(value)
        return value_display(ctx.guard.schema, "TraffickingCase", props[0], str(value), ctx.lang)

    return label


def _crosstab(held: Analysis[stats.CaseData], row: str, column: str) -> list[dict[str, Any]]:
    return held.answer(("crosstab", row, column), lambda d: stats.crosstab(d, row, column))


def _release(held: Analysis[stats.CaseData], k: int, by: tuple[str, ...]) -> kanon.Release:
    return held.answer(("release", by, k), lambda d: kanon.release(d.records(list(by), None), list(by), k))


@router.get("/people/statistics", response_class=HTMLResponse)
def statistics_page(request: Request, k: Annotated[int, Query(ge=2, le=1000)] = kanon.DEFAULT_K) -> Response:
    ctx = page(request)
    held = _held(ctx)
    charts: dict[str, Any] = {
        "years": held.answer(("counts", ("year",)), lambda d: stats.counts(d, ["year"])),
        "citizenship": held.answer(("counts", ("citizenship",)), lambda d: stats.counts(d, ["citizenship"])),
        "by_year": held.answer(
            ("counts", ("year", "exploitation_type")), lambda d: stats.counts(d, ["year", "exploitation_type"])
        ),
    }
    tables = {f"{row}-{column}": _crosstab(held, row, column) for row, column in CROSSTABS}
    released = _release(held, k, RELEASE_BY)
    label = _labeller(ctx)
    for row in charts["by_year"]:
        row["label"] = label("exploitation_type", row["exploitation_type"])
    for row in charts["citizenship"]:
        row["label"] = label("citizenship", row["citizenship"])
    return ctx.render(
        "people_statistics.html",
        total=held.answer(("total",), lambda d: stats.total(d)),
        charts={**charts, "citizenship": sorted(charts["citizenship"], key=lambda r: -r["records"])[:TOP_CITIZENSHIPS]},
        tables=tables,
        crosstabs=CROSSTABS,
        k=k,
        release_by=RELEASE_BY,
        report=released.report,
        sources=sources_of(ctx.guard.imports(ctx.principal, limit=100_000), ["TraffickingCase"]),
        dimension_labels={d: ctx._(label) for d, label in DIMENSION_LABELS.items()},
        release_labels=", ".join(ctx._(DIMENSION_LABELS[d]) for d in RELEASE_BY),
        label=label,
    )


@router.get("/people/statistics/export.csv")
def export_counts(
    request: Request,
    by: Annotated[list[Dimension], Query(max_length=4)] = ["year", "gender", "exploitation_type"],  # noqa: B006
) -> Response:
    """Victim records per combination of ``by`` (the CTDC shape), as CSV."""
    ctx = page(request)
    dims = stats.check_dimensions(list(dict.fromkeys(by)))
    rows = _held(ctx).answer(("counts", tuple(dims)), lambda d: stats.counts(d, dims))
    return _csv(ctx, rows, [*dims, "records"], "cruce-victim-statistics.csv")


@router.get("/people/statistics/release.csv")
def export_release(request: Request, k: Annotated[int, Query(ge=2, le=1000)] = kanon.DEFAULT_K) -> Response:
    """The k-anonymous table (every row stands for at least k records), fit to share."""
    ctx = page(request)
    released = _release(_held(ctx), k, RELEASE_BY)
    ctx.audit("release_statistics", target=f"k={k}", rows=len(released.rows))
    return _csv(ctx, released.rows, [*RELEASE_BY, "records"], f"cruce-victim-statistics-k{k}.csv")


def _csv(ctx: Ctx, rows: list[dict[str, Any]], columns: list[str], name: str) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({c: ("" if r.get(c) is None else r[c]) for c in columns} for r in rows)
    response = Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    ctx.finish(response)
    return response
