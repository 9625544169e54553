"""A checked condition compiled to a boolean mask over a frame (the batch twin of compile_python).

The frame's columns are dotted paths (record fields, derived fields, ``first.<path>`` for the
earlier record of a sequence), typed by the field registry: numbers float64 (null = NaN),
datetimes ``datetime64[us, Asia/Shanghai]`` (null = NaT), strings, dates, booleans, lists and
untyped values as Python objects. Comparisons, ``and``/``or``/``not``, arithmetic on numbers,
datetimes and durations, ``in`` a literal or named list, and null tests are vectorised, always
over the rows where both operands are present (§0.2 item 5). Functions, quantifiers, date
arithmetic, untyped operands and ``in`` a field fall back to the row: the sub-expression is run
by `compile_python.PyCompiler` over that row, so both paths share one implementation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from auditcage.engine.compile_python import OPERATORS as _OPS
from auditcage.engine.compile_python import Env, PyCompiler, constant_items
from auditcage.rulepacks.check import COMPARISONS, CheckedCondition, Resolved
from auditcage.rulepacks.expr import Binary, Call, Field, IsNull, Literal, Node, Unary
from auditcage.rulepacks.fields import (
    ANY,
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    NUMBER,
    REGISTRY,
    STRING,
    FieldInfo,
)
from auditcage.rulepacks.functions import EvalContext, dig, is_null

Mask = Callable[[pd.DataFrame, EvalContext], "pd.Series[bool]"]
Column = Any  # a pd.Series aligned with the frame, or a Python scalar (a literal)
_DATETIME_DTYPE = "datetime64[us, Asia/Shanghai]"
_VECTOR_ARITHMETIC = {
    (NUMBER, NUMBER),
    (DATETIME, DATETIME),
    (DATETIME, DURATION),
    (DURATION, DATETIME),
    (DURATION, DURATION),
}


# --- frames ------------------------------------------------------------------------------------


def column_info(path: str) -> FieldInfo:
    """The registry entry of a frame column (``first.<path>`` has the type of <path>)."""
    plain = path.removeprefix("first.")
    info = REGISTRY.paths.get(plain)
    if info is None:  # a member of an untyped object (before.*, vehicle_master.*)
        return FieldInfo(plain, ANY)
    return info


def typed_series(values: list[Any], info: FieldInfo, index: pd.Index | None = None) -> pd.Series:
    """Python values as a column of the frame's dtype for this type."""
    if info.type == NUMBER:
        numbers = [math.nan if v is None else float(v) for v in values]
        return pd.Series(numbers, index=index, dtype="float64")
    if info.type == DATETIME:
        return pd.Series(values, index=index, dtype=_DATETIME_DTYPE)
    if info.type == DURATION:
        return pd.Series(values, index=index, dtype="timedelta64[us]")
    return pd.Series(values, index=index, dtype=object)


def _dig(value: Any, parts: tuple[str, ...] | list[str]) -> Any:
    return dig(value, parts)


def _path_value(record: Mapping[str, Any], derived: Mapping[str, Any], path: str) -> Any:
    parts = path.split(".")
    source = record if REGISTRY.record.member(parts[0]) is not None else derived
    return _dig(source, parts)


def frame_from_records(records: Iterable[tuple[Any, ...]], columns: Iterable[str]) -> pd.DataFrame:
    """A frame of `columns` from ``(record, derived)`` or ``(record, derived, first)`` tuples.

    `first` is the ``(record, derived)`` of the earlier record of a sequence, or None; it fills
    the ``first.<path>`` columns.
    """
    rows = list(records)
    names = sorted(set(columns))
    data: dict[str, pd.Series] = {}
    for name in names:
        values = []
        for row in rows:
            record, derived = row[0], row[1]
            if name.startswith("first."):
                first = row[2] if len(row) > 2 else None
                value = _path_value(first[0], first[1], name[6:]) if first else None
            else:
                value = _path_value(record, derived, name)
            values.append(value)
        data[name] = typed_series(values, column_info(name))
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))


