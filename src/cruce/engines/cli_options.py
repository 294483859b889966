"""``--engine`` and ``--spark-master``, as the commands that can run on Spark take them.

Imported by the command modules only, after the language is chosen (the help texts are
translated when this module is first imported)."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from cruce.i18n import _

EngineOption = Annotated[
    Literal["duckdb", "spark"],
    typer.Option("--engine", help=_("Where the heavy SQL runs: duckdb (in this process), or spark for large data.")),
]
SparkMaster = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        metavar="URL",
        help=_("Spark master for --engine spark, e.g. spark://host:7077 (default local[2], this machine)."),
    ),
]


def check_engine_options(engine: str, spark_master: str | None) -> None:
    """A Spark master without ``--engine spark`` is a mistake: say so (exit status 2)."""
    if spark_master is not None and engine != "spark":
        raise typer.BadParameter(_("--spark-master goes with --engine spark."), param_hint="--spark-master")


def engine_label(engine: str, spark_master: str | None) -> str:
    """``DuckDB``, or ``Spark (local[2])``: what ran a step, for its summary."""
    if engine != "spark":
        return "DuckDB"
    from cruce.engines.spark_session import DEFAULT_MASTER

    return f"Spark ({spark_master or DEFAULT_MASTER})"
