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
from auditcage.engine.compile_python import Env, compile_python, constant_items
from auditcage.engine.compiled import CompiledRule
from auditcage.engine.durable_adapter import (
    ALPHA_STACK_BUDGET,
    DurableEvaluator,
    PredicateSpec,
    condition_cost,
)
from auditcage.rulepacks.check import CheckedCondition
from auditcage.rulepacks.expr import Binary, Field, Literal, Node
from auditcage.rulepacks.functions import EvalContext

FIRST = ":first"  # suffix of a sequence's A filter in the matched set

_names = itertools.count(1)


class Filters(Protocol):
    def matching(
        self, record: Mapping[str, Any], derived: Mapping[str, Any], env: Env
    ) -> frozenset[str]: ...


class PythonFilters:
    def __init__(self, rules: Iterable[CompiledRule]) -> None:
        self._tests: list[_Test] = []
        for rule in rules:
            self._tests.append((rule.uid, rule.when, necessary_guards(rule.checked_when)))
            if rule.first is not None:
                self._tests.append(
                    (rule.uid + FIRST, rule.first, necessary_guards(rule.checked_first))
                )
        # Pre-dispatch on the guarded fields: the tests whose guards a combination of their
        # values passes, worked out the first time the combination is seen (a province has a
        # few hundred), so a record costs one dict lookup instead of a guard check per test.
        self._dispatch: dict[tuple[Any, ...], tuple[tuple[str, Any], ...]] = {}

    def _candidates(self, values: tuple[Any, ...]) -> tuple[tuple[str, Any], ...]:
        found = self._dispatch.get(values)
        if found is None:
            by_name = dict(zip(GUARD_ORDER, values, strict=True))
            found = tuple(
                (uid, test)
                for uid, test, guards in self._tests
                if all(by_name[name] in allowed for name, allowed in guards)
            )
            if len(self._dispatch) >= DISPATCH_LIMIT:  # free-text values: keep memory bounded
                self._dispatch.clear()
            self._dispatch[values] = found
        return found

    def matching(
        self, record: Mapping[str, Any], derived: Mapping[str, Any], env: Env
    ) -> frozenset[str]:
        get = record.get
        try:
            candidates = self._candidates(tuple(get(name) for name in GUARD_ORDER))
        except TypeError:  # an unhashable value in a guarded field: no dispatch, guard by guard
            candidates = tuple(
                (uid, test)
                for uid, test, guards in self._tests
                if all(get(name) in allowed for name, allowed in guards)
            )
        return frozenset(uid for uid, test in candidates if test(env))


_Test = tuple[str, Any, tuple[tuple[str, frozenset[Any]], ...]]


DISPATCH_LIMIT = 4096
GUARD_ORDER = ("service", "business_type", "action", "channel", "source_system")
GUARDED_FIELDS = frozenset(GUARD_ORDER)


def necessary_guards(checked: CheckedCondition | None) -> tuple[tuple[str, frozenset[Any]], ...]:
    """Necessary conditions read off a filter's top-level `and`: `action == "decide"`,
    `business_type in [...]` or `in lists.x`, and an `or` of such tests on one field, on required
    top-level fields. Testing them first is a dict lookup and skips the closure of every rule that
    cannot apply (pre-dispatch, as DESIGN.md asks); the closure still decides, so the result is
    the same."""
    if checked is None:
        return ()
    guards = [_guard(checked, conjunct) for conjunct in _conjuncts(checked.node)]
    return tuple(guard for guard in guards if guard is not None)


def _guard(checked: CheckedCondition, node: Node) -> tuple[str, frozenset[Any]] | None:
    """(field, values) when `node` can hold only if the field has one of the values."""
    if isinstance(node, Binary) and node.op == "or":
        left, right = _guard(checked, node.left), _guard(checked, node.right)
        if left is None or right is None or left[0] != right[0]:
            return None
        return left[0], left[1] | right[1]
    if not isinstance(node, Binary) or not isinstance(node.left, Field):
        return None
    name = node.left.path
    if name not in GUARDED_FIELDS:
        return None
    if node.op == "==" and isinstance(node.right, Literal):
        return name, frozenset({node.right.value})
    if node.op == "in":
        constants = constant_items(checked, node.right)
        if constants is not None:
            return name, frozenset(constants)
    return None


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
