"""The organization registry's pages: the list (/organizations) and one page per organization
(/organizations/{id}) with its names, leaders and members over time, alliances, rivalries and
splits, its timeline, its territory on a map with a time slider, and its network.

The figures are ``cruce orgs`` and ``/api/v1/organizations`` (``cruce.analyses.organizations``),
over the datasets the signed-in user may see. Every claim lists the dataset, file and row behind
it. A plaza is drawn where the registry puts it, else at the mean point of the violence events of
its municipality (``hotspots.municipality_centres``); one with neither is listed, not drawn.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response

from cruce.analyses import hotspots, organizations
from cruce.analyses.service import Analysis, analysis
from cruce.web.context import Ctx, page

router = APIRouter(include_in_schema=False)


def _held(ctx: Ctx) -> Analysis[organizations.OrgData]:
    return analysis(ctx.guard.store, organizations.OrgData, ctx.guard.visible_imports(ctx.principal))


def plaza_point(claim: dict[str, Any], centres: dict[tuple[str, str], tuple[float, float]]) -> list[float] | None:
    """``[lon, lat]`` of a claimed plaza: its own point, or its municipality's events' centre."""
    if claim.get("geo"):
        lat, lon = (float(v) for v in str(claim["geo"]).split(",")[:2])
        return [lon, lat]
    found = centres.get((claim.get("state") or "", claim.get("municipality") or ""))
    return [found[1], found[0]] if found else None


def municipality_centres(ctx: Ctx) -> dict[tuple[str, str], tuple[float, float]]:
    """Where the events of each municipality the user may see are, on average."""
    held = analysis(ctx.guard.store, hotspots.EventPoints, ctx.guard.visible_imports(ctx.principal))
    return held.answer(("centres",), hotspots.municipality_centres)


@router.get("/organizations", response_class=HTMLResponse)
def registry_page(request: Request) -> Response:
    ctx = page(request)
    found = _held(ctx).answer(("registry",), organizations.registry)
    return ctx.render("organizations.html", registry=found)


@router.get("/organizations/{org_id}", response_class=HTMLResponse)
def organization_page(request: Request, org_id: Annotated[str, Path(max_length=60)]) -> Response:
    ctx = page(request)
    held = _held(ctx)
    try:
        org = held.answer(("organization", org_id), lambda d: organizations.organization(d, org_id))
    except organizations.UnknownOrganizationError:
        raise HTTPException(status_code=404) from None
    centres = municipality_centres(ctx)
    claims = [{**c, "point": plaza_point(c, centres)} for c in org["claims"]]
    days = sorted({d for c in claims for d in (c["start"], c["end"]) if d})
    return ctx.render(
        "organization.html",
        org=org,
        claims=claims,
        data={
            "claims": claims,
            "network": org["network"],
            "first": days[0] if days else None,
            "last": days[-1] if days else None,
            "latest": held.answer(("latest",), organizations.latest_date),
        },
    )
