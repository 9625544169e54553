"""Type checking of a parsed condition: names resolved, types inferred, mistakes named.

Semantics every compiler shares (compile_python, compile_pandas, compile_durable agree exactly;
tests/engine/test_compile_agreement.py proves it):

Names
  ``item.<path>`` (or ``item``) is the current element inside ``any/all/count(list, cond)``
  (the innermost one when quantifiers nest). ``first.<path>`` is a field or derived field of the
  earlier record of a sequence (only with ``allow_first=True``; null when the environment has
  none). ``lists.<name>`` is a named list of the rule packs, resolved now from ``lists``.
  Anything else is a record field path, else a derived field (enrich.py). A path never steps
  through a list: elements are reached with a quantifier. Members of untyped objects
  (``before.*``, ``after.*``, ``vehicle_master.*``, ``licence_master.*``) have type ``any``.

Nulls (§0.2 item 5)
  None, "" and [] are null. A comparison (``== != < <= > >=``) or ``in``/``not in`` with a null
  operand is False, so ``x != 1`` and ``x not in [...]`` are False when x is null, while
  ``not (x == 1)`` is True. Arithmetic with a null is null (so is division by zero).
  ``and``/``or``/``not`` and every boolean context take null as False (a bool field is true
  only when it is ``true``). ``x is null`` is True for None, "" and [].
  ``any``/``all`` are False on a null or empty list; ``count`` is 0; ``len(null)`` is 0.

Types
  datetime − datetime and date − date are durations; datetime ± duration is a datetime;
  date ± duration is a date (shifted by the duration's whole days, rounded down, as Python
  does); numbers are int or float; strings compare lexicographically (code points).
  ``in`` takes a list literal, a list field, a named list, or a string (``"D" in
  license.license_status`` is a substring test). ``any``-typed values are compared at run time:
  a mismatch (text against number) is False.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Final

from auditcage.errors import AuditcageError
from auditcage.reference.datasets import DATASETS
from auditcage.rulepacks import expr
from auditcage.rulepacks.expr import Binary, Call, Field, IsNull, ListLiteral, Literal, Node, Unary
from auditcage.rulepacks.fields import (
    ANY,
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    LIST,
    NULL,
    NUMBER,
    OBJECT,
    REGISTRY,
    SCALARS,
    STRING,
    FieldInfo,
    computed,
    reference_fields,
    suggest_value,
)
from auditcage.rulepacks.functions import (
    AGGREGATES,
    CONTEXT_FUNCTIONS,
    DEADLINE_UNITS,
    FUNCTIONS,
    ORDERED,
)

COMPARISONS: Final = frozenset({"==", "!=", "<", "<=", ">", ">="})
ARITHMETIC: Final = frozenset({"+", "-", "*", "/"})
_ARTICLE = {
    STRING: "a string",
    NUMBER: "a number",
    BOOL: "a boolean",
    DATETIME: "a datetime",
    DATE: "a date",
    DURATION: "a duration",
    OBJECT: "an object",
    LIST: "a list",
    NULL: "null",
    ANY: "an untyped value",
}


class CheckError(AuditcageError):
    code = "rule_check"

    def __init__(
        self,
        problem: str,
        column: int,
        *,
        field: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.problem = problem
        self.column = column
        self.field = field
        self.suggestion = suggestion
        extra = [f"field={field}"] if field else []
        if suggestion:
            extra.append(f"did you mean {suggestion}?")
        tail = f" ({', '.join(extra)})" if extra else ""
        super().__init__(f"column {column + 1}: {problem}{tail}")


@dataclass(frozen=True)
class Resolved:
    """Where a Field node reads: scope record|derived|item|first_record|first_derived|list."""

    scope: str
    parts: tuple[str, ...]
    value: tuple[str, ...] | None = None  # a named list's values


@dataclass(frozen=True, eq=False)
class CheckedCondition:
    node: Node
    type: FieldInfo
    fields: frozenset[str]  # record/derived paths read; "first.<path>" for the earlier record
    types: dict[int, FieldInfo] = field(repr=False)
    resolved: dict[int, Resolved] = field(repr=False)
    text: str | None = None

    def type_of(self, node: Node) -> FieldInfo:
        return self.types[id(node)]

    def resolution(self, node: Field) -> Resolved:
        return self.resolved[id(node)]


def describe(info: FieldInfo) -> str:
    return _ARTICLE.get(info.type, info.type)


def check(
    node: Node | str,
    *,
    lists: dict[str, list[str]] | None = None,
    allow_first: bool = False,
    condition: bool = True,
    names: dict[str, FieldInfo] | None = None,
    item: FieldInfo | None = None,
) -> CheckedCondition:
    """Check a condition (a tree or its text); raises CheckError naming column and field.

    With `names`, those names (and only those) are the fields: an expression over computed
    values, such as a rate rule's statistics (engine.rates), read as derived fields. With
    `item`, `item.<field>` names a field of that list element (a rule's key_where).
    """
    text = None
    if isinstance(node, str):
        text = node
        try:
            node = expr.parse(node)
        except expr.ParseError as error:
            raise CheckError(error.problem, error.column) from None
    checker = _Checker(dict(lists or {}), allow_first)
    checker.names = names
    if item is not None:
        checker.items.append(item)
    info = checker.visit(node)
    if condition and info.type not in (BOOL, ANY):
        raise CheckError(
            f"a condition must be true or false, but this is {describe(info)}", node.column
        )
    return CheckedCondition(
        node, info, frozenset(checker.fields), checker.types, checker.resolved, text
    )


class _Checker:
    def __init__(self, lists: dict[str, list[str]], allow_first: bool) -> None:
        self.lists = lists
        self.allow_first = allow_first
        self.items: list[FieldInfo] = []
        self.fields: set[str] = set()
        self.types: dict[int, FieldInfo] = {}
        self.resolved: dict[int, Resolved] = {}
        self.names: dict[str, FieldInfo] | None = None

    def visit(self, node: Node) -> FieldInfo:
        info = self._visit(node)
        self.types[id(node)] = info
        return info

    def _visit(self, node: Node) -> FieldInfo:
        if isinstance(node, Literal):
            return _literal_type(node)
        if isinstance(node, ListLiteral):
            return self.list_literal(node)
        if isinstance(node, Field):
            return self.field(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, IsNull):
            operand = self.visit(node.operand)
            if operand.type == NULL:
                raise CheckError("`null is null` is always true: test a field", node.column)
            return computed(BOOL)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        raise CheckError(f"unsupported syntax {type(node).__name__}", node.column)

    # --- names ---------------------------------------------------------------------------

    def field(self, node: Field) -> FieldInfo:
        parts = tuple(node.path.split("."))
        head = parts[0]
        if head == "item":
            if not self.items:
                raise CheckError(
                    "item is only defined inside any(list, cond), all(...) or count(...)",
                    node.column,
                    field=node.path,
                )
            self.resolved[id(node)] = Resolved("item", parts[1:])
            return self.walk(self.items[-1], parts[1:], node, "item")
        if head == "lists":
            return self.named_list(node, parts)
        if self.names is not None:
            return self.named_value(node, parts)
        scope_prefix = ""
        if head == "first":
            if not self.allow_first:
                raise CheckError(
                    "first. names the earlier record of a sequence; only a sequence rule's "
                    "condition on its second record may use it",
                    node.column,
                    field=node.path,
                )
            parts, scope_prefix = parts[1:], "first_"
            if not parts:
                raise CheckError("first needs a field: first.<field>", node.column, field="first")
        top = REGISTRY.record.member(parts[0])
        scope = "record"
        if top is None:
            top, scope = REGISTRY.derived.member(parts[0]), "derived"
        if top is None:
            raise CheckError(
                f"unknown field {'.'.join(parts)!r}",
                node.column,
                field=node.path,
                suggestion=REGISTRY.suggest(".".join(parts)),
            )
        info = self.walk(top, parts[1:], node, parts[0])
        self.resolved[id(node)] = Resolved(scope_prefix + scope, parts)
        self.fields.add(("first." if scope_prefix else "") + ".".join(parts))
        return info

    def named_value(self, node: Field, parts: tuple[str, ...]) -> FieldInfo:
        assert self.names is not None
        info = self.names.get(parts[0])
        if info is None or len(parts) > 1:
            guess = difflib.get_close_matches(parts[0], list(self.names), n=1, cutoff=0.5)
            raise CheckError(
                f"unknown name {node.path!r}; this expression may use only "
                + ", ".join(sorted(self.names)),
                node.column,
                field=node.path,
                suggestion=guess[0] if guess else None,
            )
        self.resolved[id(node)] = Resolved("derived", parts)
        self.fields.add(parts[0])
        return info

    def walk(self, info: FieldInfo, rest: tuple[str, ...], node: Field, shown: str) -> FieldInfo:
        for index, part in enumerate(rest):
            if info.type == LIST:
                tail = ".".join(rest[index:])
                raise CheckError(
                    f"{shown} is a list: reach its elements with any({shown}, item.{tail} ...), "
                    f"all(...) or count(...)",
                    node.column,
                    field=node.path,
                )
            member = info.member(part)
            if member is None:
                names = list(info.members or {})
                guess = difflib.get_close_matches(part, names, n=1, cutoff=0.5)
                raise CheckError(
                    f"unknown field {shown + '.' + part!r}",
                    node.column,
                    field=node.path,
                    suggestion=f"{shown}.{guess[0]}" if guess else None,
                )
            info, shown = member, f"{shown}.{part}"
        return info

    def named_list(self, node: Field, parts: tuple[str, ...]) -> FieldInfo:
        if len(parts) != 2:
            raise CheckError("a named list is written lists.<name>", node.column, field=node.path)
        name = parts[1]
        if name not in self.lists:
            guess = difflib.get_close_matches(name, list(self.lists), n=1, cutoff=0.5)
            raise CheckError(
                f"unknown named list {name!r}",
                node.column,
                field=node.path,
                suggestion=f"lists.{guess[0]}" if guess else None,
            )
        values = tuple(str(v) for v in self.lists[name])
        self.resolved[id(node)] = Resolved("list", parts, values)
        return FieldInfo(node.path, LIST, item=computed(STRING), source="computed")

    def list_literal(self, node: ListLiteral) -> FieldInfo:
        types = []
        for item in node.items:
            info = self.visit(item)
            if isinstance(item, Literal) and (item.value is None or item.value == ""):
                raise CheckError(
                    'null and "" never match (§0.2 item 5): test `x is null` instead',
                    item.column,
                )
            if info.type not in SCALARS and info.type != ANY:
                raise CheckError(f"a list holds plain values, not {describe(info)}", item.column)
            types.append(info)
        item_type = self.unify(types, node) if types else computed(ANY)
        return FieldInfo("", LIST, item=item_type, source="computed")

    # --- operators -----------------------------------------------------------------------

    def unary(self, node: Unary) -> FieldInfo:
        operand = self.visit(node.operand)
        if node.op == "not":
            self.need_bool(operand, node.operand, "not")
            return computed(BOOL)
        if operand.type not in (NUMBER, DURATION, ANY):
            raise CheckError(f"cannot negate {describe(operand)}", node.column)
        return computed(operand.type)

    def need_bool(self, info: FieldInfo, node: Node, where: str) -> None:
        if info.type not in (BOOL, ANY):
            raise CheckError(
                f"{where} needs a condition (true or false), not {describe(info)}",
                node.column,
                field=getattr(node, "path", None),
            )

    def binary(self, node: Binary) -> FieldInfo:
        left, right = self.visit(node.left), self.visit(node.right)
        if node.op in ("and", "or"):
            self.need_bool(left, node.left, node.op)
            self.need_bool(right, node.right, node.op)
            return computed(BOOL)
        if node.op in COMPARISONS:
            self.comparison(node, left, right)
            return computed(BOOL)
        if node.op in ("in", "notin"):
            self.membership(node, left, right)
            return computed(BOOL)
        return computed(arithmetic_type(node, left, right))

    def comparison(self, node: Binary, left: FieldInfo, right: FieldInfo) -> None:
        for side in (node.left, node.right):
            if isinstance(side, Literal) and (side.value is None or side.value == ""):
                raise CheckError(
                    'a comparison with null or "" is never true (§0.2 item 5): '
                    "write `x is null` or `x is not null`",
                    side.column,
                )
        a, b = left.type, right.type
        if LIST in (a, b) or OBJECT in (a, b):
            raise CheckError(
                f"cannot compare {describe(left)} with {describe(right)}: "
                "use in, any(...) or a member field",
                node.column,
                field=left.path or right.path or None,
            )
        if ANY not in (a, b):
            if a != b:
                hint = " (use date(...) to compare days)" if {a, b} == {DATE, DATETIME} else ""
                raise CheckError(
                    f"cannot compare {describe(left)} with {describe(right)}{hint}",
                    node.column,
                    field=left.path or right.path or None,
                )
            if node.op not in ("==", "!=") and a not in ORDERED:
                raise CheckError(f"{describe(left)} has no order: use == or !=", node.column)
        self.enum_literal(left, node.right)
        self.enum_literal(right, node.left)

    def enum_literal(self, info: FieldInfo, other: Node) -> None:
        if info.enum_values is None or not isinstance(other, Literal):
            return
        if other.value not in info.enum_values:
            shown = ", ".join(str(v) for v in info.enum_values)
            raise CheckError(
                f"{other.value!r} is not a value of {info.path} (one of {shown})",
                other.column,
                field=info.path,
                suggestion=suggest_value(str(other.value), info.enum_values),
            )

    def membership(self, node: Binary, left: FieldInfo, right: FieldInfo) -> None:
        if right.type == ANY:
            return  # a list or a text: decided at run time
        if right.type == STRING:
            if left.type not in (STRING, ANY):
                raise CheckError(
                    f"`in` a text tests a substring, so the left side must be a string, "
                    f"not {describe(left)}",
                    node.column,
                )
            return
        if right.type != LIST:
            raise CheckError(
                f"the right side of in must be a list or a string, not {describe(right)}",
                node.right.column,
                field=right.path or None,
            )
        if left.type not in SCALARS and left.type != ANY:
            raise CheckError(f"cannot look for {describe(left)} in a list", node.column)
        item = right.item or computed(ANY)
        if ANY not in (left.type, item.type) and left.type != item.type:
            raise CheckError(
                f"cannot look for {describe(left)} in a list of {item.type} values",
                node.column,
                field=left.path or None,
            )
        if isinstance(node.right, ListLiteral):
            for element in node.right.items:
                self.enum_literal(left, element)
        elif isinstance(node.right, Field) and left.enum_values is not None:
            resolved = self.resolved.get(id(node.right))
            for value in resolved.value or () if resolved else ():
                self.enum_literal(left, Literal(node.right.column, value))
        if isinstance(node.left, Literal) and item.enum_values is not None:
            self.enum_literal(item, node.left)

    def unify(self, infos: list[FieldInfo], node: Node) -> FieldInfo:
        kinds = {i.type for i in infos} - {NULL}
        if not kinds:
            return computed(NULL)
        if ANY in kinds:
            return computed(ANY)
        if len(kinds) > 1:
            raise CheckError(f"cannot mix {' and '.join(sorted(kinds))} values here", node.column)
        first = next(i for i in infos if i.type != NULL)
        return FieldInfo("", first.type, item=first.item, source="computed")

    # --- functions -----------------------------------------------------------------------

    def call(self, node: Call) -> FieldInfo:
        spec = FUNCTIONS.get(node.name)
        if spec is None:
            guess = difflib.get_close_matches(node.name, list(FUNCTIONS), n=1, cutoff=0.6)
            raise CheckError(
                f"{node.name!r} is not a function of the condition language (a condition is "
                f"data, never code); the functions are {', '.join(sorted(FUNCTIONS))}",
                node.column,
                suggestion=guess[0] if guess else None,
            )
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            wanted = (
                str(spec.min_args)
                if spec.max_args == spec.min_args
                else f"at least {spec.min_args}"
                if spec.max_args is None
                else f"{spec.min_args} to {spec.max_args}"
            )
            raise CheckError(
                f"{node.name}() takes {wanted} argument{'s' if wanted != '1' else ''}, "
                f"got {count}: {spec.doc}",
                node.column,
            )
        if spec.quantifier:
            return self.quantifier(node)
        args = [self.visit(arg) for arg in node.args]
        for index, (arg, info) in enumerate(zip(node.args, args, strict=True)):
            allowed = spec.params[min(index, len(spec.params) - 1)]
            if info.type not in allowed:
                raise CheckError(
                    f"argument {index + 1} of {node.name}() cannot be {describe(info)}",
                    arg.column,
                    field=info.path or None,
                )
            if index in spec.literal:
                self.literal_argument(node, index)
        if node.name == "lookup":
            self.lookup(node)
        if node.name in CONTEXT_FUNCTIONS:
            self.fields.update(("action_time", "unit_code"))
        if node.name == "rows":
            return self.rows(node)
        return self.result(spec.result, args, node)

    def rows(self, node: Call) -> FieldInfo:
        """A list of typed reference rows: item.<field> is checked against the dataset."""
        dataset, name = node.args[0].value, node.args[1].value  # type: ignore[attr-defined]
        members = reference_fields(dataset)
        if name not in members:
            raise CheckError(
                f"{dataset} has no field {name!r}",
                node.args[1].column,
                suggestion=suggest_value(name, tuple(members)),
            )
        item = FieldInfo("", OBJECT, members=members, source="computed")
        return FieldInfo("", LIST, item=item, source="computed")

    def literal_argument(self, node: Call, index: int) -> None:
        arg = node.args[index]
        if not isinstance(arg, Literal) or not isinstance(arg.value, str):
            raise CheckError(
                f"argument {index + 1} of {node.name}() must be a string literal", arg.column
            )
        value = arg.value
        if node.name == "matches":
            try:
                re.compile(value)
            except re.error as error:
                raise CheckError(f"invalid regular expression: {error}", arg.column) from None
        if node.name == "deadline" and value not in DEADLINE_UNITS:
            raise CheckError(
                f"unknown period unit {value!r} (one of {', '.join(DEADLINE_UNITS)})",
                arg.column,
                suggestion=suggest_value(value, DEADLINE_UNITS),
            )
        dataset_position = {
            "lookup": 0,
            "matches_any": 1,
            "loaded": 0,
            "rows": 0,
            "count_rows": 0,
        }.get(node.name)
        if index == dataset_position and value not in DATASETS:
            raise CheckError(
                f"unknown reference dataset {value!r}",
                arg.column,
                suggestion=suggest_value(value, tuple(DATASETS)),
            )

    def lookup(self, node: Call) -> None:
        dataset = DATASETS[node.args[0].value]  # type: ignore[attr-defined]
        key = node.args[1]
        parts = len(key.items) if isinstance(key, ListLiteral) else 1
        if parts != len(dataset.key):
            raise CheckError(
                f"{dataset.name} is looked up by {' and '.join(dataset.key)}: give "
                f"{'[' + ', '.join(dataset.key) + ']' if len(dataset.key) > 1 else 'one key'}",
                key.column,
            )

    def quantifier(self, node: Call) -> FieldInfo:
        source, condition = node.args
        info = self.visit(source)
        if info.type not in (LIST, ANY):
            raise CheckError(
                f"{node.name}() needs a list first, not {describe(info)}",
                source.column,
                field=info.path or None,
            )
        self.items.append(info.item or computed(ANY))
        try:
            inner = self.visit(condition)
        finally:
            self.items.pop()
        if node.name == "sum_of":
            if inner.type not in (NUMBER, ANY):
                raise CheckError(
                    f"sum_of() needs a number to add up, not {describe(inner)}", condition.column
                )
            return computed(NUMBER)
        if node.name in AGGREGATES:
            if inner.type not in ORDERED and inner.type != ANY:
                raise CheckError(
                    f"{node.name}() needs a value that can be ordered, not {describe(inner)}",
                    condition.column,
                )
            return computed(inner.type)
        self.need_bool(inner, condition, f"{node.name}()")
        return computed(NUMBER if node.name == "count" else BOOL)

    def result(self, result: str, args: list[FieldInfo], node: Call) -> FieldInfo:
        if result == "arg0":
            return computed(args[0].type)
        if result == "unify":
            if len(args) == 1 and args[0].type == LIST:
                item = args[0].item or computed(ANY)
                return computed(item.type)
            return self.unify(args, node)
        return computed(result)


def _literal_type(node: Literal) -> FieldInfo:
    value: Any = node.value
    if value is None:
        return computed(NULL)
    if isinstance(value, bool):
        return computed(BOOL)
    if isinstance(value, int | float):
        return computed(NUMBER)
    if isinstance(value, str):
        return computed(STRING)
    return computed(DURATION)


_ARITH_RULES: Final[dict[tuple[str, str, str], str]] = {
    **{(NUMBER, op, NUMBER): NUMBER for op in "+-*/"},
    (DATETIME, "-", DATETIME): DURATION,
    (DATE, "-", DATE): DURATION,
    (DATETIME, "+", DURATION): DATETIME,
    (DATETIME, "-", DURATION): DATETIME,
    (DURATION, "+", DATETIME): DATETIME,
    (DATE, "+", DURATION): DATE,
    (DATE, "-", DURATION): DATE,
    (DURATION, "+", DATE): DATE,
    (DURATION, "+", DURATION): DURATION,
    (DURATION, "-", DURATION): DURATION,
    (DURATION, "*", NUMBER): DURATION,
    (NUMBER, "*", DURATION): DURATION,
    (DURATION, "/", NUMBER): DURATION,
    (DURATION, "/", DURATION): NUMBER,
}


def arithmetic_type(node: Binary, left: FieldInfo, right: FieldInfo) -> str:
    if NULL in (left.type, right.type):
        raise CheckError("arithmetic with null is always null", node.column)
    if ANY in (left.type, right.type):
        return ANY
    result = _ARITH_RULES.get((left.type, node.op, right.type))
    if result is None:
        verb = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[node.op]
        raise CheckError(
            f"cannot {verb} {describe(left)} and {describe(right)}",
            node.column,
            field=left.path or right.path or None,
        )
    return result
