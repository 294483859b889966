"""The streaming readers: every format, bad input, encodings, delimiters and row numbers."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import gzip
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cruce.ingest.readers import (
    ROW_COLUMN,
    BadRow,
    ReadError,
    Source,
    _delimited,
    _text,
    format_of,
    open_source,
)

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared dataset {path} is not present (it lives beside the repository in ../shared/data)")
    return path


def read_all(path: Path, **options: Any) -> tuple[list[dict[str, Any]], Source]:
    """Every row of ``path`` as dicts, and the (closed) source."""
    with open_source(path, **options) as source:
        rows: list[dict[str, Any]] = []
        for batch in source.batches():
            assert batch.schema.names == [*source.info.columns, ROW_COLUMN]
            assert all(t == pa.string() for t in batch.schema.types[:-1])
            assert batch.schema.types[-1] == pa.int64()
            assert 0 < batch.num_rows <= options.get("batch_rows", 100_000)
            rows.extend(batch.to_pylist())
    return rows, source


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def drain(path: Path, **options: Any) -> None:
    """Open ``path`` and read every batch."""
    with open_source(path, **options) as source:
        for _batch in source.batches():
            pass


def rownums(rows: list[dict[str, Any]]) -> list[int]:
    return [r[ROW_COLUMN] for r in rows]


# --- CSV -------------------------------------------------------------------------------------


def test_csv_values_columns_and_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "people.csv", 'id,name,note\n1,Ana,\n2,"Luis",""\n3,  Eva ,x\n')
    rows, source = read_all(path)
    assert source.info.format == "csv"
    assert source.info.columns == ("id", "name", "note")
    assert source.info.delimiter == ","
    assert source.info.compression is None
    assert source.info.size_bytes == path.stat().st_size
    assert rows == [
        {"id": "1", "name": "Ana", "note": None, ROW_COLUMN: 2},
        {"id": "2", "name": "Luis", "note": "", ROW_COLUMN: 3},
        {"id": "3", "name": "  Eva ", "note": "x", ROW_COLUMN: 4},
    ]
    assert source.bad_rows == []
    assert source.bytes_read() == source.info.size_bytes


def test_header_names_are_stripped_of_whitespace_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path / "h.csv", b"\xef\xbb\xbf id , name\t\r\n1,a\r\n")
    rows, source = read_all(path)
    assert source.info.columns == ("id", "name")
    assert source.info.encoding == "utf-8-sig"
    assert rows == [{"id": "1", "name": "a", ROW_COLUMN: 2}]


def test_latin1_spanish_text_is_detected(tmp_path: Path) -> None:
    text = "apellido;estado\nMuñoz;Nuevo León\nPeña;Querétaro\n"
    rows, source = read_all(write(tmp_path / "latin.csv", text.encode("latin-1")))
    assert source.info.encoding == "cp1252"
    assert source.info.delimiter == ";"
    assert rows == [
        {"apellido": "Muñoz", "estado": "Nuevo León", ROW_COLUMN: 2},
        {"apellido": "Peña", "estado": "Querétaro", ROW_COLUMN: 3},
    ]


def test_cp1252_quotes_and_latin1_fallback(tmp_path: Path) -> None:
    rows, source = read_all(write(tmp_path / "q.csv", "a,b\n“Muñoz”,€5\n".encode("cp1252")))
    assert source.info.encoding == "cp1252"
    assert rows[0]["a"] == "“Muñoz”"
    assert rows[0]["b"] == "€5"
    # 0x81 is undefined in cp1252: the file can only be latin-1
    rows, source = read_all(write(tmp_path / "l.csv", b"a,b\nMu\xf1oz,\x81\n"))
    assert source.info.encoding == "latin-1"
    assert rows[0]["a"] == "Muñoz"
    assert rows[0]["b"] == "\x81"


def test_utf8_and_utf16_are_detected(tmp_path: Path) -> None:
    text = "nombre,estado\nMuñoz,Nuevo León\n"
    rows, source = read_all(write(tmp_path / "u8.csv", text.encode("utf-8")))
    assert source.info.encoding == "utf-8"
    assert rows[0]["estado"] == "Nuevo León"
    rows, source = read_all(write(tmp_path / "u16.csv", text.encode("utf-16")))
    assert source.info.encoding == "utf-16"
    assert rows == [{"nombre": "Muñoz", "estado": "Nuevo León", ROW_COLUMN: 2}]


def test_explicit_encoding_wins(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "a\nMuñoz\n".encode("latin-1"))
    rows, source = read_all(path, encoding="latin-1")
    assert source.info.encoding == "iso8859-1"
    assert rows[0]["a"] == "Muñoz"
    with pytest.raises(ReadError, match="unknown encoding"):
        open_source(path, encoding="no-such-encoding")


def test_invalid_bytes_in_the_sample_with_explicit_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", b"a,b\n1,2\n3,Mu\xf1oz\n")
    with pytest.raises(ReadError) as info:
        open_source(path, encoding="utf-8")
    assert info.value.row == 3
    assert "bad.csv" in str(info.value)
    assert "row 3" in str(info.value)
    assert "--encoding" in str(info.value)


def test_invalid_bytes_later_in_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_text, "SAMPLE_BYTES", 1024)
    monkeypatch.setattr(_delimited, "BLOCK_SIZE", 4096)
    lines = ["nombre,estado", "Muñoz,Nuevo León"] + [f"{i},Sonora" for i in range(3, 2000)]
    data = ("\n".join(lines) + "\n").encode("utf-8") + b"Pe\xf1a,Chihuahua\n" + b"x,y\n" * 10
    path = write(tmp_path / "mixed.csv", data)
    source = open_source(path)
    assert source.info.encoding == "utf-8"
    with pytest.raises(ReadError) as info:
        for _batch in source.batches():
            pass
    assert info.value.row == 2000
    message = str(info.value)
    assert "mixed.csv" in message
    assert "row 2000" in message
    assert "--encoding" in message
    assert "f1" in message


def test_ascii_start_then_latin1_switches_encoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_text, "SAMPLE_BYTES", 1024)
    monkeypatch.setattr(_delimited, "BLOCK_SIZE", 4096)
    lines = ["nombre,estado"] + [f"persona {i},Sonora" for i in range(2, 3000)] + ["Muñoz,Nuevo León"]
    path = write(tmp_path / "late.csv", ("\n".join(lines) + "\n").encode("cp1252"))
    rows, source = read_all(path)
    assert len(rows) == 2999
    assert rows[-1] == {"nombre": "Muñoz", "estado": "Nuevo León", ROW_COLUMN: 3000}
    assert source.info.encoding == "cp1252"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_detection(tmp_path: Path, delimiter: str) -> None:
    others = "".join(d for d in ",;\t|" if d != delimiter)
    rows_in = [["id", "name", "note"], ["1", "Muñoz", f'has "{others}" inside'], ["2", "León", "plain"]]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerows(rows_in)
    rows, source = read_all(write(tmp_path / "d.csv", buffer.getvalue()))
    assert source.info.delimiter == delimiter
    assert source.info.columns == ("id", "name", "note")
    assert [[r["id"], r["name"], r["note"]] for r in rows] == rows_in[1:]


def test_explicit_delimiter_and_tsv_extension(tmp_path: Path) -> None:
    rows, source = read_all(write(tmp_path / "t.tsv", "a\tb,c\n1\t2,3\n"))
    assert source.info.delimiter == "\t"
    assert rows == [{"a": "1", "b,c": "2,3", ROW_COLUMN: 2}]
    rows, source = read_all(write(tmp_path / "s.txt", "a;b,c\n1;2,3\n"), delimiter=",")
    assert source.info.columns == ("a;b", "c")
    with pytest.raises(ReadError, match="one character"):
        open_source(tmp_path / "s.txt", delimiter=";;")


def test_quoted_newlines_and_delimiters(tmp_path: Path) -> None:
    text = 'id,note\n1,"line one\nline two, with a comma"\n2,"say ""hi"""\r\n3,"a\r\nb"\n4,end\n'
    rows, _source = read_all(write(tmp_path / "n.csv", text))
    assert [r["note"] for r in rows] == ["line one\nline two, with a comma", 'say "hi"', "a\r\nb", "end"]
    # rows count records: a value spanning lines is one row
    assert rownums(rows) == [2, 3, 4, 5]


