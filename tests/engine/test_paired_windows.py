"""A windowed rule with `first`/`within`/`same` counts only the Bs of a sequence match.

A record B meeting `when` enters its key's window once an earlier A meeting `first`, with the
same key and `same` fields, lies in [B.time − within, B.time); an A arriving after its B counts
it then. The hits do not depend on the arrival order.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from auditcage import clock
from auditcage.engine.compiled import compile_ruleset
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.validation import validate_record
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.packs import load_ruleset
from tests.builders import make_record
from tests.engine.ruledir import make_rules_dir

T0 = datetime(2024, 6, 3, 10, 0, tzinfo=clock.SHANGHAI)

PAIRED = """id: VIO-96
name: {{zh: 测试配对窗口, en: Test paired window}}
kind: count
catalogue_kind: Q/C
status: active
severity: orange
{pairing}
when: 'action == "revoke"'
key: operator_id
window: 7d
bands: [{{at_least: 2, severity: orange}}]
message: {{zh: "{{key}} 达到 {{count}}", en: "{{key}} reached {{count}}"}}
examples:
  fires: [{{}}]
  quiet: [{{}}]
"""
PAIRING = """first: 'action == "decide"'
same: serial_no
within: 24h"""


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    text = PAIRED.format(pairing=PAIRING)
    ruleset, compiled = load_rules(make_rules_dir(tmp_path, {"violation/vio_96_pair.yaml": text}))
    return build_engine(ruleset, compiled, ReferenceIndex({}))


def _rec(n: int, serial: str, action: str, hours: float, operator: str = "520133") -> dict:
    at = T0 + timedelta(hours=hours)
    overrides = {
        "record_id": f"violation:pair-{n}",
        "serial_no": serial,
        "action": action,
        "operator_id": operator,
        "action_time": at.isoformat(),
        "accepted_at": (at - timedelta(days=3)).isoformat(),
        "violation.decision.decided_at": at.isoformat(),
    }
    if action == "revoke":
        overrides.update(
            reason_code="self_correction", before={"amount": 200.0}, after={"amount": 0}
        )
    result = validate_record(make_record("violation", **overrides))
    assert result.record is not None, result.rejections
    return result.record


def _hits(engine, records: list[dict]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    evaluator = engine.evaluator()
    out = {}
    for record in records:
        for hit in evaluator.process(record, engine.enricher.enrich(record).derived):
            out[hit.id] = hit.key
    return {k: v for k, v in out.items() if k not in evaluator.superseded}


def test_a_b_counts_only_with_an_a_of_the_same_key_and_same_fields_within_t(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path)
    first_pair = [_rec(1, "S1", "decide", 0), _rec(2, "S1", "revoke", 2)]
    # S2's decision exactly 24 h before its revocation: it counts (A.time = B.time − T)
    assert _hits(engine, [*first_pair, _rec(3, "S2", "decide", 4), _rec(4, "S2", "revoke", 28)])
    # 24 h + 1 s before: it does not
    late = _rec(4, "S2", "revoke", 28 + 1 / 3600)
    assert not _hits(engine, [*first_pair, _rec(3, "S2", "decide", 4), late])
    # an A of another item, or of another operator, pairs with nothing
    assert not _hits(engine, [*first_pair, _rec(3, "S3", "decide", 4), _rec(4, "S2", "revoke", 5)])
    other = _rec(3, "S2", "decide", 4, operator="520140")
    assert not _hits(engine, [*first_pair, other, _rec(4, "S2", "revoke", 5)])
    # Bs alone never count
    assert not _hits(engine, [_rec(2, "S1", "revoke", 2), _rec(4, "S2", "revoke", 5)])


def test_an_a_arriving_after_its_b_counts_the_b_and_fires(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    records = [
        _rec(1, "S1", "decide", 0),
        _rec(2, "S1", "revoke", 2),
        _rec(4, "S2", "revoke", 5),
        _rec(3, "S2", "decide", 4),  # arrives last
    ]
    assert list(_hits(engine, records).values()) == ["operator_id=520133"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_paired_windows_in_any_arrival_order_give_the_hits_of_the_sorted_stream(
    tmp_path: Path, seed: int
) -> None:
    engine = _engine(tmp_path)
    rnd = random.Random(seed)
    records = []
    for n in range(120):
        serial = f"S{rnd.randrange(0, 40)}"
        action = rnd.choice(["decide", "revoke", "revoke"])
        operator = rnd.choice(["520133", "520140"])
        records.append(_rec(n, serial, action, rnd.uniform(0, 24 * 3), operator))
    expected = _hits(engine, sorted(records, key=lambda r: (r["action_time"], r["record_id"])))
    assert len(expected) >= 2  # the scenario does fire (records ≤ 3 days apart: no pruning)
    shuffled = list(records)
    rnd.shuffle(shuffled)
    assert _hits(engine, shuffled) == expected


def _issues(tmp_path: Path, pairing: str) -> list[str]:
    text = PAIRED.format(pairing=pairing)
    directory = make_rules_dir(tmp_path, {"violation/vio_96_pair.yaml": text})
    ruleset, issues = load_ruleset(directory)
    _, compile_issues = compile_ruleset(ruleset)
    return [str(i) for i in [*issues, *compile_issues]]


def test_first_without_within_and_same_without_first_are_refused(tmp_path: Path) -> None:
    (issue,) = _issues(tmp_path / "a", "first: 'action == \"decide\"'")
    assert "vio_96_pair.yaml:7: VIO-96: first: a windowed rule with first needs within" in issue
    (issue,) = _issues(tmp_path / "b", "same: serial_no")
    assert "VIO-96: same: a windowed rule has it only with first" in issue


def test_a_misspelt_field_in_first_is_reported_against_first(tmp_path: Path) -> None:
    (issue,) = _issues(tmp_path, PAIRING.replace("action ==", "acton =="))
    assert "VIO-96: first:" in issue and "did you mean action?" in issue
