"""The store contract, run against every backend (DuckDB always; PostgreSQL where one answers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.conftest import drop_pg_schema, pg_url_or_skip

from cruce.ingest.mapping import load_mapping
from cruce.ingest.pipeline import import_file
from cruce.store import Store, StoreError, open_store

MAPPING = """
name: people-test
dataset: agency-a
entities:
  person:
    schema: Person
    key: [id]
    properties:
      name: {columns: [nombre, apellido]}
      birth_date: {column: nacimiento, format: ["%d/%m/%Y", "%d de %B de %Y"]}
      gender: {column: sexo, map: {"1": male, "2": female}}
      nationality: pais
      phone: {column: tel, region: MX}
      alias: {column: alias, split: ";"}
      employer: {entity: org}
  org:
    schema: Organization
    key: [empresa]
    properties:
      name: empresa
      org_type: {value: company}
"""

HEADER = "id,nombre,apellido,nacimiento,sexo,pais,tel,alias,empresa\n"
ROWS = [
    "1,José Luis,Ramírez Hernández,03/02/1980,Masculino,México,(656) 123 4567,El Güero;Pepe,Transportes del Norte",
    "2,María,López,5 de enero de 1975,2,Estados Unidos,,,Transportes del Norte",
    "3,Ana,Pérez,31/02/1990,F,MX,,,",  # impossible date: rejected
    "4,Juan,García,01/01/1985,Quizás,MX,,,",  # unknown gender: rejected
]


def write(path: Path, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding=encoding)
    return path


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "people.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def test_a_new_store_is_empty_and_current(store: Store) -> None:
    from cruce.store.sql import migration_files

    assert store.schema_version() == migration_files(store.backend)[-1][0]
    assert store.datasets() == []
    assert store.statement_count() == 0
    assert list(store.rejects()) == []


def test_import_stores_statements_with_provenance(store: Store, tmp_path: Path, mapping_file: Path) -> None:
    source = write(tmp_path / "people.csv", ROWS)
    result = import_file(store, source, mapping_file)
    assert (result.rows_read, result.rows_stored, result.rows_rejected) == (4, 2, 2)
    assert store.counts_by_schema() == {"Organization": 1, "Person": 2}

    people = list(store.iter_entities(schema="Person"))
    jose = next(p for p in people if "José Luis Ramírez Hernández" in p.properties["name"])
    assert jose.properties["birth_date"] == ["1980-02-03"]
    assert jose.properties["gender"] == ["male"]
    assert jose.properties["nationality"] == ["MX"]
    assert jose.properties["phone"] == ["+526561234567"]
    assert sorted(jose.properties["alias"]) == ["El Güero", "Pepe"]
    org_id = jose.properties["employer"][0]
    assert store.entity(org_id) is not None
    assert store.entity(org_id).properties["org_type"] == ["company"]  # type: ignore[union-attr]

    gender = next(s for s in jose.statements if s.prop == "gender")
    assert gender.original == "Masculino"
    assert (gender.dataset, gender.source_file, gender.source_row) == ("agency-a", str(source), 2)
    assert gender.import_id == result.import_id
    assert gender.first_seen == gender.last_seen

    maria = next(p for p in people if p is not jose)
    assert maria.properties["birth_date"] == ["1975-01-05"]  # Spanish month name
    assert maria.properties["gender"] == ["female"]  # value map "2" -> female
    assert maria.properties["nationality"] == ["US"]


def test_rejects_name_file_row_field_and_reason(store: Store, tmp_path: Path, mapping_file: Path) -> None:
    source = write(tmp_path / "people.csv", ROWS)
    result = import_file(store, source, mapping_file)
    rejects = sorted(store.rejects(dataset="agency-a"), key=lambda r: r.source_row or 0)
    assert [(r.source_row, r.reason, r.value) for r in rejects] == [
        (4, "invalid_date", "31/02/1990"),
        (5, "invalid_enum", "Quizás"),
    ]
    assert all(r.source_file == str(source) and r.import_id == result.import_id for r in rejects)
    assert rejects[0].field == "nacimiento → person.birth_date"
    # a rejected row stores nothing at all, not even its valid fields
    names = {n for p in store.iter_entities(schema="Person") for n in p.properties["name"]}
    assert names == {"José Luis Ramírez Hernández", "María López"}


def test_ids_are_stable_across_stores_and_reimports(tmp_path: Path, mapping_file: Path, store_url: str) -> None:
    source = write(tmp_path / "people.csv", ROWS[:2])
    with open_store(store_url) as first:
        import_file(first, source, mapping_file)
        ids_first = sorted(e.id for e in first.iter_entities())
    with open_store(tmp_path / "other.duckdb") as second:
        import_file(second, source, mapping_file)
        ids_second = sorted(e.id for e in second.iter_entities())
    assert ids_first == ids_second
    assert len(ids_first) == 3


def test_same_file_twice_adds_nothing_and_says_so(store: Store, tmp_path: Path, mapping_file: Path) -> None:
    source = write(tmp_path / "people.csv", ROWS)
    first = import_file(store, source, mapping_file)
    count = store.statement_count()
    second = import_file(store, source, mapping_file)
    assert second.already_imported is not None
    assert second.already_imported.id == first.import_id
    assert store.statement_count() == count
    assert len(store.imports()) == 1
    assert len(list(store.rejects())) == 2

    forced = import_file(store, source, mapping_file, force=True)
    assert forced.statements_added == 0
    assert store.statement_count() == count
    assert len(store.imports()) == 2


def test_overlapping_file_adds_only_new_statements(store: Store, tmp_path: Path, mapping_file: Path) -> None:
    import_file(store, write(tmp_path / "a.csv", ROWS[:1]), mapping_file)
    before = store.statement_count()
    extra = "5,Rosa,Treviño,02/03/1970,F,MX,,,Transportes del Norte"
    result = import_file(store, write(tmp_path / "b.csv", [ROWS[0], extra]), mapping_file)
    person_statements = 5  # name, birth_date, gender, nationality, employer
    assert result.statements_added == person_statements
    assert store.statement_count() == before + person_statements
    jose = next(
        e for e in store.iter_entities(schema="Person") if "José Luis Ramírez Hernández" in e.properties["name"]
    )
    name = next(s for s in jose.statements if s.prop == "name")
    assert name.source_file.endswith("a.csv")  # provenance of the first sighting is kept
    assert name.last_seen >= name.first_seen


def test_a_later_import_of_a_dataset_marks_what_it_saw_again_and_no_other_dataset(
    store: Store, tmp_path: Path, mapping_file: Path
) -> None:
    other = tmp_path / "agency-b.yaml"
    other.write_text(MAPPING.replace("dataset: agency-a", "dataset: agency-b"), encoding="utf-8")
    import_file(store, write(tmp_path / "a.csv", ROWS[:1]), mapping_file)
    import_file(store, write(tmp_path / "a-for-b.csv", ROWS[:1]), other)  # a new dataset: same row
    extra = "5,Rosa,Treviño,02/03/1970,F,MX,,,Transportes del Norte"
    import_file(store, write(tmp_path / "b.csv", [ROWS[0], extra]), mapping_file)

    def names(person: str) -> dict[str, Any]:
        return {
            s.dataset: s
            for e in store.iter_entities(schema="Person")
            for s in e.statements
            if s.prop == "name" and person in s.value
        }

    jose, rosa = names("José Luis"), names("Rosa")
    assert set(jose) == {"agency-a", "agency-b"}
    assert set(rosa) == {"agency-a"}
    seen_again = jose["agency-a"]
    assert seen_again.source_file.endswith("a.csv")
    assert seen_again.last_seen == rosa["agency-a"].first_seen > seen_again.first_seen  # by the third import
    assert jose["agency-b"].last_seen == jose["agency-b"].first_seen  # the third import is another dataset's


def test_failed_import_leaves_the_store_as_it_was(store: Store, tmp_path: Path, mapping_file: Path) -> None:
    import_file(store, write(tmp_path / "a.csv", ROWS[:1]), mapping_file)
    before = (store.statement_count(), len(store.imports()), len(list(store.rejects())))
    many = [f"{i},Nombre{i},Apellido,01/01/1980,M,MX,,,Empresa {i % 7}" for i in range(100, 5000)]
    many.insert(10, "x,Bad,Row,99/99/9999,M,MX,,,")

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(store, write(tmp_path / "b.csv", many), mapping_file, on_progress=interrupt)
    assert (store.statement_count(), len(store.imports()), len(list(store.rejects()))) == before
    result = import_file(store, tmp_path / "b.csv", mapping_file)
    assert result.rows_stored == len(many) - 1
    assert result.rows_rejected == 1


def test_iter_entities_filters_by_type_and_dataset(store: Store, tmp_path: Path, mapping_file: Path) -> None:
    source = write(tmp_path / "people.csv", ROWS)
    import_file(store, source, mapping_file)
    import_file(store, source, mapping_file, dataset="agency-b")
    assert {e.schema for e in store.iter_entities(schema="Organization")} == {"Organization"}
    assert len(list(store.iter_entities(dataset="agency-b"))) == 3
    assert len(list(store.iter_entities())) == 6
    ids = [e.id for e in store.iter_entities()]
    assert ids == sorted(ids)
    summary = {d.name: (d.imports, d.entities, d.rejects) for d in store.datasets()}
    assert summary == {"agency-a": (1, 3, 2), "agency-b": (1, 3, 2)}


def test_entity_lookup_of_unknown_or_malformed_id(store: Store) -> None:
    assert store.entity("00000000-0000-0000-0000-000000000000") is None
    assert store.entity("not-an-id") is None


def test_many_batches_and_shared_entities(store: Store, tmp_path: Path) -> None:
    """Entities repeated across batches are stored once, with the row of their first sighting."""
    mapping = load_mapping("example-firearm-purchases")
    from cruce.demo import write_purchases_csv

    source = write_purchases_csv(tmp_path / "sales.csv", 3000)
    result = import_file(store, source, mapping, batch_rows=700)
    assert result.rows_read == 3000
    assert result.rows_rejected == 0
    counts = store.counts_by_schema()
    assert counts["FirearmPurchase"] == 3000
    dealers = list(store.iter_entities(schema="Organization"))
    assert len(dealers) == counts["Organization"] <= 10
    for dealer in dealers:
        names = [s for s in dealer.statements if s.prop == "name"]
        assert len(names) == 1
    again = import_file(store, source, mapping, batch_rows=1000, force=True)
    assert again.statements_added == 0


def test_store_refuses_a_database_from_a_newer_cruce(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    with open_store(path) as store:
        store._run_script("UPDATE cruce_meta SET value = '99' WHERE key = 'schema_version'")  # type: ignore[attr-defined]
    with pytest.raises(StoreError, match="newer cruce"):
        open_store(path)


def test_older_database_is_upgraded_with_its_data(
    store_url: str, tmp_path: Path, mapping_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cruce.store import sql

    with open_store(store_url) as old:
        import_file(old, write(tmp_path / "people.csv", ROWS), mapping_file)
        count = old.statement_count()
    newer = tmp_path / "migrations"
    current = 0
    for backend in ("duckdb", "postgresql"):
        (newer / backend).mkdir(parents=True)
        for number, path in sql.migration_files(backend):
            (newer / backend / path.name).write_text(path.read_text())
            current = number
        (newer / backend / f"{current + 1:04d}_note.sql").write_text("ALTER TABLE import_run ADD COLUMN note VARCHAR;")
    monkeypatch.setattr(sql.SqlStore, "migrations_dir", newer)
    with open_store(store_url) as upgraded:
        assert (upgraded.upgraded_from, upgraded.version) == (current, current + 1)  # type: ignore[attr-defined]
        assert upgraded.schema_version() == current + 1
        assert upgraded.statement_count() == count
        assert upgraded._fetch("SELECT note FROM import_run") == [(None,)]  # type: ignore[attr-defined]


def test_statement_ids_match_the_python_formula(store: Store, tmp_path: Path, mapping_file: Path) -> None:
    """Other code (forms, resolution) can name a statement without asking the store."""
    from cruce.store.base import statement_id

    import_file(store, write(tmp_path / "people.csv", ROWS[:2]), mapping_file)
    for entity in store.iter_entities():
        for s in entity.statements:
            assert s.id == statement_id(s.dataset, s.entity_id, s.prop, s.value)


def test_entity_ids_match_the_python_formula(store: Store, tmp_path: Path, mapping_file: Path) -> None:
    from cruce.ingest.compile import entity_id

    import_file(store, write(tmp_path / "people.csv", ROWS[:1]), mapping_file)
    assert store.entity(entity_id("agency-a", "person", "1")) is not None
    assert store.entity(entity_id("agency-a", "org", "Transportes del Norte")) is not None


def test_a_database_made_again_at_one_address_is_another_generation(
    store_url: str, tmp_path: Path, mapping_file: Path
) -> None:
    """What is kept per store until an import finishes (protected people, property names) is kept
    by this key: a database emptied and filled again alike must not take the first one's."""
    from tests.conftest import drop_pg_schema

    source = write(tmp_path / "people.csv", ROWS)
    with open_store(store_url) as first:
        import_file(first, source, mapping_file)
        before = first.import_generation()
    if store_url.startswith("postgresql"):
        drop_pg_schema(store_url)
    else:
        for path in tmp_path.glob("store.duckdb*"):
            path.unlink()
    with open_store(store_url) as again:
        import_file(again, source, mapping_file)
        after = again.import_generation()
    assert before[:2] == after[:2] == (1, 1)  # numbered alike
    assert before != after


