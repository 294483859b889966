"""Two agencies find the people they share without sending names: encode, match, and what leaks."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from cruce.cli import main
from cruce.i18n import set_language
from cruce.ingest.compile import entity_id
from cruce.ingest.mapping import load_mapping
from cruce.resolve.normalise import fold
from tests.pprl.conftest import Agencies, make_agencies


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``cruce ARGS`` in-process; return (exit code, stdout, stderr), runs of spaces and line breaks
    made one space."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        set_language("en")
    out = capsys.readouterr()
    return code, " ".join(out.out.split()), " ".join(out.err.split())  # as read, whatever the terminal's width


def _record(mapping: Path, key: str) -> str:
    spec = load_mapping(str(mapping))
    entity = spec.entities["persona"]
    return entity_id(spec.dataset or "", entity.key_prefix or "persona", key)


def _encode_both(capsys: pytest.CaptureFixture[str], tmp: Path, a: Agencies, secret: Path, db: str) -> None:
    """The shelter encodes from its cruce database; the police unit from its file, through a mapping."""
    assert run(capsys, "--db", db, "import", str(a.shelter_csv), "-m", str(a.shelter_mapping))[0] == 0
    code, out, err = run(capsys, "--db", db, "pprl", "encode", "--dataset", "refugio",
                         "--secret-file", str(secret), "--out", str(tmp / "refugio.json"))  # fmt: skip
    assert code == 0, err
    assert f"{len(a.shelter)} people encoded" in out
    code, out, err = run(capsys, "--db", db, "pprl", "encode", "--csv", str(a.police_csv),
                         "--mapping", str(a.police_mapping), "--secret-file", str(secret),
                         "--out", str(tmp / "policia.json"))  # fmt: skip
    assert code == 0, err
    assert f"{len(a.police)} people encoded" in out


def _matched(tmp: Path, a: Agencies) -> set[tuple[str, str]]:
    """The matched pairs as (folio, expediente), through both agencies' private maps."""
    back = {v: k for k, v in {**_keys(a.shelter_mapping, a.shelter), **_keys(a.police_mapping, a.police)}.items()}
    maps: dict[str, str] = {}
    for side in ("refugio", "policia"):
        with (tmp / f"{side}.ids.csv").open(encoding="utf-8") as fh:
            maps.update({r["pseudonym"]: back[r["record_id"]] for r in csv.DictReader(fh)})
    with (tmp / "pairs.csv").open(encoding="utf-8") as fh:
        return {(maps[r["id_a"]], maps[r["id_b"]]) for r in csv.DictReader(fh)}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def _keys(mapping: Path, keys: dict[str, int]) -> dict[str, str]:
    return {k: _record(mapping, k) for k in keys}


def _f1(found: set[tuple[str, str]], true: set[tuple[str, str]]) -> float:
    correct = len(found & true)
    precision = correct / len(found) if found else 0.0
    recall = correct / len(true)
    return 2 * precision * recall / (precision + recall) if correct else 0.0


