"""The statistics of one close of a rate rule, one mapping per group (see engine.rates).

Plain Python sets and counters over the period's rows, numpy for the order statistics. A close
used to build a pandas frame and group it a dozen times; at a few dozen groups that cost 50–90 ms
of fixed overhead per close, and a replay closes every day rule and every rolling window once a
day (bench/engine.py). The figures are the ones pandas gave: the same distinct counts, the same
numpy functions over the same arrays in the same order, the same rounding to 9 decimals.

A statistic that is undefined is None (what compile_python reads as null, as compile_pandas reads
NaN).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from auditcage.rulepacks.model import RateSpec

Figures = dict[str, float | None]
PEER_NAMES = (
    "peer_n",
    "peer_median",
    "peer_mean",
    "peer_std",
    "peer_p99",
    "peer_min",
    "peer_max",
)


class RowLike(Protocol):
    time: datetime
    record_id: str
    serial_no: str
    numerator: bool
    groups: tuple[tuple[str, ...], ...]
    peer: str | None
    subsets: tuple[bool, ...]
    modes: tuple[str, ...]
    values: tuple[Any, ...]
    population: tuple[tuple[tuple[str, ...], ...], ...]
    hit_keys: tuple[str, ...]


class OutcomeLike(Protocol):
    n: float
    count: float
    rate: float | None


@dataclass
class GroupStatistics:
    keys: list[str]  # sorted: the order hits are emitted in
    figures: dict[str, Figures]  # key → statistic → value (rounded to 9 decimals)
    peers: dict[str, str | None]  # key → its peer pool (the most frequent peer value)
    evidence: dict[str, list[tuple[datetime, str, str]]]  # (time, record_id, serial_no)

    def ordered_evidence(self, key: str) -> tuple[list[str], list[str]]:
        """The group's record ids and serials in time order, each once."""
        rows = sorted(self.evidence[key], key=lambda r: (r[0], r[1]))
        record_ids = list(dict.fromkeys(r[1] for r in rows))
        serials = list(dict.fromkeys(r[2] for r in rows if r[2]))
        return record_ids, serials


class _Group:
    __slots__ = ("evidence", "hit_keys", "items", "modes", "numerators", "parts", "peers")

    def __init__(self, parts: tuple[str, ...]) -> None:
        self.parts = parts
        self.items: set[str] = set()
        self.numerators: set[str] = set()
        self.peers: Counter[str] = Counter()
        self.modes: dict[str, set[str]] = {}
        self.evidence: list[tuple[datetime, str, str]] = []
        self.hit_keys: set[str] = set()


def group_statistics(
    spec: RateSpec,
    rows: Sequence[RowLike],
    previous: Mapping[str, OutcomeLike],
    history: Callable[[list[str]], dict[str, list[float]]] | None = None,
    flagged: frozenset[str] = frozenset(),
) -> GroupStatistics:
    """Every statistic of every group of these rows (no `consecutive`: the caller adds it).
    `flagged`: the keys of the other rules' hits that `with_hits` counts for this period."""
    by_record = spec.count_by == "record_id"
    groups: dict[str, _Group] = {}
    subset_items: list[dict[str, set[str]]] = [{} for _ in spec.subsets]
    subset_numerators: list[dict[str, set[str]]] = [{} for _ in spec.subsets]
    best: list[dict[str, float]] = [{} for _ in spec.group_values]
    total_columns = [tuple(spec.group.index(p) for p in paths) for _, paths in spec.totals]
    total_items: list[dict[tuple[str, ...], set[str]]] = [{} for _ in spec.totals]
    population_items: list[dict[tuple[str, ...], set[str]]] = [{} for _ in spec.population_totals]
    for row in rows:
        item = row.record_id if by_record else (row.serial_no or row.record_id)
        for t, combinations in enumerate(row.population):
            for parts in combinations:
                population_items[t].setdefault(parts, set()).add(item)
        for parts in row.groups:
            key = ";".join(parts)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(parts)
            group.items.add(item)
            if row.numerator:
                group.numerators.add(item)
            if row.peer is not None:
                group.peers[row.peer] += 1
            group.evidence.append((row.time, row.record_id, row.serial_no))
            group.hit_keys.update(row.hit_keys)
            for i, inside in enumerate(row.subsets):
                if inside:
                    subset_items[i].setdefault(key, set()).add(item)
                    if row.numerator:
                        subset_numerators[i].setdefault(key, set()).add(item)
            for value in row.modes:
                group.modes.setdefault(value, set()).add(item)
            for t, columns in enumerate(total_columns):
                total_items[t].setdefault(tuple(parts[c] for c in columns), set()).add(item)
            for i, value in enumerate(row.values):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                best[i][key] = max(best[i].get(key, float(value)), float(value))

    keys = sorted(groups)
    columns: dict[str, list[float | None]] = {}
    n = columns["n"] = [float(len(groups[k].items)) for k in keys]
    count = columns["count"] = [float(len(groups[k].numerators)) for k in keys]
    rate = columns["rate"] = [c / m for c, m in zip(count, n, strict=True)]
    value = columns["value"] = list(columns[spec.compare])
    peers = {k: _top_peer(groups[k].peers) for k in keys}
    for (name, _), columns_of, totals in zip(spec.totals, total_columns, total_items, strict=True):
        total = [float(len(totals[tuple(groups[k].parts[c] for c in columns_of)])) for k in keys]
        columns[name] = total
        columns[f"share_{name}"] = [m / t for m, t in zip(n, total, strict=True)]
    for (name, paths), totals in zip(spec.population_totals, population_items, strict=True):
        at = [spec.group.index(p) for p in paths]
        total = [float(len(totals[tuple(groups[k].parts[c] for c in at)])) for k in keys]
        columns[name] = total
        columns[f"share_{name}"] = [m / t for m, t in zip(n, total, strict=True)]
    columns.update(_peer_columns(keys, peers, n, value, spec.n_min))
    for name in ("n", "count", "rate"):
        columns[f"previous_{name}"] = [_previous(previous, k, name) for k in keys]
    columns["diff_previous"] = _differences(rate, columns["previous_rate"])
    for i, (name, _) in enumerate(spec.subsets):
        sub_n = [float(len(subset_items[i].get(k, ()))) for k in keys]
        sub_count = [float(len(subset_numerators[i].get(k, ()))) for k in keys]
        columns[f"{name}_n"] = sub_n
        columns[f"{name}_count"] = sub_count
        pairs = zip(sub_count, sub_n, strict=True)
        columns[f"{name}_rate"] = [c / m if m is not None and m > 0 else None for c, m in pairs]
    if spec.mode_of:
        mode_n = [float(max((len(s) for s in groups[k].modes.values()), default=0)) for k in keys]
        columns["mode_n"] = mode_n
        columns["mode_share"] = [m / t for m, t in zip(mode_n, n, strict=True)]
    for i, (name, _) in enumerate(spec.group_values):
        columns[name] = [best[i].get(k) for k in keys]
    if spec.history and history is not None:
        columns.update(_history_columns(keys, history(keys)))
    if spec.with_hits is not None:
        columns["with_hits"] = [float(len(groups[k].hit_keys & flagged)) for k in keys]
    rounded = {name: _round(values) for name, values in columns.items()}
    figures = {k: {name: values[i] for name, values in rounded.items()} for i, k in enumerate(keys)}
    evidence = {k: groups[k].evidence for k in keys}
    return GroupStatistics(keys, figures, peers, evidence)