def _python(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, pd.Timedelta):
        return value.to_pytimedelta()
    return value


def _flat_getter(resolved: Resolved) -> Callable[[Env], Any]:
    """Field access on a flat row keyed by column path (for the row-wise fallback)."""
    scope, parts = resolved.scope, resolved.parts
    if scope == "list":
        values = list(resolved.value or ())
        return lambda env: values
    if scope == "item":
        return lambda env: _dig(env.item, list(parts)) if parts else env.item
    key = ("first." if scope.startswith("first_") else "") + ".".join(parts)
    return lambda env: env.record.get(key)


# --- the compiler --------------------------------------------------------------------------------


class _Compiler:
    def __init__(self, checked: CheckedCondition) -> None:
        self.checked = checked
        self.rowwise = PyCompiler(checked, _flat_getter)

    def info(self, node: Node) -> FieldInfo:
        return self.checked.type_of(node)

    def column(self, node: Node) -> Callable[[_Frame], Column]:
        if isinstance(node, Literal):
            constant = node.value
            return lambda frame: constant
        if isinstance(node, Field):
            resolved = self.checked.resolution(node)
            if resolved.scope in ("record", "derived", "first_record", "first_derived"):
                prefix = "first." if resolved.scope.startswith("first_") else ""
                name = prefix + ".".join(resolved.parts)
                return lambda frame: frame.df[name]
        if isinstance(node, Unary) and node.op == "-" and self.info(node).type != ANY:
            inner = self.column(node.operand)
            return lambda frame: -inner(frame)
        if isinstance(node, Binary) and node.op in "+-*/" and self.vector_arithmetic(node):
            return self.arithmetic(node)
        if self.info(node).type == BOOL and not isinstance(node, Field | Call):
            return self.mask(node)
        return self.fallback(node)

    def vector_arithmetic(self, node: Binary) -> bool:
        kinds = (self.info(node.left).type, self.info(node.right).type)
        if node.op in "+-":
            return kinds in _VECTOR_ARITHMETIC
        return kinds == (NUMBER, NUMBER)

    def arithmetic(self, node: Binary) -> Callable[[_Frame], Column]:
        left, right = self.column(node.left), self.column(node.right)
        op = _OPS[node.op]
        divide = node.op == "/"

        def arith(frame: _Frame) -> Column:
            a, b = left(frame), right(frame)
            if divide:
                b = b.where(b != 0) if isinstance(b, pd.Series) else (b if b else math.nan)
            return op(a, b)

        return arith

    def fallback(self, node: Node) -> Callable[[_Frame], Column]:
        value, info = self.rowwise.value(node), self.info(node)

        def rowwise(frame: _Frame) -> Column:
            results = [value(env) for env in frame.envs()]
            return typed_series(results, info, frame.df.index)

        return rowwise

    # --- masks ---------------------------------------------------------------------------

    def mask(self, node: Node) -> Callable[[_Frame], pd.Series]:
        if isinstance(node, Literal):
            constant = node.value is True
            return lambda frame: pd.Series(constant, index=frame.df.index, dtype=bool)
        if isinstance(node, Unary) and node.op == "not":
            inner = self.mask(node.operand)
            return lambda frame: ~inner(frame)
        if isinstance(node, IsNull):
            operand, info = self.column(node.operand), self.info(node.operand)
            if node.negated:
                return lambda frame: present(operand(frame), info, frame)
            return lambda frame: ~present(operand(frame), info, frame)
        if isinstance(node, Binary) and node.op in ("and", "or"):
            a, b = self.mask(node.left), self.mask(node.right)
            if node.op == "and":
                return lambda frame: a(frame) & b(frame)
            return lambda frame: a(frame) | b(frame)
        if isinstance(node, Binary) and node.op in COMPARISONS and not self.untyped(node):
            return self.comparison(node)
        if isinstance(node, Binary) and node.op in ("in", "notin"):
            constants = constant_items(self.checked, node.right)
            if constants is not None and self.info(node.left).type != ANY:
                return self.isin(node, constants)
        if isinstance(node, Field) and self.info(node).type == BOOL:
            column = self.column(node)
            return lambda frame: column(frame).eq(True) & column(frame).notna()
        return self.fallback_mask(node)

    def fallback_mask(self, node: Node) -> Callable[[_Frame], pd.Series]:
        test = self.rowwise.test(node)

        def rowwise(frame: _Frame) -> pd.Series:
            results = [test(env) for env in frame.envs()]
            return pd.Series(results, index=frame.df.index, dtype=bool)

        return rowwise

    def untyped(self, node: Binary) -> bool:
        return ANY in (self.info(node.left).type, self.info(node.right).type)

    def comparison(self, node: Binary) -> Callable[[_Frame], pd.Series]:
        left, right = self.column(node.left), self.column(node.right)
        left_info, right_info = self.info(node.left), self.info(node.right)
        op = _OPS[node.op]

        def compare(frame: _Frame) -> pd.Series:
            a, b = left(frame), right(frame)
            valid = present(a, left_info, frame) & present(b, right_info, frame)
            out = pd.Series(False, index=frame.df.index, dtype=bool)
            if valid.any():
                a_valid = a[valid] if isinstance(a, pd.Series) else a
                b_valid = b[valid] if isinstance(b, pd.Series) else b
                result = op(a_valid, b_valid)
                out[valid] = result.astype(bool) if isinstance(result, pd.Series) else bool(result)
            return out

        return compare

    def isin(self, node: Binary, constants: tuple[Any, ...]) -> Callable[[_Frame], pd.Series]:
        left, info = self.column(node.left), self.info(node.left)
        pool = list(constants)
        negated = node.op == "notin"

        def member(frame: _Frame) -> pd.Series:
            a = left(frame)
            if not isinstance(a, pd.Series):
                a = pd.Series([a] * len(frame.df.index), index=frame.df.index, dtype=object)
            found = a.isin(pool)
            return present(a, info, frame) & (~found if negated else found)

        return member


