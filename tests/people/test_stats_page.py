"""The victim statistics page on the real CTDC file: its figures by year, gender and exploitation
type equal sums computed from the raw rows; the exploitation-by-gender table on the page says the
same; the table to share has no row rarer than k; the page names no one and is for signed-in users."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from tests.conftest import shared_data
from tests.people.test_stats import CTDC, EXPLOIT, GENDER, _rows, _triples
from tests.web.conftest import World, build_world
from tests.web.conftest import secret_key_file as secret_key_file  # the web tests' key file, for PostgreSQL


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("people-stats-page")
    built = build_world(str(tmp / "store.duckdb"), tmp)
    assert import_file(built.view.store, shared_data(CTDC), "ctdc-derived").rows_rejected == 0
    yield built
    built.app.state.services.close()


def test_the_page_reproduces_the_raw_files_counts(world: World) -> None:
    raw = _rows(shared_data(CTDC))
    client = world.session("analyst")
    page = client.get("/people/statistics")
    assert page.status_code == 200
    assert re.search(r'id="fig-victims">14,299<', page.text)
    export = client.get("/people/statistics/export.csv", params=[("by", "year"), ("by", "gender"),
                                                                 ("by", "exploitation_type")])  # fmt: skip
    found = {(int(r["year"]), r["gender"], r["exploitation_type"]): int(r["records"])
             for r in csv.DictReader(io.StringIO(export.text))}  # fmt: skip
    assert found == dict(_triples(raw))
    # the page's own table: exploitation type by gender
    by_pair = Counter((EXPLOIT[r["ExploitType"]], GENDER[r["gender"]]) for r in raw)
    table = page.text.split('id="table-exploitation_type-gender"', 1)[1].split("</table>", 1)[0]
    head = re.findall(r'<th data-code="([^"]*)">', table)
    assert set(head) == {"female", "male", "total"}  # the codes; the page shows their labels
    for line in re.findall(r'<tr><td data-code="([^"]*)">[^<]*</td>(.*?)</tr>', table):
        cells = [int(c.replace(",", "")) for c in re.findall(r'<td class="num">([^<]*)</td>', line[1])]
        for column, value in zip(head, cells, strict=True):
            if column not in ("total",):
                assert value == by_pair[line[0], column], (line[0], column)


def test_the_table_to_share_has_no_row_rarer_than_k(world: World) -> None:
    client = world.session("viewer")
    for k in (10, 25):
        rows = list(csv.DictReader(io.StringIO(client.get("/people/statistics/release.csv", params={"k": k}).text)))
        assert rows
        assert min(int(r["records"]) for r in rows) >= k
        page = client.get("/people/statistics", params={"k": k}).text
        released = int(re.search(r'id="release-released">([\d,]+) rows', page).group(1).replace(",", ""))  # type: ignore[union-attr]
        assert released == len(rows)
    assert client.get("/people/statistics/release.csv", params={"k": 1}).status_code == 422
    assert world.client().get("/people/statistics", follow_redirects=False).status_code in (302, 303)


def test_the_page_names_no_one(world: World, tmp_path: Path) -> None:
    from tests.web.conftest import VICTIM

    assert VICTIM not in world.session("admin").get("/people/statistics").text
