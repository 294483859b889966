"""The public Python API is exactly what the README shows."""

from __future__ import annotations

from pathlib import Path

import cruce
from cruce.demo import write_purchases_csv


def test_public_names() -> None:
    assert sorted(cruce.__all__) == ["__version__", "import_file", "open"]


def test_open_and_import(tmp_path: Path) -> None:
    source = write_purchases_csv(tmp_path / "sales.csv", 30)
    with cruce.open(str(tmp_path / "api.duckdb")) as store:
        result = cruce.import_file(store, str(source), "example-firearm-purchases")
        assert result.rows_stored == 30
        assert store.counts_by_schema()["FirearmPurchase"] == 30
