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

from auditcage.engine.compile_durable import SEEN, DurableCondition, Lifted, compile_durable
from auditcage.engine.compile_python import Env, compile_python
from auditcage.engine.compiled import CompiledRule
from auditcage.engine.durable_adapter import (
    ALPHA_STACK_BUDGET,
    DurableEvaluator,
    PredicateSpec,
    condition_cost,
)
from auditcage.rulepacks.check import CheckedCondition
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


def _lifted_whole(checked: CheckedCondition, tag: str) -> DurableCondition:
    name = f"lift__{tag}whole"
    test = compile_python(checked)
    json = {"$and": [{SEEN: True}, {name: True}]}
    return DurableCondition(json, (Lifted(name, test),), ())


class DurableFilters:
    """Every filter as a durable_rules predicate; one assert per group of rules per record."""

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
                condition = compile_durable(checked, tag=f"r{n}c{m}")
                if condition_cost(condition.condition_json) > ALPHA_STACK_BUDGET:
                    # Too many alpha nodes for one durable_rules message (measured limit): the
                    # whole condition is lifted into one precomputed property the engine tests.
                    condition = _lifted_whole(checked, f"r{n}c{m}")
                self._conditions.append((uid, condition))
        # durable_rules holds at most 252 properties per message (measured): conditions are
        # grouped so that each group's message stays below that, one evaluator per group.
        self._groups: list[tuple[list[tuple[str, DurableCondition]], DurableEvaluator]] = []
        for group in _grouped(self._conditions):
            specs = [PredicateSpec(uid, c.condition_json, "*") for uid, c in group]
            evaluator = DurableEvaluator(specs, name_prefix=f"auditcage{next(_names)}")
            self._groups.append((group, evaluator))

    def matching(
        self, record: Mapping[str, Any], derived: Mapping[str, Any], env: Env
    ) -> frozenset[str]:
        matched: set[str] = set()
        for group, evaluator in self._groups:
            message: dict[str, Any] = {}
            for _, condition in group:
                message.update(condition.message_for(record, derived, self.ctx))
            matched.update(evaluator.matches(message, partition="*"))
        return frozenset(matched)

    def close(self) -> None:
        for _, evaluator in self._groups:
            evaluator.close()


MESSAGE_BUDGET = 240  # properties per message, below durable_rules' 252 with room for ids


def _properties(condition: DurableCondition) -> set[str]:
    return {SEEN, *(n.key for n in condition.native), *(lifted.name for lifted in condition.lifted)}


def _grouped(
    conditions: list[tuple[str, DurableCondition]],
) -> list[list[tuple[str, DurableCondition]]]:
    groups: list[tuple[set[str], list[tuple[str, DurableCondition]]]] = []
    for uid, condition in conditions:
        needed = _properties(condition)
        for keys, members in groups:
            if len(keys | needed) <= MESSAGE_BUDGET:
                keys |= needed
                members.append((uid, condition))
                break
        else:
            groups.append((set(needed), [(uid, condition)]))
    return [members for _, members in groups]