def test_bad_rows_are_skipped_with_their_row_numbers(tmp_path: Path) -> None:
    text = "a,b\n1,2\n3\n4,5\n6,7,8\n\n9,10\n"
    rows, source = read_all(write(tmp_path / "bad.csv", text))
    assert [(r["a"], r[ROW_COLUMN]) for r in rows] == [("1", 2), ("4", 4), ("9", 7)]
    assert source.bad_rows == [
        BadRow(3, "expected 2 fields, found 1", "3"),
        BadRow(5, "expected 2 fields, found 3", "6,7,8"),
    ]
    assert source.bad_row_count == 2


def test_bad_row_text_is_truncated(tmp_path: Path) -> None:
    long = ",".join(["x" * 50] * 10)
    _rows, source = read_all(write(tmp_path / "long.csv", f"a,b\n{long}\n"))
    assert len(source.bad_rows[0].text) == 200


def test_row_numbers_stay_right_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_delimited, "BLOCK_SIZE", 4096)
    lines = ["id,name,city"]
    expected_good: list[int] = []
    expected_bad: list[int] = []
    for row in range(2, 6002):
        if row % 337 == 0:
            lines.append(f"{row},too,many,fields")
            expected_bad.append(row)
        elif row % 211 == 0:
            lines.append("")  # a blank line: skipped, but it is a row
        elif row % 97 == 0:
            lines.append(f"{row},only-two")
            expected_bad.append(row)
        else:
            lines.append(f"{row},persona {row},Ciudad Juárez")
            expected_good.append(row)
    rows, source = read_all(write(tmp_path / "blocks.csv", "\n".join(lines) + "\n"), batch_rows=100)
    assert rownums(rows) == expected_good
    assert all(int(r["id"]) == r[ROW_COLUMN] for r in rows)
    assert [b.row for b in source.bad_rows] == expected_bad


