"""bench/peers.py: on a few hundred generated records, each peer's matches are PythonFilters'."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from auditcage.engine.compile_python import Env, compile_python
from auditcage.engine.session import Engine
from auditcage.rulepacks.check import check
from bench import peers
from bench.ingest import make_scenario

EVERY = 7  # of the ~2 700 records of a 300-record scenario (planted cases included): ~390


@dataclass
class Sample:
    path: Path
    engine: Engine
    predicates: list[peers.Predicate]
    prepared: peers.Prepared
    python: Counter[str]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    out = tmp_path_factory.mktemp("peers")
    reference, records = make_scenario(300, out / "scenario")
    # The duty roster is most of the reference's load time; without it on_duty is unknown
    # (None), which every peer must then read alike.
    (reference / "duty_roster.jsonl").unlink()
    lines = records.read_bytes().splitlines(keepends=True)[::EVERY]
    path = out / "sample.ndjson"
    path.write_bytes(b"".join(lines))
    engine = peers.load_engine(reference)
    prepared, _ = peers.prepare(path, engine)
    assert len(prepared) == len(lines)  # a generated scenario has no invalid record
    python, _ = peers.python_filter_counts(prepared, engine)
    return Sample(path, engine, peers.catalogue_predicates(engine.rules), prepared, python)


def test_the_sample_has_matches_to_compare(sample: Sample) -> None:
    assert len(sample.prepared) > 300
    assert len(sample.predicates) > 200
    assert sum(sample.python.values()) > len(sample.prepared)  # several matches per record
    assert len(sample.python) > 40  # predicates that match at least once


def test_the_durable_peer_finds_exactly_what_python_filters_find(sample: Sample) -> None:
    peer = peers.DurablePeer(sample.predicates, sample.engine)
    assert len(peer.shares) > 1  # the catalogue needs more than one message's 252 properties
    run = peer.run(sample.prepared)
    assert run.counts == sample.python
    assert peer.host.get_facts(peers.RULESET) == []  # every asserted record was retracted
    assert run.messages == len(sample.prepared) * len(peer.shares)
    # Posted events are consumed by the first rule that fires: fewer matches, as documented.
    assert 0 < sum(run.post_counts.values()) < sum(run.counts.values())


def test_duckdb_counts_each_translated_predicate_as_python_filters_do(sample: Sample) -> None:
    run = peers.duckdb_counts(sample.path, sample.predicates)
    assert run.records == len(sample.prepared)
    assert len(run.counts) + len(run.left_out) == len(sample.predicates)
    assert len(run.counts) > 120  # most predicates translate: a regression would show here
    assert sum(1 for n in run.counts.values() if n) > 30
    python = {uid: sample.python[uid] for uid in run.counts}
    assert run.counts == python
    # What is left out needs reference data or compares untyped values, nothing else.
    assert {reason.kind for reason in run.left_out.values()} <= {peers.REFERENCE, peers.UNTYPED}


# Conditions on the edge of §0.2 item 5 (None, "" and [] are null; a comparison with a null is
# false, its negation true), over variants of one real record.
CONDITIONS = [
    'plate_no == "黔A12345"',
    'plate_no != "黔A12345"',
    'not (plate_no == "黔A12345")',
    "plate_no is null",
    'plate_no in ["黔A12345", "黔B1"]',
    'plate_no not in ["黔A12345"]',
    '"A1" in plate_no',
    '"A1" not in plate_no',
    "len(plate_no) == 0",
    'coalesce(plate_no, "none") == "none"',
    'startswith(plate_no, "黔A")',
    'matches(plate_no, "黔[A-Z]\\\\d+")',
    "bodycam_refs is null",
    'any(bodycam_refs, item == "BC-1")',
    'all(bodycam_refs, startswith(item, "BC-"))',
    'count(bodycam_refs, item != "BC-1") >= 1',
    '"BC-1" not in bodycam_refs',
    "evidence_count == 0",
    "amount > 100 or not (amount > 100)",
    "amount / points > 10",
    "hour >= 12 and weekday <= 5",
    'date == "2026-05-01" or month == "2026-06"',
    "operator_is_system",
    "accepted_at - action_time < 1h",
    "date(accepted_at) - date(action_time) >= 1d",
    "accepted_at + 30min > action_time + 1h",
]


# plate_no, bodycam_refs, amount, points, evidence_count (None: left out), action_time,
# accepted_at: "" and [] next to absent values, naive and UTC times next to Shanghai ones.
VARIANTS = [
    ("黔A12345", ["BC-1"], 150, 3, 2, "2026-05-01T09:00:00+08:00", "2026-05-01T09:00:00+08:00"),
    ("", [], 50, 0, None, "2026-05-02T13:00:00+08:00", "2026-05-02T14:30:00+08:00"),
    (None, None, None, None, None, "2026-06-01T12:30:00", "2026-06-02T08:00:00"),
    ("黔B1", ["BC-2", ""], 100.5, 12, 0, "2026-05-31T16:30:00Z", "2026-06-01T00:40:00+08:00"),
    ("X", ["BC-1", "BC-3"], 0, 6, 1, "2026-05-01T23:59:00+08:00", "2026-05-02T00:20:00+08:00"),
]


def _variants(base: dict) -> list[dict]:
    out = []
    for n, (plate, refs, amount, points, evidence, at, accepted) in enumerate(VARIANTS):
        record = {**base, "record_id": f"edge-{n}", "serial_no": f"edge{n}"}
        for name, value in (
            ("plate_no", plate),
            ("bodycam_refs", refs),
            ("amount", amount),
            ("points", points),
            ("evidence_count", evidence),
        ):
            if value is None:
                record.pop(name, None)
            else:
                record[name] = value
        if amount is not None:
            record["amount_kind"] = "fine"  # validation wants the kind of an amount
        record["action_time"] = at
        record["accepted_at"] = accepted
        out.append(record)
    out[1]["operator_id"] = "SYS:sweeper"
    return out


def test_translated_conditions_keep_the_null_rule(sample: Sample, tmp_path: Path) -> None:
    base = orjson.loads(sample.path.read_bytes().splitlines()[0])
    path = tmp_path / "edges.ndjson"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in _variants(base)))
    prepared, _ = peers.prepare(path, sample.engine)
    assert len(prepared) == 5
    predicates = [peers.Predicate(f"c{k}", check(text)) for k, text in enumerate(CONDITIONS)]
    run = peers.duckdb_counts(path, predicates)
    assert run.left_out == {}
    expected = {}
    for predicate in predicates:
        test = compile_python(predicate.checked)
        expected[predicate.uid] = sum(
            test(Env(record, derived, sample.engine.ctx)) for record, derived in prepared
        )
    assert run.counts == expected
    # Each condition but the tautology holds for some variants and not for others.
    constant = [text for k, text in enumerate(CONDITIONS) if expected[f"c{k}"] in (0, 5)]
    assert constant == ["amount > 100 or not (amount > 100)"]


def test_what_sql_cannot_say_simply_is_left_out_with_its_reason() -> None:
    cases = {
        'lookup("staff", operator_id, "staff_kind") == "police"': peers.REFERENCE,
        "operator_staff_kind == 'police'": peers.REFERENCE,
        "before.points > after.points": peers.UNTYPED,
    }
    for text, kind in cases.items():
        with pytest.raises(peers.Untranslatable) as caught:
            peers.translate(check(text))
        assert caught.value.kind == kind, text
