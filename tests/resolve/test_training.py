"""Training a linkage model: estimates that would stop a run are kept in bounds."""

from __future__ import annotations


def test_a_prior_estimated_at_zero_or_one_is_kept_inside() -> None:
    """With a few records the deterministic rules may find no pair or every pair; training goes on."""
    from types import SimpleNamespace

    from cruce.resolve.models import PRIOR_BOUNDS, _bound_prior

    for estimate, expected in ((0.0, PRIOR_BOUNDS[0]), (1.0, PRIOR_BOUNDS[1]), (1e-4, 1e-4)):
        linker = SimpleNamespace(_settings_obj=SimpleNamespace(_probability_two_random_records_match=estimate))
        _bound_prior(linker)
        assert linker._settings_obj._probability_two_random_records_match == expected


def test_a_handful_of_records_resolves(tmp_path: object) -> None:
    """Three people from two case rows: too few pairs for some training blocks, whose failure once
    left a model with no comparisons at all (its scoring SQL did not parse). The run now finishes,
    and the model it keeps still compares names and birth dates."""
    import csv
    from pathlib import Path

    from cruce.ingest.pipeline import import_file
    from cruce.resolve.engine import resolve
    from cruce.resolve.store import ResolutionStore
    from cruce.store import open_store

    folder = Path(str(tmp_path))
    rows = [
        {"cas_id": "TC-1", "vic_id": "V1", "hte_year": "2018", "per_id": "P1", "per_name": "Alfredo Gutiérrez Ramírez",
         "per_role": "recruiter"},
        {"cas_id": "TC-2", "vic_id": "V2", "hte_year": "2019", "per_id": "P2", "per_name": "Alfredo Gutierrez",
         "per_role": "exploiter"},
    ]  # fmt: skip
    path = folder / "cases.csv"
    header = [
        "cas_id",
        "cas_open_date",
        "cas_status",
        "vic_id",
        "vic_gender",
        "vic_age_band",
        "vic_citizenship",
        "vic_country_of_exploitation",
        "hte_exploitation_type",
        "hte_means_of_control",
        "hte_labour_type",
        "hte_sex_type",
        "hte_recruiter_relation",
        "hte_year",
        "per_id",
        "per_name",
        "per_gender",
        "per_nationality",
        "per_role",
        "org_name",
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows(rows)
    store = open_store(str(folder / "tiny.duckdb"))
    try:
        import_file(store, path, "htcds-cases")
        done = resolve(store, "Person", retrain=True)
        assert done.records >= 2
        assert done.clusters >= 1
        model = ResolutionStore(store).latest_model("Person")
        assert model is not None
        assert {c["output_column_name"] for c in model.settings["comparisons"]} >= {"given_name", "surnames"}
        again = resolve(store, "Person")  # with the stored model
        assert again.records == done.records
    finally:
        store.close()
