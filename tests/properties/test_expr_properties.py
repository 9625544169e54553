"""The condition language's parser (auditcage/rulepacks/expr.py) under generated text: a printed
tree parses back to itself, and any other text is a ParseError that points into the text."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from auditcage.rulepacks.expr import (
    KEYWORDS,
    Binary,
    Call,
    Field,
    IsNull,
    ListLiteral,
    Literal,
    Node,
    ParseError,
    Unary,
    parse,
    tokenize,
)

# A tree without columns: ("lit", v) ("field", p) ("call", n, args) ("list", items)
# ("un", op, x) ("bin", op, l, r) ("isnull", x, negated).
Shape = tuple[Any, ...]


def shape(node: Node) -> Shape:
    if isinstance(node, Literal):
        return ("lit", node.value)
    if isinstance(node, Field):
        return ("field", node.path)
    if isinstance(node, Call):
        return ("call", node.name, tuple(shape(a) for a in node.args))
    if isinstance(node, ListLiteral):
        return ("list", tuple(shape(i) for i in node.items))
    if isinstance(node, Unary):
        return ("un", node.op, shape(node.operand))
    if isinstance(node, IsNull):
        return ("isnull", shape(node.operand), node.negated)
    assert isinstance(node, Binary)
    return ("bin", node.op, shape(node.left), shape(node.right))


# --- conditions printed from trees: (text, the tree it must parse to) ---------------------------

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda n: n not in KEYWORDS)
UNITS = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days"}


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped.replace(chr(9), chr(92) + "t")}"'


LEAVES = st.one_of(
    st.integers(0, 10**12).map(lambda n: (str(n), ("lit", n))),
    st.tuples(st.integers(0, 9999), st.integers(0, 999)).map(
        lambda p: (f"{p[0]}.{p[1]:03d}", ("lit", float(f"{p[0]}.{p[1]:03d}")))
    ),
    st.tuples(st.integers(0, 10**5), st.sampled_from(sorted(UNITS))).map(
        lambda p: (f"{p[0]}{p[1]}", ("lit", timedelta(**{UNITS[p[1]]: p[0]})))
    ),
    st.text(max_size=12).map(lambda s: (_quoted(s), ("lit", s))),
    st.sampled_from([("true", ("lit", True)), ("false", ("lit", False)), ("null", ("lit", None))]),
    st.lists(NAMES, min_size=1, max_size=3).map(lambda p: (".".join(p), ("field", ".".join(p)))),
)
BINARY = ["and", "or", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "in", "not in"]


def _negated(item: tuple[str, Shape]) -> tuple[str, Shape]:
    text, tree = item
    value = tree[1] if tree[0] == "lit" else None
    if isinstance(value, int | float | timedelta) and not isinstance(value, bool):
        return f"(-{text})", ("lit", -value)  # the parser folds a negated number
    return f"(-{text})", ("un", "-", tree)


def _composite(children: st.SearchStrategy[tuple[str, Shape]]) -> st.SearchStrategy:
    pairs = st.tuples(children, st.sampled_from(BINARY), children)
    return st.one_of(
        pairs.map(
            lambda p: (
                f"({p[0][0]} {p[1]} {p[2][0]})",
                ("bin", p[1].replace("not in", "notin"), p[0][1], p[2][1]),
            )
        ),
        children.map(lambda c: (f"(not {c[0]})", ("un", "not", c[1]))),
        children.map(_negated),
        st.tuples(children, st.booleans()).map(
            lambda p: (
                f"({p[0][0]} is {'not ' if p[1] else ''}null)",
                ("isnull", p[0][1], p[1]),
            )
        ),
        st.tuples(NAMES, st.lists(children, max_size=3)).map(
            lambda p: (
                f"{p[0]}({', '.join(t for t, _ in p[1])})",
                ("call", p[0], tuple(s for _, s in p[1])),
            )
        ),
        st.lists(children, max_size=3).map(
            lambda items: (
                f"[{', '.join(t for t, _ in items)}]",
                ("list", tuple(s for _, s in items)),
            )
        ),
    )


CONDITIONS = st.recursive(LEAVES, _composite, max_leaves=12)


@given(CONDITIONS)
@example(('"a\\\\" == "b\\"c"', ("bin", "==", ("lit", "a\\"), ("lit", 'b"c'))))
@example(("(-true)", ("un", "-", ("lit", True))))  # was folded to -1: a bool is an int
def test_a_printed_condition_parses_back_to_its_tree(condition: tuple[str, Shape]) -> None:
    text, tree = condition
    assert shape(parse(text)) == tree


@given(CONDITIONS)
def test_every_node_points_at_a_column_inside_its_text(condition: tuple[str, Shape]) -> None:
    text, _ = condition

    def columns(node: Node) -> list[int]:
        children: list[Node] = []
        if isinstance(node, Binary):
            children = [node.left, node.right]
        elif isinstance(node, Unary | IsNull):
            children = [node.operand]
        elif isinstance(node, Call):
            children = list(node.args)
        elif isinstance(node, ListLiteral):
            children = list(node.items)
        return [node.column] + [c for child in children for c in columns(child)]

    assert all(0 <= c < len(text) and not text[c].isspace() for c in columns(parse(text)))


# --- anything else: a ParseError naming a column of the text ------------------------------------

TOKENS = [
    "(", ")", "[", "]", ",", ".", "-", "+", "*", "/", "==", "<", ">=", "!=",
    "and", "or", "not", "in", "is", "null", "true", "false",
    "a", "b.c", "_x", "f", "1", "2.5", "30min", "24h", '"s"', "'t'", '"', "9" * 120, "1e5",
]  # fmt: skip
SOUPS = st.lists(st.sampled_from(TOKENS), max_size=30).map(" ".join)


def _parse_or_error(text: str) -> ParseError | None:
    try:
        parse(text)
    except ParseError as error:
        return error
    return None


@given(st.one_of(st.text(max_size=80), SOUPS))
@example("-" * 3000 + "1")  # used to exhaust the stack (RecursionError)
@example("1" * 5000)  # Python refuses an int of more than 4300 digits (ValueError)
@example("99999999999999999999999d")  # past timedelta.max (OverflowError)
@example("not " * 100 + "a")
def test_any_text_parses_or_raises_a_parse_error_with_its_column(text: str) -> None:
    error = _parse_or_error(text)
    if error is None:
        return
    assert 0 <= error.column <= len(text)
    assert str(error).startswith(f"column {error.column + 1}: ")
    assert error.text == text and error.problem


@given(SOUPS)
def test_a_syntax_error_points_at_the_start_of_a_token_or_the_end(text: str) -> None:
    error = _parse_or_error(text)
    if error is None:
        return
    try:
        starts = {t.column for t in tokenize(text)}
    except ParseError as lexical:  # a character no token starts with: that character
        assert error.column == lexical.column
        return
    assert error.column in starts  # the end token sits at len(text)


@given(CONDITIONS, st.data())
def test_a_condition_cut_short_is_an_error_or_another_condition(
    condition: tuple[str, Shape], data: st.DataObject
) -> None:
    text, _ = condition
    cut = data.draw(st.integers(0, len(text)))
    error = _parse_or_error(text[:cut])
    assert error is None or 0 <= error.column <= cut