def test_row_of_empty_fields_is_skipped_but_counted(tmp_path: Path) -> None:
    rows, _source = read_all(write(tmp_path / "e.csv", "a,b\n1,2\n,\n3,4\n"))
    assert rownums(rows) == [2, 4]


def test_last_line_without_newline_and_header_without_newline(tmp_path: Path) -> None:
    rows, _source = read_all(write(tmp_path / "x.csv", "a,b\n1,2"))
    assert rows == [{"a": "1", "b": "2", ROW_COLUMN: 2}]
    rows, source = read_all(write(tmp_path / "y.csv", "a,b"))
    assert rows == []
    assert source.info.columns == ("a", "b")


def test_header_only_file_gives_no_batches(tmp_path: Path) -> None:
    with open_source(write(tmp_path / "h.csv", "a,b,c\n")) as source:
        assert source.info.columns == ("a", "b", "c")
        assert list(source.batches()) == []


# --- gzip ------------------------------------------------------------------------------------


def test_gzip_is_read_transparently(tmp_path: Path) -> None:
    text = "a,b\n" + "".join(f"{i},Muñoz {i}\n" for i in range(1000))
    path = write(tmp_path / "g.csv.gz", gzip.compress(text.encode("cp1252")))
    rows, source = read_all(path, batch_rows=300)
    assert source.info.compression == "gzip"
    assert source.info.encoding == "cp1252"
    assert len(rows) == 1000
    assert rows[-1] == {"a": "999", "b": "Muñoz 999", ROW_COLUMN: 1001}
    assert source.bytes_read() == path.stat().st_size
    # gzip content is recognised whatever the extension
    rows, source = read_all(write(tmp_path / "plain.csv", gzip.compress(text.encode())))
    assert source.info.compression == "gzip"
    assert len(rows) == 1000


