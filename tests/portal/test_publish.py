"""The public portal written from a small synth store with a few laws: every page in English and
Spanish, every link resolving inside the site, no absolute URL but the sources' addresses as text,
no protected value, no count under k; the legal figures as ``cruce.legal`` computes them; the
configuration's refusals; the audit entry and the manifest; /public served live."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from cruce.legal import claims, questions
from cruce.legal.records import LegalData
from cruce.reports import portal
from cruce.reports.portal.config import K_FLOOR, ConfigError, parse
from cruce.schema.loader import default_schema
from cruce.security import Marking, Security
from cruce.security.audit import now
from cruce.store import open_store
from tests.portal.conftest import LAWS, protected_values

PAGES = ("index", "people", "drugs", "firearms", "laws", "sources", "contact")
TODAY = date(2026, 1, 15)
LINK = re.compile(r"""\b(?:href|src|action)\s*=\s*["']([^"']*)["']""")
ID = re.compile(r"""\bid\s*=\s*["']([^"']+)["']""")
COUNT = re.compile(r'data-count="(-?\d+)"')


def _publish(db: str, out: Path, config: portal.PortalConfig | None = None) -> portal.Publication:
    chosen = config or portal.load(None, default_schema())
    with open_store(db) as store:
        return portal.publish(store, chosen, out, "test", today=TODAY)


@pytest.fixture(scope="module")
def site(portal_store: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    db, _scenario = portal_store
    out = tmp_path_factory.mktemp("site") / "public"
    _publish(db, out)
    return out


def _html(site: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(site.rglob("*.html"))}


def test_every_page_exists_in_english_and_spanish(site: Path) -> None:
    for lang in ("en", "es"):
        for page in PAGES:
            text = (site / lang / f"{page}.html").read_text(encoding="utf-8")
            assert f'<html lang="{lang}">' in text
            other = "es" if lang == "en" else "en"
            assert f'href="../{other}/{page}.html"' in text  # the language switch, to the same page
            assert 'class="skip" href="#main"' in text
            assert text.count("<h1>") == 1
    assert (site / "index.html").exists()
    assert (site / "assets" / "portal.css").exists()


def test_every_internal_link_resolves(site: Path) -> None:
    for path, text in _html(site).items():
        for link in LINK.findall(text):
            parts = urlsplit(link)
            assert not parts.scheme, f"{path}: {link}"
            assert not parts.netloc, f"{path}: {link}"
            assert not link.startswith("/"), f"{path}: {link}"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_relative_to(site.resolve()), f"{path}: {link} leaves the site"
            assert target.is_file(), f"{path}: {link} is broken"
            if parts.fragment:
                assert parts.fragment in ID.findall(target.read_text(encoding="utf-8")), f"{path}: {link}"


def _source_urls(db: str) -> set[str]:
    """The addresses of the sources the published claims and the legal records name."""
    with open_store(db) as store:
        data = LegalData.load(store)
    named = {c.source_url for c in claims.load_claims()}
    named |= {s["url"] for r in questions.records_of(data) for s in r.sources}
    return {u for u in named if u}


def test_no_absolute_link_anywhere_and_absolute_urls_only_as_source_text(
    site: Path, portal_store: tuple[str, Path]
) -> None:
    """Every link, image and form of the site is relative. An absolute address appears only as the
    printed text of a source that a published claim or a legal record names, on the laws page."""
    sources = _source_urls(portal_store[0])
    for path in site.rglob("*"):
        if path.is_file() and path.name != portal.MANIFEST:
            text = path.read_text(encoding="utf-8")
            assert "//" not in "".join(LINK.findall(text)), path
            found = {u.rstrip(".") for u in re.findall(r"https?://[^\s\"'<]+", text)}
            assert found <= sources, (path, found - sources)
            assert not found or path.name == "laws.html", path
    assert "http://www.borderlegislators.org/illegal_trafficking_eng.htm" in (site / "en" / "laws.html").read_text(
        encoding="utf-8"
    )


def test_a_contact_url_appears_only_when_configured(portal_store: tuple[str, Path], tmp_path: Path) -> None:
    db, _scenario = portal_store
    url = "https://tips.example.org/tip"
    config = replace(portal.load(None, default_schema()), contact_url=url, pages={"laws": ("laws_in_force",)})
    _publish(db, tmp_path / "site", config)
    for path, text in _html(tmp_path / "site").items():
        found = [u.rstrip(".") for u in re.findall(r"https?://[^\s\"'<]+", text)]
        assert set(found) <= {url}, (path, found)
        assert bool(found) == (path.name == "contact.html"), path
    assert not (tmp_path / "site" / "en" / "people.html").exists()  # pages not configured are not written


def test_no_protected_value_is_published(site: Path, portal_store: tuple[str, Path]) -> None:
    _db, scenario = portal_store
    secrets = protected_values(scenario)
    assert len(secrets) > 50  # the scenario has screened people, named tipsters, purchasers
    for path in site.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{path}: {leaked[:3]}"


def test_no_count_below_k(site: Path) -> None:
    k = portal.load(None, default_schema()).k
    counts = [int(n) for text in _html(site).values() for n in COUNT.findall(text)]
    assert counts, "the pages publish counts"
    assert min(counts) >= k
    people = (site / "en" / "people.html").read_text(encoding="utf-8")
    assert 'data-suppressed="1"' in people  # the small synth scenario has cells under k: shown as suppressed
    assert f"fewer than {k}" in people


def test_every_figure_names_its_sources(site: Path) -> None:
    for page in ("people", "drugs", "firearms", "laws"):
        text = (site / "en" / f"{page}.html").read_text(encoding="utf-8")
        figures = text.count('class="figure"')
        assert figures >= 2, page
        assert text.count('class="source">Source: ') == figures, page
        assert "no dataset yet" not in text, page
    assert "htcds-cases" in (site / "en" / "people.html").read_text(encoding="utf-8")
    assert "firearm-traces" in (site / "en" / "firearms.html").read_text(encoding="utf-8")


class _Rows(HTMLParser):
    """The rows (cells as text) of the records table of one figure of a page."""

    def __init__(self, figure: str) -> None:
        super().__init__()
        self.figure, self.inside, self.depth = f"fig-{figure}", False, 0
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self.inside = self.inside or dict(attrs).get("id") == self.figure
            self.depth += self.inside
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if self.inside and tag == "section":
            self.depth -= 1
            self.inside = self.depth > 0
        elif self.cell is not None and tag in ("td", "th"):
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _rows(site: Path, lang: str, figure: str) -> list[list[str]]:
    """The body rows of a figure's records table (the header row left out)."""
    parser = _Rows(figure)
    parser.feed((site / lang / "laws.html").read_text(encoding="utf-8"))
    return parser.rows[1:]


