"""A checked condition compiled to durable_rules condition JSON, plus the lifted remainder.

durable_rules evaluates what it shares with check.py's semantics exactly: ``and``/``or``,
comparisons of a flat scalar property with a literal or with another property (``$m``),
``is null`` (``$nex``/``$ex``), a literal list (``$or`` of ``$eq``) and whole-text regexes made of
the syntax it supports. Measured with `durable_adapter` (tests/engine/test_compile_agreement.py
pins it): an absent property fails every comparison, ``$neq`` and ``$m`` included, which is our
null rule once `message_for` leaves out None, "" and []. ``not`` has no operator: it is pushed
down (De Morgan; ``not (a < b)`` is ``a absent or b absent or a >= b``).

Everything else is lifted: function calls, quantifiers, arithmetic, untyped (``any``) operands,
``in`` a field, negated regexes and long lists. Each lifted sub-condition becomes a boolean
property ``lift__<n>`` computed by `compile_python.PyCompiler` before the message is posted.
(``__lift_<n>`` cannot be used: the adapter accepts only names that start with a letter, and
``lift__<n>`` can never be a record path because a path segment cannot start with a digit.)

Every condition also requires ``lift__seen`` (always true in a message): a condition that holds
when properties are absent (``$nex`` alone) would otherwise match durable_rules' own state fact
``{"sid": …, "$s": 1}``, and the adapter then raises "unexpected agenda entry" (measured).

Datetimes are sent as epoch seconds (float; distinct microseconds stay distinct until 2106),
dates as proleptic ordinals (int).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from auditcage.engine.compile_python import Env, PyCompiler, Value, constant_items
from auditcage.engine.durable_adapter import flat_key
from auditcage.rulepacks.check import COMPARISONS, CheckedCondition
from auditcage.rulepacks.expr import Binary, Call, Field, IsNull, Literal, Node, Unary
from auditcage.rulepacks.fields import BOOL, DATE, DATETIME, NUMBER, STRING
from auditcage.rulepacks.functions import EvalContext, is_null

SEEN: Final = "lift__seen"
MAX_LIST_BRANCHES: Final = 8  # a longer literal list is lifted: each branch costs alpha nodes
_NATIVE: Final = frozenset({STRING, NUMBER, BOOL, DATETIME, DATE})
_DURABLE_OPS: Final = {
    "==": "$eq",
    "!=": "$neq",
    "<": "$lt",
    "<=": "$lte",
    ">": "$gt",
    ">=": "$gte",
}
_INVERSE: Final = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", "<=": ">", ">": "<="}
_FLIPPED: Final = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
# Regex syntax durable_rules matches like Python's fullmatch (measured): no escapes, anchors
# or counted repeats.
_SAFE_REGEX: Final = re.compile(r"[A-Za-z0-9\u4e00-\u9fff.*+?|()\[\]-]+")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Lifted:
    name: str
    test: Callable[[Env], bool]


@dataclass(frozen=True)
class NativeField:
    path: str  # dotted, "first.<path>" for the earlier record
    key: str  # the flat message property
    type: str
    get: Value


@dataclass(frozen=True, eq=False)
class DurableCondition:
    condition_json: dict[str, Any]
    lifted: tuple[Lifted, ...]
    native: tuple[NativeField, ...]

    def message_for(
        self,
        record: Mapping[str, Any],
        derived: Mapping[str, Any],
        ctx: EvalContext,
        first: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The flat message with exactly the properties the condition reads."""
        env = Env(record, derived, ctx, first)
        message: dict[str, Any] = {SEEN: True}
        for native in self.native:
            value = native.get(env)
            if not is_null(value):
                message[native.key] = to_message_value(value, native.type)
        for lifted in self.lifted:
            message[lifted.name] = lifted.test(env)
        return message


def to_message_value(value: Any, type_: str) -> Any:
    if type_ == DATETIME:
        return (value - _EPOCH).total_seconds()
    if type_ == DATE and isinstance(value, date):
        return value.toordinal()
    return value


