"""bench/intake_api.py: a small run on SQLite prints parseable figures and loses no record."""

from __future__ import annotations

import re

import orjson

from bench import intake_api

LINE = re.compile(r"(?P<name>[a-z0-9_]+): (?P<value>-?\d+(?:\.\d+)?) (?P<unit>[a-z/]+)")


def _record(record_id: str, source: str) -> bytes:
    return orjson.dumps({"record_id": record_id, "source_system": source})


def test_batches_hold_one_source_system_each_and_carry_its_key() -> None:
    lines = [_record(f"v{i}", "violation") for i in range(5)]
    lines += [_record(f"e{i}", "exam") for i in range(3)]
    batches, setting = intake_api.make_batches(lines, 2)
    keys = dict(pair.split("=") for pair in setting.split(","))
    assert [b.size for b in batches] == [2, 2, 2, 1, 1]  # the systems take turns
    seen = []
    for batch in batches:
        records = orjson.loads(batch.body)
        assert len(records) == batch.size
        assert {keys[r["source_system"]] for r in records} == {batch.key}
        seen.extend(r["record_id"] for r in records)
    assert sorted(seen) == sorted(orjson.loads(line)["record_id"] for line in lines)


def test_a_small_run_on_sqlite_stores_every_accepted_record(capsys) -> None:
    argv = "--records 500 --batch 100 --clients 2 --workers 1 --no-postgresql"
    intake_api.main(argv.split())
    figures: dict[str, float] = {}
    for line in capsys.readouterr().out.splitlines():
        parsed = LINE.fullmatch(line)
        assert parsed, f"not `name: number unit`: {line!r}"
        figures[parsed["name"]] = float(parsed["value"])
    run = {k.removeprefix("intake_api_sqlite_"): v for k, v in figures.items()}
    assert figures["intake_api_batch"] == 100
    assert figures["intake_api_sqlite"] > 0
    assert run["sent"] == 500
    assert run["http_errors"] == 0
    assert run["accepted"] > 0
    assert run["accepted"] + run["rejected"] + run["duplicates"] == run["sent"]
    assert run["stored"] == run["accepted"]
    assert run["lost"] == 0
    assert 0 < run["batch_p50"] <= run["batch_p99"]
