"""A checked condition compiled to nested Python closures (the reference semantics of check.py).

The tree is walked once, at compile time; evaluation is closures calling closures, specialised
for the common shapes (a field against a literal, a literal list). `Env` carries one record, its
derived fields, the earlier record of a sequence (`first`) and the `EvalContext`.

`PyCompiler` also serves compile_pandas and compile_durable: given a different field getter it
evaluates sub-expressions over a flat row, so a row-wise fallback or a lifted property runs
exactly this code.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from auditcage.rulepacks.check import COMPARISONS, CheckedCondition, Resolved
from auditcage.rulepacks.expr import Binary, Call, Field, IsNull, ListLiteral, Literal, Node, Unary
from auditcage.rulepacks.fields import ANY, BOOL, LIST, STRING, FieldInfo
from auditcage.rulepacks.functions import (
    AGGREGATES,
    FUNCTIONS,
    EvalContext,
    contains_value,
    dig,
    is_null,
)

Value = Callable[["Env"], Any]
Test = Callable[["Env"], bool]
GetterFactory = Callable[[Resolved], Value]

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {  # shared with compile_pandas
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


class Env:
    """One evaluation: record, derived fields, optional earlier record, context, current item."""

    __slots__ = ("_context", "ctx", "derived", "first", "item", "memo", "record")

    def __init__(
        self,
        record: Mapping[str, Any],
        derived: Mapping[str, Any],
        ctx: EvalContext,
        first: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
    ) -> None:
        self.record = record
        self.derived = derived
        self.ctx = ctx
        self.first = first
        self.item: Any = None
        self._context: EvalContext | None = None
        # Results of reference and calendar calls by argument values (see MEMOIZED).
        self.memo: dict[tuple[Any, ...], Any] | None = None

    def context(self) -> EvalContext:
        """The context as of this record's action_time and unit (built on first use)."""
        if self._context is None:
            self._context = self.ctx.for_record(
                self.record.get("action_time"), self.record.get("unit_code")
            )
        return self._context


def null_test(info: FieldInfo) -> Callable[[Any], bool]:
    """The cheapest exact null test for values of this static type."""
    if info.type == STRING:
        return lambda v: v is None or v == ""
    if info.type in (LIST, ANY):
        return is_null
    return lambda v: v is None


def _dig(value: Any, parts: tuple[str, ...] | list[str]) -> Any:
    return dig(value, parts)


def nested_getter(resolved: Resolved) -> Value:
    """Field access on nested record and derived dicts (the streaming shape)."""
    scope, parts = resolved.scope, resolved.parts
    if scope == "list":
        values = list(resolved.value or ())
        return lambda env: values
    if scope == "item":
        if not parts:
            return lambda env: env.item
        return lambda env: _dig(env.item, parts)
    if scope in ("first_record", "first_derived"):
        index = 0 if scope == "first_record" else 1
        return lambda env: _dig(env.first[index], parts) if env.first is not None else None
    head, rest = parts[0], parts[1:]
    if scope == "derived":
        if not rest:
            return lambda env: env.derived.get(head)
        return lambda env: _dig(env.derived.get(head), rest)
    if not rest:
        return lambda env: env.record.get(head)
    if len(rest) == 1:
        (second,) = rest

        def two(env: Env) -> Any:
            value = env.record.get(head)
            return value.get(second) if isinstance(value, dict) else None

        return two
    return lambda env: _dig(env.record.get(head), rest)


