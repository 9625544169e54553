"""Replay sorts in bounded memory: records spilled in sorted runs and merged back come out in
the same order and shape as when held at once, and give the same hits."""

from __future__ import annotations

import io
import random
from datetime import date, datetime
from pathlib import Path

import orjson
import pytest

from auditcage import clock
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.demo import generate, write_scenario
from auditcage.engine.replay import ReplaySummary, replay, sorted_valid_records, valid_records

AS_OF = datetime(2026, 11, 1, tzinfo=clock.SHANGHAI)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    province = generate(seed=7, start=date(2026, 8, 1), months=3, records_target=2000)
    return write_scenario(province, tmp_path_factory.mktemp("province"))


@pytest.fixture(scope="module")
def shuffled(scenario: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario's records out of event-time order, with invalid lines between them."""
    _, records = scenario
    lines = records.read_bytes().splitlines()
    random.Random(3).shuffle(lines)
    lines[10:10] = [b"{not json", b'{"record_id": "x"}']
    path = tmp_path_factory.mktemp("shuffled") / "records.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_spilled_runs_merge_to_the_order_and_records_held_in_memory(shuffled: Path) -> None:
    held_summary, spilled_summary = ReplaySummary(), ReplaySummary()
    held = [r for _, _, r in valid_records([shuffled], held_summary, now=AS_OF)]
    spilled = list(sorted_valid_records([shuffled], spilled_summary, now=AS_OF, spill_at=97))
    assert len(held) > 97 * 5, "enough records for several spilled runs"
    assert [r["record_id"] for r in spilled] == [r["record_id"] for r in held]
    assert spilled == held  # datetimes and dates revived, nothing lost or added
    assert spilled_summary == held_summary
    assert spilled_summary.quarantined == 2


def test_ties_in_action_time_keep_their_input_order_across_runs(
    scenario: tuple[Path, Path], tmp_path: Path
) -> None:
    """Records with the same action_time, spread over several runs, stay in file order."""
    _, records = scenario
    template = orjson.loads(records.read_bytes().splitlines()[0])
    lines = []
    for i in range(30):
        record = {**template, "record_id": f"{template['record_id']}-tie{i:02d}"}
        lines.append(orjson.dumps(record))
    path = tmp_path / "ties.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = list(sorted_valid_records([path], ReplaySummary(), now=AS_OF, spill_at=4))
    assert [r["record_id"] for r in out] == [orjson.loads(line)["record_id"] for line in lines]


def test_a_replay_that_spills_writes_the_same_hits(
    shuffled: Path, scenario: tuple[Path, Path], tmp_path: Path
) -> None:
    reference, _ = scenario
    part = tmp_path / "part.ndjson"  # a third of the province keeps the two replays short
    part.write_bytes(b"\n".join(shuffled.read_bytes().splitlines()[:1000]) + b"\n")
    outputs = []
    for spill_at in (1_000_000, 150):
        out = io.BytesIO()
        summary = replay(
            [part],
            reference_dir=reference,
            hits_out=out,
            rules_dir=DEFAULT_RULES_DIR,
            as_of=AS_OF,
            spill_at=spill_at,
        )
        outputs.append((out.getvalue(), summary.as_of))
    (held, held_as_of), (spilled, spilled_as_of) = outputs
    assert held.count(b"\n") >= 5, "the province has planted cases: rules fire"
    assert spilled == held
    assert spilled_as_of == held_as_of == AS_OF
