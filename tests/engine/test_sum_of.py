"""sum_of(list, expr): the sum of the non-null numbers over the elements, null when none."""

from __future__ import annotations

from typing import Any

import pytest

from auditcage.engine.compile_python import Env, PyCompiler
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.check import CheckError, check
from auditcage.rulepacks.functions import EvalContext

CTX = EvalContext(ReferenceIndex({}))


def _value(text: str, record: dict[str, Any]) -> Any:
    checked = check(text, lists={}, condition=False)
    return PyCompiler(checked).value(checked.node)(Env(record, {}, CTX))


def _parties(*results: float | None) -> dict[str, Any]:
    return {"accident": {"parties": [{"alcohol_test": {"result_mg_100ml": r}} for r in results]}}


SUM = "sum_of(accident.parties, item.alcohol_test.result_mg_100ml)"


def test_sum_of_adds_every_element_not_only_the_extremes() -> None:
    assert _value(SUM, _parties(50.0, 60.0, 100.0)) == 210.0
    assert _value(SUM, _parties(7.5)) == 7.5


def test_sum_of_skips_null_values_and_is_null_with_none_to_add() -> None:
    assert _value(SUM, _parties(20.0, None, 30.0)) == 50.0
    assert _value(SUM, _parties(None, None)) is None
    assert _value(SUM, {"accident": {"parties": []}}) is None
    assert _value(SUM, {}) is None


def test_sum_of_is_typed_as_a_number() -> None:
    assert check(SUM, lists={}, condition=False).type.type == "number"
    with pytest.raises(CheckError):
        check(f'{SUM} > "abc"', lists={})


def test_sum_of_refuses_a_value_that_is_no_number() -> None:
    with pytest.raises(CheckError, match=r"sum_of\(\) needs a number to add up, not a string"):
        check("sum_of(accident.parties, item.id_no) > 1", lists={})
