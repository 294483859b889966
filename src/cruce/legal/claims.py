"""Published claims beside what cruce computes from its records (the seed check of issue #12).

A published claim ("at least 39 US states have passed sex trafficking laws") is not a record of
the law: it is a figure somebody wrote, with its source. Claims live in a small CSV of their own
(``seed/published_claims.csv``, the same columns for a file of your own): the figure, how to
compare it (``at_least`` or ``exactly``), the question that computes it from the records
(``laws_in_force``, ``outcomes``, ``funding``) and the scope the text gives (kind, measure,
flow, country, level, jurisdiction, year, the date of the count). ``check`` answers each with:

- ``agree`` / ``differ``: both figures, the claim's source and the records the figure came from;
- ``unscoped``: the text does not say where or when (a figure with no jurisdiction, country or
  year cannot be recomputed; guessing a scope would invent a comparison);
- ``no_records``: the scope is clear but cruce holds no record in it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cruce.legal.questions import _matching, _outcomes
from cruce.legal.records import LegalData

SEED_DIR = Path(__file__).parent / "seed"
CLAIMS_FILE = SEED_DIR / "published_claims.csv"
COMPARISONS = ("at_least", "exactly")
QUESTIONS = ("laws_in_force", "outcomes", "funding")
_COLUMNS = (
    "claim_id", "text_en", "text_es", "figure", "comparison", "question", "law_kind", "measure", "flow",
    "country", "level", "jurisdiction", "year", "on", "source_url", "source_title",
)  # fmt: skip


_SCOPE = ("law_kind", "measure", "flow", "country", "level", "jurisdiction", "year", "on")
Computed = tuple[float | None, list[dict[str, Any]], str]


class ClaimError(ValueError):
    """A claims file is wrong; the message names the file, the row and the field."""


@dataclass(frozen=True)
class Claim:
    id: str
    text: dict[str, str]
    figure: float
    comparison: str
    question: str
    scope: dict[str, str]
    source_url: str
    source_title: str
    source_checked: bool
    notes: str


def _figure(path: Path, row: int, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ClaimError(f"{path.name}: row {row}, field figure: not a number: {text!r}") from None


def load_claims(path: Path = CLAIMS_FILE) -> list[Claim]:
    """The claims of a CSV file (the shipped seed by default), checked row by row."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ClaimError(f"{path.name}: missing column(s): {', '.join(missing)}")
        claims = []
        for row_no, row in enumerate(reader, start=1):
            for name, allowed in (("comparison", COMPARISONS), ("question", QUESTIONS)):
                if row[name] not in allowed:
                    raise ClaimError(
                        f"{path.name}: row {row_no}, field {name}: {row[name]!r} is not one of {', '.join(allowed)}"
                    )
            if row["on"]:
                try:
                    date.fromisoformat(row["on"])
                except ValueError:
                    raise ClaimError(f"{path.name}: row {row_no}, field on: not a date (YYYY-MM-DD)") from None
            scope = {k: row[k] for k in _SCOPE}
            claims.append(
                Claim(
                    id=row["claim_id"],
                    text={"en": row["text_en"], "es": row["text_es"]},
                    figure=_figure(path, row_no, row["figure"]),
                    comparison=row["comparison"],
                    question=row["question"],
                    scope={k: v for k, v in scope.items() if v},
                    source_url=row["source_url"],
                    source_title=row["source_title"],
                    source_checked=(row.get("source_checked") or "").strip().lower() == "yes",
                    notes=row.get("notes") or "",
                )
            )
    return claims


def _laws_in_force(data: LegalData, scope: dict[str, str], today: date) -> Computed:
    if "law_kind" not in scope or not (scope.get("country") or scope.get("jurisdiction")):
        return None, [], "unscoped"
    on = date.fromisoformat(scope["on"]) if "on" in scope else today
    found = [
        law
        for law in _matching(data.laws, scope["law_kind"], scope.get("country"), scope.get("level"))
        if law.in_force_on(on) and ("jurisdiction" not in scope or law.jurisdiction == scope["jurisdiction"])
    ]
    places = sorted({law.jurisdiction for law in found if law.jurisdiction})
    used = [{"id": law.id, "jurisdiction": law.jurisdiction, "sources": law.sources} for law in found]
    return float(len(places)), used, "computed"


def _outcome_total(data: LegalData, scope: dict[str, str]) -> Computed:
    where = scope.get("jurisdiction") or scope.get("country")
    if "measure" not in scope or not where or "year" not in scope:
        return None, [], "unscoped"
    year = int(scope["year"][:4])
    found = [
        o
        for o in _outcomes(data, scope.get("jurisdiction"), scope.get("country"), scope.get("flow"), scope["measure"])
        if o.year == year and o.end_year is None and o.value is not None
    ]
    if not found:
        return None, [], "no_records"
    used = [{"id": o.id, "jurisdiction": o.jurisdiction, "sources": o.sources} for o in found]
    return float(sum(o.value for o in found if o.value is not None)), used, "computed"


def _funding_total(data: LegalData, scope: dict[str, str]) -> Computed:
    where = scope.get("jurisdiction") or scope.get("country")
    if not where or "year" not in scope:
        return None, [], "unscoped"
    year = int(scope["year"][:4])
    found = [
        p
        for p in data.programs
        if (p.jurisdiction == where or p.country == where)
        and year in p.years
        and ("flow" not in scope or scope["flow"] in p.all("flow"))
        and p.amount is not None
    ]
    if not found:
        return None, [], "no_records"
    used = [{"id": p.id, "jurisdiction": p.jurisdiction, "sources": p.sources} for p in found]
    return float(sum(p.amount for p in found if p.amount is not None)), used, "computed"


def check(data: LegalData, claims: list[Claim], today: date | None = None) -> list[dict[str, Any]]:
    """Each claim beside the figure computed from the records, with ``status`` (see the module)."""
    today = today or date.today()
    rows = []
    for claim in claims:
        if claim.question == "laws_in_force":
            computed, used, how = _laws_in_force(data, claim.scope, today)
        elif claim.question == "outcomes":
            computed, used, how = _outcome_total(data, claim.scope)
        else:
            computed, used, how = _funding_total(data, claim.scope)
        if how != "computed":
            status = how
        elif claim.question == "laws_in_force" and not used:
            status = "no_records"
        elif claim.comparison == "at_least":
            status = "agree" if computed is not None and computed >= claim.figure else "differ"
        else:
            status = "agree" if computed == claim.figure else "differ"
        rows.append(
            {
                "claim": claim.id,
                "text": claim.text,
                "published": claim.figure,
                "comparison": claim.comparison,
                "computed": computed,
                "status": status,
                "question": claim.question,
                "scope": claim.scope,
                "source": {"url": claim.source_url, "title": claim.source_title, "checked": claim.source_checked},
                "notes": claim.notes,
                "records": used,
            }
        )
    return rows