def _expected_by_year(year: int) -> set[str]:
    """The states with a sex-trafficking law in force on 31 December of ``year``, worked out from the
    rows imported (every date of a day but L7's, known by its year: from its end)."""
    found = set()
    for _id, _name, place, level, kinds, since, repealed, _country in LAWS:
        start = date(int(since), 12, 31) if len(since) == 4 else date.fromisoformat(since)
        day = TODAY if year == TODAY.year else date(year, 12, 31)
        repealed_by = date.fromisoformat(repealed) if repealed else None
        if level == "state" and "sex_trafficking" in kinds and start <= day and (not repealed_by or day < repealed_by):
            found.add(place)
    return found


def test_laws_in_force_counted_from_the_records(site: Path, portal_store: tuple[str, Path]) -> None:
    """The acceptance of issue #12: the map over time counts, per year, the states whose law was in
    force, as the imported records say — and as ``cruce.legal`` says, the one rule of the product."""
    db, _scenario = portal_store
    with open_store(db) as store:
        data = LegalData.load(store)
    assert len(data.laws) == len(LAWS)
    series = questions.in_force_by_year(data, "sex_trafficking", today=TODAY)
    assert [r["year"] for r in series] == list(range(2003, TODAY.year + 1))
    for row in series:
        assert set(row["jurisdictions"]) == _expected_by_year(row["year"]), row["year"]
    by_year = {r["year"]: r["count"] for r in series}
    assert {y: by_year[y] for y in (2003, 2005, 2008, 2012, 2015, 2026)} == {
        2003: 1, 2005: 2, 2008: 3, 2012: 4, 2015: 3, 2026: 3  # NM's law repealed in 2015; Sonora's not yet
    }  # fmt: skip
    page = _rows(site, "en", "laws_over_time")
    assert [(int(r[0]), int(r[1])) for r in page] == [(r["year"], r["count"]) for r in series]
    assert page[0] == ["2003", "1", "Texas", ""]
    assert page[12] == ["2015", "3", "", "New Mexico"]
    in_map = {r[0] for r in _rows(site, "en", "map_sex_trafficking_law")}
    assert in_map == {"Texas", "Arizona", "Chihuahua"}  # today: Sonora's law counts from the end of 2026
    sex = default_schema().enums["law_kind"].values["sex_trafficking"].label("en")
    kinds = {r[0]: (int(r[1]), int(r[2])) for r in _rows(site, "en", "laws_in_force")}
    assert kinds[sex] == (2, 1)  # Texas and Arizona; Chihuahua
    text = (site / "en" / "laws.html").read_text(encoding="utf-8")
    listed = {r[1]: r for r in _rows(site, "en", "laws_by_jurisdiction")}
    assert listed["Ley de trata del Estado de Sonora"][3] == "2026-12-31"
    assert listed["Texas Penal Code 20A.02"][3] == "2003-09-01"
    assert "Test gazette of laws" in text
    assert "Mexico (federal)" in text
    assert "Test report on trafficking, 2021" in text  # an enforcement outcome as published, with its source
    assert "73,500,000 USD" in text
    assert "Test grant announcement" in text
    spanish = (site / "es" / "laws.html").read_text(encoding="utf-8")
    assert "Trata con fines de explotación sexual" in spanish  # the schema's Spanish label of the kind


