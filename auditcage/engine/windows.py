"""Windowed counts, distinct counts and sums per key, with the exact semantics of catalogue §0.2.

Pure functions over the events of one (rule, key): the single-machine worker, `replay` and a
partitioned processor all call `firings()` and therefore agree by construction.

- An *event* is a record that passed the rule's filter, reduced to what the window needs.
- The window of an event at time t is every event with time in (t − W, t] (§0.2 item 4),
  the event itself included, and equal times included whatever their arrival order.
- count = number of distinct `serial_no` (§0.2 item 3); distinct = number of distinct non-null
  values; sum = Σ of each serial's latest value (§0.3 kind S).
- A key fires when its value first reaches the lowest threshold; it then stays silent until the
  window has rolled past the firing event (cooldown = W, §0.2 item 6). Reaching a higher band inside
  the cooldown is an *upgrade*: a new firing with the higher severity (§0.5 item 4). The cooldown
  stays anchored to the first firing: an upgrade does not extend it.
- A rule's `reset_when` marks events that break a streak: a window counts only the events after
  its last reset event (the reset itself not counted), e.g. "the last 20 consecutive passes".
- A rule's `severity_when` items (`any:` conditions) are judged per record as it enters the key
  (`Event.raised`): a firing's severity is its band's, raised to the highest `raised` of the
  events in its window. An upgrade is a firing inside the cooldown whose severity is higher than
  the last one emitted, whether a higher band or a raising record brought it.

The result depends only on the *set* of events, never on the order they arrived in: the worker
recomputes a key when a record arrives out of order and obtains what a sorted replay obtains.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Measure(StrEnum):
    COUNT = "count"  # kind C: distinct serial_no
    DISTINCT = "distinct"  # kind D: distinct non-null values of a field
    SUM = "sum"  # kind S: sum of a field, each serial once with its latest value


@dataclass(frozen=True, slots=True, order=True)
class Event:
    time: datetime
    record_id: str  # tie-break for equal times: a total, arrival-independent order
    serial_no: str = ""
    value: Any = None  # the distinct field's value, or the summed number
    unit_code: str = ""
    # The highest severity the rule's `severity_when` (`any:`) conditions give this record.
    raised: str | None = field(default=None, compare=False)
    # The record meets the rule's reset_when: the window counts only the events after it.
    reset: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Band:
    threshold: float
    severity: str  # "yellow", "orange", "red"


@dataclass(frozen=True, slots=True)
class Firing:
    anchor: Event  # the event whose evaluation fired
    band: Band
    value: float
    evidence: tuple[Event, ...]  # the window's events
    upgrade: bool  # a higher severity reached inside the cooldown of an earlier firing
    severity: str = ""  # the band's, raised by the window's events; set by __post_init__

    def __post_init__(self) -> None:
        if not self.severity:
            object.__setattr__(self, "severity", window_severity(self.band, self.evidence))


RANK = {"red": 1, "orange": 2, "yellow": 3, "blue": 4}  # catalogue §0.4: 1 is the highest


def window_severity(band: Band, in_window: Sequence[Event]) -> str:
    """The band's severity raised to the highest `raised` among the window's events."""
    best = band.severity
    for event in in_window:
        if event.raised is not None and RANK[event.raised] < RANK[best]:
            best = event.raised
    return best


def after_reset(in_window: Sequence[Event]) -> Sequence[Event]:
    """The events after the window's last reset event (all of them without one); the reset
    event itself is not counted."""
    for index in range(len(in_window) - 1, -1, -1):
        if in_window[index].reset:
            return in_window[index + 1 :]
    return in_window


def measure_window(events: Sequence[Event], measure: Measure) -> float:
    if measure is Measure.COUNT:
        return len({e.serial_no for e in events if e.serial_no})
    if measure is Measure.DISTINCT:
        return len({e.value for e in events if e.value is not None and e.value != ""})
    latest: dict[str, Event] = {}
    for event in events:  # events are sorted: the last one seen per serial is its latest value
        if event.serial_no:
            latest[event.serial_no] = event
    return float(sum(e.value for e in latest.values() if isinstance(e.value, int | float)))


def firings(
    events: Sequence[Event], *, window: timedelta, bands: Sequence[Band], measure: Measure
) -> list[Firing]:
    """Every firing of one (rule, key), given all its filtered events (any order)."""
    ordered = sorted(events)
    times = [e.time for e in ordered]
    ranked = sorted(bands, key=lambda b: b.threshold)
    result: list[Firing] = []
    cooldown_until: datetime | None = None
    current: str | None = None  # the severity last emitted inside the cooldown
    start = 0
    for event in ordered:
        # (t − W, t]: drop events at or before t − W; include every event with time == t.
        while times[start] <= event.time - window:
            start += 1
        end = bisect_right(times, event.time)
        in_window = after_reset(ordered[start:end])
        value = measure_window(in_window, measure)
        reached = highest_band(ranked, value)
        if cooldown_until is not None and event.time >= cooldown_until:
            cooldown_until, current = None, None
        if reached is None:
            continue
        severity = window_severity(reached, in_window)
        if cooldown_until is None:
            result.append(Firing(event, reached, value, tuple(in_window), upgrade=False))
            cooldown_until, current = event.time + window, severity
        elif current is not None and RANK[severity] < RANK[current]:
            result.append(Firing(event, reached, value, tuple(in_window), upgrade=True))
            current = severity
    return result


def highest_band(ranked: Sequence[Band], value: float) -> Band | None:
    reached = None
    for band in ranked:
        if value >= band.threshold:
            reached = band
    return reached


# Records up to this late are re-evaluated exactly; later ones are back-fill (§0.2 item 2).
LATENESS = timedelta(hours=24)


def horizon(window: timedelta) -> timedelta:
    """How far back a key's events are kept: one window for the window itself, one for the
    cooldown of a firing still inside it, and the lateness a record may arrive with."""
    return window * 2 + LATENESS
