"""The condition language of rule packs: a small, safe parser into a syntax tree.

Author text is never executed. It is tokenised and parsed here into the node types below, and only
those nodes exist: no attribute access on Python objects, no calls but the whitelisted functions of
`functions.py`. Anything else is a `ParseError` naming the column and the problem.

Grammar (lowest binding first)::

    expr        := or
    or          := and ("or" and)*
    and         := not ("and" not)*
    not         := "not" not | comparison
    comparison  := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum
                        | ["not"] "in" sum
                        | "is" ["not"] "null")?
    sum         := product (("+" | "-") product)*
    product     := unary (("*" | "/") unary)*
    unary       := "-" unary | primary
    primary     := number | duration | string | "true" | "false" | "null"
                 | "[" [expr ("," expr)*] "]" | "(" expr ")"
                 | name "(" [expr ("," expr)*] ")"      a whitelisted function
                 | path                                  a record field, `item.…`, `lists.<name>`
    path        := name ("." name)*
    duration    := number ("s" | "min" | "h" | "d")      120s, 30min, 24h, 730d

Examples: ``action == "decide" and points > 0``, ``inspection.ended_at - inspection.started_at
< 120s``, ``business_type in lists.police_only_business``, ``any(accident.parties, item.role ==
"driver" and item.id_no is null)``, ``not related(operator_id_no, subject_id_no)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from auditcage.errors import AuditcageError


class ParseError(AuditcageError):
    code = "rule_syntax"

    def __init__(self, message: str, column: int, text: str) -> None:
        self.column = column
        self.text = text
        self.problem = message
        super().__init__(f"column {column + 1}: {message}")


# --- syntax tree ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    column: int


@dataclass(frozen=True)
class Literal(Node):
    value: Any  # str, int, float, bool, None, timedelta


@dataclass(frozen=True)
class ListLiteral(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Field(Node):
    path: str  # dotted: "vehicle.inspection.started_at", "item.role", "lists.night_desks"


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "not", "-"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # and or == != < <= > >= in notin + - * /
    left: Node
    right: Node


@dataclass(frozen=True)
class IsNull(Node):
    operand: Node
    negated: bool  # "is not null"


# --- tokens --------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<duration>\d+(?:\.\d+)?(?:min|s|h|d)(?![A-Za-z0-9_]))
  | (?P<number>\d+(?:\.\d+)?(?![A-Za-z_]))
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,|\.)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)
KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "true", "false"})
_DURATION_UNITS = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Token:
    kind: str  # duration number string op name keyword end
    text: str
    column: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ParseError(f"unexpected character {text[position]!r}", position, text)
        kind = match.lastgroup or ""
        value = match.group()
        if kind != "space":
            if kind == "name" and value in KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, value, position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# --- parser --------------------------------------------------------------------------------------

_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
MAX_DEPTH = 60  # a rule author never needs more; a hostile text cannot exhaust the stack
MAX_NUMBER_LENGTH = 100  # digits; Python refuses to read an int of more than 4300


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.position = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def at(self, text: str) -> bool:
        token = self.current
        return token.kind in ("op", "keyword") and token.text == text

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise self.error(f"expected {text!r} but found {self.describe(self.current)}")
        return self.advance()

    def error(self, message: str, token: Token | None = None) -> ParseError:
        return ParseError(message, (token or self.current).column, self.text)

    @staticmethod
    def describe(token: Token) -> str:
        return "the end of the condition" if token.kind == "end" else repr(token.text)

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise self.error("the condition is empty")
        node = self.expression()
        if self.current.kind != "end":
            raise self.error(f"unexpected {self.describe(self.current)} after a complete condition")
        return node

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("the condition is nested too deeply")
        try:
            return self.or_()
        finally:
            self.depth -= 1

    def or_(self) -> Node:
        node = self.and_()
        while self.at("or"):
            token = self.advance()
            node = Binary(token.column, "or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.at("and"):
            token = self.advance()
            node = Binary(token.column, "and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.at("not"):
            token = self.advance()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error("the condition is nested too deeply")
            try:
                return Unary(token.column, "not", self.not_())
            finally:
                self.depth -= 1
        return self.comparison()

    def comparison(self) -> Node:
        left = self.sum_()
        token = self.current
        if token.kind == "op" and token.text in _COMPARISONS:
            self.advance()
            return Binary(token.column, token.text, left, self.sum_())
        if self.at("in"):
            self.advance()
            return Binary(token.column, "in", left, self.sum_())
        if self.at("not") and self.tokens[self.position + 1].text == "in":
            self.advance()
            self.advance()
            return Binary(token.column, "notin", left, self.sum_())
        if self.at("is"):
            self.advance()
            negated = False
            if self.at("not"):
                self.advance()
                negated = True
            self.expect("null")
            return IsNull(token.column, left, negated)
        return left

    def sum_(self) -> Node:
        node = self.product()
        while self.current.kind == "op" and self.current.text in ("+", "-"):
            token = self.advance()
            node = Binary(token.column, token.text, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.current.kind == "op" and self.current.text in ("*", "/"):
            token = self.advance()
            node = Binary(token.column, token.text, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.current.kind == "op" and self.current.text == "-":
            token = self.advance()
            self.depth += 1  # `- - - … 1` recurses like brackets do
            if self.depth > MAX_DEPTH:
                raise self.error("the condition is nested too deeply", token)
            try:
                operand = self.unary()
            finally:
                self.depth -= 1
            value = operand.value if isinstance(operand, Literal) else None
            # a bool is an int to Python, but `-true` is no number
            if isinstance(value, int | float | timedelta) and not isinstance(value, bool):
                try:
                    return Literal(token.column, -value)
                except OverflowError:  # -timedelta.max
                    raise self.error("the duration is too long", token) from None
            return Unary(token.column, "-", operand)
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind == "number":
            self.advance()
            if len(token.text) > MAX_NUMBER_LENGTH:
                raise self.error("the number is too long", token)
            return Literal(
                token.column, float(token.text) if "." in token.text else int(token.text)
            )
        if token.kind == "duration":
            self.advance()
            try:
                return Literal(token.column, _duration(token.text))
            except OverflowError:  # past timedelta.max, about 2.7 million years
                raise self.error("the duration is too long", token) from None
        if token.kind == "string":
            self.advance()
            return Literal(token.column, _unquote(token.text))
        if token.kind == "keyword":
            if token.text in ("true", "false", "null"):
                self.advance()
                return Literal(
                    token.column, {"true": True, "false": False, "null": None}[token.text]
                )
            raise self.error(f"{token.text!r} cannot start a value here")
        if token.kind == "op" and token.text == "(":
            self.advance()
            node = self.expression()
            self.expect(")")
            return node
        if token.kind == "op" and token.text == "[":
            return self.list_literal()
        if token.kind == "name":
            return self.name()
        raise self.error(f"expected a value but found {self.describe(token)}")

    def list_literal(self) -> Node:
        start = self.expect("[")
        items: list[Node] = []
        if not self.at("]"):
            items.append(self.expression())
            while self.at(","):
                self.advance()
                items.append(self.expression())
        self.expect("]")
        return ListLiteral(start.column, tuple(items))

    def name(self) -> Node:
        first = self.current
        if first.text.startswith("_"):
            # Python's dunder names are the usual way out of a sandbox; no field or function of
            # ours starts with an underscore, so refuse them outright with a clear message.
            raise self.error(f"names may not start with an underscore: {first.text!r}")
        self.advance()
        if self.at("("):
            self.advance()
            args: list[Node] = []
            if not self.at(")"):
                args.append(self.expression())
                while self.at(","):
                    self.advance()
                    args.append(self.expression())
            self.expect(")")
            return Call(first.column, first.text, tuple(args))
        parts = [first.text]
        while self.at("."):
            self.advance()
            part = self.current
            if part.kind not in ("name", "keyword"):
                raise self.error(f"expected a field name after '.' but found {self.describe(part)}")
            if part.text.startswith("_"):
                raise self.error(f"names may not start with an underscore: {part.text!r}")
            self.advance()
            parts.append(part.text)
        return Field(first.column, ".".join(parts))


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(min|s|h|d)", text)
    assert match is not None  # the tokenizer only produces well-formed durations
    return timedelta(**{_DURATION_UNITS[match.group(2)]: float(match.group(1))})


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def parse(text: str) -> Node:
    """Parse a condition; raises ParseError naming the column and the problem."""
    if not isinstance(text, str):
        raise ParseError("a condition must be text", 0, str(text))
    return _Parser(text).parse()


def fields_of(node: Node) -> set[str]:
    """Every field path the condition reads (item.* paths excluded)."""
    found: set[str] = set()

    def walk(n: Node) -> None:
        if isinstance(n, Field):
            found.add(n.path)
        elif isinstance(n, Binary):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, Unary | IsNull):
            walk(n.operand)
        elif isinstance(n, Call):
            for arg in n.args:
                walk(arg)
        elif isinstance(n, ListLiteral):
            for item in n.items:
                walk(item)

    walk(node)
    return {f for f in found if not f.startswith("item.") and f != "item"}
