"""Rate limits for the anonymous tip form: a token bucket per client and a cap for everyone together.

Clients are told apart by a salted hash of their address: the address itself is never stored.
One server process keeps the buckets in memory (the salt is new at every start, and nothing
outlives the process). A team server with several worker processes must count together, or each
worker would allow the limit again: with ``CRUCE_REDIS_URL`` set, the buckets live in Redis
(``SharedTipLimiter``), keyed by a hash salted with a key derived from the deployment's secret so
that every worker names a client alike, and expire after the window.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Limiter(Protocol):
    def allow(self, address: str | None) -> bool: ...


class TipLimiter:
    """``allow(address)`` is False when this client sent ``limit`` tips in ``window`` seconds, or
    everyone together sent ``flood_cap``."""

    def __init__(self, limit: int, window: float, flood_cap: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.flood_cap = flood_cap
        self.clock = clock
        self._salt = secrets.token_bytes(16)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._everyone = (float(flood_cap), clock())
        self._lock = threading.Lock()

    def _key(self, address: str | None) -> str:
        return hashlib.sha256(self._salt + (address or "-").encode("utf-8")).hexdigest()

    def _refill(self, tokens: float, since: float, now: float, capacity: int) -> float:
        return min(float(capacity), tokens + (now - since) * capacity / self.window)

    def allow(self, address: str | None) -> bool:
        now = self.clock()
        key = self._key(address)
        with self._lock:
            tokens, since = self._buckets.get(key, (float(self.limit), now))
            tokens = self._refill(tokens, since, now, self.limit)
            everyone, at = self._everyone
            everyone = self._refill(everyone, at, now, self.flood_cap)
            if tokens < 1 or everyone < 1:
                self._buckets[key] = (tokens, now)
                self._everyone = (everyone, now)
                return False
            self._buckets[key] = (tokens - 1, now)
            self._everyone = (everyone - 1, now)
            if len(self._buckets) > 10_000:  # forget clients whose bucket is full again
                full = [k for k, (t, s) in self._buckets.items() if self._refill(t, s, now, self.limit) >= self.limit]
                for k in full:
                    del self._buckets[k]
            return True


# Both buckets refilled and taken from atomically in Redis, on Redis's own clock (one clock for
# every worker). KEYS: the client's bucket, everyone's bucket. ARGV: limit, flood cap, window (s).
_TAKE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local window = tonumber(ARGV[3])
local function level(key, capacity)
  local b = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(b[1]) or capacity
  local at = tonumber(b[2]) or t
  return math.min(capacity, tokens + (t - at) * capacity / window)
end
local mine = level(KEYS[1], tonumber(ARGV[1]))
local all = level(KEYS[2], tonumber(ARGV[2]))
local ok = 0
if mine >= 1 and all >= 1 then
  mine = mine - 1
  all = all - 1
  ok = 1
end
local ttl = math.ceil(window * 1000)
redis.call('HSET', KEYS[1], 'tokens', mine, 'at', t)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('HSET', KEYS[2], 'tokens', all, 'at', t)
redis.call('PEXPIRE', KEYS[2], ttl)
return ok
"""


class SharedTipLimiter:
    """``TipLimiter``'s limits counted in Redis, together for every worker process.

    When Redis cannot be reached, each process falls back to counting on its own (and says so in
    the log, once): a tip from someone in danger is never refused because a cache is down.
    """

    def __init__(
        self, client: Any, limit: int, window: float, flood_cap: int, salt: bytes, prefix: str = "cruce:tip-limit:"
    ) -> None:
        self.client = client
        self.limit, self.window, self.flood_cap = limit, window, flood_cap
        self.prefix = prefix
        self._salt = salt
        self._take = client.register_script(_TAKE)
        self._fallback = TipLimiter(limit, window, flood_cap)
        self._warned = False

    def _key(self, address: str | None) -> str:
        return self.prefix + hashlib.sha256(self._salt + (address or "-").encode("utf-8")).hexdigest()

    def allow(self, address: str | None) -> bool:
        import redis

        keys = [self._key(address), self.prefix + "everyone"]
        try:
            return bool(self._take(keys=keys, args=[self.limit, self.flood_cap, self.window]))
        except redis.RedisError as exc:
            if not self._warned:
                log.warning(
                    "Redis unreachable for the tip limits (%s); this process counts on its own", type(exc).__name__
                )
                self._warned = True
            return self._fallback.allow(address)


def tip_limiter_for(store_url: str, limit: int, window: float, flood_cap: int) -> Limiter:
    """Redis-backed limits when ``CRUCE_REDIS_URL`` names a server, else one process's own."""
    url = os.environ.get("CRUCE_REDIS_URL")
    if not url:
        return TipLimiter(limit, window, flood_cap)
    import redis

    from cruce.security.keys import derive, load_secret

    client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
    salt = derive(load_secret(store_url), "tip-limit")
    return SharedTipLimiter(client, limit, window, flood_cap, salt)
