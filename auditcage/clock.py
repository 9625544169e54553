"""The one place that reads the wall clock, so tests can freeze it.

Every timestamp in auditcage is timezone-aware and shown in Asia/Shanghai (catalogue §0.2 item 1).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_now: Callable[[], datetime] = lambda: datetime.now(SHANGHAI)  # noqa: E731


def now() -> datetime:
    """The current time in Asia/Shanghai."""
    return _now()


def freeze(at: datetime | None) -> None:
    """Make now() return `at` (None restores the wall clock). For tests and time travel."""
    global _now
    if at is None:
        _now = lambda: datetime.now(SHANGHAI)  # noqa: E731
    else:
        fixed = to_shanghai(at)
        _now = lambda: fixed  # noqa: E731


def to_shanghai(value: datetime) -> datetime:
    """An aware datetime in Asia/Shanghai; naive values are taken to be Shanghai local time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=SHANGHAI)
    return value.astimezone(SHANGHAI)


def today() -> date:
    return now().date()


def utc(value: datetime) -> datetime:
    return to_shanghai(value).astimezone(UTC)
