"""Shared fixtures: a store per backend, the shared public datasets, and small file makers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.store import Store, open_store

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PG_URL = os.environ.get("CRUCE_TEST_PG_URL", "")

SCREENING_MAPPING = """
name: test-screenings
description: test
dataset: {dataset}
source: test
entities:
  screening:
    schema: Screening
    key: [sid]
    properties:
      name: sid
      date: {{column: date, format: "%Y-%m-%d"}}
      person: {{entity: person}}
      screener: screener
  person:
    schema: Person
    key: [sid]
    properties:
      name: person_name
      nationality: nationality
"""
"""A mapping for tests of protected persons: a Screening whose person (protected) has a name.
Format it with the dataset: ``SCREENING_MAPPING.format(dataset=...)``."""

PEOPLE_MAPPING = """
name: test-people
dataset: {dataset}
entities:
  person:
    schema: Person
    key: [pid]
    properties:
      name: name
      nationality: nationality
"""
"""People with a name and a nationality (columns pid, name, nationality); format it with the dataset."""


@pytest.fixture(scope="session", autouse=True)
def _search_snapshots_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Search postings a job process shares (``cruce.search.memory.share``) go to a folder of the
    run, never the user's cache; set in the environment, for the servers the tests start too."""
    before = os.environ.get("CRUCE_SEARCH_CACHE")
    os.environ["CRUCE_SEARCH_CACHE"] = str(tmp_path_factory.mktemp("search-cache"))
    yield
    if before is None:
        os.environ.pop("CRUCE_SEARCH_CACHE", None)
    else:
        os.environ["CRUCE_SEARCH_CACHE"] = before


def shared_data(*parts: str) -> Path:
    """A file of ../shared/data, or skip the test with the reason when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared dataset {path} is not present (it lives beside the repository in ../shared/data)")
    return path


def _postgres_available() -> str | None:
    """None when PostgreSQL answers at CRUCE_TEST_PG_URL, else the reason it cannot be used."""
    if not PG_URL:
        return "CRUCE_TEST_PG_URL is not set (no PostgreSQL server for the store suite)"
    import psycopg

    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"no PostgreSQL server answers at {PG_URL}: {exc}".strip()


def pg_url_or_skip() -> str:
    """A fresh, isolated PostgreSQL schema URL, or skip (fail in CI, where CRUCE_REQUIRE_PG=1)."""
    reason = _postgres_available()
    if reason:
        if os.environ.get("CRUCE_REQUIRE_PG") == "1":
            pytest.fail(f"CRUCE_REQUIRE_PG=1 but {reason}")
        pytest.skip(reason)
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}schema=cruce_test_{uuid.uuid4().hex[:10]}"


def need_java() -> None:
    """Skip where Java is absent (Spark needs it); fail there in CI, where CRUCE_REQUIRE_SPARK=1."""
    from cruce.engines.spark_session import java

    if java() is not None:
        return
    reason = "Java is not installed: Spark needs Java 17 (apt-get install openjdk-17-jre-headless)"
    if os.environ.get("CRUCE_REQUIRE_SPARK") == "1":
        pytest.fail(f"CRUCE_REQUIRE_SPARK=1 but {reason}", pytrace=False)
    pytest.skip(reason)


REDIS_URL = os.environ.get("CRUCE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_url_or_skip() -> str:
    """The Redis server the team server's tests use, or skip (fail where CRUCE_REQUIRE_REDIS=1)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        reason = f"no Redis server answers at {REDIS_URL} (CRUCE_TEST_REDIS_URL): {exc}"
        if os.environ.get("CRUCE_REQUIRE_REDIS") == "1":
            pytest.fail(f"CRUCE_REQUIRE_REDIS=1 but {reason}")
        pytest.skip(reason)
    return REDIS_URL


def drop_pg_schema(url: str) -> None:
    import psycopg

    from cruce.store.postgres_store import split_schema

    conninfo, schema = split_schema(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty store of each backend."""
    if request.param == "duckdb":
        yield str(tmp_path / "store.duckdb")
        return
    url = pg_url_or_skip()
    yield url
    drop_pg_schema(url)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``last`` run after all the others (they check what the whole run left behind)."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)