@pytest.mark.parametrize("rows_in_file", [50, 200_000])
def test_truncated_gzip(tmp_path: Path, rows_in_file: int) -> None:
    text = "a,b\n" + "".join(f"{i},{i * 7919 % 10007}\n" for i in range(rows_in_file))
    data = gzip.compress(text.encode())
    path = write(tmp_path / "cut.csv.gz", data[: len(data) * 2 // 3])
    with pytest.raises(ReadError, match="truncated or corrupt") as info, open_source(path) as source:
        for _batch in source.batches():
            pass
    assert "cut.csv.gz" in str(info.value)


def test_bytes_read_grows_with_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_delimited, "BLOCK_SIZE", 1 << 16)
    text = "a,b\n" + "".join(f"{i},{i * 31 % 1000}\n" for i in range(100_000))
    path = write(tmp_path / "p.csv.gz", gzip.compress(text.encode()))
    seen = []
    with open_source(path, batch_rows=10_000) as source:
        assert source.bytes_read() <= source.info.size_bytes
        for _batch in source.batches():
            seen.append(source.bytes_read())
        assert source.bytes_read() == source.info.size_bytes
    assert seen == sorted(seen)
    assert seen[0] < source.info.size_bytes


# --- bad files -------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    for name, data in [
        ("e.csv", b""),
        ("e.json", b""),
        ("e.xlsx", b""),
        ("e.parquet", b""),
        ("w.csv", b"\n \n"),
    ]:
        with pytest.raises(ReadError, match="file is empty") as info:
            open_source(write(tmp_path / name, data))
        assert name in str(info.value)


def test_binary_files_are_not_text(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    for name, data in [
        ("img.csv", png),
        ("img.json", png),
        ("nul.csv", b"a,b\n1,\x002\n"),
        ("z.jsonl", b"{\x00}"),
    ]:
        with pytest.raises(ReadError, match="not a text file") as info:
            open_source(write(tmp_path / name, data))
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("a,b,a", "'a'"),
        ("a, b ,b,c,c", "'b', 'c'"),
        ("a,,b", "column 2"),
        ("a,b,", "column 3"),
        ("__row,x", "__row"),
    ],
)
def test_bad_headers(tmp_path: Path, header: str, named: str) -> None:
    with pytest.raises(ReadError) as info:
        open_source(write(tmp_path / "h.csv", f"{header}\n1,2,3\n"))
    assert named in str(info.value)
    assert "h.csv" in str(info.value)


def test_missing_file_folder_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="not found") as info:
        open_source(tmp_path / "missing.csv")
    assert "missing.csv" in str(info.value)
    with pytest.raises(ReadError, match="not a file"):
        open_source(tmp_path, format="csv")
    with pytest.raises(ReadError) as info:
        open_source(write(tmp_path / "data.xls", b"x"))
    assert ".csv" in str(info.value)
    assert ".parquet" in str(info.value)
    assert "data.xls" in str(info.value)
    with pytest.raises(ReadError, match="unknown format"):
        open_source(tmp_path / "data.xls", format="sav")
    rows, source = read_all(write(tmp_path / "data.dat", "a\n1\n"), format="csv")
    assert rows == [{"a": "1", ROW_COLUMN: 2}]
    assert source.info.format == "csv"


def test_format_of_extensions() -> None:
    assert format_of("a.CSV") == "csv"
    assert format_of("a.tab") == "tsv"
    assert format_of("a.txt.gz") == "csv"
    assert format_of("a.ndjson") == "jsonl"
    assert format_of("a.json.gz") == "json"
    assert format_of("a.parquet") == "parquet"
    for bad in ("a.parquet.gz", "a.xlsx.gz", "a", "a.gz"):
        with pytest.raises(ReadError):
            format_of(bad)


