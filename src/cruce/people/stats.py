"""Trafficking statistics in the shape of the CTDC data: victim records counted by year of
registration, gender, age band, citizenship, country of exploitation, exploitation type, means of
control, recruiter relation, data source and dataset — over the CTDC files and cruce's own cases
alike (both are ``TraffickingCase`` records).

A record is one victim. Some dimensions hold several values per victim (a victim exploited for
both sex and labour, controlled by threats and debt): counted by such a dimension, a victim is
counted once under each of its values, so the counts of one multi-valued dimension add up to more
than the victims. A victim with no value for a dimension is counted under ``None`` (not stated),
so every victim is counted once for each single-valued dimension.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import pyarrow as pa

from cruce.analyses.tables import FINISHED, Reads, Tables, prop_mark, read, reads_of

# dimension → the TraffickingCase properties it is read from (the first that has a value)
SINGLE = {
    "year": ("year_of_registration", "date"),
    "gender": ("gender",),
    "age_band": ("age_band",),
    "majority_status": ("majority_status",),
    "citizenship": ("citizenship",),
    "data_source": ("data_source",),
}
MULTI = {
    "country_of_exploitation": ("country_of_exploitation",),
    "exploitation_type": ("exploitation_type",),
    "means_of_control": ("means_of_control",),
    "control_category": ("control_category",),
    "recruiter_relation": ("recruiter_relation",),
    "labour_type": ("labour_type",),
}
DIMENSIONS = ("year", *list(SINGLE)[1:], "dataset", *MULTI)
DEFAULT_BY = ("year", "gender", "exploitation_type")

# The grouping of the derived CTDC file (ControlCategory), as the control_category enum describes
# it: cases that name means of control but no group get the groups of their means.
CONTROL_GROUPS = {
    "financial": ("debt_bondage", "takes_earnings", "restricts_financial_access"),
    "threats": ("threats", "psychological_abuse", "false_promises", "uses_children", "threat_of_law_enforcement"),
    "survival": ("restricts_medical_care", "withholds_necessities", "withholds_documents"),
    "physical": ("physical_abuse", "sexual_abuse", "restricts_movement", "excessive_working_hours"),
    "other": ("other", "not_specified", "psychoactive_substances"),
}


def group_of(means: str) -> str | None:
    """The control category a means of control belongs to (None for a code not grouped)."""
    return next((group for group, all_means in CONTROL_GROUPS.items() if means in all_means), None)


def _values_query() -> str:
    """Every value of the wanted properties of every TraffickingCase, once, with its dataset."""
    props = {prop: dim for dim, names in (SINGLE | MULTI).items() for prop in names}
    cases = " ".join(f"WHEN {prop_mark('TraffickingCase', p)} THEN '{p}'" for p in props)
    wanted = ", ".join(prop_mark("TraffickingCase", p) for p in props)
    return (
        f"SELECT DISTINCT CAST(s.entity_id AS VARCHAR) AS case_id, CASE s.prop_id {cases} END AS prop, "
        "s.value, r.dataset FROM statement s JOIN import_run r ON r.no = s.import_no "
        f"WHERE s.prop_id IN ({wanted}) AND s.import_no {FINISHED}"
    )


QUERIES = {"values": _values_query()}
PG_TYPES = {"values": {"case_id": pa.string(), "prop": pa.string(), "value": pa.string(), "dataset": pa.string()}}


def _first_of(props: Sequence[str]) -> str:
    """The value of the first of ``props`` a case has (the largest, if it has several)."""
    return "coalesce(" + ", ".join(f"max(CASE WHEN prop = '{p}' THEN value END)" for p in props) + ")"


class CaseData(Tables):
    """``cases``: one row per victim record with its single-valued dimensions; ``case_values``:
    one row per victim and value of each multi-valued dimension (``dim``, ``value``)."""

    def __init__(self, tables: dict[str, pa.Table]) -> None:
        super().__init__()
        self.con.register("values_raw", tables["values"])
        singles = ", ".join(f"{_first_of(props)} AS {dim}" for dim, props in SINGLE.items() if dim != "year")
        self.con.execute(
            "CREATE TABLE cases AS SELECT case_id, "
            f"CAST(substr({_first_of(SINGLE['year'])}, 1, 4) AS INTEGER) AS year, {singles}, "
            "min(dataset) AS dataset FROM values_raw GROUP BY case_id"
        )
        self.con.execute(
            "UPDATE cases SET majority_status = CASE WHEN age_band IN ('age_0_8', 'age_9_17') THEN 'minor' "
            "ELSE 'adult' END WHERE majority_status IS NULL AND age_band IS NOT NULL"
        )
        dims = " ".join(f"WHEN '{props[0]}' THEN '{dim}'" for dim, props in MULTI.items())
        self.con.execute(
            f"CREATE TABLE case_values AS SELECT DISTINCT case_id, CASE prop {dims} END AS dim, value FROM values_raw "
            f"WHERE prop IN ({', '.join(repr(props[0]) for props in MULTI.values())})"
        )
        self.con.unregister("values_raw")
        self._group_means_of_control()

    def _group_means_of_control(self) -> None:
        """Give cases with means of control but no control category the groups of their means."""
        pairs = ", ".join(
            f"('{means}', '{group}')" for group, all_means in CONTROL_GROUPS.items() for means in all_means
        )
        self.con.execute(
            "INSERT INTO case_values SELECT DISTINCT v.case_id, 'control_category', g.grp FROM case_values v "
            f"JOIN (VALUES {pairs}) AS g(means, grp) ON g.means = v.value WHERE v.dim = 'means_of_control' "
            "AND v.case_id NOT IN (SELECT case_id FROM case_values WHERE dim = 'control_category')"
        )

    @classmethod
    def reads(cls) -> Reads:
        return reads_of(tuple(QUERIES.values()))

    @classmethod
    def load(cls, store: Any, imports: Sequence[int] | None = None) -> Self:
        return cls(read(store, QUERIES, PG_TYPES, imports))

    def records(self, by: Sequence[str], years: Sequence[int] | None = None) -> list[tuple[str, tuple[Any, ...]]]:
        """One ``(case, combination)`` per victim and combination of values of ``by``: a victim with
        two values of a multi-valued dimension has two combinations."""
        sql, params = _combinations_sql(by, years)
        with self.lock:
            found = self.con.execute(sql, params).fetchall()
        return [(str(row[0]), tuple(row[1:])) for row in found]


def check_dimensions(by: Sequence[str]) -> list[str]:
    """``by`` as a list, or ValueError naming a dimension that is not one of ``DIMENSIONS``."""
    wanted = list(dict.fromkeys(by))
    unknown = [d for d in wanted if d not in DIMENSIONS]
    if unknown or not wanted:
        raise ValueError(f"unknown dimension {', '.join(unknown) or '(none)'}: one of {', '.join(DIMENSIONS)}")
    return wanted


def _combinations_sql(by: Sequence[str], years: Sequence[int] | None) -> tuple[str, list[Any]]:
    """The victims' combinations of ``by`` (names checked against ``DIMENSIONS``, never interpolated
    from users), optionally of some years only (parameters)."""
    dims = check_dimensions(by)
    joins: list[str] = []
    cols: list[str] = []
    params: list[Any] = []
    for dim in dims:
        if dim in MULTI:
            alias = f"m_{dim}"
            joins.append(f"LEFT JOIN case_values {alias} ON {alias}.case_id = c.case_id AND {alias}.dim = ?")
            params.append(dim)
            cols.append(f"{alias}.value AS {dim}")
        else:
            cols.append(f"c.{dim}")
    where = ""
    if years:
        where = f" WHERE c.year IN ({', '.join('?' for _ in years)})"
        params.extend(int(y) for y in years)
    return f"SELECT c.case_id, {', '.join(cols)} FROM cases c {' '.join(joins)}{where}", params


def counts(data: CaseData, by: Sequence[str] = DEFAULT_BY, years: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Victim records per combination of ``by`` (CTDC's shape: one row per combination and its
    count; ``None`` where the value is not stated), in the order of the values."""
    dims = check_dimensions(by)
    inner, params = _combinations_sql(dims, years)
    names = ", ".join(dims)
    return data.rows(
        f"SELECT {names}, count(*) AS records FROM ({inner}) AS combos GROUP BY {names} "
        f"ORDER BY {', '.join(f'{d} NULLS LAST' for d in dims)}",
        params,
    )


def total(data: CaseData, years: Sequence[int] | None = None) -> int:
    """How many victim records (of some years only)."""
    where, params = ("", []) if not years else (f"WHERE year IN ({', '.join('?' for _ in years)})", list(years))
    return int(data.one(f"SELECT count(*) AS n FROM cases {where}", params)["n"])


NOT_STATED = "not_stated"


def crosstab(data: CaseData, row: str, column: str, years: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Victim records by ``row`` (one line per value) and ``column`` (one column per value, and
    ``total``: the victims of the line, each once even when counted under several columns); the
    same dimension twice gives the lines and their totals alone."""
    if row == column:
        return [{row: r[row], "total": r["records"]} for r in counts(data, [row], years)]
    cells = counts(data, [row, column], years)
    line_totals = {r[row]: r["records"] for r in counts(data, [row], years)}
    columns = sorted({_key(c[column]) for c in cells})
    table: dict[Any, dict[str, Any]] = {}
    for cell in cells:
        line = table.setdefault(cell[row], {row: cell[row], **dict.fromkeys(columns, 0)})
        line[_key(cell[column])] = cell["records"]
    return [{**line, "total": line_totals[value]} for value, line in table.items()]


def _key(value: Any) -> str:
    return NOT_STATED if value is None else str(value)