def present(column: Column, info: FieldInfo, frame: _Frame) -> pd.Series:
    """Rows where the value is not null (None, NaN, NaT, "" or [])."""
    index = frame.df.index
    if not isinstance(column, pd.Series):
        missing = is_null(column) or (isinstance(column, float) and math.isnan(column))
        return pd.Series(not missing, index=index, dtype=bool)
    if info.type == STRING:
        return column.notna() & column.ne("")
    if info.type in (NUMBER, BOOL, DATE, DATETIME, DURATION) or column.dtype != object:
        return column.notna()
    return column.map(lambda v: not is_null(v)).astype(bool)


class _Frame:
    """One frame being evaluated, with its rows as Python dicts built only if a fallback asks."""

    def __init__(self, df: pd.DataFrame, ctx: EvalContext) -> None:
        self.df = df
        self.ctx = ctx
        self._envs: list[Env] | None = None

    def envs(self) -> list[Env]:
        if self._envs is None:
            columns = {name: [_python(v) for v in self.df[name].tolist()] for name in self.df}
            rows = [
                dict(zip(columns, values, strict=True))
                for values in zip(*columns.values(), strict=True)
            ]
            if not columns:
                rows = [{} for _ in range(len(self.df.index))]
            self._envs = [Env(row, row, self.ctx) for row in rows]
        return self._envs


def compile_pandas(checked: CheckedCondition) -> Mask:
    """The condition as a function of (frame, EvalContext) → boolean Series, row by row equal
    to compile_python on the same records."""
    mask = _Compiler(checked).mask(checked.node)

    def evaluate(df: pd.DataFrame, ctx: EvalContext) -> pd.Series:
        return mask(_Frame(df, ctx)).astype(bool)

    return evaluate
