"""distance_km and area_unit: the place functions of VIO-06's distance clause (§0.5 item 10)."""

from __future__ import annotations

from typing import Any

import pytest

from auditcage.engine.compile_python import Env, compile_python
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.check import CheckError, check
from auditcage.rulepacks.functions import FUNCTIONS, EvalContext

GUIYANG = (26.6470, 106.6302)
ZUNYI = (27.7256, 106.9272)


def _ctx(units: list[dict[str, Any]] | None = None) -> EvalContext:
    return EvalContext(ReferenceIndex({"units": units or []}))


def _distance(*args: Any) -> Any:
    return FUNCTIONS["distance_km"].impl(_ctx(), *args)  # type: ignore[misc]


def test_distance_is_the_great_circle_in_km() -> None:
    assert _distance(0.0, 0.0, 0.0, 1.0) == pytest.approx(111.195, abs=0.01)  # 1° of the equator
    assert _distance(*GUIYANG, *ZUNYI) == pytest.approx(
        123.5, abs=0.1
    )  # √(119.9² + 29.4²) on the map
    assert _distance(*GUIYANG, *GUIYANG) == 0


@pytest.mark.parametrize("missing", [None, "26.6", True])
def test_distance_with_a_missing_or_non_numeric_coordinate_is_null(missing: Any) -> None:
    assert _distance(missing, 106.63, *ZUNYI) is None


def _unit(code: str, level: str, areas: list[str], parent: str | None = None) -> dict[str, Any]:
    return {
        "unit_code": code,
        "parent_code": parent,
        "level": level,
        "name": code,
        "jurisdiction_area_codes": areas,
    }


def test_area_unit_is_the_lowest_unit_listing_the_area() -> None:
    ctx = _ctx(
        [
            _unit("520000000000", "province", ["520102", "520103"]),
            _unit("520100000000", "detachment", ["520102", "520103"], "520000000000"),
            _unit("520102000000", "brigade", ["520102"], "520100000000"),
        ]
    )
    area_unit = FUNCTIONS["area_unit"].impl
    assert area_unit(ctx, "520102") == "520102000000"  # type: ignore[misc]
    assert area_unit(ctx, "520103") == "520100000000"  # type: ignore[misc]
    assert area_unit(ctx, "520199") is None  # type: ignore[misc]
    assert area_unit(ctx, None) is None  # type: ignore[misc]


def test_a_rule_compares_units_by_distance() -> None:
    units = [
        {**_unit("520102000000", "brigade", ["520102"]), "lat": GUIYANG[0], "lon": GUIYANG[1]},
        {**_unit("520302000000", "brigade", ["520302"]), "lat": ZUNYI[0], "lon": ZUNYI[1]},
    ]
    condition = compile_python(
        check(
            'distance_km(lookup("units", unit_code, "lat"), lookup("units", unit_code, "lon"), '
            'lookup("units", area_unit(violation.location_code), "lat"), '
            'lookup("units", area_unit(violation.location_code), "lon")) > 100'
        )
    )
    record = {"unit_code": "520302000000", "violation": {"location_code": "520102"}}
    assert condition(Env(record, {}, _ctx(units)))
    record["unit_code"] = "520102000000"
    assert not condition(Env(record, {}, _ctx(units)))


def test_distance_km_takes_numbers_only() -> None:
    with pytest.raises(CheckError):
        check('distance_km("a", 1, 2, 3) > 1')
