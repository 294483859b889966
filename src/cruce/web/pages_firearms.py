"""The firearms dashboard (/firearms), the records behind its figures (/firearms/records), the CSV
behind each chart (/firearms/export/{figure}.csv).

Figures are those of ``cruce firearms`` and ``/api/v1/firearms`` (``cruce.analyses.firearms``),
over the datasets the signed-in user may see, kept per store state (``service.analysis``): the
page is computed once, then served from memory. The charts are drawn by ``static/firearms.js``
(ECharts, served by cruce itself) from the figures embedded in the page as JSON; each chart
exports PNG, SVG and its CSV, and a click on a bar, state or corridor lists its trace records.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from cruce.analyses.firearms import figures
from cruce.analyses.firearms.data import Filters, FirearmsData
from cruce.analyses.firearms.indicators import rules
from cruce.analyses.firearms.leads import lead_detail, lead_out, people_of
from cruce.analyses.firearms.score import DEFAULT_THRESHOLD, as_dict, score_purchasers
from cruce.analyses.service import Analysis, analysis
from cruce.security.guard import caption
from cruce.web.context import Ctx, page

router = APIRouter(include_in_schema=False)

LEADS_SHOWN = 12
Figure = Literal["sources", "dealers", "recoveries", "corridors", "ttc", "types", "calibers", "completion", "leads"]
DAY = r"^[12]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
Text = Annotated[str, Query(max_length=40)]


def _filters(
    date_from: Annotated[str, Query(alias="from", pattern=f"({DAY})|^$")] = "",
    date_to: Annotated[str, Query(alias="to", pattern=f"({DAY})|^$")] = "",
    state: Text = "",
    type: Text = "",
    caliber: Text = "",
) -> Filters:
    """The filters of the page's form (a dependency of each page that takes them)."""

    def day(value: str) -> date | None:
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            raise HTTPException(status_code=422, detail="not a date (YYYY-MM-DD)") from None

    return Filters(
        day(date_from), day(date_to), None, state.strip() or None, type.strip() or None, caliber.strip() or None
    )


Filtered = Annotated[Filters, Depends(_filters)]


def _analysis(ctx: Ctx) -> Analysis[FirearmsData]:
    return analysis(ctx.guard.store, FirearmsData, ctx.guard.visible_imports(ctx.principal))


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()} for row in rows]


def _figure(held: Analysis[FirearmsData], figure: str, f: Filters) -> list[dict[str, Any]]:
    """One chart's rows (kept with the analysis)."""
    if figure == "ttc":
        return held.answer(("ttc", None, f, 20), lambda d: figures.time_to_crime(d, f, None, 20))["bands"]  # type: ignore[no-any-return]
    compute = {
        "sources": lambda d: figures.source_states(d, f, 60),
        "dealers": lambda d: figures.source_dealers(d, f, 25),
        "recoveries": lambda d: figures.recovery_states(d, f, 40),
        "corridors": lambda d: figures.corridors(d, f, 40),
        "types": lambda d: figures.types_over_time(d, f, "type"),
        "calibers": lambda d: figures.types_over_time(d, f, "caliber"),
        "completion": lambda d: figures.completion(d, f),
    }[figure]
    return _plain(held.answer((figure, f), compute))


def _leads(ctx: Ctx, held: Analysis[FirearmsData], limit: int) -> list[dict[str, Any]]:
    leads = held.answer(
        ("leads", None, DEFAULT_THRESHOLD, limit),
        lambda d: score_purchasers(d, threshold=DEFAULT_THRESHOLD, limit=limit),
    )
    shown = ctx.guard.entities_by_id(ctx.principal, [lead.purchaser for lead in leads], address=ctx.address)
    return [
        {**as_dict(lead), "name": caption(shown[lead.purchaser]) if lead.purchaser in shown else lead.purchaser}
        for lead in leads
    ]


@router.get("/firearms", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    f: Filtered,
) -> Response:
    ctx = page(request)
    held = _analysis(ctx)
    summary = held.answer(("summary", f), lambda d: figures.summary(d, f))
    charts = {name: _figure(held, name, f) for name in ("sources", "recoveries", "corridors", "ttc", "types")}
    return ctx.render(
        "firearms.html",
        summary=summary,
        charts=charts,
        leads=_leads(ctx, held, LEADS_SHOWN),
        dealers=_figure(held, "dealers", f),
        completion=_figure(held, "completion", f),
        params={
            "from": str(f.date_from or ""),
            "to": str(f.date_to or ""),
            "state": f.recovery_state or "",
            "type": f.firearm_type or "",
            "caliber": f.caliber or "",
        },
        query=str(request.url.query),
        rules={r.name: r.label for r in rules()},
        threshold=DEFAULT_THRESHOLD,
    )


@router.get("/firearms/leads/{purchaser}", response_class=HTMLResponse)
def lead_page(request: Request, purchaser: Annotated[str, Path(max_length=40)]) -> Response:
    """One lead: the flags and their records, the purchases, where the guns were recovered, and
    the purchasers the flags link them to."""
    ctx = page(request)
    held = _analysis(ctx)
    found = held.answer(("lead", purchaser), lambda d: lead_detail(d, purchaser))
    if found is None:
        raise HTTPException(status_code=404)
    shown = ctx.guard.entities_by_id(ctx.principal, people_of(found), address=ctx.address)
    return ctx.render("firearms_lead.html", lead=lead_out(found, {k: caption(e) for k, e in shown.items()}))


@router.get("/firearms/export/{figure}.csv")
def export_csv(
    request: Request,
    figure: Figure,
    f: Filtered,
) -> Response:
    """The rows behind a chart, as CSV (the leads: one row per flag, with its records)."""
    ctx = page(request)
    held = _analysis(ctx)
    if figure == "leads":
        rows = [
            {
                "purchaser": lead["purchaser"],
                "name": lead["name"],
                "score": lead["score"],
                "indicator": flag["indicator"],
                "count": flag["count"],
                "points": flag["points"],
                "records": " ".join(flag["evidence"]),
            }
            for lead in _leads(ctx, held, 1000)
            for flag in lead["flags"]
        ]
    else:
        rows = _figure(held, figure, f)
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    response = Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="cruce-firearms-{figure}.csv"'},
    )
    ctx.finish(response)
    return response


@router.get("/firearms/records", response_class=HTMLResponse)
def records_page(
    request: Request,
    f: Filtered,
    source_state: Text = "",
    recovery_state: Text = "",
    dealer: Text = "",
    status: Annotated[str, Query(max_length=60)] = "",
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    purchaser: Text = "",
) -> Response:
    """The trace records behind a figure: its filters and the keys of the row clicked."""
    ctx = page(request)
    keys = {
        "source_state": source_state or None,
        "recovery_state": recovery_state or None,
        "dealer_ffl": dealer or None,
        "status": status or None,
        "year": year,
        "purchaser": purchaser or None,
    }
    found = _plain(figures.traces(_analysis(ctx).data, f, 500, **keys))
    return ctx.render(
        "firearms_records.html",
        rows=found,
        limit=500,
        asked={**f.asked(), **{k: str(v) for k, v in keys.items() if v is not None}},
    )
