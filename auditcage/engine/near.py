"""Near-duplicate keys: perceptual hashes within a Hamming distance share one key.

A windowed rule with `key_near: D` groups 64-bit hexadecimal hashes that differ in at most D bits
(VEH-01, ACC-08: a re-compressed or slightly cropped photo keeps most of its phash). Each new
value is mapped to the first earlier representative within D bits, else becomes one itself.
Candidates come from a multi-index: the 64 bits are cut into D + 1 chunks, and by the pigeonhole
principle two hashes within D bits agree on at least one whole chunk — so a lookup touches only
the values that share a chunk, not every value in the window.

The mapping is greedy (a value joins the first representative it is near, not every one), which
is the usual approximation of near-duplicate grouping; representatives not seen for `keep` are
dropped, with the window's own state.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

BITS = 64


class NearKeys:
    def __init__(self, max_distance: int, keep: timedelta) -> None:
        self.max_distance = max_distance
        self.keep = keep
        width = BITS // (max_distance + 1)
        self._chunks = [
            (start, BITS - start if i == max_distance else width)
            for i, start in enumerate(range(0, width * (max_distance + 1), width))
        ]
        self._index: dict[tuple[int, int], set[int]] = defaultdict(set)
        self._seen: dict[int, datetime] = {}

    def canonical(self, value: str, at: datetime) -> str:
        """The representative hex value for `value` (itself when nothing earlier is near)."""
        number = _as_hash(value)
        if number is None:
            return value  # not a hash: keys by equality, as without key_near
        best = self._nearest(number)
        if best is None:
            best = number
            for part in self._parts(number):
                self._index[part].add(number)
        self._seen[best] = max(at, self._seen.get(best, at))
        if len(self._seen) % 4096 == 0:
            self._prune(at)
        return f"{best:016x}"

    def peek(self, value: str) -> str:
        """What canonical() would answer, remembering nothing (the pre-check)."""
        number = _as_hash(value)
        if number is None:
            return value
        best = self._nearest(number)
        return f"{(number if best is None else best):016x}"

    def _nearest(self, number: int) -> int | None:
        best: int | None = None
        for part in self._parts(number):
            for candidate in self._index.get(part, ()):
                if (candidate ^ number).bit_count() <= self.max_distance and (
                    best is None or candidate < best
                ):
                    best = candidate
        return best

    def _parts(self, number: int) -> list[tuple[int, int]]:
        return [
            (i, (number >> start) & ((1 << size) - 1))
            for i, (start, size) in enumerate(self._chunks)
        ]

    def _prune(self, now: datetime) -> None:
        for number, last in list(self._seen.items()):
            if now - last > self.keep:
                del self._seen[number]
                for part in self._parts(number):
                    self._index[part].discard(number)


def _as_hash(value: str) -> int | None:
    try:
        number = int(value, 16)
    except ValueError:
        return None
    return None if number >> BITS else number
