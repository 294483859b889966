"""A case package between two databases: ``cruce investigations export`` in one, ``import`` in the
other round-trips the case's records and their provenance; protected values leave only when
released (and the release is audited); a changed package is refused before anything is written;
a second import adds nothing."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cruce.cli import build_app
from cruce.i18n import set_language
from cruce.ingest.compile import entity_id
from cruce.investigations.package import ENTITIES, MANIFEST, PROVENANCE
from cruce.web import create_app
from tests.web.conftest import VICTIM, World, build_world


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, World]:
    tmp = tmp_path_factory.mktemp("package")
    built = []
    for name in ("source", "target"):
        (tmp / name).mkdir()
        world = build_world(str(tmp / name / f"{name}.duckdb"), tmp / name)
        world.app.state.services.close()
        built.append(world)
    return built[0], built[1]


def _run(world: World, *args: str) -> tuple[int, str]:
    set_language("en")
    result = CliRunner().invoke(build_app(), ["--db", world.url, *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def case_id(worlds: tuple[World, World]) -> str:
    source = worlds[0]
    code, out = _run(source, "investigations", "create", "Caso Sonora", "--as", "admin", "--marking", "amber",
                     "--description", "Dos personas")  # fmt: skip
    assert code == 0, out
    case = out.split()[1]
    code, out = _run(source, "investigations", "add-item", case, source.victim_id, source.xss_id, "--as", "admin")
    assert code == 0, out
    return case


def _statements(url: str, ids: list[str]) -> dict[str, list[tuple[str, str, str, str, int]]]:
    from cruce.store import open_store

    with open_store(url) as store:
        return {
            eid: sorted((s.prop, s.value, s.dataset, Path(s.source_file).name, s.source_row) for s in sts)
            for eid, sts in store.statements_of(ids).items()
        }


def _audit(url: str, action: str) -> list[dict[str, Any]]:
    """The entries of one action, newest first: who, which case, and the detail."""
    from cruce.security import Security
    from cruce.store import open_store

    with open_store(url) as store:
        entries = Security(store).audit.entries(limit=50)
    return [{"actor": e.actor, "case": e.target, **json.loads(e.detail or "{}")} for e in entries
            if e.action == action]  # fmt: skip


def test_export_import_round_trips_records_and_provenance(
    worlds: tuple[World, World], case_id: str, tmp_path: Path
) -> None:
    source, target = worlds
    package = tmp_path / "caso.zip"
    code, out = _run(source, "investigations", "export", case_id, "--out", str(package), "--lang", "es",
                     "--format", "html")  # fmt: skip
    assert code == 0, out
    with zipfile.ZipFile(package) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read(MANIFEST))
        body = {n: zf.read(n) for n in names}
    assert names == {MANIFEST, ENTITIES, PROVENANCE, "briefing.es.html"}
    assert manifest["case"]["title"] == "Caso Sonora"
    assert manifest["case"]["marking"] == "amber"
    assert set(manifest["files"]) == names - {MANIFEST}
    assert VICTIM not in b"".join(body.values()).decode("utf-8")  # not released: absent everywhere
    assert "[reservado]" in body["briefing.es.html"].decode("utf-8")

    code, out = _run(target, "investigations", "import", str(package), "--as", "analyst")
    assert code == 0, out
    new_case = out.split()[1]
    dataset = manifest["dataset"]
    ftm = {json.loads(line)["id"]: json.loads(line) for line in body[ENTITIES].decode().splitlines()}
    assert set(ftm) == {source.victim_id, source.xss_id}
    # the entities: the same values, now from the package's dataset, file and line
    before = _statements(source.url, [source.xss_id])[source.xss_id]
    imported = entity_id(dataset, "ftm", source.xss_id)
    after = _statements(target.url, [imported])[imported]
    assert {(p, v) for p, v, *_rest in after} == {(p, v) for p, v, *_rest in before}
    assert {d for _p, _v, d, _f, _r in after} == {dataset}
    # the case holds them, each with its original provenance (dataset, file, row)
    code, out = _run(target, "investigations", "show", new_case, "--as", "analyst", "--format", "json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["title"] == "Caso Sonora"
    assert {r["id"] for r in shown["records"]} == {imported, entity_id(dataset, "ftm", source.victim_id)}
    from cruce.security import Security
    from cruce.store import open_store

    with open_store(target.url) as store:
        items = Security(store).investigations.items(new_case)
    origin = next(i.data["origin"] for i in items if i.ref == imported)  # type: ignore[index]
    assert sorted((s["prop"], s["value"], s["dataset"], s["file"], s["row"]) for s in origin["statements"]) == before
    # once more: nothing added
    code, out = _run(target, "investigations", "import", str(package), "--as", "analyst")
    assert code == 0, out
    assert "nothing added" in out
    assert _statements(target.url, [imported])[imported] == after
    assert [c.title for c in _cases(target.url)] == ["Caso Sonora"]


def test_protected_values_only_when_released_and_audited(
    worlds: tuple[World, World], case_id: str, tmp_path: Path
) -> None:
    source = worlds[0]
    package = tmp_path / "released.zip"
    code, out = _run(source, "investigations", "export", case_id, "--out", str(package), "--format", "html",
                     "--release", "name")  # fmt: skip
    assert code == 0, out
    with zipfile.ZipFile(package) as zf:
        entities = zf.read(ENTITIES).decode("utf-8")
        briefing = zf.read("briefing.en.html").decode("utf-8")
        manifest = json.loads(zf.read(MANIFEST))
    assert VICTIM in entities
    assert VICTIM not in briefing  # the briefing travels redacted: released values are in the entities
    assert manifest["released"] == ["name"]
    releases = _audit(source.url, "investigation_release")
    assert releases[0]["actor"].startswith("cli")
    assert releases[0]["case"] == case_id
    assert releases[0]["properties"] == ["name"]
    assert releases[0]["values"] == {"name": 1}
    assert releases[0]["package"] == manifest["package_id"]
    code, out = _run(source, "investigations", "export", case_id, "--out", str(tmp_path / "x.zip"),
                     "--release", "no_such_property")  # fmt: skip
    assert code == 2


def test_a_changed_package_is_refused_before_anything_is_written(
    worlds: tuple[World, World], case_id: str, tmp_path: Path
) -> None:
    source, target = worlds
    package = tmp_path / "caso.zip"
    code, out = _run(source, "investigations", "export", case_id, "--out", str(package), "--format", "html")
    assert code == 0, out
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(package) as zf, zipfile.ZipFile(tampered, "w") as out_zf:
        for name in zf.namelist():
            data = zf.read(name)
            if name == ENTITIES:
                data = data.replace(b"alert", b"alarm")
            out_zf.writestr(name, data)
    datasets_before, cases_before = _datasets(target.url), len(_cases(target.url))
    code, out = _run(target, "investigations", "import", str(tampered), "--as", "analyst")
    assert code == 2
    assert ENTITIES in out
    assert "hash" in out
    assert _datasets(target.url) == datasets_before
    assert len(_cases(target.url)) == cases_before
    extra = tmp_path / "extra.zip"
    with zipfile.ZipFile(package) as zf, zipfile.ZipFile(extra, "w") as out_zf:
        for name in zf.namelist():
            out_zf.writestr(name, zf.read(name))
        out_zf.writestr("run-me.sh", b"echo hi")
    code, out = _run(target, "investigations", "import", str(extra), "--as", "analyst")
    assert code == 2
    assert "run-me.sh" in out
    assert _datasets(target.url) == datasets_before


def _datasets(url: str) -> list[str]:
    from cruce.store import open_store

    with open_store(url) as store:
        return sorted(d.name for d in store.datasets())


def _cases(url: str) -> list:  # type: ignore[type-arg]
    from cruce.security import Security
    from cruce.store import open_store

    with open_store(url) as store:
        return Security(store).investigations.all()


def test_the_api_and_the_case_page_give_the_package(worlds: tuple[World, World], case_id: str, tmp_path: Path) -> None:
    from tests.web.conftest import TestClient, signin

    source = worlds[0]
    app = create_app(source.url, upload_dir=tmp_path / "uploads")
    try:
        client = TestClient(app)
        url = f"/api/v1/investigations/{case_id}/package"
        admin = {"Authorization": f"Bearer {source.tokens['admin']}"}
        r = client.get(url, params={"format": "html", "release": "name"}, headers=admin)
        assert r.status_code == 200, r.text[:300]
        assert r.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            assert VICTIM in zf.read(ENTITIES).decode("utf-8")
        assert _audit(source.url, "investigation_release")[0]["actor"] == "admin"
        r = client.get(url, params={"release": "no_such_property"}, headers=admin)
        assert r.status_code == 422
        analyst = {"Authorization": f"Bearer {source.tokens['analyst']}"}
        assert client.get(url, headers=analyst).status_code == 404  # not a member
        signin(client, "admin")
        page = client.get(f"/investigations/{case_id}")
        assert f'action="/investigations/{case_id}/package"' in page.text
        r = client.get(f"/investigations/{case_id}/package", params={"format": "html", "lang": "es"})
        assert r.status_code == 200
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            assert "briefing.es.html" in zf.namelist()
            assert VICTIM not in zf.read(ENTITIES).decode("utf-8")
    finally:
        app.state.services.close()


def test_a_package_uploaded_on_the_page_opens_its_case(
    worlds: tuple[World, World], case_id: str, tmp_path: Path
) -> None:  # fmt: skip
    """The target's analyst uploads the package on /investigations: a new case she leads, with the
    records and their sources; the same package again adds nothing; a changed one is refused with
    the file it names, and nothing is written."""
    from tests.web.conftest import TestClient, csrf_of, signin

    source, target = worlds
    app = create_app(source.url, upload_dir=tmp_path / "uploads-source")
    try:
        admin = {"Authorization": f"Bearer {source.tokens['admin']}"}
        package = TestClient(app).get(f"/api/v1/investigations/{case_id}/package", headers=admin).content
    finally:
        app.state.services.close()
    app = create_app(target.url, upload_dir=tmp_path / "uploads-target")
    try:
        client = signin(TestClient(app), "analyst")
        before = len(_cases(target.url))
        token = csrf_of(client.get("/investigations").text)
        tampered = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(package)) as zin, zipfile.ZipFile(tampered, "w") as zout:
            for info in zin.infolist():
                data = zin.read(info)
                zout.writestr(info, data + b"\n" if info.filename == ENTITIES else data)
        refused = client.post("/investigations/import", data={"csrf_token": token},
                              files={"package": ("p.zip", tampered.getvalue(), "application/zip")})  # fmt: skip
        assert refused.status_code == 422
        assert ENTITIES in refused.text
        assert len(_cases(target.url)) == before
        r = client.post("/investigations/import", data={"csrf_token": token},
                        files={"package": ("p.zip", package, "application/zip")}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 303
        opened = r.headers["location"]
        assert opened.endswith("?imported=new")
        page = client.get(opened).text
        assert 'id="package-imported"' in page
        assert "Caso Sonora" in page
        files = {"package": ("p.zip", package, "application/zip")}
        again = client.post("/investigations/import", data={"csrf_token": token}, files=files, follow_redirects=False)
        assert again.headers["location"] == opened.replace("new", "again")
        assert len(_cases(target.url)) == before + 1
        viewer = signin(TestClient(app), "viewer")
        denied = viewer.post("/investigations/import", data={"csrf_token": csrf_of(viewer.get("/investigations").text)},
                             files={"package": ("p.zip", package, "application/zip")})  # fmt: skip
        assert denied.status_code == 403
    finally:
        app.state.services.close()