def _statement_indexes(store: Store) -> dict[str, tuple[tuple[str, ...], bool]]:
    """PostgreSQL's indexes of ``statement``: name -> (columns in order, whether it is the primary key)."""
    rows = store._fetch(  # type: ignore[attr-defined]
        "SELECT i.relname, array_to_string(array_agg(a.attname ORDER BY k.n), ','), bool_or(x.indisprimary) "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "JOIN pg_namespace s ON s.oid = t.relnamespace "
        "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
        "WHERE t.relname = 'statement' AND s.nspname = current_schema() GROUP BY i.relname"
    )
    return {name: (tuple(cols.split(",")), primary) for name, cols, primary in rows}


def _statement_key(store: Store) -> tuple[str, ...]:
    return next(cols for cols, primary in _statement_indexes(store).values() if primary)


@pytest.mark.postgres
def test_postgresql_indexes_each_statement_lookup_once() -> None:
    """Every index of ``statement`` is written by every import, so each must serve a lookup no other
    one serves: by entity (with the id, the key that keeps statements unique), by import (and
    source row); none the leading columns of another."""
    url = pg_url_or_skip()
    try:
        with open_store(url) as store:
            columns = {name: cols for name, (cols, _) in _statement_indexes(store).items()}
    finally:
        drop_pg_schema(url)
    assert sorted(columns.values()) == [("entity_id", "id"), ("import_no", "source_row")]
    redundant = [(a, b) for a, ca in columns.items() for b, cb in columns.items() if a != b and cb[: len(ca)] == ca]
    assert redundant == [], f"indexes made redundant by another: {redundant}"