def test_source_is_read_once_and_closes(tmp_path: Path) -> None:
    source = open_source(write(tmp_path / "a.csv", "a\n1\n"))
    assert len(list(source.batches())) == 1
    with pytest.raises(RuntimeError):
        source.batches()
    source.close()
    source.close()


# --- XLSX ------------------------------------------------------------------------------------


def _workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Datos"
    ws["B3"], ws["C3"], ws["D3"], ws["E3"] = " apellido ", "fecha", "cantidad", "nota"
    ws["B4"], ws["C4"], ws["D4"] = "Muñoz", dt.datetime(2021, 3, 4), 3.0
    ws["B5"], ws["C5"], ws["D5"], ws["E5"] = "Peña", dt.datetime(2021, 3, 4, 10, 20), 2.5, True
    ws["B8"], ws["C8"], ws["D8"] = "León", dt.date(2020, 1, 2), 12345678901234
    ws["B9"], ws["G9"] = "Fuera", "stray"
    other = wb.create_sheet("Otra")
    other["A1"], other["A2"] = "x", "y"
    wb.save(path)
    return path


def test_xlsx_rows_values_and_row_numbers(tmp_path: Path) -> None:
    rows, source = read_all(_workbook(tmp_path / "book.xlsx"))
    assert source.info.format == "xlsx"
    assert source.info.columns == ("apellido", "fecha", "cantidad", "nota")
    assert rows == [
        {"apellido": "Muñoz", "fecha": "2021-03-04", "cantidad": "3", "nota": None, ROW_COLUMN: 4},
        {
            "apellido": "Peña",
            "fecha": "2021-03-04T10:20:00",
            "cantidad": "2.5",
            "nota": "true",
            ROW_COLUMN: 5,
        },
        {
            "apellido": "León",
            "fecha": "2020-01-02",
            "cantidad": "12345678901234",
            "nota": None,
            ROW_COLUMN: 8,
        },
    ]
    assert [b.row for b in source.bad_rows] == [9]
    assert "column G" in source.bad_rows[0].reason
    assert source.bytes_read() == source.info.size_bytes


