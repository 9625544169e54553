"""The streaming form equals the frame form: `step` over any cut of a group's records into
micro-batches, its state serialised between them, then `on_deadline` at the sweep instant,
reports the hits `replay_group` reports for the whole group, on a scenario with keys through
lists, key_near, sequences, absences and windows."""

from __future__ import annotations

import io
import random
from pathlib import Path

import orjson
import pandas as pd
import pytest

from auditcage.cluster.families import EVENT
from auditcage.cluster.partition import GroupContext, explode, replay_group
from auditcage.cluster.run import as_of_of, records_frame
from auditcage.cluster.step import StateMismatch, dump_state, load_state, on_deadline, owned, step
from auditcage.engine.replay import ReplaySummary, replay, valid_records
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.validation import revive
from auditcage.reference.service import index_from_directory

RULES = Path(__file__).resolve().parents[2] / "rules"
PLANTS = ["ACC-05", "ACC-06", "VEH-01", "CP-37", "CP-41", "CP-19", "CP-13", "LIC-03", "LIC-13"]


@pytest.fixture(scope="module")
def groups(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from auditcage.demo.scenario import generate
    from auditcage.demo.writer import write_scenario

    province = generate(seed=11, records_target=200, plants=PLANTS)
    reference_dir, records_path = write_scenario(province, tmp_path_factory.mktemp("step"))
    out = io.BytesIO()
    replay([records_path], reference_dir=reference_dir, hits_out=out, rules_dir=RULES)
    ruleset, compiled = load_rules(RULES)
    records = [r for _, _, r in valid_records([records_path], ReplaySummary())]
    engine = build_engine(ruleset, compiled, index_from_directory(reference_dir))
    ctx = GroupContext.of(engine, as_of_of(records, None), buckets=4)
    exploded = explode(ctx, records_frame(records))
    return ctx, list(exploded.groupby(["family", "bucket"], sort=False))


def _rows(frame: pd.DataFrame) -> list[tuple[int, dict]]:
    pairs = zip(frame["seq"], frame["payload"], strict=True)
    return [(int(seq), revive(orjson.loads(payload))) for seq, payload in pairs]


def _streamed(
    ctx: GroupContext, name: str, bucket: int, frame: pd.DataFrame, seed: int
) -> list[str]:
    family = ctx.plan.family(name)
    unique = frame.drop_duplicates("seq").sort_values(["at_us", "seq"])
    rows = _rows(unique)
    rng = random.Random(seed)
    state: bytes | None = None
    hits = []
    start = 0
    while start < len(rows):  # micro-batches of 1 to 40 records, cut at random
        end = start + rng.randint(1, 40)
        state, found = step(ctx, family, state, rows[start:end])
        hits += found
        start = end
    _, swept = on_deadline(ctx, family, state, ctx.as_of)
    return sorted(
        orjson.dumps(h.as_json()).decode() for h in owned(ctx, family, bucket, hits + swept)
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_any_micro_batch_cut_reports_the_frame_forms_hits(groups, seed: int) -> None:  # type: ignore[no-untyped-def]
    ctx, by_group = groups
    total = 0
    for (name, bucket), frame in by_group:
        expected = sorted(replay_group(ctx, frame)["line"])
        assert _streamed(ctx, name, int(bucket), frame, seed) == expected, name
        total += len(expected)
    assert total > 20  # not vacuous: the planted cases fire in several families
    assert len({name for (name, _), _ in by_group}) > 10


def test_a_state_names_its_rules_and_another_familys_rules_refuse_it(groups) -> None:  # type: ignore[no-untyped-def]
    ctx, by_group = groups
    (name, _), frame = next(((k, f) for k, f in by_group if k[0] != EVENT and len(f) > 3))
    family = ctx.plan.family(name)
    rows = _rows(frame)
    state, _ = step(ctx, family, None, rows)
    assert load_state(ctx, family, state).watermark == max(r["action_time"] for _, r in rows)
    other = next(f for f in ctx.plan.families if f.name not in (name, EVENT) and not f.whole)
    if set(r.uid for r in other.rules) & set(r.uid for r in family.rules):
        pytest.fail("families share no rule")
    with pytest.raises(StateMismatch, match="names rule"):
        load_state(ctx, other, state)


def test_a_state_holds_no_compiled_rule_or_reference(groups) -> None:  # type: ignore[no-untyped-def]
    ctx, by_group = groups
    (name, _), frame = max(by_group, key=lambda item: len(item[1]))
    family = ctx.plan.family(name)
    rows = _rows(frame)
    state, _ = step(ctx, family, None, rows)
    group = load_state(ctx, family, state)
    assert group.evaluator.rules[0] is family.rules[0]  # reattached, not a copy
    assert group.evaluator.ctx is ctx.engine.ctx
    assert len(dump_state(group)) == len(state)
