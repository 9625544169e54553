"""An in-memory, version-aware view of the reference datasets.

Enrichment and rules read reference data for every record; a dict lookup per record keeps that off
the database. A row valid at `at` is the one with effective_from <= at < effective_to (catalogue
§7.2: inclusive from, exclusive to, null = open). Dates are midnight Asia/Shanghai.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from auditcage import clock
from auditcage.reference.datasets import DATASETS, key_of

_OPEN_START = datetime(1900, 1, 1, tzinfo=clock.SHANGHAI)
_OPEN_END = datetime(9999, 1, 1, tzinfo=clock.SHANGHAI)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")


def typed(value: Any) -> Any:
    """A reference value with its ISO dates and times parsed, so rules compare like with like.

    Files and the database hold text ("2024-03-01"); a rule comparing a licence's
    first_issue_date with a record's violation_time needs a date, not a string.
    """
    if isinstance(value, str):
        if _ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                return value
        if _ISO_DATETIME.fullmatch(value):
            try:
                return clock.to_shanghai(datetime.fromisoformat(value))
            except ValueError:
                return value
        return value
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return value


def as_instant(value: Any, *, default: datetime) -> datetime:
    """A bound of a validity period as an aware datetime (dates are midnight Shanghai)."""
    if value is None or value == "":
        return default
    if isinstance(value, datetime):
        return clock.to_shanghai(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=clock.SHANGHAI)
    text = str(value)
    if len(text) == 10:
        return as_instant(date.fromisoformat(text), default=default)
    return clock.to_shanghai(datetime.fromisoformat(text))


def _field_key(value: Any) -> str:
    return "\x00" if value is None else str(value)


class ReferenceIndex:
    """Rows of every loaded dataset, indexed by their lookup key."""

    def __init__(self, rows_by_dataset: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
        self._loaded: set[str] = set()
        self._rows: dict[str, list[dict[str, Any]]] = {}
        # dataset → key → rows sorted by effective_from, with the parallel list of starts
        self._by_key: dict[str, dict[str, list[tuple[datetime, datetime, dict[str, Any]]]]] = {}
        self._by_field: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
        for name, rows in rows_by_dataset.items():
            self._add(name, [typed(dict(r)) for r in rows])

    def _add(self, name: str, rows: list[dict[str, Any]]) -> None:
        dataset = DATASETS[name]
        self._loaded.add(name)
        self._rows[name] = rows
        grouped: dict[str, list[tuple[datetime, datetime, dict[str, Any]]]] = defaultdict(list)
        for row in rows:
            key = key_of(dataset, row)
            if key is None:
                continue
            start = as_instant(row.get("effective_from"), default=_OPEN_START)
            end = as_instant(row.get("effective_to"), default=_OPEN_END)
            grouped[key].append((start, end, row))
        for versions in grouped.values():
            versions.sort(key=lambda v: v[0])
        self._by_key[name] = dict(grouped)

    def loaded(self, dataset: str) -> bool:
        """Whether data of this kind exists at all (a missing file means 'no data', §7.2)."""
        return dataset in self._loaded

    def rows(self, dataset: str) -> list[dict[str, Any]]:
        return self._rows.get(dataset, [])

    def where(
        self, dataset: str, field: str, value: Any, *, at: datetime | date | None = None
    ) -> list[dict[str, Any]]:
        """Rows whose `field` equals `value` (valid at `at` when given), by a secondary index
        built on first use."""
        index = self._by_field.get((dataset, field))
        if index is None:
            index = defaultdict(list)
            for row in self._rows.get(dataset, []):
                index[_field_key(row.get(field))].append(row)
            self._by_field[(dataset, field)] = index
        rows = index.get(_field_key(value), [])
        if at is None:
            return list(rows)
        instant = as_instant(at, default=_OPEN_START)
        return [
            row
            for row in rows
            if as_instant(row.get("effective_from"), default=_OPEN_START)
            <= instant
            < as_instant(row.get("effective_to"), default=_OPEN_END)
        ]

    def all(
        self, dataset: str, *key: Any, at: datetime | date | None = None
    ) -> list[dict[str, Any]]:
        """Every row with this key (valid at `at` when given and the dataset is versioned)."""
        versions = self._by_key.get(dataset, {}).get("|".join(str(k) for k in key))
        if not versions:
            return []
        if at is None:
            return [row for _, _, row in versions]
        instant = as_instant(at, default=_OPEN_START)
        return [row for start, end, row in versions if start <= instant < end]

    def get(
        self, dataset: str, *key: Any, at: datetime | date | None = None
    ) -> dict[str, Any] | None:
        """The row with this key valid at `at` (the latest-starting one if several overlap)."""
        if any(k is None or k == "" for k in key):
            return None
        versions = self._by_key.get(dataset, {}).get("|".join(str(k) for k in key))
        if not versions:
            return None
        if at is None:
            return versions[-1][2]
        instant = as_instant(at, default=_OPEN_START)
        starts = [v[0] for v in versions]
        for start, end, row in reversed(versions[: bisect_right(starts, instant)]):
            if start <= instant < end:
                return row
        return None


EMPTY_INDEX = ReferenceIndex({})