def test_xlsx_sheet_choice(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.xlsx")
    rows, source = read_all(path, sheet="Otra")
    assert source.info.columns == ("x",)
    assert rows == [{"x": "y", ROW_COLUMN: 2}]
    with pytest.raises(ReadError, match="'Datos', 'Otra'"):
        open_source(path, sheet="Nope")


def test_xlsx_float_integers_and_batches(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["n", "t"])
    for i in range(25):
        ws.append([float(i), dt.time(10, 20)])
    wb.save(tmp_path / "f.xlsx")
    rows, _source = read_all(tmp_path / "f.xlsx", batch_rows=10)
    assert [r["n"] for r in rows] == [str(i) for i in range(25)]
    assert rows[0]["t"] == "10:20:00"
    assert rownums(rows) == list(range(2, 27))


def test_xlsx_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="not an XLSX workbook"):
        open_source(write(tmp_path / "text.xlsx", "a,b\n1,2\n"))
    with pytest.raises(ReadError, match="not a valid XLSX workbook"):
        open_source(write(tmp_path / "rand.xlsx", b"PK\x03\x04" + bytes(range(256)) * 8))
    with zipfile.ZipFile(tmp_path / "other.xlsx", "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ReadError, match=r"other\.xlsx"):
        open_source(tmp_path / "other.xlsx")
    wb = openpyxl.Workbook()
    wb.save(tmp_path / "blank.xlsx")
    with pytest.raises(ReadError, match="is empty"):
        open_source(tmp_path / "blank.xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([])
    ws.append(["a", "a"])
    wb.save(tmp_path / "dupe.xlsx")
    with pytest.raises(ReadError, match="'a'") as info:
        open_source(tmp_path / "dupe.xlsx")
    assert info.value.row == 2


def test_xlsx_header_only(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["a", "b"])
    wb.save(tmp_path / "h.xlsx")
    with open_source(tmp_path / "h.xlsx") as source:
        assert source.info.columns == ("a", "b")
        assert list(source.batches()) == []


# --- JSON and JSONL --------------------------------------------------------------------------


def test_json_array_flattens_nested_objects(tmp_path: Path) -> None:
    records = [
        {"id": 1, "possessor": {"name": "Muñoz", "address": {"state": "Sonora"}}, "tags": ["a", "b"]},
        {"id": 2.5, "possessor": {"name": None}, "ok": True, "empty": {}},
    ]
    rows, source = read_all(write(tmp_path / "a.json", json.dumps(records, ensure_ascii=False)))
    assert source.info.format == "json"
    assert source.info.columns == ("id", "possessor.name", "possessor.address.state", "tags", "ok")
    assert rows == [
        {
            "id": "1",
            "possessor.name": "Muñoz",
            "possessor.address.state": "Sonora",
            "tags": '["a", "b"]',
            "ok": None,
            ROW_COLUMN: 1,
        },
        {
            "id": "2.5",
            "possessor.name": None,
            "possessor.address.state": None,
            "tags": None,
            "ok": "true",
            ROW_COLUMN: 2,
        },
    ]


def test_json_object_with_one_list_and_late_keys(tmp_path: Path) -> None:
    records: list[Any] = [{"a": i} for i in range(7)] + [{"a": 7, "late": {"x": "y"}}, "not an object"]
    doc = {"meta": {"count": 8, "items": [1, 2]}, "data": records, "source": "test"}
    rows, source = read_all(write(tmp_path / "o.json", json.dumps(doc)), batch_rows=3)
    assert source.info.columns == ("a", "late.x")
    assert [r["late.x"] for r in rows] == [None] * 7 + ["y"]
    assert rownums(rows) == list(range(1, 9))
    assert source.bad_rows == [BadRow(9, "the record is not a JSON object", '"not an object"')]


def test_json_bad_documents(tmp_path: Path) -> None:
    two = {"a": [{"x": 1}], "b": [{"y": 2}]}
    with pytest.raises(ReadError, match="'a', 'b'"):
        open_source(write(tmp_path / "two.json", json.dumps(two)))
    with pytest.raises(ReadError, match="no list of records"):
        open_source(write(tmp_path / "none.json", json.dumps({"a": 1, "b": {"c": 2}})))
    with pytest.raises(ReadError, match="not an array of records"):
        open_source(write(tmp_path / "scalar.json", "42"))
    with pytest.raises(ReadError, match="invalid JSON") as info:
        open_source(write(tmp_path / "broken.json", '[{"a": 1}, {"a": 2}, {"a": '))
    assert "broken.json: record 3" in str(info.value)
    assert info.value.row == 3
    with pytest.raises(ReadError, match="invalid JSON") as info:
        open_source(write(tmp_path / "garbage.json", '[{"a": 1}, {"a": 2}] x'))
    assert info.value.row == 3


def test_json_gzip_and_json_lines_named_json(tmp_path: Path) -> None:
    data = json.dumps([{"a": "Muñoz"}], ensure_ascii=False).encode()
    rows, source = read_all(write(tmp_path / "z.json.gz", gzip.compress(data)))
    assert source.info.compression == "gzip"
    assert rows == [{"a": "Muñoz", ROW_COLUMN: 1}]
    rows, source = read_all(write(tmp_path / "lines.json", '{"a": 1}\n{"a": 2}\n'))
    assert source.info.format == "jsonl"
    assert rownums(rows) == [1, 2]


def test_jsonl_bad_lines_are_bad_rows(tmp_path: Path) -> None:
    text = '{"a": 1, "n": {"b": "x"}}\n\n{"a": 2\n[1, 2]\n{"c": [1, {"d": 2}]}\n'
    rows, source = read_all(write(tmp_path / "l.ndjson", text))
    assert source.info.format == "jsonl"
    assert source.info.columns == ("a", "n.b", "c")
    assert rows == [
        {"a": "1", "n.b": "x", "c": None, ROW_COLUMN: 1},
        {"a": None, "n.b": None, "c": '[1, {"d": 2}]', ROW_COLUMN: 5},
    ]
    assert [(b.row, b.text) for b in source.bad_rows] == [(3, '{"a": 2'), (4, "[1, 2]")]
    assert source.bad_rows[0].reason.startswith("invalid JSON")


# --- Parquet ---------------------------------------------------------------------------------


def test_parquet_columns_become_text(tmp_path: Path) -> None:
    table = pa.table(
        {
            "i": [1, None, 3],
            "f": [3.0, 2.5, None],
            "f32": pa.array([1.5, 2.0, 1e20], pa.float32()),
            "d": [dt.date(2021, 3, 4), None, None],
            "ts": pa.array([dt.datetime(2021, 3, 4, 10, 20), dt.datetime(2021, 3, 4), None], pa.timestamp("us")),
            "tz": pa.array([dt.datetime(2021, 3, 4, 10, 20), None, None], pa.timestamp("s", tz="UTC")),
            "b": [True, False, None],
            "s": ["Muñoz", None, ""],
            "who": [{"name": "Ana", "age": 30}, None, {"name": None, "age": 1}],
            "l": [[1, 2], [], None],
            "dec": pa.array([decimal.Decimal("3.10"), None, None]),
            "cat": pa.array(["x", "y", "x"]).dictionary_encode(),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=2)
    rows, source = read_all(path, batch_rows=2)
    assert source.info.format == "parquet"
    assert source.info.columns == (
        "i",
        "f",
        "f32",
        "d",
        "ts",
        "tz",
        "b",
        "s",
        "who.name",
        "who.age",
        "l",
        "dec",
        "cat",
    )
    assert rows[0] == {
        "i": "1",
        "f": "3",
        "f32": "1.5",
        "d": "2021-03-04",
        "ts": "2021-03-04T10:20:00",
        "tz": "2021-03-04T10:20:00Z",
        "b": "true",
        "s": "Muñoz",
        "who.name": "Ana",
        "who.age": "30",
        "l": "[1, 2]",
        "dec": "3.10",
        "cat": "x",
        ROW_COLUMN: 1,
    }
    assert rows[1]["ts"] == "2021-03-04T00:00:00"
    assert rows[1]["l"] == "[]"
    assert rows[1]["f"] == "2.5"
    assert rows[1]["f32"] == "2"
    assert rows[2]["f32"] == "1e+20"
    assert rows[2]["who.name"] is None
    assert rows[2]["who.age"] == "1"
    assert rows[2]["s"] == ""
    assert rownums(rows) == [1, 2, 3]
    assert source.bytes_read() == source.info.size_bytes


def test_parquet_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="not a Parquet file"):
        open_source(write(tmp_path / "x.parquet", "a,b\n"))
    with pytest.raises(ReadError, match="not a valid Parquet file"):
        open_source(write(tmp_path / "y.parquet", b"PAR1" + b"\x00" * 100))
    pq.write_table(pa.table({"a": [1], " a": [2]}), tmp_path / "d.parquet")
    with pytest.raises(ReadError, match="'a'"):
        open_source(tmp_path / "d.parquet")


# --- the shared public datasets --------------------------------------------------------------


def test_shared_border_crossing_gzip() -> None:
    path = shared("border_crossing", "border_crossing_entry_data_us_mexico.csv.gz")
    with open_source(path) as source:
        assert source.info.compression == "gzip"
        assert len(source.info.columns) == 10
        assert source.info.columns[:3] == ("Port Name", "State", "Port Code")
        count = 0
        last = 0
        for batch in source.batches():
            count += batch.num_rows
            last = batch.column(ROW_COLUMN)[-1].as_py()
        assert source.bad_rows == []
    assert count == 94_234
    assert last == 94_235


def test_shared_homicide_rates_pipe_delimited() -> None:
    path = shared("mexico_homicide_rates", "mexico-state-month-homicide-rates-2000-2022.csv")
    rows, source = read_all(path)
    assert source.info.delimiter == "|"
    assert source.info.columns == ("cve_ent", "year", "month", "homicides", "pop_est", "homicide_rate")
    assert len(rows) == 8_832
    assert rows[0]["cve_ent"] == "01"
    assert rows[0][ROW_COLUMN] == 2


# --- round trip ------------------------------------------------------------------------------

_CELL = st.text(alphabet=st.sampled_from(list("abcXYZ019 ,;|\t\"'\n\r.-ñáéíóúÑü€“”\\")), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    table=st.integers(min_value=1, max_value=5).flatmap(
        lambda width: st.lists(st.lists(_CELL, min_size=width, max_size=width), min_size=0, max_size=15)
    ),
    quote_all=st.booleans(),
)
def test_csv_round_trip(tmp_path: Path, table: list[list[str]], quote_all: bool) -> None:
    width = len(table[0]) if table else 1
    header = [f"col{i}" for i in range(width)]
    buffer = io.StringIO()
    # the default line end "\r\n": with "\n" the writer leaves a lone "\r" unquoted (ambiguous)
    csv.writer(buffer, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL).writerows([header, *table])
    path = write(tmp_path / "round.csv", buffer.getvalue())
    rows, _source = read_all(path)
    expected = []
    for number, row in enumerate(table, start=2):
        # an unquoted empty field is null (the writer quotes it only when it is the whole row)
        values: list[str | None] = [None if (v == "" and not quote_all and width > 1) else v for v in row]
        if all(v is None for v in values):
            continue  # rows whose fields are all empty are skipped
        expected.append({**dict(zip(header, values, strict=True)), ROW_COLUMN: number})
    assert rows == expected


def test_blank_lines_before_the_header(tmp_path: Path) -> None:
    rows, source = read_all(write(tmp_path / "b.csv", "\n \r\na;b\n1;2\n3\n4;5\n"))
    assert source.info.columns == ("a", "b")
    assert rownums(rows) == [4, 6]
    assert [b.row for b in source.bad_rows] == [5]


@pytest.mark.parametrize("how", ["unread", "one batch", "closed after one batch"])
def test_interpreter_exits_cleanly_with_a_source_left_open(tmp_path: Path, how: str) -> None:
    # Arrow's read-ahead thread calling into a Python stream while Python shuts down aborts
    # the interpreter; sources left open must be wound down before that.
    path = write(tmp_path / "big.csv", "a,b\n" + "".join(f"{i},valor {i}\n" for i in range(300_000)))
    script = f"""
from cruce.ingest.readers import _delimited, open_source
_delimited.BLOCK_SIZE = 1 << 16
source = open_source({str(path)!r})
if {how!r} != "unread":
    batches = source.batches()
    next(batches)
if {how!r} == "closed after one batch":
    source.close()
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_bytes_undefined_in_cp1252_later_in_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_text, "SAMPLE_BYTES", 1024)
    monkeypatch.setattr(_delimited, "BLOCK_SIZE", 4096)
    head = "nombre;estado\nMuñoz;Nuevo León\n" + "".join(f"{i};Sonora\n" for i in range(3, 1500))
    path = write(tmp_path / "w.csv.gz", gzip.compress(head.encode("cp1252") + b"x\x81;y\n"))
    with pytest.raises(ReadError, match="--encoding") as info:
        drain(path)
    assert info.value.row == 1500
    assert "w.csv.gz: row 1500: bytes 81 are not valid cp1252" in str(info.value)