class _Compiler:
    def __init__(self, checked: CheckedCondition, tag: str) -> None:
        self.checked = checked
        self.tag = tag
        self.python = PyCompiler(checked)
        self.lifted: list[Lifted] = []
        self.native: dict[str, NativeField] = {}

    def lift(self, node: Node, negated: bool) -> dict[str, Any]:
        test = self.python.test(node)
        name = f"lift__{self.tag}{len(self.lifted) + 1}"
        self.lifted.append(Lifted(name, (lambda env: not test(env)) if negated else test))
        return {name: True}

    def native_key(self, node: Node) -> str | None:
        """The message property of a plain scalar record/derived field, else None."""
        if not isinstance(node, Field):
            return None
        resolved = self.checked.resolution(node)
        if resolved.scope not in ("record", "derived", "first_record", "first_derived"):
            return None
        info = self.checked.type_of(node)
        if info.type not in _NATIVE:
            return None
        path = ("first." if resolved.scope.startswith("first_") else "") + ".".join(resolved.parts)
        if path not in self.native:
            self.native[path] = NativeField(
                path, flat_key(path), info.type, self.python.value(node)
            )
        return self.native[path].key

    def cond(self, node: Node, negated: bool = False) -> dict[str, Any]:
        if isinstance(node, Unary) and node.op == "not":
            return self.cond(node.operand, not negated)
        if isinstance(node, Binary) and node.op in ("and", "or"):
            joined = "$and" if (node.op == "and") != negated else "$or"
            parts = []
            for side in (node.left, node.right):
                part = self.cond(side, negated)
                parts.extend(part[joined] if set(part) == {joined} else [part])
            return {joined: parts}
        if isinstance(node, Literal) and isinstance(node.value, bool):
            return {"$eq": {SEEN: node.value != negated}}
        if isinstance(node, IsNull) and (key := self.native_key(node.operand)):
            exists = node.negated != negated
            return {"$ex" if exists else "$nex": {key: 1}}
        if isinstance(node, Field) and self.checked.type_of(node).type == BOOL:
            key = self.native_key(node)
            if key is not None:
                if negated:
                    return {"$or": [{"$nex": {key: 1}}, {"$eq": {key: False}}]}
                return {"$eq": {key: True}}
        if isinstance(node, Binary) and node.op in COMPARISONS:
            compiled = self.comparison(node, negated)
            if compiled is not None:
                return compiled
        if isinstance(node, Binary) and node.op in ("in", "notin"):
            compiled = self.membership(node, negated)
            if compiled is not None:
                return compiled
        if isinstance(node, Call) and node.name == "matches" and not negated:
            key = self.native_key(node.args[0])
            pattern = node.args[1].value  # type: ignore[attr-defined]
            if key is not None and _SAFE_REGEX.fullmatch(pattern):
                return {"$mt": {key: pattern}}
        return self.lift(node, negated)

    def comparison(self, node: Binary, negated: bool) -> dict[str, Any] | None:
        op, left, right = node.op, node.left, node.right
        if isinstance(left, Literal) and not isinstance(right, Literal):
            op, left, right = _FLIPPED[op], right, left
        key = self.native_key(left)
        if key is None:
            return None
        if isinstance(right, Literal):
            if isinstance(right.value, bool) and op not in ("==", "!="):
                return None
            if not isinstance(right.value, str | int | float):
                return None  # a duration literal: only computed values have that type
            operand: Any = right.value
            others: list[str] = []
        else:
            other = self.native_key(right)
            if other is None:
                return None
            operand, others = {"$m": other}, [other]
        if not negated:
            test = {_DURABLE_OPS[op]: {key: operand}}
            if not others:
                return test
            # Measured: inside an $and, a $m comparison with an absent property can hold
            # (absent == absent, x != absent): guard both sides.
            return {"$and": [*({"$ex": {name: 1}} for name in (key, *others)), test]}
        absent = [{"$nex": {name: 1}} for name in (key, *others)]
        return {"$or": [*absent, {_DURABLE_OPS[_INVERSE[op]]: {key: operand}}]}

    def membership(self, node: Binary, negated: bool) -> dict[str, Any] | None:
        key = self.native_key(node.left)
        values = constant_items(self.checked, node.right)
        if key is None or values is None or len(values) > MAX_LIST_BRANCHES:
            return None
        inside = node.op == "in"
        if not values:  # in [] is false; not in [] holds for any present value
            if inside:
                return {"$eq": {SEEN: negated}}
            return {"$nex" if negated else "$ex": {key: 1}}
        if inside != negated:  # "in", or "not (x not in L)"
            branches = [{"$eq": {key: v}} for v in values]
            test = branches[0] if len(branches) == 1 else {"$or": branches}
            return test if not negated else {"$or": [{"$nex": {key: 1}}, test]}
        branches = [{"$neq": {key: v}} for v in values]
        test = branches[0] if len(branches) == 1 else {"$and": branches}
        return test if not negated else {"$or": [{"$nex": {key: 1}}, test]}


def compile_durable(checked: CheckedCondition, *, tag: str = "") -> DurableCondition:
    """durable_rules JSON for what the engine can evaluate; lifted closures for the rest.

    `tag` (letters and digits) keeps the lifted names of conditions that share one message
    apart: ``lift__<tag><n>``.
    """
    if not re.fullmatch(r"[A-Za-z0-9]*", tag):
        raise ValueError(f"tag must be letters and digits, not {tag!r}")
    compiler = _Compiler(checked, tag)
    body = compiler.cond(checked.node)
    parts = body["$and"] if set(body) == {"$and"} else [body]
    condition = {"$and": [{"$eq": {SEEN: True}}, *parts]}
    return DurableCondition(condition, tuple(compiler.lifted), tuple(compiler.native.values()))