def _top_peer(counts: Counter[str]) -> str | None:
    """The peer value most of the group's rows carry (ties: the smallest)."""
    if not counts:
        return None
    return min(counts.items(), key=lambda pair: (-pair[1], pair[0]))[0]


def _peer_columns(
    keys: list[str],
    peers: Mapping[str, str | None],
    n: list[float | None],
    value: list[float | None],
    n_min: int,
) -> dict[str, list[float | None]]:
    """Leave-one-out statistics of each group's peers: the other groups of its pool with
    n ≥ n_min, in key order."""
    out: dict[str, list[float | None]] = {name: [] for name in PEER_NAMES}
    pools: dict[str, list[tuple[str, float]]] = {}
    for k, m, v in zip(keys, n, value, strict=True):
        peer = peers[k]
        if peer is not None and m is not None and m >= n_min:
            pools.setdefault(peer, []).append((k, math.nan if v is None else v))
    cache: dict[tuple[float, ...], tuple[float | None, ...]] = {}
    for k in keys:
        peer = peers[k]
        pool = pools.get(peer, []) if peer is not None else None
        others = tuple(v for key, v in pool if key != k) if pool is not None else ()
        if pool is None or not others:
            for name in PEER_NAMES:
                out[name].append(0.0 if name == "peer_n" else None)
            continue
        figures = cache.get(others)
        if figures is None:
            figures = cache[others] = _order_statistics(np.array(others, dtype="float64"))
        for name, figure in zip(PEER_NAMES, figures, strict=True):
            out[name].append(figure)
    std = [s if s is not None and s > 0 else None for s in out["peer_std"]]
    out["z"] = [
        None if d is None or s is None else d / s
        for d, s in zip(_differences(value, out["peer_mean"]), std, strict=True)
    ]
    out["diff_median"] = _differences(value, out["peer_median"])
    out["diff_mean"] = _differences(value, out["peer_mean"])
    out["ratio_median"] = [
        None if v is None or m is None or m == 0 else v / m
        for v, m in zip(value, out["peer_median"], strict=True)
    ]
    return out


def _order_statistics(others: np.ndarray) -> tuple[float | None, ...]:
    return (
        float(len(others)),
        _float(np.median(others)),
        _float(others.mean()),
        _float(others.std(ddof=1)) if len(others) > 1 else None,
        _float(np.quantile(others, 0.99)),
        _float(others.min()),
        _float(others.max()),
    )


def _history_columns(
    keys: list[str], values: Mapping[str, list[float]]
) -> dict[str, list[float | None]]:
    out: dict[str, list[float | None]] = {}
    for name, fn in (("median", np.median), ("mean", np.mean), ("max", np.max)):
        out[f"history_{name}"] = [_float(fn(values[k])) if values[k] else None for k in keys]
    out["history_periods"] = [float(len(values[k])) for k in keys]
    return out


def _previous(previous: Mapping[str, OutcomeLike], key: str, name: str) -> float | None:
    outcome = previous.get(key)
    value = getattr(outcome, name) if outcome is not None else None
    return _float(value)


def _differences(a: list[float | None], b: list[float | None]) -> list[float | None]:
    return [None if x is None or y is None else x - y for x, y in zip(a, b, strict=True)]


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _round(values: list[float | None]) -> list[float | None]:
    """numpy's rounding to 9 decimals (as the frame's `.round(9)`), None kept."""
    array = np.array([math.nan if v is None else v for v in values], dtype="float64").round(9)
    return [None if math.isnan(v) else v for v in array.tolist()]
