"""Rate rules (kind R): periods, n_min, peer statistics, consecutive periods, replay = worker."""

from __future__ import annotations

import copy
import io
import math
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Hit
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.engine import rates
from auditcage.engine.examples import example_reference
from auditcage.engine.hits import HitDraft
from auditcage.engine.replay import evaluate, replay
from auditcage.engine.session import build_engine, load_rules
from auditcage.records.validation import validate_record
from auditcage.rulepacks.packs import load_ruleset

SH = clock.SHANGHAI
LIC04 = "licence/lic_04_examiner_pass_rate_outlier.yaml"
KEY = "license.exam.examiner_ids={};license.exam.subject=2"


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The licence pack's LIC-04 alone, beside the shipped example data."""
    root = tmp_path_factory.mktemp("rates") / "rules"
    shutil.copytree(DEFAULT_RULES_DIR / "examples", root / "examples")
    (root / "licence").mkdir()
    shutil.copy(DEFAULT_RULES_DIR / "licence" / "pack.yaml", root / "licence" / "pack.yaml")
    shutil.copy(DEFAULT_RULES_DIR / LIC04, root / LIC04)
    return root


@pytest.fixture(scope="module")
def setup(rules_dir: Path) -> tuple[Any, Any, Any]:
    ruleset, compiled = load_rules(rules_dir)
    (rule,) = compiled
    ref = example_reference(rule.rule.examples[0])  # the examiners 520301…520307 in R2
    return ruleset, rule, ref


def _template(rule: Any) -> dict[str, Any]:
    return copy.deepcopy(dict(rule.rule.examples[0].records[0]))


def exam(rule: Any, examiner: str, result: str, at: str | datetime, n: int, **extra: Any) -> dict:
    record = _template(rule)
    record["record_id"] = f"exam:{examiner}:{n}:{at}"
    record["serial_no"] = f"S-{examiner}-{n}"
    record["operator_id"] = examiner
    record["action_time"] = at if isinstance(at, str) else at.isoformat()
    record["license"]["exam"] = {
        "subject": extra.pop("subject", 2),
        "attempt": 1,
        "venue_id": "GY-KC-01",
        "exam_vehicle_id": "EV-03",
        "examiner_ids": [examiner],
        "result": result,
    }
    record.update(extra)
    checked = validate_record(record, now=clock.now())
    assert checked.record is not None and not checked.rejections, checked.rejections
    return checked.record


def batch(rule: Any, examiner: str, passes: int, total: int, month: str) -> list[dict]:
    start = datetime.fromisoformat(f"{month}-01T08:00:00+08:00")
    return [
        exam(rule, examiner, "pass" if i < passes else "fail", start + timedelta(hours=2 * i), i)
        for i in range(total)
    ]


def peers(rule: Any, month: str) -> list[dict]:
    return [r for e in ("520302", "520303", "520304") for r in batch(rule, e, 30, 50, month)]


def run(setup: Any, records: list[dict], as_of: str) -> list[HitDraft]:
    ruleset, rule, ref = setup
    engine = build_engine(ruleset, [rule], ref)
    ordered = sorted(records, key=lambda r: r["action_time"])
    return list(evaluate(engine, ordered, as_of=datetime.fromisoformat(as_of)))


# --- periods --------------------------------------------------------------------------------