def test_published_claims_beside_the_records(site: Path, portal_store: tuple[str, Path]) -> None:
    """Issue #12 part 4: each published claim, in the page's language, beside what the records give
    (``claims.check`` on the day of publication), with its result and its source as text."""
    db, _scenario = portal_store
    with open_store(db) as store:
        checked = claims.check(LegalData.load(store), claims.load_claims(), today=TODAY)
    statuses = {"agree": "agree", "differ": "differ", "unscoped": "no place or year given", "no_records": "no records"}
    for lang in ("en", "es"):
        page = _rows(site, lang, "published_claims")
        assert [r[0] for r in page] == [c["text"][lang] for c in checked]
        assert all(len(r) == 5 for r in page)
        for row, claim in zip(page, checked, strict=True):
            assert claim["source"]["url"] in row[4]
            assert claim["source"]["title"] in row[4]
            if lang == "en":
                assert row[3] == statuses[claim["status"]]
    english = {c["claim"]: r for r, c in zip(_rows(site, "en", "published_claims"), checked, strict=True)}
    assert english["us-states-sex-trafficking-39"][1:4] == ["at least 39", "2", "differ"]  # Texas, Arizona
    assert english["investigations-24"][2:4] == ["—", "no place or year given"]
    assert english["us-states-sex-trafficking-50-2014"][2] == "3"  # on 2014-06-30: Texas, Arizona, New Mexico
    assert "73,500,000" in english["funding-73-5m"][1]


def test_the_publication_is_audited_and_its_manifest_holds_every_file(
    portal_store: tuple[str, Path], tmp_path: Path
) -> None:
    db, _scenario = portal_store
    done = _publish(db, tmp_path / "site")
    manifest_bytes = (tmp_path / "site" / portal.MANIFEST).read_bytes()
    assert hashlib.sha256(manifest_bytes).hexdigest() == done.manifest_sha256
    manifest = json.loads(manifest_bytes)
    files = {p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("*") if p.is_file()}
    assert set(manifest["files"]) == files - {portal.MANIFEST}
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((tmp_path / "site" / rel).read_bytes()).hexdigest() == digest
    with open_store(db) as store:
        entry = Security(store).audit.entries(action="portal_publish", limit=1)[0]
        assert portal.last_published(store) == (tmp_path / "site").resolve()
    assert entry.actor == "test"
    assert entry.target == str((tmp_path / "site").resolve())
    detail = json.loads(entry.detail or "{}")
    assert detail["manifest_sha256"] == done.manifest_sha256
    assert detail["config_sha256"] == hashlib.sha256(portal.config.default_text().encode()).hexdigest()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("k: 3\n", f"below the floor of {K_FLOOR}"),
        ("counts:\n  - {page: people, schema: Tip, by: tipster_name}\n", "protected property"),
        ("counts:\n  - {page: people, schema: Screening, by: person}\n", "protected property"),
        ("counts:\n  - {page: firearms, schema: Person, by: name}\n", "only codes, states, countries and dates"),
        ("pages:\n  people: [victim_names]\n", "unknown figure victim_names"),
        ("kk: 10\n", "unknown setting"),
        ("contact_url: javascript:alert(1)\n", "must be an http(s) address"),
    ],
)
def test_a_configuration_that_would_publish_too_much_is_refused(text: str, reason: str, tmp_path: Path) -> None:
    path = tmp_path / "publish.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(reason)) as caught:
        portal.load(path, default_schema())
    assert str(path) in str(caught.value)


