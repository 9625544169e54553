"""A throw-away view of an Evaluator: it evaluates one record as the real one would, and leaves
the real one untouched.

Per-key state is copied on first touch only (a record touches a handful of keys), so a fork costs
what the record's own keys cost, not the size of the state. Rate periods and ledgers are not
forked: their hits come at period close or in the sweeper, never from one record's arrival.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Hashable
from typing import Any

from auditcage.engine.evaluator import Evaluator, _Armed, _SequenceKey, _WindowKey
from auditcage.engine.near import NearKeys


class _CopyOnRead(dict):  # type: ignore[type-arg]
    """Reads fall through to `base` and are copied there on first access; writes stay here."""

    def __init__(
        self, base: dict, factory: Callable[[], Any] | None, clone: Callable[[Any], Any]
    ) -> None:
        super().__init__()
        self._base, self._factory, self._clone = base, factory, clone

    def __missing__(self, key: Hashable) -> Any:
        if key in self._base:
            value = self._clone(self._base[key])
        elif self._factory is not None:
            value = self._factory()
        else:
            raise KeyError(key)
        self[key] = value
        return value

    def get(self, key: Hashable, default: Any = None) -> Any:
        if dict.__contains__(self, key) or key in self._base:
            return self[key]
        return default

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._base


def _window(state: _WindowKey) -> _WindowKey:
    return dataclasses.replace(
        state, events=list(state.events), emitted=set(state.emitted), records=dict(state.records)
    )


def _sequence(state: _SequenceKey) -> _SequenceKey:
    return dataclasses.replace(
        state,
        firsts=list(state.firsts),
        thens=list(state.thens),
        matched=set(state.matched),
        records=dict(state.records),
    )


def _armed(armed: list[_Armed]) -> list[_Armed]:
    return [dataclasses.replace(a, done=list(a.done)) for a in armed]


class _PeekNear:
    """A key_near index that answers without remembering the candidate's hash."""

    def __init__(self, base: NearKeys) -> None:
        self._base = base

    def canonical(self, value: str, _at: Any) -> str:
        return self._base.peek(value)


class _Inert:
    """Stands in for the rate book and the ledgers: one record's arrival adds nothing to judge."""

    def add(self, *_: Any) -> list[Any]:
        return []

    def observe(self, *_: Any) -> None:
        return None

    def note_hits(self, *_: Any) -> None:
        return None


def fork(evaluator: Evaluator) -> Evaluator:
    view = copy.copy(evaluator)
    view._windows = _CopyOnRead(evaluator._windows, _WindowKey, _window)  # type: ignore[assignment]
    view._sequences = _CopyOnRead(evaluator._sequences, _SequenceKey, _sequence)  # type: ignore[assignment]
    view._armed = _CopyOnRead(evaluator._armed, list, _armed)  # type: ignore[assignment]
    view._seen = _CopyOnRead(evaluator._seen, list, list)  # type: ignore[assignment]
    view._near = _CopyOnRead(evaluator._near, None, _PeekNear)  # type: ignore[assignment]
    view.superseded = set()
    view.rates = _Inert()  # type: ignore[assignment]
    view.ledgers = _Inert()  # type: ignore[assignment]
    return view
