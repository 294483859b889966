"""The drugs and violence dashboard (/drugs-violence), the records behind its figures
(/drugs-violence/records), the CSV behind each chart (/drugs-violence/export/{figure}.csv), and the
boundaries every map is drawn on (/maps/boundaries.json).

Figures are those of ``cruce violence``, ``cruce drugs`` and their API, over the datasets the
signed-in user may see, kept per store state (``service.analysis``). The official homicide series
and each newspaper's tally stay separate series, each with its own trend and interval. Every chart
names the datasets and files behind it, exports PNG, SVG and CSV, and a click on a state, a port or
a bar lists its records (each links to its entity, whose statements give file and row).
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from cruce.analyses import drugs, hotspots, organizations, violence
from cruce.analyses.geo import municipal_boundaries, state_boundaries
from cruce.analyses.service import Analysis, analysis, sources_of
from cruce.analyses.tables import Tables
from cruce.web.context import Ctx, page
from cruce.web.pages_organizations import municipality_centres, plaza_point

router = APIRouter(include_in_schema=False)

Figure = Literal[
    "compare", "trends", "homicides", "yoy", "change-points", "hot-spots", "seizures", "months", "seasonality",
    "rates", "modes", "concealment", "ports", "municipalities", "office-rates",
]  # fmt: skip
Text = Annotated[str, Query(max_length=60)]
MONTH = r"^[12]\d{3}-(0[1-9]|1[0-2])$"
# which record types feed each figure: the sources a chart names
FEEDS = {
    "violence": ("ViolenceEvent",),
    "seizures": ("DrugSeizure",),
    "crossings": ("CrossingCount",),
    "rates": ("DrugSeizure", "CrossingCount"),
}


T = TypeVar("T", bound=Tables)


def _held(ctx: Ctx, kind: type[T]) -> Analysis[T]:
    return analysis(ctx.guard.store, kind, ctx.guard.visible_imports(ctx.principal))


def _latest_year(held: Analysis[violence.ViolenceData]) -> int | None:
    rows = held.answer(("homicides", "INEGI", None), lambda d: violence.homicides_by_state_year(d))
    whole = [r["year"] for r in rows if r["months"] >= 12]
    return max(whole) if whole else None


def _figure(ctx: Ctx, figure: str, year: int | None, drug: str | None) -> list[dict[str, Any]]:
    """One chart's rows (kept with the analyses)."""
    v, d = _held(ctx, violence.ViolenceData), _held(ctx, drugs.DrugsData)
    if figure in ("compare", "trends", "homicides", "yoy", "change-points", "municipalities"):
        compute_v = {
            "compare": lambda data: violence.national_side_by_side(data),
            "trends": lambda data: violence.national_trends(data),
            "homicides": lambda data: [r for r in violence.homicides_by_state_year(data) if r["year"] == year],
            "yoy": lambda data: violence.year_over_year(data, year) if year else [],
            "change-points": lambda data: violence.change_points(data),
            "municipalities": lambda data: violence.by_municipality(data),
        }[figure]
        return v.answer((figure, year), compute_v)
    if figure == "hot-spots":
        return _held(ctx, hotspots.EventPoints).answer(("cells-with-courses",), hotspots.cells_with_courses)
    compute_d = {
        "seizures": lambda data: drugs.seizures_by_fiscal_year(data, drug),
        "months": lambda data: drugs.seizures_by_month(data, drug),
        "seasonality": lambda data: drugs.seasonality(data, drug),
        "rates": lambda data: drugs.seizures_per_crossings(data, drug),
        "office-rates": lambda data: drugs.seizures_per_crossings_by_office(data, drug),
        "modes": lambda data: drugs.seizures_by(data, "mode", drug),
        "concealment": lambda data: drugs.seizures_by(data, "concealment", drug),
        "ports": drugs.ports,
    }[figure]
    return d.answer((figure, drug), compute_d)


