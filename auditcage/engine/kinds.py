"""Sequences (kind Q) and absences/deadlines (kind A) as pure functions over a key's events.

Like `windows.firings`, each depends only on the set of events, so the worker (events from the
database) and replay (events from frames) agree by construction.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from auditcage.engine.windows import Event


@dataclass(frozen=True, slots=True)
class SequenceMatch:
    first: Event  # the A record (the latest one inside the look-back)
    then: Event  # the B record, on which the rule fires


def sequence_matches(
    firsts: Sequence[Event], thens: Sequence[Event], *, within: timedelta
) -> list[SequenceMatch]:
    """B fires when an A of the same key has A.time ∈ [B.time − T, B.time) (catalogue §0.3 Q).

    One match per B (the latest qualifying A is its evidence). An A and a B that are the same
    record never match: A must be strictly earlier.
    """
    ordered = sorted(firsts)
    times = [e.time for e in ordered]
    matches = []
    for then in sorted(thens):
        end = bisect_left(times, then.time)  # strictly before B
        start = bisect_left(times, then.time - within)
        if end > start:
            matches.append(SequenceMatch(ordered[end - 1], then))
    return matches


@dataclass(frozen=True, slots=True)
class Armed:
    """An absence rule armed by one record: the expected step is due by `due`."""

    event: Event
    due: datetime


@dataclass(frozen=True, slots=True)
class Missed:
    armed: Armed
    done_at: datetime | None  # when the step happened after all (late), or None (still missing)


def missed_deadlines(
    armed: Sequence[Armed], done: Sequence[datetime], *, as_of: datetime
) -> list[Missed]:
    """Armed records whose step did not happen in [start, due], judged at `as_of` (§0.3 A).

    §0.3 writes (A.time, due]; the start is included here because a step recorded on the arming
    record itself (an on-the-spot delivery, `delivered_at == decided_at`) is on time.

    `done` are the times the expected step happened for this key. A deadline not yet passed at
    `as_of` is not a miss. A step that happened after `due` does not withdraw the miss; it is
    reported as `done_at` so the alert can be annotated with the delay (§3.0).
    """
    steps = sorted(done)
    result = []
    for item in sorted(armed, key=lambda a: (a.due, a.event)):
        if item.due > as_of:
            continue
        start = item.event.time
        on_time = [t for t in steps if start <= t <= item.due]
        if on_time:
            continue
        late = [t for t in steps if t > item.due]
        result.append(Missed(item, late[0] if late else None))
    return result
