"""The streaming form equals the frame form: `step` over any cut of a group's records into
micro-batches, its state serialised between them, then `on_deadline` at the sweep instant,
reports the hits `replay_group` reports for the whole group, on a scenario with keys through
lists, key_near, sequences, absences and windows."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest

from auditcage import clock
from auditcage.cluster.families import EVENT, Family, FamilyPlan
from auditcage.cluster.partition import GroupContext, explode, replay_group
from auditcage.cluster.run import as_of_of, records_frame
from auditcage.cluster.step import StateMismatch, dump_state, load_state, on_deadline, owned, step
from auditcage.engine.examples import _as_of, example_reference, run_example
from auditcage.engine.replay import ReplaySummary, evaluate, replay, valid_records
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.validation import revive, validate_record
from auditcage.reference.service import index_from_directory
from auditcage.rulepacks.model import Kind

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
    ctx: GroupContext, name: str, bucket: int, frame: pd.DataFrame, seed: int, sweeps: bool
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
        if sweeps:  # as a stream sweeps: just before the latest event time it has seen
            latest = max(r["action_time"] for _, r in rows[start:end])
            state, found = on_deadline(ctx, family, state, latest - timedelta(microseconds=1))
            hits += found
        start = end
    _, swept = on_deadline(ctx, family, state, ctx.as_of)
    final = {h.id: h for h in owned(ctx, family, bucket, hits + swept)}  # the sink keeps the last
    return sorted(orjson.dumps(h.as_json()).decode() for h in final.values())


@pytest.mark.parametrize(("seed", "sweeps"), [(0, False), (1, False), (2, True), (3, True)])
def test_any_micro_batch_cut_reports_the_frame_forms_hits(groups, seed: int, sweeps: bool) -> None:  # type: ignore[no-untyped-def]
    """With `sweeps`, deadlines are also swept after every micro-batch, as event time passes:
    a step done after its deadline fired re-emits the hit with the delay (same id)."""
    ctx, by_group = groups
    total = 0
    for (name, bucket), frame in by_group:
        expected = sorted(replay_group(ctx, frame)["line"])
        assert _streamed(ctx, name, int(bucket), frame, seed, sweeps) == expected, name
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


def _late_step_examples() -> list[tuple[Any, Any, Any]]:
    """(ruleset, rule, example) of every shipped example whose missed deadline is met later."""
    ruleset, compiled = load_rules(RULES)
    found = []
    for rule in compiled:
        if rule.rule.kind is not Kind.ABSENCE:
            continue
        for example in rule.rule.examples:
            result = run_example(rule, example, ruleset)
            if result.passed and any("delay_s" in hit.detail for hit in result.hits):
                found.append((ruleset, rule, example))
    return found


def test_a_step_arriving_after_its_deadline_fired_re_emits_the_hit_with_the_delay() -> None:
    """Each record its own micro-batch, deadlines swept just before each: the deadline fires
    before its late step arrives, and the hit the sink keeps carries the delay, as the frame
    form's."""
    examples = _late_step_examples()
    assert examples, "the catalogue has examples of steps done after their deadline"
    for ruleset, rule, example in examples:
        records = [validate_record(raw, now=clock.now()).record for raw in example.records]
        engine = build_engine(ruleset, [rule], example_reference(example))
        as_of = _as_of(example.as_of) or max(r["action_time"] for r in records)
        expected = {h.id: h for h in evaluate(engine, records, as_of=as_of)}
        family = Family("test", tuple(rule.rule.key), (rule,))
        ctx = GroupContext(engine, FamilyPlan((family,), ()), as_of, buckets=1)
        state, streamed = None, {}
        for seq, record in enumerate(records):
            # other keys' records moved event time on to just before this one: swept there
            swept_at = record["action_time"] - timedelta(microseconds=1)
            state, swept = on_deadline(ctx, family, state, swept_at)
            state, hits = step(ctx, family, state, [(seq, record)])
            streamed |= {h.id: h for h in swept + hits}
        state, swept = on_deadline(ctx, family, state, as_of)
        streamed |= {h.id: h for h in swept}
        assert {i: h.detail for i, h in streamed.items()} == {
            i: h.detail for i, h in expected.items()
        }, rule.uid