def test_calendar_periods_in_shanghai() -> None:
    last = datetime(2024, 3, 31, 23, 59, 59, tzinfo=SH)
    assert rates.period_start(last, "month") == datetime(2024, 3, 1, tzinfo=SH)
    assert rates.period_start(last + timedelta(seconds=1), "month") == datetime(
        2024, 4, 1, tzinfo=SH
    )
    assert rates.period_end(datetime(2024, 12, 1, tzinfo=SH), "month") == datetime(
        2025, 1, 1, tzinfo=SH
    )
    # 16:00 UTC is midnight in Shanghai: the next day, month and quarter
    utc = datetime.fromisoformat("2024-03-31T16:00:00+00:00")
    assert rates.period_start(utc, "quarter") == datetime(2024, 4, 1, tzinfo=SH)
    assert rates.period_label(rates.period_start(utc, "quarter"), "quarter") == "2024-Q2"
    # ISO weeks start on Monday; 2024-03-03 is a Sunday
    sunday = datetime(2024, 3, 3, 12, tzinfo=SH)
    assert rates.period_start(sunday, "week") == datetime(2024, 2, 26, tzinfo=SH)
    assert rates.period_label(datetime(2024, 2, 26, tzinfo=SH), "week") == "2024-W09"
    assert rates.period_end(datetime(2024, 2, 26, tzinfo=SH), "week") == datetime(
        2024, 3, 4, tzinfo=SH
    )
    day = rates.period_start(sunday, "rolling_30d")
    assert rates.window_start(day, "rolling_30d") == datetime(2024, 2, 3, tzinfo=SH)  # leap year
    assert rates.previous_start(datetime(2024, 1, 1, tzinfo=SH), "quarter") == datetime(
        2023, 10, 1, tzinfo=SH
    )


@pytest.mark.parametrize(
    ("last_exam", "fires"),
    [("2024-03-31T23:59:59+08:00", True), ("2024-04-01T00:00:00+08:00", False)],
)
def test_the_last_second_of_the_month_is_in_it_midnight_is_not(setup, last_exam, fires) -> None:
    rule = setup[1]
    records = batch(rule, "520301", 40, 49, "2024-03") + peers(rule, "2024-03")
    records.append(exam(rule, "520301", "fail", last_exam, 99))  # the 50th exam (n_min)
    hits = [h for h in run(setup, records, "2024-04-01T00:00:00+08:00")]
    assert bool(hits) is fires
    if fires:
        (hit,) = hits
        assert hit.detail["n"] == 50 and hit.detail["rate"] == 0.8
        assert hit.at == datetime(2024, 4, 1, tzinfo=SH)  # the first instant after March
        assert hit.key == KEY.format("520301") and hit.kind == "R"
        assert hit.anchor == "period:2024-03" and hit.unit_code == "520100000400"
        assert len(hit.record_ids) == 50 and "80.0%" in hit.message and "60.0%" in hit.message


def test_n_min_minus_one_is_quiet_n_min_fires(setup) -> None:
    rule = setup[1]
    quiet = batch(rule, "520301", 49, 49, "2024-03") + peers(rule, "2024-03")
    assert run(setup, quiet, "2024-04-01T00:00:00+08:00") == []
    loud = batch(rule, "520301", 40, 50, "2024-03") + peers(rule, "2024-03")
    assert len(run(setup, loud, "2024-04-01T00:00:00+08:00")) == 1


def test_a_period_closes_only_once_it_has_ended(setup) -> None:
    rule = setup[1]
    records = batch(rule, "520301", 40, 50, "2024-03") + peers(rule, "2024-03")
    assert run(setup, records, "2024-03-31T23:59:59+08:00") == []
    assert len(run(setup, records, "2024-04-01T00:00:00+08:00")) == 1


# --- statistics -----------------------------------------------------------------------------


