"""The condition language parses author text into a tree and never executes it."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditcage.rulepacks.expr import (
    Binary,
    Call,
    Field,
    IsNull,
    Literal,
    ParseError,
    Unary,
    fields_of,
    parse,
)


def test_and_binds_tighter_than_or() -> None:
    tree = parse("a == 1 or b == 2 and c == 3")
    assert isinstance(tree, Binary) and tree.op == "or"
    assert isinstance(tree.right, Binary) and tree.right.op == "and"


def test_durations_are_time_spans() -> None:
    tree = parse("inspection.ended_at - inspection.started_at < 120s")
    assert isinstance(tree, Binary) and tree.right == Literal(46, timedelta(seconds=120))
    assert parse("x < 30min").right.value == timedelta(minutes=30)  # type: ignore[attr-defined]
    assert parse("x < 730d").right.value == timedelta(days=730)  # type: ignore[attr-defined]


def test_null_tests_and_negated_membership() -> None:
    assert parse("approver_id is null") == IsNull(12, Field(0, "approver_id"), False)
    assert parse("approver_id is not null").negated is True  # type: ignore[attr-defined]
    assert parse("action not in ['a', 'b']").op == "notin"  # type: ignore[attr-defined]


def test_function_calls_and_quantifiers_are_calls() -> None:
    tree = parse("not related(operator_id_no, subject_id_no)")
    assert isinstance(tree, Unary) and isinstance(tree.operand, Call)
    quantifier = parse('any(accident.parties, item.role == "driver")')
    assert isinstance(quantifier, Call) and quantifier.name == "any"


def test_fields_of_lists_record_fields_but_not_item_paths() -> None:
    tree = parse('points > 0 and any(accident.parties, item.role == "driver")')
    assert fields_of(tree) == {"points", "accident.parties"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("a ==", "expected a value"),
        ("a = b", "unexpected character '='"),
        ("(a == 1", "expected ')'"),
        ("a == 1 b", "after a complete condition"),
        ("__import__('os')", "underscore"),
        ("x.__class__", "underscore"),
        ("a; b", "unexpected character ';'"),
        ("lambda: 1", "unexpected character ':'"),
    ],
)
def test_malformed_or_hostile_text_is_refused_with_its_column(text: str, problem: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert problem in caught.value.problem
    assert 0 <= caught.value.column <= len(text)


def test_absurd_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(ParseError, match="nested too deeply"):
        parse("(" * 500 + "a" + ")" * 500)
    with pytest.raises(ParseError, match="nested too deeply"):
        parse("not " * 500 + "a")


@given(st.text(max_size=80))
def test_any_text_either_parses_or_raises_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse(text)
