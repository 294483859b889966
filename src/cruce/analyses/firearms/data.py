"""The firearms flow as tables in an in-memory DuckDB, and the filters every figure takes.

``FirearmsData.load(store)`` reads the store once (``extract``) and derives what the figures and
indicators share: each trace's time-to-crime (from its dates when the record lacks it), its
recovery year, whether it reached a purchaser; each purchase's business-day number (for the
five-business-day rule of multiple sales). Figures then run as SQL over these tables, so one
computation serves both backends, the CLI, the API and the pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Self

from cruce.analyses.firearms.extract import PG_TYPES, queries, read_tables
from cruce.analyses.tables import Reads, Tables, load_raw, reads_of
from cruce.engines import Engine

SHORT_TTC_DAYS = 1096  # under three years: ATF's usual cut for a "short" time-to-crime
ONE_YEAR_DAYS = 366
HANDGUN_TYPES = ("pistol", "revolver", "derringer")


@dataclass(frozen=True)
class Filters:
    """What a figure is about: recoveries in a period, in a country or state, of a type or caliber."""

    date_from: date | None = None
    date_to: date | None = None
    recovery_country: str | None = None
    recovery_state: str | None = None
    firearm_type: str | None = None
    caliber: str | None = None

    def where(self, alias: str = "t") -> tuple[str, list[Any]]:
        """SQL conditions on the traces table (``alias``) and their parameters."""
        conditions, params = ["TRUE"], []
        checks = [
            ("date_from", f"{alias}.recovery_date >= ?"),
            ("date_to", f"{alias}.recovery_date <= ?"),
            ("recovery_country", f"{alias}.recovery_country = ?"),
            ("recovery_state", f"{alias}.recovery_state = ?"),
            ("firearm_type", f"lower({alias}.f_type) = lower(?)"),
            ("caliber", f"lower({alias}.caliber) = lower(?)"),
        ]
        for name, sql in checks:
            value = getattr(self, name)
            if value:
                conditions.append(sql)
                params.append(value)
        return " AND ".join(conditions), params

    def asked(self) -> dict[str, str]:
        """The filters set, as text (for answers and exports)."""
        return {f.name: str(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name)}


# business days since Monday 1970-01-05: a Saturday or Sunday counts as the Monday after
_BUSINESS_DAY = (
    "(5 * CAST(floor(CAST(date_diff('day', DATE '1970-01-05', {d}) AS INTEGER) / 7) AS INTEGER) "
    "+ LEAST(CAST(date_diff('day', DATE '1970-01-05', {d}) AS INTEGER) % 7, 5))"
)


class FirearmsData(Tables):
    """The tables (``traces``, ``purchases``, ``checks``, ``contacts``) on an engine of their own
    (or the one given: ``load``)."""

    RAW = ("traces", "purchases", "checks", "contacts")

    def derive(self) -> None:
        self.engine.execute(
            "CREATE TABLE traces AS SELECT * EXCLUDE (ttc_days), "
            "COALESCE(ttc_days, CAST(date_diff('day', purchase_date, recovery_date) AS INTEGER)) AS ttc, "
            "year(recovery_date) AS recovery_year, "
            "purchaser IS NOT NULL AS to_purchaser, "
            "status LIKE 'completed%' AS completed "
            "FROM traces_raw"
        )
        self.engine.execute(
            "CREATE TABLE purchases AS SELECT *, "
            + _BUSINESS_DAY.format(d="purchase_date")
            + " AS business_day FROM purchases_raw"
        )
        self.engine.execute("CREATE TABLE checks AS SELECT * FROM checks_raw")
        self.engine.execute("CREATE TABLE contacts AS SELECT DISTINCT * FROM contacts_raw WHERE person IS NOT NULL")

    @classmethod
    def reads(cls) -> Reads:
        return reads_of(tuple(queries(text_ids=False).values()))

    @classmethod
    def load(cls, store: Any, imports: Sequence[int] | None = None, engine: Engine | None = None) -> Self:
        """From every finished import of the store, or from ``imports`` alone; on ``engine`` if
        given (Spark: ``cruce.analyses.aggregate``), else on an in-memory DuckDB of their own."""
        if engine is None:
            return cls(read_tables(store, imports))
        load_raw(engine, store, queries, PG_TYPES, imports)
        return cls(engine=engine)
