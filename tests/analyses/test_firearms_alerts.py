"""Firearms alerts after an import: a new trace of a purchaser already flagged, a new multiple sale
by a watched purchaser — for users who may see the record, once, on both backends."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from cruce.analyses.firearms.alerts import alert_after_import
from cruce.demo import COLUMNS
from cruce.ingest.pipeline import import_file
from cruce.resolve.watch import WatchError, Watchlists
from cruce.security import Marking, Security
from cruce.security.audit import now
from cruce.store import open_store
from cruce.synth.firearms import TRACE_COLUMNS
from tests.analyses.test_firearms import BUYERS, GUNS, SALES, SHOPS, TRACES, _write

PASSWORD = "correct horse battery"


def _sales(*rows: tuple[str, str, str, str, str, str]) -> list[dict[str, str]]:
    made = [
        (sale, day, *BUYERS[buyer], *SHOPS[shop], serial, *GUNS[gun]) for sale, day, buyer, shop, serial, gun in rows
    ]
    return [dict(zip(COLUMNS, (*row, "500", "N"), strict=True)) for row in made]


def _purchaser(store: object, schema: str, key: str, value: str) -> str:
    """The purchaser record that the ``schema`` record whose ``key`` is ``value`` names."""
    rows = store._fetch(  # type: ignore[attr-defined]
        "SELECT CAST(r.target AS VARCHAR) FROM entity_ref r JOIN property p ON p.prop_id = r.prop_id "
        "JOIN statement s ON s.entity_id = r.entity_id JOIN property sp ON sp.prop_id = s.prop_id "
        "WHERE p.schema = ? AND p.prop = 'purchaser' AND sp.prop = ? AND s.value = ?",
        (schema, key, value),
    )
    return str(rows[0][0])


def test_new_traces_of_leads_and_new_multiple_sales_raise_alerts(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRUCE_SECRET_KEY", base64.urlsafe_b64encode(b"k" * 32).decode())
    with open_store(store_url) as store:
        first = [dict(zip(COLUMNS, (*row, "500", "N"), strict=True)) for row in SALES]
        import_file(store, _write(tmp_path / "sales.csv", COLUMNS, first), "example-firearm-purchases")
        import_file(store, _write(tmp_path / "traces.csv", TRACE_COLUMNS, TRACES), "atf-traces")
        security = Security(store)
        t = now()
        security.policies.set("firearm-traces", Marking.AMBER, {"atf"}, now=t)
        security.accounts.add("ana", PASSWORD, "analyst", groups={"atf"}, now=t)
        security.accounts.add("otro", PASSWORD, "analyst", groups={"other"}, now=t)
        ana_buyer = _purchaser(store, "FirearmPurchase", "transaction_number", "S1")
        ana_in_t1 = _purchaser(store, "Trace", "trace_number", "T1")
        watches = Watchlists(store)
        buys = watches.add("ana", "purchases", ana_buyer)
        leads = watches.add("ana", "flagged", "", 30.0)  # Ana's trace record scores 35 (short, abroad, together…)
        watches.add("otro", "flagged", "", 30.0)  # may not see the traces
        with pytest.raises(WatchError):
            watches.add("ana", "flagged", "", 5000.0)
        # Ana buys two more handguns within five business days; Bea one
        more = _sales(
            ("S11", "07/05/2021", "Ana", "F1", "G5", "glock"),
            ("S12", "07/06/2021", "Ana", "F1", "G6", "glock"),
            ("S13", "07/05/2021", "Bea", "F2", "G7", "glock"),
        )
        sold = import_file(store, _write(tmp_path / "more-sales.csv", COLUMNS, more), "example-firearm-purchases")
        assert alert_after_import(store, [sold.import_id]) == 2
        alerts = watches.alerts("ana")
        assert {a.watch_id for a in alerts} == {buys.id}
        assert {a.probability for a in alerts} == {4.0}  # four handguns in her multiple sales now
        assert alert_after_import(store, [sold.import_id]) == 0  # once
        # a new trace: T5's purchaser is Ana's trace record once resolved (as resolution would say); T6 is Gil's
        new = [
            dict(TRACES[0], trace_number="T5", serial_number="A9", recovery_date="2022-02-02"),
            dict(TRACES[2], trace_number="T6", serial_number="X8", recovery_date="2022-02-02"),
        ]
        traced = import_file(store, _write(tmp_path / "more-traces.csv", TRACE_COLUMNS, new), "atf-traces")
        t5 = _purchaser(store, "Trace", "trace_number", "T5")
        store._fetch(  # type: ignore[attr-defined]
            "INSERT INTO entity_cluster VALUES ('test', 'Person', CAST(? AS UUID), CAST(? AS UUID)), "
            "('test', 'Person', CAST(? AS UUID), CAST(? AS UUID))",
            (t5, ana_in_t1, ana_in_t1, ana_in_t1),
        )
        assert alert_after_import(store, [traced.import_id]) == 1
        raised = [a for a in watches.alerts("ana") if a.watch_id == leads.id]
        assert len(raised) == 1
        assert raised[0].probability >= 30.0
        assert raised[0].import_id == traced.import_id
        assert watches.alerts("otro") == []  # the traces' dataset is not theirs
