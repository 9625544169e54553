"""durable_rules and the Python closures agree on every rule's filter, on a whole province."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import orjson
import pytest

from auditcage import clock
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.demo import generate, write_scenario
from auditcage.engine.compiled import record_rules
from auditcage.engine.filters import DurableFilters
from auditcage.engine.replay import replay
from auditcage.engine.session import build_engine, load_rules
from auditcage.reference.index import ReferenceIndex

AS_OF = datetime(2026, 11, 1, tzinfo=clock.SHANGHAI)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    province = generate(seed=5, start=date(2026, 8, 1), months=3, records_target=2500)
    return write_scenario(province, tmp_path_factory.mktemp("province"))


def _hits(scenario: tuple[Path, Path], filters: str) -> list[dict]:
    reference, records = scenario
    out = io.BytesIO()
    replay(
        [records],
        reference_dir=reference,
        hits_out=out,
        rules_dir=DEFAULT_RULES_DIR,
        as_of=AS_OF,
        filters=filters,
    )
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def test_durable_rules_and_python_filters_give_identical_hits(scenario) -> None:
    python = _hits(scenario, "python")
    durable = _hits(scenario, "durable")
    assert python, "the province has planted cases: some rule must fire"
    assert [h["id"] for h in durable] == [h["id"] for h in python]


def test_the_whole_catalogue_loads_into_durable_rules_at_once() -> None:
    ruleset, compiled = load_rules(DEFAULT_RULES_DIR)
    engine = build_engine(ruleset, compiled, ReferenceIndex({}))
    filters = DurableFilters(record_rules(engine.rules), engine.ctx)
    try:
        assert len(engine.rules) == len(
            [r for r in ruleset.rules if r.status.value in ("active", "testing")]
        )
    finally:
        filters.close()