@pytest.mark.usefixtures("pprl_env")
def test_same_secret_finds_the_shared_people(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, agencies: Agencies, secret_file: Path
) -> None:
    true = agencies.true_pairs()
    # Not one shared person is written alike by the two agencies: exact matching finds nobody.
    shelter = {r["folio"]: r for r in _rows(agencies.shelter_csv)}
    police = {r["expediente"]: r for r in _rows(agencies.police_csv)}
    for f, e in true:
        written = " ".join(shelter[f][c] for c in ("nombre", "paterno", "materno") if shelter[f][c])
        assert written != police[e]["nombre_completo"]
        assert shelter[f]["nacimiento"] != police[e]["fecha_nac"]
    db = str(tmp_path / "refugio.duckdb")
    _encode_both(capsys, tmp_path, agencies, secret_file, db)
    code, _out, err = run(capsys, "pprl", "match", str(tmp_path / "refugio.json"), str(tmp_path / "policia.json"),
                         "--threshold", "0.8", "--out", str(tmp_path / "pairs.csv"))  # fmt: skip
    assert code == 0, err
    found = _matched(tmp_path, agencies)
    assert len(true) >= 70
    assert _f1(found, true) >= 0.9, (len(found & true), len(found), len(true))
    with (tmp_path / "pairs.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert set(rows[0]) == {"id_a", "id_b", "score"}
    assert all(0.8 <= float(r["score"]) <= 1.0 for r in rows)
    # each agency holds each person once here, so one partner per record loses nothing
    code, _out, err = run(capsys, "pprl", "match", str(tmp_path / "refugio.json"), str(tmp_path / "policia.json"),
                          "--one-to-one", "--threshold", "0.8", "--out", str(tmp_path / "pairs.csv"))  # fmt: skip
    assert code == 0, err
    one = _matched(tmp_path, agencies)
    assert len({f for f, _e in one}) == len(one) == len({e for _f, e in one})
    assert _f1(one, true) >= 0.9


@pytest.mark.usefixtures("pprl_env")
def test_a_different_secret_matches_almost_nobody(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, agencies: Agencies, secret_file: Path
) -> None:
    db = str(tmp_path / "refugio.duckdb")
    _encode_both(capsys, tmp_path, agencies, secret_file, db)
    other = tmp_path / "other.key"
    other.write_bytes(b"the police unit got this one wrong")
    code, _out, err = run(capsys, "--db", db, "pprl", "encode", "--csv", str(agencies.police_csv),
                          "-m", str(agencies.police_mapping), "--secret-file", str(other),
                          "--out", str(tmp_path / "policia.json"))  # fmt: skip
    assert code == 0, err
    code, _out, err = run(capsys, "pprl", "match", str(tmp_path / "refugio.json"), str(tmp_path / "policia.json"),
                          "--out", str(tmp_path / "pairs.csv"))  # fmt: skip
    assert code == 0, err
    found = _matched(tmp_path, agencies)
    assert len(found & agencies.true_pairs()) <= 0.05 * len(agencies.true_pairs())


@pytest.mark.usefixtures("pprl_env")
def test_the_encoded_file_holds_no_name_date_or_record_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, agencies: Agencies, secret_file: Path
) -> None:
    db = str(tmp_path / "refugio.duckdb")
    _encode_both(capsys, tmp_path, agencies, secret_file, db)
    for side, keys, mapping in (("refugio", agencies.shelter, agencies.shelter_mapping),
                                ("policia", agencies.police, agencies.police_mapping)):  # fmt: skip
        document = json.loads((tmp_path / f"{side}.json").read_text(encoding="utf-8"))
        assert document["records"] == len(keys)
        # the encodings are 1024-bit Bloom filters in base64, the ids random hexadecimal pseudonyms
        assert all(len(r["clk"]) == 172 and set(r) == {"id", "clk"} for r in document["clks"])
        ids = {r["id"] for r in document["clks"]}
        assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
        assert not ids & (set(_keys(mapping, keys).values()) | set(keys))
        # and nothing else in the file tells of a person
        rest = json.dumps({k: v for k, v in document.items() if k != "clks"}).lower()
        words = {w for p in agencies.people for part in (p.given, p.surname, p.second) for w in fold(part).split()}
        assert not [w for w in words if len(w) > 2 and w in rest]
        dates = {p.born.strftime(f) for p in agencies.people for f in ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d")}
        assert not [d for d in dates if d in rest]
        assert not [k for k in keys if k.lower() in rest]


@pytest.mark.usefixtures("pprl_env")
def test_the_encode_is_audited_without_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, secret_file: Path
) -> None:
    from tests.conftest import SCREENING_MAPPING

    (tmp_path / "s.yaml").write_text(SCREENING_MAPPING.format(dataset="cribado"))
    (tmp_path / "s.csv").write_text(
        "sid,date,person_name,nationality,screener\n1,2024-01-02,Rosa Núñez Ortiz,GT,x\n2,2024-01-03,Raúl Díaz,HN,y\n"
    )
    db = str(tmp_path / "a.duckdb")
    assert run(capsys, "--db", db, "import", str(tmp_path / "s.csv"), "-m", str(tmp_path / "s.yaml"))[0] == 0
    code, out, err = run(capsys, "--db", db, "pprl", "encode", "--secret-file", str(secret_file),
                         "--out", str(tmp_path / "v.json"))  # fmt: skip
    assert code == 0, err
    assert "2 people encoded" in out
    assert "2 of them protected" in out
    from cruce.security import Security
    from cruce.store import open_store

    with open_store(db) as store:
        entry = Security(store).audit.entries(action="pprl_encode")[0]
    detail = json.loads(entry.detail or "{}")
    assert (entry.target, entry.outcome, detail["records"], detail["protected_people"]) == ("Person", "ok", 2, 2)
    assert detail["datasets"] == "all"
    assert detail["output"] == "v.json"
    assert not any(w in (entry.detail or "").lower() for w in ("rosa", "nunez", "núñez", "raul", "diaz"))