class PyCompiler:
    def __init__(self, checked: CheckedCondition, getter: GetterFactory = nested_getter) -> None:
        self.checked = checked
        self.getter = getter

    def info(self, node: Node) -> FieldInfo:
        return self.checked.type_of(node)

    # --- values --------------------------------------------------------------------------

    def value(self, node: Node) -> Value:
        if isinstance(node, Literal):
            constant = node.value
            return lambda env: constant
        if isinstance(node, Field):
            return self.getter(self.checked.resolution(node))
        if isinstance(node, ListLiteral):
            items = [self.value(item) for item in node.items]
            return lambda env: [item(env) for item in items]
        if isinstance(node, Unary) and node.op == "-":
            inner = self.value(node.operand)

            def negate(env: Env) -> Any:
                v = inner(env)
                try:
                    return None if is_null(v) else -v
                except TypeError:
                    return None

            return negate
        if isinstance(node, Binary) and node.op in OPERATORS and node.op not in COMPARISONS:
            return self.arithmetic(node)
        if isinstance(node, Call) and node.name != "any" and node.name != "all":
            return self.call(node)
        return self.test(node)

    def arithmetic(self, node: Binary) -> Value:
        left, right = self.value(node.left), self.value(node.right)
        op = OPERATORS[node.op]
        divide = node.op == "/"

        def arith(env: Env) -> Any:
            a = left(env)
            if a is None or a == "":
                return None
            b = right(env)
            if b is None or b == "" or (divide and not b):
                return None
            try:
                return op(a, b)
            except (TypeError, OverflowError):
                return None

        return arith

    def call(self, node: Call) -> Value:
        if node.name == "count":
            return self.quantifier(node)
        if node.name in AGGREGATES:
            return self.aggregate(node)
        impl = FUNCTIONS[node.name].impl
        assert impl is not None
        args = [self.value(arg) for arg in node.args]
        if node.name in MEMOIZED:
            return _memoized(node.name, impl, args)
        if len(args) == 1:
            (only,) = args
            return lambda env: impl(env.context(), only(env))
        if len(args) == 2:
            first, second = args
            return lambda env: impl(env.context(), first(env), second(env))
        return lambda env: impl(env.context(), *[arg(env) for arg in args])

    def aggregate(self, node: Call) -> Value:
        """max_of / min_of: the extreme non-null value of an expression over the elements;
        sum_of: the sum of its non-null numbers (null when there is none)."""
        source, expression = self.value(node.args[0]), self.value(node.args[1])
        pick: Callable[[list[Any]], Any] = {"max_of": max, "min_of": min, "sum_of": _sum}[node.name]

        def aggregate(env: Env) -> Any:
            items = source(env)
            if not isinstance(items, list | tuple) or not items:
                return None
            saved = env.item
            try:
                values = [v for env.item in items if not is_null(v := expression(env))]
            finally:
                env.item = saved
            if node.name == "sum_of":
                values = [v for v in values if isinstance(v, int | float)]
                values = [v for v in values if not isinstance(v, bool)]
            try:
                return pick(values) if values else None
            except TypeError:  # mixed types in an untyped list: no meaningful extreme
                return None

        return aggregate

    def quantifier(self, node: Call) -> Value:
        source, condition = self.value(node.args[0]), self.test(node.args[1])
        empty: Any = 0 if node.name == "count" else False
        reduce: Callable[[Any], Any] = {"any": any, "all": all, "count": sum}[node.name]

        def quantify(env: Env) -> Any:
            items = source(env)
            if not isinstance(items, list | tuple) or not items:
                return empty
            saved = env.item
            try:
                # env.item is the loop target: `item` names the current element.
                return reduce(condition(env) for env.item in items)
            finally:
                env.item = saved

        return quantify

    # --- tests (always a strict bool) ----------------------------------------------------

    def test(self, node: Node) -> Test:
        if isinstance(node, Literal):
            constant = node.value is True
            return lambda env: constant
        if isinstance(node, Unary) and node.op == "not":
            inner = self.test(node.operand)
            return lambda env: not inner(env)
        if isinstance(node, IsNull):
            value, null = self.value(node.operand), null_test(self.info(node.operand))
            if node.negated:
                return lambda env: not null(value(env))
            return lambda env: null(value(env))
        if isinstance(node, Binary):
            if node.op in ("and", "or"):
                a, b = self.test(node.left), self.test(node.right)
                if node.op == "and":
                    return lambda env: a(env) and b(env)
                return lambda env: a(env) or b(env)
            if node.op in COMPARISONS:
                return self.comparison(node)
            if node.op in ("in", "notin"):
                return self.membership(node)
        if isinstance(node, Call) and node.name in ("any", "all"):
            return self.quantifier(node)
        value = self.value(node)
        if isinstance(node, Call) and FUNCTIONS[node.name].result == BOOL:
            return value  # the implementations return strict bools
        return lambda env: value(env) is True

    def comparison(self, node: Binary) -> Test:
        op = OPERATORS[node.op]
        left_info, right_info = self.info(node.left), self.info(node.right)
        left, right = self.value(node.left), self.value(node.right)
        left_null, right_null = null_test(left_info), null_test(right_info)
        untyped = ANY in (left_info.type, right_info.type)
        if isinstance(node.right, Literal) and not untyped:
            constant = node.right.value
            if node.op == "==":
                return lambda env: left(env) == constant
            return lambda env: (not left_null(v := left(env))) and op(v, constant)

        def compare(env: Env) -> bool:
            a = left(env)
            if left_null(a):
                return False
            b = right(env)
            if right_null(b):
                return False
            if untyped:
                try:
                    return op(a, b) is True
                except TypeError:
                    return False
            return op(a, b)

        return compare

    def membership(self, node: Binary) -> Test:
        left = self.value(node.left)
        left_null = null_test(self.info(node.left))
        negated = node.op == "notin"
        constants = constant_items(self.checked, node.right)
        if constants is not None and self.info(node.left).type != ANY:
            pool = frozenset(constants)
            if negated:
                return lambda env: (not left_null(v := left(env))) and v not in pool
            return lambda env: left(env) in pool
        right = self.value(node.right)
        literal = is_literal_list(self.checked, node.right)

        def member(env: Env) -> bool:
            a = left(env)
            if left_null(a):
                return False
            b = right(env)
            if is_null(b) and not literal:
                return False
            found = contains_value(b, a)
            if negated:
                return not found and (
                    isinstance(b, list | tuple) or (isinstance(b, str) and isinstance(a, str))
                )
            return found

        return member