@pytest.mark.postgres
def test_a_postgresql_store_of_version_17_keeps_its_statements_keyed_by_entity(
    tmp_path: Path, mapping_file: Path
) -> None:
    """Version 18 re-keys ``statement`` (entity_id, id): what a store held stays, and importing it
    again finds every statement already there (the merge runs into the new key)."""
    url = pg_url_or_skip()
    source = write(tmp_path / "people.csv", ROWS)
    try:
        with open_store(url) as store:
            import_file(store, source, mapping_file)
            before = sorted(store._fetch("SELECT id, entity_id, value FROM statement"))  # type: ignore[attr-defined]
            # the layout of version 17: keyed by id, and the entity's index beside it
            store._run_script(  # type: ignore[attr-defined]
                "ALTER TABLE statement DROP CONSTRAINT statement_pkey; ALTER TABLE statement ADD PRIMARY KEY (id); "
                "CREATE INDEX statement_entity_idx ON statement (entity_id); "
                "UPDATE cruce_meta SET value = '17' WHERE key = 'schema_version'"
            )
            assert _statement_key(store) == ("id",)
        with open_store(url) as upgraded:
            assert upgraded.upgraded_from == 17  # type: ignore[attr-defined]
            assert sorted(upgraded._fetch("SELECT id, entity_id, value FROM statement")) == before  # type: ignore[attr-defined]
            assert _statement_key(upgraded) == ("entity_id", "id")
            again = import_file(upgraded, source, mapping_file, force=True)
            assert again.statements_added == 0
            assert upgraded.statement_count() == len(before)
    finally:
        drop_pg_schema(url)
