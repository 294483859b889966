"""The command line as a user drives it: import, status, rejects, export, schema — and bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cruce.cli import main
from cruce.demo import write_purchases_csv
from cruce.i18n import set_language
from cruce.store import open_store

MAPPING = """
name: personas
dataset: fiscalia
entities:
  persona:
    schema: Person
    key: [folio]
    properties:
      name: {columns: [nombre, apellidos]}
      birth_date: {column: fecha_nacimiento, format: "%d/%m/%Y"}
      gender: sexo
      nationality: nacionalidad
"""
HEADER = "folio;nombre;apellidos;fecha_nacimiento;sexo;nacionalidad\n"
GOOD = [
    "1;José Luis;Ramírez Hernández;03/02/1980;Masculino;México",
    "2;María;Muñoz;15/07/1992;Femenino;Guatemala",
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``cruce ARGS`` in-process; return (exit code, stdout, stderr)."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        set_language("en")
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.duckdb")


@pytest.fixture
def mapping(tmp_path: Path) -> str:
    path = tmp_path / "personas.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return str(path)


def latin1_csv(path: Path, rows: list[str]) -> Path:
    path.write_bytes((HEADER + "\n".join(rows) + "\n").encode("cp1252"))
    return path


def test_version_and_help_list_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("cruce 0.")
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("import", "status", "rejects", "export", "schema", "mappings"):
        assert command in out


def test_import_latin1_semicolon_file_then_status(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str, mapping: str
) -> None:
    source = latin1_csv(tmp_path / "personas.csv", GOOD)
    code, out, err = run(capsys, "--db", db, "import", str(source), "--mapping", mapping)
    assert code == 0, err
    assert "Rows read" in out
    assert "2" in out
    with open_store(db) as store:
        names = sorted(n for e in store.iter_entities(schema="Person") for n in e.properties["name"])
        countries = sorted(c for e in store.iter_entities(schema="Person") for c in e.properties["nationality"])
    assert names == ["José Luis Ramírez Hernández", "María Muñoz"]
    assert countries == ["GT", "MX"]

    code, out, _ = run(capsys, "--db", db, "status")
    assert code == 0
    assert "fiscalia" in out
    assert "Person" in out

    code, out, _ = run(capsys, "--db", db, "import", str(source), "--mapping", mapping)
    assert code == 0
    assert "already imported" in out
    assert "nothing was added" in out


def test_rejects_are_listed_and_exported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str, mapping: str
) -> None:
    bad = ["3;Ana;Pérez;31/02/1990;Femenino;México", "4;Luis;Soto;01/01/1980;Quizás;Narnia"]
    source = latin1_csv(tmp_path / "personas.csv", GOOD + bad)
    code, out, _ = run(capsys, "--db", db, "import", str(source), "--mapping", mapping)
    assert code == 0
    assert "cruce rejects" in out
    code, out, _ = run(capsys, "--db", db, "rejects")
    assert code == 0
    assert "31/02/1990" in out
    assert "Narnia" in out
    export = tmp_path / "rejects.csv"
    code, out, _ = run(capsys, "--db", db, "rejects", "--export", str(export))
    assert code == 0
    lines = export.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("File,Row,Field,Reason,Value")
    assert len(lines) == 1 + 3  # one bad date, one bad gender, one unknown country
    assert any(",5," in line and "Quizás" in line for line in lines)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_one_row_per_entity(capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str, fmt: str) -> None:
    sales = write_purchases_csv(tmp_path / "sales.csv", 200)
    code, _, err = run(capsys, "--db", db, "import", str(sales), "--mapping", "example-firearm-purchases")
    assert code == 0, err
    with open_store(db) as store:
        people = store.counts_by_schema()["Person"]
    out_file = tmp_path / f"people.{fmt}"
    code, _out, err = run(capsys, "--db", db, "export", "--type", "Person", "--format", fmt, "-o", str(out_file))
    assert code == 0, err
    if fmt == "parquet":
        table = pq.read_table(out_file)
        assert table.num_rows == people
        assert all(len(v) >= 1 for v in table.column("name").to_pylist())
    elif fmt == "jsonl":
        records = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
        assert len(records) == people
        assert all(r["schema"] == "Person" and r["datasets"] == ["example-purchases"] for r in records)
    else:
        assert len(out_file.read_text(encoding="utf-8").splitlines()) == people + 1


def test_schema_in_spanish_and_unknown_type(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--lang", "es", "schema", "TraffickingCase")
    assert code == 0
    assert "Medios de control" in out or "medios de control" in out.lower()
    code, _, err = run(capsys, "schema", "Unicorn")
    assert code == 2
    assert "Unicorn" in err


def _store_snapshot(db: str) -> tuple[int, int, int]:
    with open_store(db) as store:
        return store.statement_count(), len(store.imports()), len(list(store.rejects()))


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.csv", b"folio;nombre\n1;Ana\n", "lacks the column"),
        ("empty.csv", b"", "empty"),
        ("binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not a text file"),
        ("truncated.csv.gz", gzip.compress((HEADER + GOOD[0] + "\n").encode() * 200)[:-40], "truncated"),
    ],
)
def test_bad_files_get_a_clear_error_and_change_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    db: str,
    mapping: str,
    name: str,
    content: bytes,
    expected: str,
) -> None:
    run(capsys, "--db", db, "import", str(latin1_csv(tmp_path / "ok.csv", GOOD)), "--mapping", mapping)
    before = _store_snapshot(db)
    bad = tmp_path / name
    bad.write_bytes(content)
    code, _, err = run(capsys, "--db", db, "import", str(bad), "--mapping", mapping)
    assert code == 2
    assert expected in err
    assert name in err
    assert _store_snapshot(db) == before


def test_errors_speak_spanish(capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str, mapping: str) -> None:
    empty = tmp_path / "vacio.csv"
    empty.write_bytes(b"")
    code, _, err = run(capsys, "--lang", "es", "--db", db, "import", str(empty), "--mapping", mapping)
    assert code == 2
    assert "Error" in err
    assert "vacío" in err or "vacio" in err


def test_unknown_mapping_lists_the_builtin_ones(capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str) -> None:
    source = latin1_csv(tmp_path / "p.csv", GOOD)
    code, _, err = run(capsys, "--db", db, "import", str(source), "--mapping", "no-such-mapping")
    assert code == 2
    assert "example-firearm-purchases" in err


def test_export_leaves_out_protected_properties_unless_asked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str
) -> None:
    mapping = tmp_path / "tips.yaml"
    mapping.write_text(
        "name: tips\ndataset: tips\nentities:\n  tip:\n    schema: Tip\n    key: [id]\n    properties:\n"
        "      text: texto\n      tipster_name: nombre\n",
        encoding="utf-8",
    )
    source = tmp_path / "tips.csv"
    source.write_text("id,texto,nombre\n1,Camioneta blanca en la garita,Persona Sintética\n", encoding="utf-8")
    assert run(capsys, "--db", db, "import", str(source), "--mapping", str(mapping))[0] == 0
    out_file = tmp_path / "tips.jsonl"
    run(capsys, "--db", db, "export", "--type", "Tip", "--format", "jsonl", "-o", str(out_file))
    record = json.loads(out_file.read_text(encoding="utf-8"))
    assert "tipster_name" not in record["properties"]
    assert record["properties"]["text"] == ["Camioneta blanca en la garita"]
    run(capsys, "--db", db, "export", "--type", "Tip", "--format", "jsonl", "-o", str(out_file), "--include-protected")
    record = json.loads(out_file.read_text(encoding="utf-8"))
    assert record["properties"]["tipster_name"] == ["Persona Sintética"]


def test_postgres_password_is_never_shown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", "postgresql://cruce:s3cr3t-pass@127.0.0.1:1/nothing", "status")
    assert code == 2
    assert "s3cr3t-pass" not in out + err
    assert "***" in err


def test_a_commands_own_lang_is_not_the_language_of_messages() -> None:
    """``cruce --lang es …`` speaks Spanish; ``cruce report … --lang es`` writes a Spanish report but
    keeps the messages in the user's language (and ``publish --lang en,es`` is not refused)."""
    from cruce.cli import _language_from_argv

    assert _language_from_argv(["--lang", "es", "import", "x.csv"]) == "es"
    assert _language_from_argv(["--db", "x.duckdb", "--lang=es", "status"]) == "es"
    assert _language_from_argv(["--db", "x.duckdb", "report", "case", "ID", "--lang", "es"]) is None
    assert _language_from_argv(["publish", "--out", "site", "--lang", "en,es"]) is None


def test_a_lost_postgresql_connection_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A command whose PostgreSQL server goes away mid-way (restart, network) ends with exit 2 and
    a sentence that says nothing half-done was kept, not a traceback."""
    import psycopg
    import typer

    from cruce.cli_support import user_errors

    with pytest.raises(typer.Exit) as ended, user_errors():
        raise psycopg.OperationalError("server closed the connection unexpectedly\n\tThis probably means…")
    assert ended.value.exit_code == 2
    err = capsys.readouterr().err
    assert "connection to the PostgreSQL server was lost (server closed the connection unexpectedly)" in err
    assert "Traceback" not in err
