"""Firearm traces in the documented layout: the records a trace yields, and time-to-crime."""

from __future__ import annotations

from pathlib import Path

from cruce.ingest.pipeline import import_file
from cruce.schema.loader import default_schema
from cruce.schema.model import PropertyType
from cruce.store import open_store

HEADER = (
    "trace_number,requesting_agency,serial_number,serial_obliterated,manufacturer,importer,model,caliber,"
    "firearm_type,country_of_manufacture,recovery_date,recovery_city,recovery_state,recovery_country,"
    "possessor_name,possessor_dob,trace_status,dealer_ffl,dealer_name,dealer_state,purchase_date,"
    "purchaser_name,purchaser_dob"
)
# Synthetic records: every name and number is made up.
ROWS = [
    "T20-0001,FGR,KR12345,no,Romarm/Cugir,Century Arms,WASR-10,7.62x39mm,rifle,RO,2020-03-15,Culiacán,Sinaloa,"
    "MX,Persona Sintética Uno,1990-01-01,completed,5-74-123-01-5K-11111,Armería Sintética,TX,2019-12-01,"
    "Comprador Sintético Uno,1985-05-05",
    "T20-0002,SEDENA,,obliterated,Colt,,AR-15,5.56mm,rifle,US,03/20/2020,Nogales,Sonora,MX,,,"
    "not_completed_obliterated,,,,,,",
    "T20-0003,FGR,ZX999,no,Barrett,,M82A1,.50 BMG,rifle,US,2021-07-01,Reynosa,Tamaulipas,MX,,,"
    "completed,5-74-123-01-5K-11111,Armería Sintética,TX,2017-06-30,Comprador Sintético Dos,",
]


def test_traces_yield_linked_records_with_time_to_crime(tmp_path: Path) -> None:
    source = tmp_path / "traces.csv"
    source.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    with open_store(":memory:") as store:
        result = import_file(store, source, "atf-traces")
        assert (result.rows_read, result.rows_stored, result.rows_rejected) == (3, 3, 0)
        counts = store.counts_by_schema()
        assert counts["Trace"] == 3
        assert counts["Firearm"] == 3
        assert counts["Organization"] == 1  # one dealer licence, two traces
        assert counts["FirearmPurchase"] == 2  # the obliterated gun has no purchase
        traces = {t.first("trace_number"): t for t in store.iter_entities(schema="Trace")}
        assert traces["T20-0001"].first("time_to_crime_days") == "105"
        assert traces["T20-0003"].first("time_to_crime_days") == "1462"
        assert traces["T20-0002"].first("time_to_crime_days") is None
        assert traces["T20-0002"].first("trace_status") == "not_completed_obliterated"
        assert traces["T20-0001"].first("purchase_state") == "US-TX"
        dealer = store.entity(traces["T20-0001"].first("dealer") or "")
        assert dealer is not None
        assert dealer.first("ffl_number") == "5-74-123-01-5K-11111"
        recovery = store.entity(traces["T20-0002"].first("recovery") or "")
        assert recovery is not None
        assert recovery.first("state") == "MX-SON"
        assert traces["T20-0002"].first("purchaser") is None
        # every reference points at an entity that exists
        schema = default_schema()
        for entity in store.iter_entities():
            for prop, values in entity.properties.items():
                if schema.get(entity.schema).properties[prop].type is PropertyType.ENTITY:
                    assert all(store.entity(v) is not None for v in values), (entity.schema, prop)