@pytest.mark.usefixtures("pprl_env")
def test_match_with_my_map_adds_my_record_ids(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, agencies: Agencies, secret_file: Path
) -> None:
    _encode_both(capsys, tmp_path, agencies, secret_file, str(tmp_path / "refugio.duckdb"))
    code, _out, err = run(capsys, "pprl", "match", str(tmp_path / "refugio.json"), str(tmp_path / "policia.json"),
                          "--ids", str(tmp_path / "refugio.ids.csv"),
                          "--out", str(tmp_path / "pairs.csv"))  # fmt: skip
    assert code == 0, err
    with (tmp_path / "pairs.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    shelter_records = set(_keys(agencies.shelter_mapping, agencies.shelter).values())
    assert rows
    assert all(r["record_a"] in shelter_records and r["record_b"] == "" for r in rows)


# -- errors (no PPRL environment needed: they are caught before the worker is called) -----------
def test_missing_environment_says_how_to_create_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, secret_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRUCE_PPRL_DIR", str(tmp_path / "nowhere"))
    a = make_agencies(tmp_path, people=9)
    args = ["--db", str(tmp_path / "x.duckdb"), "pprl", "encode", "--csv", str(a.police_csv),
            "-m", str(a.police_mapping), "--secret-file", str(secret_file),
            "--out", str(tmp_path / "p.json")]  # fmt: skip
    code, _out, err = run(capsys, *args)
    assert code == 2
    assert "PPRL environment is missing" in err
    assert "make setup" in err
    code, _out, err = run(capsys, "--lang", "es", *args)
    assert code == 2
    assert "make setup" in err
    assert "entorno" in err
    assert not (tmp_path / "p.json").exists()


@pytest.mark.parametrize("secret", [b"", b"short", b"fifteen bytes!!\n"])
def test_a_short_secret_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, agencies: Agencies, secret: bytes
) -> None:
    (tmp_path / "k").write_bytes(secret)
    code, _out, err = run(capsys, "--db", str(tmp_path / "x.duckdb"), "pprl", "encode", "--csv",
                          str(agencies.police_csv), "-m", str(agencies.police_mapping),
                          "--secret-file", str(tmp_path / "k"), "--out", str(tmp_path / "p.json"))  # fmt: skip
    assert code == 2
    assert "at least 16" in err
    assert str(tmp_path / "k") in err
    assert not (tmp_path / "p.json").exists()


def test_a_missing_secret_file_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _out, err = run(capsys, "--db", str(tmp_path / "x.duckdb"), "pprl", "encode",
                          "--secret-file", str(tmp_path / "absent.key"), "--out", str(tmp_path / "p.json"))  # fmt: skip
    assert code == 2
    assert "Cannot read the secret file" in err
    assert "absent.key" in err


def test_secret_writes_a_private_random_secret(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "pprl", "secret", str(tmp_path / "a.key"))[0] == 0
    assert run(capsys, "pprl", "secret", str(tmp_path / "b.key"))[0] == 0
    a, b = (tmp_path / "a.key").read_bytes(), (tmp_path / "b.key").read_bytes()
    assert a != b
    assert len(a.strip()) >= 32
    assert (tmp_path / "a.key").stat().st_mode & 0o077 == 0
    code, _out, err = run(capsys, "pprl", "secret", str(tmp_path / "a.key"))
    assert code == 2
    assert "already exists" in err
    assert (tmp_path / "a.key").read_bytes() == a


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Cannot read"),
        ("name,dob\nJosé,1980-01-01\n", "not JSON"),
        ('{"format": "other"}', "not an encoded file"),
        ('{"format": "cruce-pprl-clks", "schema": {"name": "x", "version": 9, "sha256": "0"}}', "same schema"),
    ],
)
def test_match_refuses_what_is_not_an_encoded_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None, message: str
) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    code, _out, err = run(capsys, "pprl", "match", str(bad), str(bad), "--out", str(tmp_path / "pairs.csv"))
    assert code == 2
    assert message in err
    assert "bad.json" in err
    assert not (tmp_path / "pairs.csv").exists()


def test_csv_needs_its_mapping_and_only_people_are_encoded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, agencies: Agencies, secret_file: Path
) -> None:
    base = ["--db", str(tmp_path / "x.duckdb"), "pprl", "encode", "--secret-file", str(secret_file),
            "--out", str(tmp_path / "p.json")]  # fmt: skip
    code, _out, err = run(capsys, *base, "--csv", str(agencies.police_csv))
    assert code == 2
    assert "--csv and --mapping" in err
    code, _out, err = run(capsys, *base, "--type", "Firearm")
    assert code == 2
    assert "people only" in err
    code, _out, err = run(capsys, *base, "--dataset", "nonesuch")
    assert code == 2
    assert "nonesuch" in err
