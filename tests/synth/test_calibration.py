"""The calibration figures match the published fact tables, and the generated traces meet them."""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from cruce.synth import DEFAULT, TRACES_FILE, Calibration, published_figures
from cruce.synth.calibration import PUBLISHED, PUBLISHED_RECOVERY_STATES
from cruce.synth.firearms import generate
from tests.conftest import shared_data

SPANISH = {"pistola": "pistol", "escuadra": "pistol", "fusil": "rifle", "cuerno de chivo": "rifle"}
SPANISH |= {"revólver": "revolver", "escopeta": "shotgun"}
STATE_NAMES = {"Texas": "TX", "Arizona": "AZ", "California": "CA", "New Mexico": "NM"}


def test_copied_figures_are_the_published_ones() -> None:
    figures, states = published_figures(shared_data("atf_mexico_traces"))
    assert figures.keys() == PUBLISHED.keys()
    for key, value in PUBLISHED.items():
        assert figures[key] == pytest.approx(value), key
    assert states == PUBLISHED_RECOVERY_STATES
    assert Calibration.from_figures(figures, states) == DEFAULT


def test_calibration_shares_add_up() -> None:
    for shares in (DEFAULT.source_states, DEFAULT.trace_status, DEFAULT.firearm_types):
        assert sum(s for _, s in shares) == pytest.approx(1.0)
        assert all(s > 0 for _, s in shares)
    assert dict(DEFAULT.source_states)["TX"] > dict(DEFAULT.source_states)["AZ"] > dict(DEFAULT.source_states)["CA"]
    assert 0.33 < dict(DEFAULT.trace_status)["completed"] < 0.47
    assert DEFAULT.ttc_3y_share == pytest.approx(15995 / 19600)


def _kind(text: str) -> str:
    code = SPANISH.get(text.lower(), text.lower())
    return code if code in ("pistol", "rifle", "revolver", "shotgun") else "other"


def test_generated_traces_meet_the_calibration(tmp_path: Path) -> None:
    generate(tmp_path, scale=20_000, seed=5)
    with (tmp_path / TRACES_FILE).open(encoding="utf-8", newline="") as fh:
        traces = list(csv.DictReader(fh))
    n = len(traces)
    assert n == 4000
    status = Counter(t["trace_status"] for t in traces)
    for code, share in DEFAULT.trace_status:
        assert status[code] / n == pytest.approx(share, abs=0.005), code
    kinds = Counter(_kind(t["firearm_type"]) for t in traces)
    for code, share in DEFAULT.firearm_types:
        assert kinds[code] / n == pytest.approx(share, abs=0.005), code
    completed = [t for t in traces if t["trace_status"] == "completed"]
    states = Counter(STATE_NAMES.get(t["dealer_state"], t["dealer_state"]) for t in completed)
    for code, share in DEFAULT.source_states:
        got = states[code] if code != "other" else sum(v for k, v in states.items() if k not in STATE_NAMES.values())
        assert got / len(completed) == pytest.approx(share, abs=0.01), code
    ttc = [(date.fromisoformat(t["recovery_date"]) - date.fromisoformat(t["purchase_date"])).days for t in completed]
    assert sum(d >= 1096 for d in ttc) / len(ttc) == pytest.approx(DEFAULT.ttc_3y_share, abs=0.01)
    assert statistics.mean(ttc) / 365.25 == pytest.approx(DEFAULT.ttc_mean_years, abs=1.0)
    assert all(t["recovery_date"] <= "2024-12-31" for t in traces)
    assert all(t["purchase_date"] >= "1969-01-01" for t in completed)
