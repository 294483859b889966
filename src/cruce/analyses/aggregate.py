"""The flows' store-wide aggregations in one run, on DuckDB or on Spark (``cruce flows aggregate``).

Each aggregation is a figure the pages, the API and the commands already give — the same function,
its SQL written once in DuckDB's dialect — over every record of the store, with no limit on its
rows. On Spark the store's tables go to Parquet (``cruce.engines.store_export``), Spark makes the
flows' tables from them and computes each figure; the figures come back as rows and are written
as Parquet, one file per aggregation, with ``aggregates.json`` saying what each took.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cruce.analyses import drugs, violence
from cruce.analyses.firearms import figures
from cruce.analyses.firearms.data import Filters, FirearmsData
from cruce.analyses.tables import Tables
from cruce.engines import open_engine

EVERY_ROW = 1_000_000_000  # the figures' LIMIT, lifted
_ALL = Filters()


@dataclass(frozen=True)
class Aggregation:
    name: str
    flow: str  # firearms, drugs or violence: which tables it reads
    compute: Callable[[Any], list[dict[str, Any]]]


def _summary(data: FirearmsData) -> list[dict[str, Any]]:
    return [{k: v for k, v in figures.summary(data, _ALL).items() if k != "filters"}]


AGGREGATIONS: tuple[Aggregation, ...] = (
    Aggregation("firearms_summary", "firearms", _summary),
    Aggregation("firearms_source_states", "firearms", lambda d: figures.source_states(d, _ALL, EVERY_ROW)),
    Aggregation("firearms_source_dealers", "firearms", lambda d: figures.source_dealers(d, _ALL, EVERY_ROW)),
    Aggregation("firearms_recovery_states", "firearms", lambda d: figures.recovery_states(d, _ALL, EVERY_ROW)),
    Aggregation("firearms_time_to_crime", "firearms", lambda d: figures.time_to_crime(d, _ALL)["bands"]),
    Aggregation(
        "firearms_time_to_crime_by_source_state",
        "firearms",
        lambda d: figures.time_to_crime(d, _ALL, "source_state", EVERY_ROW)["groups"],
    ),
    Aggregation(
        "firearms_time_to_crime_by_dealer",
        "firearms",
        lambda d: figures.time_to_crime(d, _ALL, "dealer", EVERY_ROW)["groups"],
    ),
    Aggregation("firearms_corridors", "firearms", lambda d: figures.corridors(d, _ALL, EVERY_ROW)),
    Aggregation("firearms_completion", "firearms", lambda d: figures.completion(d, _ALL)),
    Aggregation("firearms_types_over_time", "firearms", lambda d: figures.types_over_time(d, _ALL)),
    Aggregation("drugs_seizures_by_fiscal_year", "drugs", drugs.seizures_by_fiscal_year),
    Aggregation("drugs_seizures_by_month", "drugs", drugs.seizures_by_month),
    Aggregation("drugs_seizures_by_port", "drugs", lambda d: drugs.seizures_by(d, "port_name")),
    Aggregation("drugs_seizures_by_drug", "drugs", lambda d: drugs.seizures_by(d, "drug")),
    Aggregation("drugs_crossings_by_port_year", "drugs", drugs.crossings_by_port_year),
    Aggregation("violence_by_state_month", "violence", violence.by_state_month),
    Aggregation("violence_by_municipality", "violence", violence.by_municipality),
)
NAMES = tuple(a.name for a in AGGREGATIONS)
FLOWS: dict[str, type[Tables]] = {
    "firearms": FirearmsData,
    "drugs": drugs.DrugsData,
    "violence": violence.ViolenceData,
}


@dataclass(frozen=True)
class Computed:
    name: str
    rows: list[dict[str, Any]]
    seconds: float


@dataclass(frozen=True)
class Run:
    engine: str
    load_seconds: dict[str, float]  # per flow: its tables read (and, on Spark, the store exported)
    computed: list[Computed]
    seconds: float


def compute(
    store: Any,
    engine: str = "duckdb",
    spark_master: str | None = None,
    only: Sequence[str] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Run:
    """The aggregations named in ``only`` (all by default) over the whole store, on ``engine``."""
    unknown = [n for n in only or () if n not in NAMES]
    if unknown:
        raise ValueError(f"unknown aggregation(s) {', '.join(unknown)}; choose among {', '.join(NAMES)}")
    chosen = [a for a in AGGREGATIONS if not only or a.name in only]
    started = time.perf_counter()
    loads: dict[str, float] = {}
    done: list[Computed] = []
    with open_engine(engine, spark_master) as running:
        for flow, kind in FLOWS.items():
            wanted = [a for a in chosen if a.flow == flow]
            if not wanted:
                continue
            if on_step:
                on_step(flow)
            t0 = time.perf_counter()
            data = kind.load(store, engine=running)  # type: ignore[call-arg]
            loads[flow] = round(time.perf_counter() - t0, 3)
            try:
                for aggregation in wanted:
                    if on_step:
                        on_step(aggregation.name)
                    t0 = time.perf_counter()
                    rows = aggregation.compute(data)
                    done.append(Computed(aggregation.name, rows, round(time.perf_counter() - t0, 3)))
            finally:
                data.close()
    return Run(engine, loads, done, round(time.perf_counter() - started, 3))


def write(run: Run, folder: Path) -> list[Path]:
    """Each aggregation as ``folder/<name>.parquet`` and what the run took as ``aggregates.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for item in run.computed:
        path = folder / f"{item.name}.parquet"
        pq.write_table(pa.Table.from_pylist(item.rows), path)
        paths.append(path)
    meta = {
        "engine": run.engine,
        "seconds": run.seconds,
        "load_seconds": run.load_seconds,
        "aggregations": {c.name: {"rows": len(c.rows), "seconds": c.seconds} for c in run.computed},
    }
    (folder / "aggregates.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return paths
