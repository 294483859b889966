"""Rate limits for the anonymous tip form: a token bucket per client and a cap for everyone together.

Clients are told apart by a salted hash of their address, kept only in memory (the salt is new
at every start): the address itself is never stored, and nothing here outlives the process.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable


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
