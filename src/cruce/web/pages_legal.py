"""The "Law and enforcement" page (/legal) and the forms that enter or correct a law, an outcome or
a program by hand (/legal/new/{kind}, /legal/edit/{record}).

The page shows, for one kind of law, a map of the US and Mexican states with the law in force at
the end of the year the slider chooses (drawn by ``static/legal.js`` from the per-year series
embedded in the page, on the boundaries cruce ships), the table of laws, the enforcement
outcomes, the programs and their funding, and the published figures beside what the records
compute. The figures are those of ``cruce legal`` and ``/api/v1/legal``.

Only analysts and admins may edit; a refusal and every stored edit are audited. An edit is
written through the record's import mapping (``cruce.legal.edit``), so it is validated like a
file and keeps its provenance; the audit entry names the record, its dataset and the import.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from cruce.analyses.service import Analysis, analysis
from cruce.i18n import _
from cruce.legal import claims, flows, questions
from cruce.legal.edit import COLUMNS, KEYS, SCHEMAS, EditRefused, form_values, write_record
from cruce.legal.records import LegalData, Record
from cruce.schema.model import prop_label
from cruce.security import Role
from cruce.web.context import CSRF_FIELD, Ctx, page

router = APIRouter(include_in_schema=False)

Kind = Literal["law", "outcome", "program"]
LawKind = Literal[questions.KINDS]  # type: ignore[valid-type]
EDITORS = (Role.ADMIN, Role.ANALYST)
# CSV column → schema property, where they differ
_PROPERTY = {"law_id": "record_id", "outcome_id": "record_id", "program_id": "record_id", "end_year": "end_date"}
_ENUMS = {"level": "jurisdiction_level", "law_kind": "law_kind", "measure": "enforcement_measure",
          "flow": "flow", "currency": "currency"}  # fmt: skip
_MULTI = {("law", "law_kind"), ("program", "flow")}
_LONG = {"provisions", "purpose", "notes"}


def _held(ctx: Ctx) -> Analysis[LegalData]:
    return analysis(ctx.guard.store, LegalData, ctx.guard.visible_imports(ctx.principal))


def may_edit(ctx: Ctx) -> bool:
    return ctx.principal.role in EDITORS


def _editor(request: Request) -> Ctx:
    """The page context of an analyst or admin; anyone else gets 403, and the refusal is audited."""
    ctx = page(request)
    if not may_edit(ctx):
        ctx.audit("legal_edit_denied", target=request.url.path, outcome="denied")
        raise HTTPException(status_code=403, detail=ctx._(_("Only analysts and admins can edit the legal records.")))
    return ctx


@router.get("/legal", response_class=HTMLResponse)
def legal_page(request: Request, kind: Annotated[LawKind, Query()] = "sex_trafficking") -> Response:
    ctx = page(request)
    held = _held(ctx)
    series = held.answer(("by-year", kind, None, None, None, "state"), lambda d: questions.in_force_by_year(d, kind))
    found_laws = held.answer(("laws", kind, None, None, None), lambda d: questions.laws(d, kind))
    shipped = claims.load_claims()
    return ctx.render(
        "legal/index.html",
        kind=kind,
        kinds=_enum_options(ctx, "law_kind"),
        series=series,
        laws=found_laws,
        outcomes=held.answer(("outcomes", None, None, None, None), lambda d: questions.outcomes(d)),
        funding=held.answer(("funding", None, None), lambda d: questions.funding(d)),
        checks=held.answer(("check",), lambda d: claims.check(d, shipped)),
        before_after=held.answer(("before-after", kind, None, None, None), lambda d: questions.before_after(d, kind)),
        may_edit=may_edit(ctx),
    )


Figure = Literal["series", "laws", "outcomes", "programs", "funding", "check"]


def _flat(value: Any) -> Any:
    """A cell of the CSV: lists joined, sources as their URLs, nested rows as JSON."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    if isinstance(value, list) and all(isinstance(v, dict) and "url" in v for v in value):
        return " ".join(v["url"] or v.get("title", "") for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


@router.get("/legal/export/{figure}.csv")
def export_csv(request: Request, figure: Figure, kind: Annotated[LawKind, Query()] = "sex_trafficking") -> Response:
    """The rows behind a table or the map of the page, as CSV (with the sources of each row)."""
    ctx = page(request)
    held = _held(ctx)
    shipped = claims.load_claims()
    compute = {
        "series": lambda d: questions.in_force_by_year(d, kind),
        "laws": lambda d: questions.laws(d, kind),
        "outcomes": lambda d: questions.outcomes(d),
        "programs": lambda d: questions.funding(d)["programs"],
        "funding": lambda d: questions.funding(d)["by_year"],
        "check": lambda d: claims.check(d, shipped),
    }[figure]
    rows = held.answer(("export", figure, kind), compute)
    out = io.StringIO()
    columns = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows({k: _flat(v) for k, v in row.items()} for row in rows)
    name = f"cruce-legal-{figure}-{kind}.csv" if figure in ("series", "laws") else f"cruce-legal-{figure}.csv"
    response = Response(
        out.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip
    ctx.finish(response)
    return response


def _enum_options(ctx: Ctx, enum: str) -> list[tuple[str, str]]:
    values = ctx.guard.schema.enums[enum].values
    return [(code, value.label(ctx.lang)) for code, value in values.items()]


def _fields(ctx: Ctx, kind: str) -> list[dict[str, Any]]:
    """The form's fields: each column of the mapping with its label and, for an enum, its choices."""
    schema_type = SCHEMAS[kind]
    fields = []
    for column in COLUMNS[kind]:
        if column == KEYS[kind]:
            continue
        prop = _PROPERTY.get(column, column)
        enum = _ENUMS.get(column)
        fields.append(
            {
                "name": column,
                "label": prop_label(ctx.guard.schema, schema_type, prop, ctx.lang),
                "choices": _enum_options(ctx, enum) if enum else None,
                "multiple": (kind, column) in _MULTI,
                "long": column in _LONG,
                "year": column in ("year", "end_year"),
            }
        )
    return fields


def _form(ctx: Ctx, kind: str, values: dict[str, str], action: str, *, status: int = 200, **extra: Any) -> Response:
    return ctx.render(
        "legal/edit.html",
        status_code=status,
        kind=kind,
        fields=_fields(ctx, kind),
        values=values,
        action=action,
        **extra,
    )


def _record(ctx: Ctx, record_id: str) -> tuple[str, Record]:
    record = _held(ctx).data.record(record_id)
    if record is None:
        raise HTTPException(status_code=404)
    kind = {v: k for k, v in SCHEMAS.items()}[record.schema]
    return kind, record


async def _posted(request: Request, kind: str) -> tuple[str, dict[str, str]]:
    """The CSRF token and the values of the form (a multiple choice joined as the mapping splits it)."""
    form = await request.form()
    values: dict[str, str] = {}
    for column in COLUMNS[kind]:
        found = [str(v)[:2000] for v in form.getlist(column)]
        values[column] = (";" if (kind, column) in _MULTI else " ").join(v.strip() for v in found if v.strip())
    return str(form.get(CSRF_FIELD) or ""), values


def _save(ctx: Ctx, request: Request, kind: str, values: dict[str, str], dataset: str | None, action: str) -> Response:
    folder = request.app.state.services.settings.upload_dir / "legal-edits"
    try:
        edit = write_record(ctx.view.store, kind, values, folder, dataset=dataset)
    except EditRefused as exc:
        ctx.audit("legal_edit", target=values.get(KEYS[kind]) or kind, outcome="refused", kind=kind)
        problems = [(field, ctx._(reason), value) for field, reason, value in exc.problems]
        return _form(ctx, kind, values, action, status=422, problems=problems)
    ctx.audit(
        "legal_edit",
        target=edit.entity_id,
        kind=kind,
        dataset=edit.dataset,
        record=edit.record_id,
        import_id=edit.result.import_id,
    )
    return ctx.redirect("/legal")


JURISDICTION = r"^(US|MX)(-[A-Z]{2,3})?$"


@router.get("/legal/jurisdiction/{code}", response_class=HTMLResponse)
def jurisdiction_page(request: Request, code: Annotated[str, Path(max_length=6, pattern=JURISDICTION)]) -> Response:
    """One jurisdiction: its legal events (with its country's federal laws) beside the yearly counts
    of the flows there, one column per series, and the laws in force at the end of each year."""
    ctx = page(request)
    counts = flows.kept_counts(ctx.guard.store, code, ctx.guard.visible_imports(ctx.principal))
    found = questions.beside(_held(ctx).data, code, counts)
    series = sorted({c["series"] for c in counts})
    table: dict[int, dict[str, Any]] = {}
    for c in counts:
        table.setdefault(int(c["year"]), {})[c["series"]] = c["value"]
    in_force = {row["year"]: row["laws_in_force"] for row in found["laws_by_year"]}
    names = {e["law"]: e["name"] for e in found["events"]}
    return ctx.render(
        "legal/jurisdiction.html",
        code=code,
        events=found["events"],
        series=series,
        years=[(year, table[year], [names.get(i, i) for i in in_force.get(year, [])]) for year in sorted(table)],
    )


@router.get("/legal/new/{kind}", response_class=HTMLResponse)
def new_form(request: Request, kind: Kind) -> Response:
    ctx = _editor(request)
    return _form(ctx, kind, {}, f"/legal/new/{kind}")


@router.post("/legal/new/{kind}")
async def new_submit(request: Request, kind: Kind) -> Response:
    ctx = _editor(request)
    token, values = await _posted(request, kind)
    ctx.check_csrf(token)
    values[KEYS[kind]] = ""  # a new record gets a new id
    return _save(ctx, request, kind, values, None, f"/legal/new/{kind}")


@router.get("/legal/edit/{record_id}", response_class=HTMLResponse)
def edit_form(request: Request, record_id: Annotated[str, Path(max_length=40)]) -> Response:
    ctx = _editor(request)
    kind, record = _record(ctx, record_id)
    return _form(ctx, kind, form_values(kind, record), f"/legal/edit/{record_id}", record=record)


@router.post("/legal/edit/{record_id}")
async def edit_submit(request: Request, record_id: Annotated[str, Path(max_length=40)]) -> Response:
    ctx = _editor(request)
    kind, record = _record(ctx, record_id)
    token, values = await _posted(request, kind)
    ctx.check_csrf(token)
    if not record.record_id:
        raise HTTPException(
            status_code=409, detail=ctx._(_("This record has no record id, so a correction cannot reach it."))
        )
    values[KEYS[kind]] = record.record_id
    return _save(ctx, request, kind, values, record.dataset, f"/legal/edit/{record_id}")
