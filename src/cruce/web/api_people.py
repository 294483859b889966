"""The people flow on the REST API, under /api/v1/people (``read`` scope): the counts of
``cruce people stats``, a cross-table for the statistics page, and the k-anonymous release of
``cruce people release`` — over the imports of the datasets the token's user may see; and the scan
of a text (a report, a note, an ad) for trafficking indicators and the people, phones and places
it names, as ``cruce people scan`` (nothing is stored or logged)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from cruce.analyses.service import Analysis, analysis
from cruce.people import kanon, stats
from cruce.security import Principal
from cruce.web.api import BODY_ERRORS, ERRORS, Reader, _no_unknown_query_parameters
from cruce.web.context import services_of

router = APIRouter(responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)], tags=["people"])

Cell = str | int | float | bool | None
Dimension = Literal[stats.DIMENSIONS]  # type: ignore[valid-type]
MAX_BY = 6
By = Annotated[
    list[Dimension],
    Query(
        max_length=MAX_BY, description="A dimension to count by (repeat; year, gender and exploitation_type if none)."
    ),
]
Years = Annotated[
    list[Annotated[int, Field(ge=1900, le=2100)]],
    Query(max_length=50, description="Only this year of registration (repeat)."),
]


class RowsOut(BaseModel):
    rows: list[dict[str, Cell]] = Field(description="The figure's rows, as the command line's --json prints them.")


class ReleaseReport(BaseModel):
    k: int
    quasi_identifiers: list[str]
    levels: dict[str, str] = Field(description="The generalisation level chosen for each dimension.")
    search: str = Field(description="lattice (every combination of levels tried) or greedy.")
    max_suppressed: float
    records: int
    records_released: int
    records_suppressed: int
    rows_released: int
    rows_suppressed: int
    generalisation_loss: float
    information_loss: float
    suppressed: list[dict[str, Cell]] = Field(
        description="The suppressed combinations: for the analyst, not to publish."
    )


class ReleaseOut(BaseModel):
    rows: list[dict[str, Cell]] = Field(description="The released combinations, each standing for at least k records.")
    report: ReleaseReport


def _analysis(request: Request, principal: Principal) -> Analysis[stats.CaseData]:
    guard = services_of(request).view().guard
    return analysis(guard.store, stats.CaseData, guard.visible_imports(principal))


def _dims(by: list[str]) -> tuple[str, ...]:
    return tuple(stats.check_dimensions(by or stats.DEFAULT_BY))


@router.get("/people/stats", response_model=RowsOut)
def stats_api(request: Request, principal: Reader, by: By = [], year: Years = []) -> Any:  # noqa: B006
    """Victim records per combination of the dimensions (a victim counted once under each value of
    a multi-valued dimension; ``null``: not stated)."""
    dims, years = _dims(by), tuple(sorted(set(year)))
    rows = _analysis(request, principal).answer(("stats", dims, years), lambda d: stats.counts(d, dims, years))
    return {"rows": rows}


@router.get("/people/crosstab", response_model=RowsOut)
def crosstab_api(
    request: Request,
    principal: Reader,
    row: Dimension,
    column: Dimension,
    year: Years = [],  # noqa: B006
) -> Any:
    """Victim records by ``row`` (a line per value) and ``column`` (a column per value, and the
    line's total of victims; the same dimension twice: the lines and their totals alone)."""
    years = tuple(sorted(set(year)))
    rows = _analysis(request, principal).answer(
        ("crosstab", row, column, years), lambda d: stats.crosstab(d, row, column, years)
    )
    return {"rows": rows}


@router.get("/people/release", response_model=ReleaseOut)
def release_api(
    request: Request,
    principal: Reader,
    by: By = [],  # noqa: B006
    year: Years = [],  # noqa: B006
    k: Annotated[int, Query(ge=1, le=10_000)] = kanon.DEFAULT_K,
    max_suppressed: Annotated[float, Query(ge=0, le=1)] = kanon.MAX_SUPPRESSED,
) -> Any:
    """The k-anonymous table of victim records over the dimensions: generalised, then the rows still
    rarer than ``k`` suppressed; with the report of the levels chosen and what was suppressed."""
    dims, years = _dims(by), tuple(sorted(set(year)))

    def make(data: stats.CaseData) -> dict[str, Any]:
        released = kanon.release(data.records(dims, years), dims, k, max_suppressed)
        return {"rows": released.rows, "report": released.report}

    return _analysis(request, principal).answer(("release", dims, years, k, max_suppressed), make)


class ScanIn(BaseModel):
    text: str = Field(max_length=50_000, description="The text to scan (English, Spanish or both).")


class HitOut(BaseModel):
    start: int = Field(description="Where the words begin in the text (characters).")
    end: int
    text: str
    indicator: str
    family: str
    language: str


class MentionOut(BaseModel):
    kind: Literal["person", "phone", "place"]
    text: str
    start: int
    end: int
    value: str = Field(description="What it is searched by: E.164 for a phone, the place's name, the name.")


class ScanOut(BaseModel):
    score: int = Field(description="Triage score, 0-100: the weights of the indicator families found.")
    level: str
    families: list[str]
    lexicon_version: str
    hits: list[HitOut]
    mentions: list[MentionOut]


@router.post("/people/scan", response_model=ScanOut, responses=BODY_ERRORS)
def scan_api(body: ScanIn, principal: Reader) -> Any:
    """Trafficking indicators in a text, with its triage score, and the people, phones and places
    it names (candidates to link, not identifications)."""
    from dataclasses import asdict

    from cruce.people.indicators import triage
    from cruce.people.mentions import mentions

    found = triage(body.text)
    return {
        "score": found["score"], "level": found["level"], "families": found["families"],
        "lexicon_version": found["version"], "hits": [h.as_dict() for h in found["hits"]],
        "mentions": [asdict(m) for m in mentions(body.text)],
    }  # fmt: skip
