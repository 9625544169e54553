"""bench/load.py: a tiny run on SQLite (intake, console sessions and the worker at once) prints
parseable figures, answers every request and loses no record."""

from __future__ import annotations

import re

from bench import load

LINE = re.compile(r"(?P<name>[a-z0-9_]+): (?P<value>-?\d+(?:\.\d+)?) (?P<unit>[a-zA-Z/]+)")


def test_a_tiny_load_run_answers_every_request_and_evaluates_every_accepted_record(
    capsys,
) -> None:
    argv = (
        "--rate 20 --seconds 6 --batch 10 --warm 100 --chiefs 1 --inspectors 1 --workers 1 "
        "--think 0.3 --drain 180"
    )
    load.main(argv.split())
    figures: dict[str, float] = {}
    for line in capsys.readouterr().out.splitlines():
        parsed = LINE.fullmatch(line)
        assert parsed, f"not `name: number unit`: {line!r}"
        figures[parsed["name"]] = float(parsed["value"])
    assert figures["load_errors"] == 0
    assert figures["load_lost"] == 0
    assert figures["load_sent"] > 0 and figures["load_records"] > 0
    assert figures["load_console_requests"] > 0
    assert 0 < figures["load_intake_p50"] <= figures["load_intake_p99"]
    assert 0 < figures["load_console_p50"] <= figures["load_console_p99"]
    assert figures["load_api_rss_start"] > 0 and figures["load_worker_rss_end"] > 0