def test_a_red_dataset_is_never_published(portal_store: tuple[str, Path], tmp_path: Path) -> None:
    db, _scenario = portal_store
    config = parse({"sources": ["htcds-cases"]}, default_schema())
    with open_store(db) as store:
        Security(store).policies.set("htcds-cases", Marking.RED, {"ngo"}, now=now())
        try:
            with pytest.raises(portal.PublishError, match="htcds-cases is marked red"):
                portal.publish(store, config, tmp_path / "site", "test")
            everything = portal.build_pages(store, portal.load(None, default_schema()), today=TODAY)
            assert "htcds-cases" not in everything["en/sources.html"]
        finally:
            Security(store).policies.set("htcds-cases", Marking.GREEN, set(), now=now())
    assert not (tmp_path / "site").exists()


def test_cli_publish_and_its_refusal(portal_store: tuple[str, Path], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cruce.cli import build_app

    db, _scenario = portal_store
    runner = CliRunner()
    done = runner.invoke(build_app(), ["--db", db, "publish", "--out", str(tmp_path / "site"), "--lang", "es"])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "site" / "es" / "index.html").exists()
    assert not (tmp_path / "site" / "en").exists()
    (tmp_path / "bad.yaml").write_text("k: 2\n", encoding="utf-8")
    refused = runner.invoke(
        build_app(), ["--db", db, "publish", "--out", str(tmp_path / "other"), "--config", str(tmp_path / "bad.yaml")]
    )
    assert refused.exit_code == 2
    assert "below the floor" in refused.output
    assert not (tmp_path / "other").exists()


def test_served_at_public_without_an_account(portal_store: tuple[str, Path], tmp_path: Path) -> None:
    from cruce.web import create_app
    from tests.web.conftest import TestClient  # imported there without starlette's httpx warning

    db, _scenario = portal_store
    _publish(db, tmp_path / "site")
    app = create_app(db, run_jobs=False, upload_dir=tmp_path / "uploads")
    try:
        client = TestClient(app)
        assert client.get("/public", follow_redirects=False).headers["location"] == "/public/"
        home = client.get("/public/en/index.html")
        assert home.status_code == 200
        assert "Trafficking in persons" in home.text
        assert client.get("/public/assets/portal.css").headers["content-type"].startswith("text/css")
        contact = client.get("/public/es/contact.html")
        assert 'href="../../tip"' in contact.text  # live: this server's own tip form
        assert client.get("/public/../store.duckdb").status_code == 404
        assert client.get("/public/en/nothing.html").status_code == 404
    finally:
        app.state.services.close()


def test_a_configured_count_is_published_with_its_sources(portal_store: tuple[str, Path], tmp_path: Path) -> None:
    db, _scenario = portal_store
    raw = {"pages": {"people": ["victims_total"]}, "counts": [{"page": "people", "schema": "Tip", "by": "channel"}]}
    config = parse(raw, default_schema())
    _publish(db, tmp_path / "site", config)
    text = (tmp_path / "site" / "en" / "people.html").read_text(encoding="utf-8")
    assert 'id="fig-count-Tip-channel"' in text
    assert all(int(n) >= config.k for n in COUNT.findall(text))
    assert "Source: cruce-tips (imported" in text


def test_public_writes_the_site_on_first_request_when_none_was_published(tmp_path: Path) -> None:
    from cruce.web import create_app
    from tests.web.conftest import TestClient

    db = str(tmp_path / "fresh.duckdb")
    app = create_app(db, run_jobs=False, upload_dir=tmp_path / "uploads")
    try:
        page = TestClient(app).get("/public/es/index.html")
        assert page.status_code == 200
        assert '<html lang="es">' in page.text
    finally:
        app.state.services.close()
    assert (tmp_path / "public" / portal.MANIFEST).exists()  # beside the database
    with open_store(db) as store:
        entry = Security(store).audit.entries(action="portal_publish", limit=1)[0]
    assert entry.actor == "web:on-first-request"
