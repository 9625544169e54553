"""A throw-away view of an Evaluator: it evaluates one record as the real one would, and leaves
the real one untouched.

Every per-key state table of the evaluator (any dict attribute: windows, sequences, armed
deadlines, …, and whatever a new rule kind adds) is replaced by a view that copies an entry on
first touch only — a record touches a handful of keys, so a fork costs what the record's own keys
cost, not the size of the state. key_near indexes are peeked, never written. Rate periods and
ledgers are not forked: their hits come at period close or in the sweeper, never from one
record's arrival. tests/precheck/test_fork.py compares the whole evaluator before and after.
With `Candidates`, the view evaluates only the rules whose hits can make a pre-check's answer.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from auditcage.engine.compiled import CompiledRule, record_rules
from auditcage.engine.evaluator import Evaluator
from auditcage.engine.filters import DurableFilters, Filters, PythonFilters
from auditcage.engine.near import NearKeys
from auditcage.rulepacks.model import Kind

SHARED = frozenset({"rules", "ctx", "filters", "_by_kind", "_exempting", "_uid_rules"})  # read only


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


def _shallow(value: Any) -> Any:
    if isinstance(value, list | set | dict):
        return copy.copy(value)
    return value


def clone(value: Any) -> Any:
    """A copy deep enough that changing it leaves `value` as it was: state objects and their
    containers are copied, the records and events they hold (never changed) are shared."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if value.__dataclass_params__.frozen:
            return value
        changes = {f.name: _shallow(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    if isinstance(value, list):
        return [clone(item) for item in value]
    return _shallow(value)


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


@dataclass(frozen=True)
class Candidates:
    """The rules a candidate record is evaluated with: those whose hits make the answer (kinds
    `RECORD_KINDS`), with their own compiled filters. A deadline or a rate period never fires
    from one record's arrival, and the fork is thrown away, so their steps would change
    nothing the answer reads."""

    by_kind: dict[Kind, list[CompiledRule]]
    filters: Filters

    @classmethod
    def of(cls, evaluator: Evaluator, kinds: frozenset[Kind]) -> Candidates:
        rules = [r for r in evaluator.rules if r.rule.kind in kinds]
        filters: Filters = PythonFilters(record_rules(rules))
        if isinstance(evaluator.filters, DurableFilters):
            filters = DurableFilters(record_rules(rules), evaluator.ctx)
        by_kind: dict[Kind, list[CompiledRule]] = defaultdict(list)
        for kind, members in evaluator._by_kind.items():
            if kind in kinds:
                by_kind[kind] = members
        return cls(by_kind, filters)


def fork(evaluator: Evaluator, candidates: Candidates | None = None) -> Evaluator:
    view = Evaluator.__new__(Evaluator)  # a shallow copy that keeps the rule indexes as they are
    view.__dict__.update(vars(evaluator))
    if candidates is not None:
        view._by_kind = candidates.by_kind
        view.filters = candidates.filters
    for name, value in vars(evaluator).items():
        if name in SHARED or not isinstance(value, dict):
            continue
        if name == "_near":
            setattr(view, name, _CopyOnRead(value, None, _PeekNear))
        else:
            setattr(view, name, _CopyOnRead(value, getattr(value, "default_factory", None), clone))
    view.superseded = set()
    view._expired_at = None  # a candidate expires nothing: its view is thrown away
    view.rates = _Inert()  # type: ignore[assignment]
    view.ledgers = _Inert()  # type: ignore[assignment]
    return view