def test_peer_median_and_z_agree_with_a_direct_pandas_computation(setup) -> None:
    ruleset, rule, ref = setup
    rng = np.random.default_rng(7)
    examiners = [f"5203{i:02d}" for i in range(1, 10)]
    sizes = {e: int(rng.integers(40, 90)) for e in examiners}
    records = []
    for e in examiners:
        p = float(rng.uniform(0.4, 0.95))
        start = datetime(2024, 3, 1, 8, tzinfo=SH)
        for i in range(sizes[e]):
            result = "pass" if rng.random() < p else "fail"
            records.append(exam(rule, e, result, start + timedelta(hours=7 * i), i))
    engine = build_engine(ruleset, [rule], ref)
    evaluator = engine.evaluator()
    for record in sorted(records, key=lambda r: r["action_time"]):
        evaluator.process(record, engine.enricher.enrich(record).derived)
    start = datetime(2024, 3, 1, tzinfo=SH)
    rows = evaluator.rates._periods[rule.uid][start].rows
    _, stats = evaluator.rates.statistics(rule, start, rows)
    got = stats.set_index("key")

    direct = pd.DataFrame(
        [
            (r["license"]["exam"]["examiner_ids"][0], r["license"]["exam"]["result"] == "pass")
            for r in records
        ],
        columns=["examiner", "passed"],
    )
    per = direct.groupby("examiner")["passed"].agg(["size", "mean"])
    qualifying = per[per["size"] >= 50]
    for examiner, row in per.iterrows():
        others = qualifying.drop(index=examiner, errors="ignore")["mean"]
        key = KEY.format(examiner)
        assert got.at[key, "n"] == row["size"]
        assert got.at[key, "rate"] == pytest.approx(row["mean"], abs=1e-9)
        assert got.at[key, "peer_n"] == len(others)
        assert got.at[key, "peer_median"] == pytest.approx(others.median(), abs=1e-9)
        assert got.at[key, "peer_p99"] == pytest.approx(others.quantile(0.99), abs=1e-9)
        z = (row["mean"] - others.mean()) / others.std()  # sample std, as pandas
        assert got.at[key, "z"] == pytest.approx(z, abs=1e-8)
    hits = evaluator.sweep(datetime(2024, 4, 1, tzinfo=SH))
    fired = {h.key for h in hits}
    expected = {
        k
        for k, r in got.iterrows()
        if r["n"] >= 50 and ((r["diff_median"] >= 0.2) or (r["z"] >= 3))
    }
    assert fired == expected


def test_two_consecutive_months_raise_the_severity_and_a_gap_resets_it(setup) -> None:
    rule = setup[1]
    high = lambda m: batch(rule, "520301", 40, 50, m) + peers(rule, m)  # noqa: E731
    low = lambda m: batch(rule, "520301", 30, 50, m) + peers(rule, m)  # noqa: E731
    records = high("2024-03") + high("2024-04") + high("2024-05") + low("2024-06") + high("2024-07")
    hits = run(setup, records, "2024-08-01T00:00:00+08:00")
    got = [(h.anchor, h.severity, h.upgrade) for h in hits]
    assert got == [
        ("period:2024-03", "yellow", False),
        ("period:2024-04", "orange", True),
        ("period:2024-05", "orange", False),  # consecutive is capped at lookback + 1 = 2
        ("period:2024-07", "yellow", False),
    ]
    assert hits[1].detail["consecutive"] == 2 and hits[1].detail["previous_rate"] == 0.8
    assert hits[1].at == datetime(2024, 5, 1, tzinfo=SH)


def test_an_examiner_unknown_to_r2_belongs_to_the_root_unit(setup) -> None:
    rule = setup[1]
    records = batch(rule, "529999", 45, 50, "2024-03") + peers(rule, "2024-03")
    (hit,) = run(setup, records, "2024-04-01T00:00:00+08:00")
    assert hit.key == KEY.format("529999") and hit.unit_code == "520000000000"


def test_a_late_record_reopens_its_closed_period(setup) -> None:
    ruleset, rule, ref = setup
    engine = build_engine(ruleset, [rule], ref)
    evaluator = engine.evaluator()
    records = batch(rule, "520301", 40, 50, "2024-03") + peers(rule, "2024-03")
    for record in sorted(records, key=lambda r: r["action_time"]):
        evaluator.process(record, engine.enricher.enrich(record).derived)
    (first,) = evaluator.sweep(datetime(2024, 4, 1, 1, tzinfo=SH))
    assert evaluator.sweep(datetime(2024, 4, 2, tzinfo=SH)) == []  # closes once
    late = [exam(rule, "520301", "fail", f"2024-03-31T22:0{i}:00+08:00", 200 + i) for i in range(5)]
    for record in late:
        evaluator.process(record, engine.enricher.enrich(record).derived, late=True)
    assert evaluator.sweep(datetime(2024, 4, 2, tzinfo=SH)) == []  # 40/55: no longer fires
    assert first.id in evaluator.superseded


