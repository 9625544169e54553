"""Which rules' filters hold for a record: in Python, or in durable_rules.

The filter (`when`) of every rule, and the A filter of every sequence, is a single-record
predicate. `PythonFilters` evaluates the compiled closures; `DurableFilters` compiles the same
checked trees to durable_rules rulesets (engine.compile_durable) and asks the engine, through the
one adapter module, which of them match — every matching rule, not one per ruleset. A test runs
the catalogue's examples and a generated province through both and requires identical hits.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from auditcage.engine.compile_durable import DurableCondition, compile_durable
from auditcage.engine.compile_python import Env
from auditcage.engine.compiled import CompiledRule
from auditcage.engine.durable_adapter import DurableEvaluator, PredicateSpec
from auditcage.rulepacks.functions import EvalContext

FIRST = ":first"  # suffix of a sequence's A filter in the matched set

_names = itertools.count(1)


class Filters(Protocol):
    def matching(
        self, record: Mapping[str, Any], derived: Mapping[str, Any], env: Env
    ) -> frozenset[str]: ...


class PythonFilters:
    def __init__(self, rules: Iterable[CompiledRule]) -> None:
        self._tests = []
        for rule in rules:
            self._tests.append((rule.uid, rule.when))
            if rule.first is not None:
                self._tests.append((rule.uid + FIRST, rule.first))

    def matching(
        self, record: Mapping[str, Any], derived: Mapping[str, Any], env: Env
    ) -> frozenset[str]:
        return frozenset(uid for uid, test in self._tests if test(env))


class DurableFilters:
    """Every filter as one durable_rules predicate; one assert per record answers them all."""

    def __init__(self, rules: Iterable[CompiledRule], ctx: EvalContext) -> None:
        self.ctx = ctx
        self._conditions: list[tuple[str, DurableCondition]] = []
        for n, rule in enumerate(rules):
            pairs = [(rule.uid, rule.checked_when)]
            if rule.checked_first is not None:
                pairs.append((rule.uid + FIRST, rule.checked_first))
            for m, (uid, checked) in enumerate(pairs):
                if checked is None:
                    raise ValueError(f"{uid}: compiled without its checked condition")
                self._conditions.append((uid, compile_durable(checked, tag=f"r{n}c{m}")))
        specs = [PredicateSpec(uid, c.condition_json, "*") for uid, c in self._conditions]
        self._evaluator = DurableEvaluator(specs, name_prefix=f"auditcage{next(_names)}")

    def matching(
        self, record: Mapping[str, Any], derived: Mapping[str, Any], env: Env
    ) -> frozenset[str]:
        message: dict[str, Any] = {}
        for _, condition in self._conditions:
            message.update(condition.message_for(record, derived, self.ctx))
        return frozenset(self._evaluator.matches(message, partition="*"))

    def close(self) -> None:
        self._evaluator.close()
