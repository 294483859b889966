"""The organization registry on the REST API, under /api/v1/organizations (``read`` scope): the
answers of ``cruce orgs``, over the imports of the datasets the token's user may see, kept per
store state (``cruce.analyses.service``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from cruce.analyses import organizations
from cruce.analyses.service import Analysis, analysis
from cruce.security import Principal
from cruce.web.api import ERRORS, NOT_FOUND, Reader, _no_unknown_query_parameters
from cruce.web.api_flows import DAY
from cruce.web.context import services_of

router = APIRouter(responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)], tags=["organizations"])

UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
Kind = Literal[organizations.TIMELINE_KINDS]  # type: ignore[valid-type]


class Ref(BaseModel):
    id: str
    name: str | None


class Source(BaseModel):
    dataset: str
    file: str = Field(description="The file's name (without its folder).")
    row: int = Field(description="The line of the file (the header is line 1).")
    import_id: str


class Spanned(BaseModel):
    relation: str = Field(description="The relation's entity id.")
    start: str | None
    end: str | None = Field(description="None: still going on, or not known.")
    confidence: float | None
    source: str | None = Field(description="Who says so, as the source row puts it.")
    sources: list[Source] = Field(description="The rows of the imported files that state the relation.")


class PersonTie(Spanned):
    id: str
    name: str | None = Field(description="None for a protected person.")
    alias: str | None
    type: str = Field(description="Person, or Organization for a cell that is a member.")
    role: str | None


class OrgTie(Spanned):
    id: str
    name: str | None


class Claim(Spanned):
    plaza_id: str
    plaza: str | None
    municipality: str | None
    state: str | None
    geo: str | None
    disputed: bool | None = Field(description="True: fighting for the plaza; False: holding it; None: not known.")


class Succession(BaseModel):
    date: str
    from_id: str
    from_name: str | None
    to_id: str
    to_name: str | None
    previous_end: str


class TimelineEntry(BaseModel):
    date: str
    kind: Kind
    parts: dict[str, Ref] = Field(description="Who or what: leader, from, to, ally, rival, faction, parent, plaza.")


class Node(BaseModel):
    id: str
    name: str | None
    type: str
    role: Literal["self", "ally", "rival", "faction", "parent", "plaza", "leader"]


class Edge(BaseModel):
    source: str
    target: str
    kind: Literal["allied_with", "rival_of", "split_from", "controls", "disputes", "leads"]
    start: str | None
    end: str | None
    relation: str


class Network(BaseModel):
    nodes: list[Node]
    edges: list[Edge]


class OrgSummary(BaseModel):
    id: str
    name: str | None
    aliases: list[str]
    org_type: str | None
    country: str | None
    home_state: str | None
    founded: str | None
    dissolved: str | None
    members: int = Field(description="Members ever recorded.")
    current_members: int = Field(description="Members on the registry's date.")
    leaders: list[Ref] = Field(description="Leaders on the registry's date.")
    plazas: list[Ref] = Field(description="Plazas held (undisputed claims) on the registry's date.")
    allies: int
    rivals: int


class RegistryOut(BaseModel):
    as_of: str | None = Field(description="The latest date in the registry's relations: what 'now' means here.")
    organizations: list[OrgSummary]


class OrganizationOut(BaseModel):
    id: str
    name: str | None
    aliases: list[str]
    org_type: str | None
    country: str | None
    home_state: str | None
    founded: str | None
    dissolved: str | None
    description: str | None
    notes: str | None
    leaders: list[PersonTie]
    members: list[PersonTie]
    alliances: list[OrgTie]
    rivalries: list[OrgTie]
    factions: list[OrgTie] = Field(description="Organizations that broke away from this one (start: the split).")
    broke_from: list[OrgTie] = Field(description="The organization this one broke away from.")
    successions: list[Succession]
    claims: list[Claim]
    timeline: list[TimelineEntry]
    network: Network


class ClaimOn(BaseModel):
    plaza_id: str
    plaza: str | None
    municipality: str | None
    state: str | None
    geo: str | None
    org_id: str
    org: str | None
    disputed: bool | None
    start: str | None
    end: str | None
    confidence: float | None
    relation: str


class TerritoryOut(BaseModel):
    on: str | None
    first: str | None = Field(description="The first day of any claim (for a time slider).")
    last: str | None = Field(description="The last day a claim begins or ends.")
    changes: list[str] = Field(description="Every day a claim begins or ends.")
    claims: list[ClaimOn]


def _analysis(request: Request, principal: Principal) -> Analysis[organizations.OrgData]:
    guard = services_of(request).view().guard
    return analysis(guard.store, organizations.OrgData, guard.visible_imports(principal))


@router.get("/organizations", response_model=RegistryOut)
def registry_api(request: Request, principal: Reader) -> Any:
    """Every organization of the registry, with its members, leaders, plazas, allies and rivals as
    of the latest date in the data."""
    return _analysis(request, principal).answer(("registry",), organizations.registry)


@router.get("/organizations/territory", response_model=TerritoryOut)
def territory_api(request: Request, principal: Reader, on: Annotated[str | None, Query(pattern=DAY)] = None) -> Any:
    """Who holds and who disputes each plaza on a day (the latest date in the data if not given)."""
    return _analysis(request, principal).answer(("territory", on), lambda d: organizations.territory(d, on))


@router.get("/organizations/{org_id}", response_model=OrganizationOut, responses=NOT_FOUND)
def organization_api(request: Request, principal: Reader, org_id: Annotated[str, Path(pattern=UUID)]) -> Any:
    """One organization: names, leaders and members, alliances, rivalries, splits, successions, the
    plazas it claims with the rows behind each claim, its timeline and its network."""
    key = org_id.lower()
    try:
        return _analysis(request, principal).answer(("organization", key), lambda d: organizations.organization(d, key))
    except organizations.UnknownOrganizationError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
