"""marshmallow fields of the record contract, whose errors carry a stable problem code.

Every error these fields raise is a `Reason`: a `str` (so marshmallow stores and merges it as
usual) that also carries `code`. `validation.problems_from()` turns the nested error dict into
dotted-path problems. A reason may hold the placeholder `{path}`, which is replaced by the
field's dotted path there, because a field does not know where it is nested.

Optional fields accept null (catalogue §7.1: an empty CSV cell is null). Required fields reject
null and, for strings, the empty string (§0.2 item 5: an empty key never matches anything).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from re import Pattern
from typing import Any, ClassVar

from marshmallow import ValidationError, fields

from auditcage import clock

PATH = "{path}"

# marshmallow error key → problem code.
_CODE_BY_KEY: dict[str, str] = {
    "required": "missing_field",
    "null": "missing_field",
    "special": "non_finite",
}


class Reason(str):
    """An error message with its stable problem code."""

    code: str

    def __new__(cls, code: str, text: str) -> Reason:
        reason = super().__new__(cls, text)
        reason.code = code
        return reason


def reject(code: str, text: str) -> ValidationError:
    return ValidationError(Reason(code, text))


class _Coded:
    """Mixin: optional fields allow null; marshmallow's own errors become Reasons."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "required": "missing required field",
        "null": "missing required field (it is null)",
        "validator_failed": "invalid value",
    }

    def __init__(self, *args: Any, required: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", not required)
        super().__init__(*args, required=required, **kwargs)  # type: ignore[call-arg]

    def make_error(self, key: str, **kwargs: Any) -> ValidationError:
        error: ValidationError = super().make_error(key, **kwargs)  # type: ignore[misc]
        messages = error.messages
        text = messages[0] if isinstance(messages, list) else str(messages)
        return reject(_CODE_BY_KEY.get(key, "bad_type"), str(text))


class Raw(_Coded, fields.Raw):
    """A value the contract leaves untyped; kept as it came."""


class Text(_Coded, fields.String):
    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "expected a string"}

    def __init__(
        self, *, max_length: int | None = None, pattern: Pattern[str] | None = None, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.max_length = max_length
        self.pattern = pattern

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kw)
        if self.required and not text.strip():
            raise self.make_error("required")
        if self.max_length is not None and len(text) > self.max_length:
            raise reject(
                "too_long", f"{PATH} is {len(text)} characters long (limit {self.max_length})"
            )
        if self.pattern is not None and not self.pattern.fullmatch(text):
            raise reject("bad_format", f"{text!r} does not match {self.pattern.pattern}")
        return text


def _listing(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values)


class Choice(Text):
    """A closed enum (§1.7: an unknown value is quarantined). An empty optional value is null."""

    def __init__(self, values: Iterable[str], **kw: Any) -> None:
        super().__init__(**kw)
        self.values = tuple(str(v) for v in values)
        self._allowed = frozenset(self.values)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kw)
        if text in self._allowed:
            return text
        if text == "":
            return None
        raise reject(
            "unknown_enum",
            f"unknown value {text!r} for {PATH}; expected one of {_listing(self.values)}",
        )


class Letters(Text):
    """One or more status letters of a closed alphabet (GA/T 16 licence status)."""

    def __init__(self, alphabet: Iterable[str], **kw: Any) -> None:
        super().__init__(**kw)
        self.alphabet = frozenset(alphabet)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kw)
        unknown = sorted(set(text) - self.alphabet)
        if unknown:
            raise reject(
                "unknown_enum",
                f"unknown letter {''.join(unknown)!r} in {PATH}; "
                f"expected letters of {''.join(sorted(self.alphabet))}",
            )
        return text


class Integer(_Coded, fields.Integer):
    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "expected an integer",
        "too_large": "number too large",
    }

    def __init__(
        self,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        range_code: str = "out_of_range",
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.minimum, self.maximum, self.range_code = minimum, maximum, range_code

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        # marshmallow's non-strict Integer truncates 6.5 to 6; a fractional count is an error.
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        number = super()._deserialize(value, attr, data, **kw)
        low, high = self.minimum, self.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            if high is None:
                raise reject(self.range_code, f"{PATH} is {number}; it must be at least {low}")
            raise reject(self.range_code, f"{PATH} is {number}, outside {low}..{high}")
        return number


class IntChoice(Integer):
    def __init__(self, values: Iterable[int], **kw: Any) -> None:
        super().__init__(**kw)
        self.values = tuple(int(v) for v in values)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        number = super()._deserialize(value, attr, data, **kw)
        if number not in self.values:
            raise reject(
                "unknown_enum",
                f"unknown value {number!r} for {PATH}; expected one of {_listing(self.values)}",
            )
        return number


class Number(_Coded, fields.Float):
    """A finite float (decimals arrive as JSON numbers)."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "expected a number",
        "too_large": "number too large",
        "special": "nan and infinity are not allowed",
    }

    def __init__(self, **kw: Any) -> None:
        super().__init__(allow_nan=False, **kw)


class Flag(_Coded, fields.Boolean):
    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "expected true or false"}


class Timestamp(_Coded, fields.Raw):
    """ISO-8601 datetime; naive values are Asia/Shanghai (§0.2 item 1). Loads aware, in Shanghai."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> datetime:
        if isinstance(value, datetime):
            return clock.to_shanghai(value)
        # Ten characters is a bare date: a timestamp without a time would misplace every
        # working-hours and sequence rule, so it is not guessed at.
        if isinstance(value, str) and len(value) > 10:
            try:
                return clock.to_shanghai(datetime.fromisoformat(value))
            except ValueError:
                pass
        raise reject("bad_datetime", f"{value!r} is not an ISO-8601 date and time")


class Day(_Coded, fields.Raw):
    """ISO-8601 date. A full timestamp is accepted and taken as its Shanghai calendar day."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> date:
        if isinstance(value, datetime):
            return clock.to_shanghai(value).date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                if len(value) <= 10:
                    return date.fromisoformat(value)
                return clock.to_shanghai(datetime.fromisoformat(value)).date()
            except ValueError:
                pass
        raise reject("bad_date", f"{value!r} is not an ISO-8601 date")


class Items(_Coded, fields.List):
    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "expected a list"}


class Object(_Coded, fields.Dict):
    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "expected an object"}


class Block(_Coded, fields.Nested):
    default_error_messages: ClassVar[dict[str, str]] = {"type": "expected an object"}


def texts(**kw: Any) -> Items:
    return Items(Text(), **kw)


def choices(values: Iterable[str], **kw: Any) -> Items:
    return Items(Choice(values), **kw)


def blocks(schema: type, **kw: Any) -> Items:
    return Items(Block(schema), **kw)


def is_present(value: Any) -> bool:
    """False for what §0.2 item 5 calls null or empty: missing, None, "" and empty containers."""
    if value is None:
        return False
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) > 0
    return True
