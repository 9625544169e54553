"""Which rules' filters hold for a record: in Python, or in durable_rules.

The filter (`when`) of every rule, and the A filter of every sequence, is a single-record
predicate. `PythonFilters` evaluates the compiled closures; `DurableFilters` compiles the same
checked trees to durable_rules rulesets (engine.compile_durable) and asks the engine, through the
one adapter module, which of them match — every matching rule, not one per ruleset. A test runs
the catalogue's examples and a generated province through both and requires identical hits.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
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
from auditcage.rulepacks.expr import Binary, Field, ListLiteral, Literal, Node
from auditcage.rulepacks.functions import EvalContext

FIRST = ":first"  # suffix of a sequence's A filter in the matched set

_names = itertools.count(1)


class Filters(Protocol):
    def matching(
        self, record: Mapping[str, Any], derived: Mapping[str, Any], env: Env
    ) -> frozenset[str]: ...


class PythonFilters:
    def __init__(self, rules: Iterable[CompiledRule]) -> None:
        tests: list[_Test] = []
        for rule in rules:
            tests.append((rule.uid, rule.when, necessary_guards(rule.checked_when)))
            if rule.first is not None:
                tests.append((rule.uid + FIRST, rule.first, necessary_guards(rule.checked_first)))
        # Pre-dispatch on `service`: a record meets only the tests guarded by its own service,
        # plus those with no service guard (one dict lookup instead of a guard per test).
        self._unguarded: list[_Test] = []
        self._by_service: dict[Any, list[_Test]] = defaultdict(list)
        for test in tests:
            services = dict(test[2]).get("service")
            if services is None:
                self._unguarded.append(test)
            for service in services or ():
                self._by_service[service].append(test)

    def matching(
        self, record: Mapping[str, Any], derived: Mapping[str, Any], env: Env
    ) -> frozenset[str]:
        get = record.get
        candidates = itertools.chain(self._by_service.get(get("service"), ()), self._unguarded)
        return frozenset(
            uid
            for uid, test, guards in candidates
            if all(get(name) in allowed for name, allowed in guards) and test(env)
        )


_Test = tuple[str, Any, tuple[tuple[str, frozenset[Any]], ...]]


GUARDED_FIELDS = frozenset({"service", "business_type", "action", "channel", "source_system"})


def necessary_guards(checked: CheckedCondition | None) -> tuple[tuple[str, frozenset[Any]], ...]:
    """Necessary conditions read off a filter's top-level `and`: `action == "decide"`,
    `business_type in [...]` on required top-level fields. Testing them first is a dict lookup
    and skips the closure of every rule that cannot apply (pre-dispatch, as DESIGN.md asks);
    the closure still decides, so the result is the same."""
    if checked is None:
        return ()
    guards = []
    for conjunct in _conjuncts(checked.node):
        if not isinstance(conjunct, Binary) or not isinstance(conjunct.left, Field):
            continue
        name = conjunct.left.path
        if name not in GUARDED_FIELDS:
            continue
        if conjunct.op == "==" and isinstance(conjunct.right, Literal):
            guards.append((name, frozenset({conjunct.right.value})))
        elif (
            conjunct.op == "in"
            and isinstance(conjunct.right, ListLiteral)
            and all(isinstance(item, Literal) for item in conjunct.right.items)
        ):
            guards.append((name, frozenset(item.value for item in conjunct.right.items)))
    return tuple(guards)


def _conjuncts(node: Node) -> list[Node]:
    if isinstance(node, Binary) and node.op == "and":
        return [*_conjuncts(node.left), *_conjuncts(node.right)]
    return [node]


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
