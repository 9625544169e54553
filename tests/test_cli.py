"""The command line: ingest with a summary, quarantine list/show/replay, reference load, audit."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from auditcage.cli import main
from tests.builders import make_record

pytestmark = pytest.mark.db


@pytest.fixture
def run(database_url: str, committing_engine):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, ["--database-url", database_url, *args])
        return result.exit_code, result.output

    return invoke


def _ndjson(path: Path, *records: object, extra: bytes = b"") -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records) + extra)
    return path


def test_ingest_prints_read_accepted_duplicates_and_quarantined_by_reason(run, tmp_path) -> None:
    good = make_record("violation", record_id="violation:cli-1")
    bad = make_record("violation", record_id="violation:cli-2", points=20)
    path = _ndjson(tmp_path / "in.ndjson", good, good, bad, extra=b"{broken\n")
    code, output = run("ingest", str(path))
    assert code == 0, output
    assert "read                    4" in output
    assert "accepted                1" in output
    assert "duplicates              1" in output
    assert "quarantined             2" in output
    assert "points_range" in output and "invalid_json" in output


def test_quarantine_can_be_listed_shown_masked_and_replayed_with_a_fix(run, tmp_path) -> None:
    bad = make_record("violation", record_id="violation:cli-fix", points=20)
    run("ingest", str(_ndjson(tmp_path / "in.ndjson", bad)))
    code, listing = run("quarantine", "list")
    assert code == 0 and "violation:cli-fix" in listing and "points" in listing
    quarantine_id = listing.split()[0]
    code, shown = run("quarantine", "show", quarantine_id)
    assert code == 0 and bad["subject_id_no"] not in shown  # masked by default
    assert bad["subject_id_no"][:4] + "*" in shown
    fixed = tmp_path / "fixed.json"
    fixed.write_bytes(orjson.dumps({**bad, "points": 2}))
    code, replayed = run("quarantine", "replay", quarantine_id, "--payload", str(fixed))
    assert code == 0 and "accepted" in replayed
    assert "no pending" in run("quarantine", "list")[1]
    code, verified = run("audit", "verify")
    assert code == 0 and "intact: 1 entries" in verified


def test_unmasking_a_quarantined_record_is_audited(run, tmp_path) -> None:
    bad = make_record("violation", record_id="violation:cli-unmask", points=20)
    run("ingest", str(_ndjson(tmp_path / "in.ndjson", bad)))
    quarantine_id = run("quarantine", "list")[1].split()[0]
    code, shown = run("quarantine", "show", quarantine_id, "--unmask")
    assert code == 0 and bad["subject_id_no"] in shown
    assert "intact: 1 entries" in run("audit", "verify")[1]


def test_reference_load_then_list_shows_each_dataset(run, tmp_path) -> None:
    directory = tmp_path / "ref"
    directory.mkdir()
    (directory / "units.jsonl").write_bytes(
        orjson.dumps(
            {
                "unit_code": "520000000000",
                "parent_code": None,
                "level": "province",
                "name": "贵州省公安厅交通管理局",
                "province_code": "52",
            }
        )
        + b"\n"
    )
    code, output = run("reference", "load", str(directory))
    assert code == 0, output
    assert "units" in output and "business_types" in output  # shipped policy tables too
    code, listing = run("reference", "list")
    assert code == 0 and "units" in listing and "violation_codes" in listing


def test_a_missing_file_is_a_clear_error_not_a_traceback(run, tmp_path) -> None:
    code, output = run("ingest", str(tmp_path / "nope.ndjson"))
    assert code != 0 and "no such file" in output


@pytest.mark.parametrize("secret", ["", None], ids=["empty", "missing"])
def test_the_notifier_refuses_to_start_without_a_secret_key_as_the_api_does(
    database_url: str, committing_engine, secret: str | None
) -> None:
    runner = CliRunner()
    args = ["--database-url", database_url, "notifier", "--once"]
    refused = runner.invoke(main, args, env={"AUDITCAGE_SECRET_KEY": secret})
    assert refused.exit_code == 1
    assert "AUDITCAGE_SECRET_KEY" in refused.output and "deliveries:" not in refused.output
    started = runner.invoke(main, args, env={"AUDITCAGE_SECRET_KEY": "a-real-secret"})
    assert started.exit_code == 0 and "deliveries:" in started.output


def test_ingest_quarantines_only_the_record_with_a_nul_and_it_replays_once_fixed(
    run, tmp_path
) -> None:
    good = make_record("violation", record_id="violation:cli-nul-ok")
    bad = make_record("violation", record_id="violation:cli-nul", window_id="GY\x00W07")
    code, output = run("ingest", str(_ndjson(tmp_path / "in.ndjson", good, bad)))
    assert code == 0, output
    assert "accepted                1" in output and "nul_character" in output
    code, listing = run("quarantine", "list")
    assert "violation:cli-nul" in listing and "window_id: text contains the NUL" in listing
    quarantine_id = listing.split()[0]
    code, shown = run("quarantine", "show", quarantine_id)
    assert code == 0 and "GY\\\\u0000W07" in shown  # the escaped copy, in JSON
    code, unchanged = run("quarantine", "replay", quarantine_id)  # the original, NUL and all
    assert code == 0 and "quarantined" in unchanged and "window_id: text contains" in unchanged
    fixed = tmp_path / "fixed.json"
    fixed.write_bytes(orjson.dumps({**bad, "window_id": "GY-W07"}))
    code, replayed = run("quarantine", "replay", quarantine_id, "--payload", str(fixed))
    assert code == 0 and "accepted violation:cli-nul" in replayed
