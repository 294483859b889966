"""The tip form's limits on a team server: several worker processes count together in Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from cruce.web.ratelimit import SharedTipLimiter, TipLimiter, tip_limiter_for
from tests.conftest import redis_url_or_skip


@pytest.fixture
def redis_client() -> Iterator[object]:
    import redis

    client = redis.Redis.from_url(redis_url_or_skip())
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: object) -> Iterator[str]:
    """A key prefix of this test's own, removed afterwards."""
    name = f"cruce-test:{uuid.uuid4().hex}:"
    yield name
    for key in redis_client.scan_iter(name + "*"):  # type: ignore[attr-defined]
        redis_client.delete(key)  # type: ignore[attr-defined]


def _workers(client: object, prefix: str, n: int = 2, **limits: float) -> list[SharedTipLimiter]:
    salt = b"the-same-derived-salt-in-every-w"
    settings = {"limit": 3, "window": 600.0, "flood_cap": 100, **limits}
    return [
        SharedTipLimiter(client, int(settings["limit"]), settings["window"], int(settings["flood_cap"]), salt, prefix)
        for _ in range(n)
    ]


def test_two_workers_count_one_client_together(redis_client: object, prefix: str) -> None:
    first, second = _workers(redis_client, prefix)
    answers = [(first if i % 2 else second).allow("192.0.2.7") for i in range(8)]
    assert answers.count(True) == 3  # not 3 per worker
    assert answers[:3] == [True, True, True]
    assert first.allow("192.0.2.8")  # other clients have their own buckets
    assert second.allow("192.0.2.9")


def test_the_flood_cap_holds_across_workers(redis_client: object, prefix: str) -> None:
    workers = _workers(redis_client, prefix, n=3, flood_cap=10)
    allowed = sum(workers[i % 3].allow(f"198.51.100.{i}") for i in range(40))
    assert allowed == 10


def test_the_bucket_refills_after_the_window(redis_client: object, prefix: str) -> None:
    import time

    (worker,) = _workers(redis_client, prefix, n=1, limit=2, window=0.6)
    assert [worker.allow("203.0.113.1") for _ in range(2)] == [True, True]
    assert not worker.allow("203.0.113.1")
    time.sleep(0.7)
    assert worker.allow("203.0.113.1")


def test_no_address_is_stored_in_redis(redis_client: object, prefix: str) -> None:
    (worker,) = _workers(redis_client, prefix, n=1)
    worker.allow("203.0.113.55")
    keys = [k.decode() for k in redis_client.scan_iter(prefix + "*")]  # type: ignore[attr-defined]
    assert keys
    assert not any("203.0.113.55" in k for k in keys)
    assert all(redis_client.pttl(k) > 0 for k in keys)  # type: ignore[attr-defined]  # they expire


def test_without_redis_each_process_still_limits(prefix: str) -> None:
    import redis

    from cruce.web.launch import free_port

    down = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5, socket_timeout=0.5)
    (worker,) = _workers(down, prefix, n=1, limit=2)
    assert [worker.allow("192.0.2.1") for _ in range(3)] == [True, True, False]


def test_the_server_uses_redis_when_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.delenv("CRUCE_REDIS_URL", raising=False)
    assert isinstance(tip_limiter_for(":memory:", 5, 600, 200), TipLimiter)
    monkeypatch.setenv("CRUCE_REDIS_URL", redis_url_or_skip())
    limiter = tip_limiter_for(":memory:", 5, 600, 200)
    assert isinstance(limiter, SharedTipLimiter)