def test_rate_rule_fields_are_validated_with_the_field_named(tmp_path: Path) -> None:
    root = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR / "examples", root / "examples")
    (root / "licence").mkdir()
    shutil.copy(DEFAULT_RULES_DIR / "licence" / "pack.yaml", root / "licence" / "pack.yaml")
    text = (DEFAULT_RULES_DIR / LIC04).read_text(encoding="utf-8")
    for broken, field in (
        (text.replace("period: month", "period: fortnight"), "period"),
        (text.replace("n_min: 50\n", ""), "n_min"),
        (
            text.replace("staff_key: license.exam.examiner_ids", "staff_key: operator_id"),
            "staff_key",
        ),
        (text.replace("kind: rate", "kind: count"), "group"),
    ):
        (root / LIC04).write_text(broken, encoding="utf-8")
        _, issues = load_ruleset(root)
        assert field in {i.field for i in issues}, issues
    (root / LIC04).write_text(text.replace("diff_median >= 0.20", "diff_mediam >= 0.20"), "utf-8")
    with pytest.raises(Exception, match=r"fires_when.*diff_median"):
        load_rules(root)


# --- replay and worker ----------------------------------------------------------------------


def _write_reference(directory: Path, ref_rows: dict[str, list[dict]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for dataset in ("units", "staff"):
        lines = [orjson.dumps(row).decode() for row in ref_rows[dataset]]
        (directory / f"{dataset}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


@pytest.mark.db
def test_replay_and_a_restarted_worker_agree_and_close_each_period_once(
    committing_engine: Engine, setup, rules_dir: Path, tmp_path: Path
) -> None:
    from auditcage.engine.runner import RecordWorker
    from auditcage.records.intake import accept_batch
    from auditcage.reference import service
    from auditcage.storage.session import make_session_factory

    rule = setup[1]
    example = rule.rule.examples[0]
    reference = _write_reference(tmp_path / "reference", example.reference)
    records = []
    for month, passes in (("2024-03", 40), ("2024-04", 40), ("2024-05", 30), ("2024-06", 45)):
        records += batch(rule, "520301", passes, 50, month) + peers(rule, month)
    records.sort(key=lambda r: r["action_time"])
    path = tmp_path / "records.ndjson"
    path.write_bytes(b"".join(orjson.dumps(_raw(r)) + b"\n" for r in records))
    as_of = datetime(2024, 7, 1, tzinfo=SH)

    out = io.BytesIO()
    replay([path], reference_dir=reference, hits_out=out, rules_dir=rules_dir, as_of=as_of)
    replayed = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert [(h["at"], h["severity"]) for h in replayed] == [
        ("2024-04-01T00:00:00+08:00", "yellow"),
        ("2024-05-01T00:00:00+08:00", "orange"),
        ("2024-07-01T00:00:00+08:00", "yellow"),
    ]

    sessions = make_session_factory(committing_engine)
    with sessions.begin() as session:
        service.load_directory(session, reference, actor="test")
    half = len(records) // 2 + 37  # stops in the middle of April
    raws = [(n, _raw(r)) for n, r in enumerate(records, 1)]
    with sessions.begin() as session:
        accept_batch(session, raws[:half], source="test")
    reached = records[half - 1]["action_time"]
    RecordWorker(sessions, rules_dir=rules_dir, batch_size=120).run_once(as_of=reached)
    with sessions.begin() as session:
        accept_batch(session, raws[half:], source="test")
    again = RecordWorker(sessions, rules_dir=rules_dir, batch_size=120)
    result = again.run_once(as_of=as_of)
    assert result.rebuilt_from > 0
    third = RecordWorker(sessions, rules_dir=rules_dir, batch_size=120)  # idempotent restarts
    assert third.run_once(as_of=as_of).hits == 0
    with Session(committing_engine) as session:
        stored = session.scalars(select(Hit).where(Hit.superseded.is_(False))).all()
    assert {h.id for h in stored} == {h["id"] for h in replayed}
    assert len(stored) == 3


def _raw(record: dict[str, Any]) -> dict[str, Any]:
    """A validated record back as JSON-ready data."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, datetime):
            return value.isoformat()
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, float) and math.isnan(value):
            return None
        return value

    return plain(record)