def _flat(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for a CSV: a trend's years and fitted values become one row each; lists are joined."""
    if rows and "fitted" in rows[0] and "years" in rows[0]:
        return violence.trend_rows(rows)
    return [{k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()} for row in rows]


def _plazas(ctx: Ctx) -> list[dict[str, Any]]:
    """The plazas claimed on the latest date of the registry, each with its point (see
    ``pages_organizations.plaza_point``) and its holder or challenger; those without a point are left off."""
    held = _held(ctx, organizations.OrgData)
    claims = held.answer(("territory", None), lambda data: organizations.territory(data))["claims"]
    centres = municipality_centres(ctx)
    placed = [{**claim, "point": plaza_point(claim, centres)} for claim in claims]
    return [c for c in placed if c["point"]]


@router.get("/drugs-violence", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    drug: Text = "",
) -> Response:
    ctx = page(request)
    shown_year = year or _latest_year(_held(ctx, violence.ViolenceData))
    chosen_drug = drug.strip() or None
    names = ("compare", "trends", "homicides", "hot-spots", "seizures", "months", "seasonality", "rates", "ports",
             "municipalities", "office-rates")  # fmt: skip
    charts = {name: _figure(ctx, name, shown_year, chosen_drug) for name in names}
    charts["plazas"] = _plazas(ctx)
    registry = _held(ctx, organizations.OrgData).answer(("registry",), organizations.registry)
    listed = ("yoy", "change-points", "modes", "concealment")
    tables = {name: _figure(ctx, name, shown_year, chosen_drug) for name in listed}
    imports = ctx.guard.imports(ctx.principal, limit=100_000)
    return ctx.render(
        "drugs_violence.html",
        charts=charts,
        tables=tables,
        year=shown_year,
        drug=chosen_drug or "",
        drugs_seen=sorted({r["drug"] for r in charts["seizures"] if r["drug"]}),
        sources={kind: sources_of(imports, schemas) for kind, schemas in FEEDS.items()},
        query=str(request.url.query),
        summary=_summary(charts, tables),
        registry=registry,
    )


def _summary(charts: dict[str, list[dict[str, Any]]], tables: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The headline figures: the year's homicides and rise, the executions tallied, the seizures
    and the hot cells."""
    homicides = sum(r["homicides"] or 0 for r in charts["homicides"])
    rise = sum(r["change"] for r in tables["yoy"])
    executions = {
        s["series"].split(":", 1)[1]: sum(y["killed"] for y in s["years"])
        for s in charts["trends"]
        if s["series"].startswith("execution:")
    }
    return {
        "homicides": homicides,
        "homicide_change": rise,
        "executions": executions,
        "seizure_events": sum(r["events"] or 0 for r in charts["seizures"]),
        "seizure_kg": sum(r["kilograms"] or 0 for r in charts["seizures"]),
        "hot_cells": sum(1 for r in charts["hot-spots"] if r["hot"]),
        "outlier_ports": sum(1 for r in charts["rates"] + charts["office-rates"] if r.get("outlier")),
    }


@router.get("/drugs-violence/export/{figure}.csv")
def export_csv(
    request: Request,
    figure: Figure,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    drug: Text = "",
) -> Response:
    """The rows behind a chart or table, as CSV."""
    ctx = page(request)
    shown_year = year or _latest_year(_held(ctx, violence.ViolenceData))
    rows = _flat(_figure(ctx, figure, shown_year, drug.strip() or None))
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
        writer.writeheader()
        writer.writerows(rows)
    response = Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="cruce-{figure}.csv"'},
    )
    ctx.finish(response)
    return response


@router.get("/drugs-violence/records", response_class=HTMLResponse)
def records_page(
    request: Request,
    kind: Literal["violence", "seizures"] = "violence",
    state: Text = "",
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    source: Text = "",
    municipality: Text = "",
    drug: Text = "",
    fiscal_year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    month: Annotated[str, Query(pattern=f"({MONTH})|^$")] = "",
    port: Text = "",
    cell: Annotated[str, Query(pattern=r"^([0-9a-f]{15})?$")] = "",
) -> Response:
    """The records behind a figure: the keys of the state, bar, port or map cell clicked."""
    ctx = page(request)
    limit = 500
    if kind == "violence":
        asked = {"state": state, "year": year, "source": source, "municipality": municipality, "cell": cell}
        in_cell = hotspots.events_in_cell(_held(ctx, hotspots.EventPoints).data, cell) if cell else None
        found = violence.records(
            _held(ctx, violence.ViolenceData).data,
            state or None,
            year,
            source or None,
            municipality or None,
            limit,
            in_cell,
        )
        key = "event"
    else:
        asked = {"drug": drug, "fiscal_year": fiscal_year, "month": month, "port": port}
        found = drugs.records(
            _held(ctx, drugs.DrugsData).data, drug or None, fiscal_year, month or None, port or None, limit
        )
        key = "seizure"
    return ctx.render(
        "drugs_violence_records.html",
        rows=found,
        key=key,
        kind=kind,
        limit=limit,
        asked={k: str(v) for k, v in asked.items() if v not in (None, "")},
    )


@router.get("/maps/boundaries.json")
def boundaries(request: Request) -> Response:
    """US and Mexican states (shipped, or imported) as a GeoJSON FeatureCollection, with the
    imported municipalities' features under ``municipalities``."""
    ctx = page(request)
    municipalities = municipal_boundaries(ctx.guard.db)["features"]
    response = JSONResponse({**state_boundaries(ctx.guard.db), "municipalities": municipalities})
    ctx.finish(response)
    return response