# Functions that read only the reference, the calendar and their arguments: on one record the
# same call gives the same answer, and the catalogue's rules repeat them (STF-02 and STF-03 look up
# the same licence holder six times each), so an Env remembers them by argument values.
MEMOIZED = frozenset(
    {
        "lookup",
        "related",
        "count_rows",
        "matches_any",
        "deadline",
        "add_working_days",
        "working_days_between",
    }
)


def _frozen(value: Any) -> Any:
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def _memoized(name: str, impl: Callable[..., Any], args: list[Value]) -> Value:
    def call(env: Env) -> Any:
        values = [arg(env) for arg in args]
        memo = env.memo
        if memo is None:
            memo = env.memo = {}
        try:
            key = (name, *(_frozen(v) for v in values))
            return memo[key]
        except KeyError:
            result = memo[key] = impl(env.context(), *values)
            return result
        except TypeError:  # an unhashable argument (a mapping): computed every time
            return impl(env.context(), *values)

    return call


def is_literal_list(checked: CheckedCondition, node: Node) -> bool:
    """A list literal or a named list: the author's list, never null (`x not in []` holds)."""
    if isinstance(node, ListLiteral):
        return True
    return isinstance(node, Field) and checked.resolution(node).scope == "list"


def constant_items(checked: CheckedCondition, node: Node) -> tuple[Any, ...] | None:
    """The values of a list literal of literals, or of a named list; else None."""
    if isinstance(node, ListLiteral) and all(isinstance(i, Literal) for i in node.items):
        return tuple(i.value for i in node.items)  # type: ignore[attr-defined]
    if isinstance(node, Field) and checked.resolution(node).scope == "list":
        return checked.resolution(node).value
    return None


def compile_python(checked: CheckedCondition) -> Callable[[Env], bool]:
    """The condition as one closure over an `Env`; evaluates the semantics of check.py."""
    return PyCompiler(checked).test(checked.node)


def make_env(
    record: Mapping[str, Any],
    derived: Mapping[str, Any],
    ctx: EvalContext,
    first: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
) -> Env:
    return Env(record, derived, ctx, first)


def _sum(values: list[Any]) -> Any:
    return sum(values)
