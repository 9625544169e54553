"""How often one client address, and one account name, may try to sign in, and how often one
source-system key may post records: sliding windows.

This is about volume (one address spraying many names, many addresses hammering one name), on top
of the lock-out in auditcage.accounts.service (5 wrong passwords lock an account for 15 minutes),
which is about guessing one password and lives in the database.

The windows live in this process, not in the database or a shared store: a refused attempt costs
no write and no password hash. With several gunicorn workers each worker keeps its own windows,
so a client spread over W workers gets at most W times the limit per minute before every worker
refuses; the database lock-out stays global whatever the number of workers. Set the limits with
that in mind (AUDITCAGE_LOGIN_LIMIT_PER_ADDRESS, AUDITCAGE_LOGIN_LIMIT_PER_ACCOUNT), and behind a
reverse proxy set AUDITCAGE_PROXY_HOPS, or every client shares the proxy's address.

Intake (`IntakeLimits`) counts requests to POST /api/v1/records per key, whatever their size,
so a runaway or compromised source system cannot crowd out the others; the same per-process
caveat applies to AUDITCAGE_INTAKE_LIMIT_PER_KEY.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from auditcage import clock

WINDOW = timedelta(minutes=1)
MAX_KEYS = 10_000  # past this many tracked keys, forget the idle ones (memory stays bounded)


@dataclass(frozen=True)
class Refusal:
    """Too many attempts: wait `retry_after` seconds. `first` is true once per episode, so an
    attacker's flood writes one audit entry, not one per request."""

    scope: str  # "address", "account" or "key"
    retry_after: int
    first: bool


class SlidingWindow:
    """At most `limit` attempts per key in any `period`; refused attempts do not count."""

    def __init__(self, limit: int, period: timedelta = WINDOW) -> None:
        self.limit = limit
        self.period = period
        self._hits: dict[str, deque[datetime]] = {}
        self._refusing: set[str] = set()
        self._lock = threading.Lock()  # the dev server and gunicorn's gthread run views in threads

    def attempt(self, key: str, now: datetime) -> tuple[int, bool] | None:
        """Count an attempt; None if allowed, else (seconds to wait, first refusal of episode)."""
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.period:
                hits.popleft()
            if len(hits) >= self.limit:
                wait = (hits[0] + self.period - now).total_seconds()
                first = key not in self._refusing
                self._refusing.add(key)
                return max(1, math.ceil(wait)), first
            self._refusing.discard(key)
            hits.append(now)
            if len(self._hits) > MAX_KEYS:
                self._forget_idle(now)
            return None

    def _forget_idle(self, now: datetime) -> None:
        idle = [k for k, h in self._hits.items() if not h or now - h[-1] >= self.period]
        for key in idle:
            del self._hits[key]
            self._refusing.discard(key)


class SignInLimits:
    """One window per client address and one per account name (case-folded: `Chief1` and
    `chief1` are the same target)."""

    def __init__(self, per_address: int, per_account: int) -> None:
        self.address = SlidingWindow(per_address)
        self.account = SlidingWindow(per_account)

    def check(self, *, address: str | None, username: str | None) -> Refusal | None:
        now = clock.now()
        refused = self.address.attempt(address or "unknown", now)
        if refused is not None:
            return Refusal("address", *refused)
        if username:
            refused = self.account.attempt(username.strip().casefold(), now)
            if refused is not None:
                return Refusal("account", *refused)
        return None


class IntakeLimits:
    """One window per source-system key, tracked by a digest so the key itself is not kept
    twice in memory."""

    def __init__(self, per_key: int) -> None:
        self.window = SlidingWindow(per_key)

    def check(self, key: str) -> Refusal | None:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        refused = self.window.attempt(digest, clock.now())
        return None if refused is None else Refusal("key", *refused)
