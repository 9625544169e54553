"""Back-tests report hits per rule, unit and month, and what a changed rule gains or loses."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from auditcage import clock
from auditcage.cli import main
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.demo import generate, write_scenario
from auditcage.engine import backtest
from auditcage.reference.service import index_from_directory

AS_OF = datetime(2026, 11, 1, tzinfo=clock.SHANGHAI)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    province = generate(seed=9, start=date(2026, 8, 1), months=3, records_target=2000)
    return write_scenario(province, tmp_path_factory.mktemp("province"))


def test_a_lowered_threshold_gains_hits_and_the_report_says_which(scenario, tmp_path) -> None:
    reference, records_path = scenario
    records = backtest.from_files([records_path])
    ref = index_from_directory(reference)
    looser = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, looser)
    path = looser / "vehicle" / "veh_04_frequent_transfers.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("at_least: 3,", "at_least: 1,", 1), encoding="utf-8")
    base = backtest.run(DEFAULT_RULES_DIR, records, ref, as_of=AS_OF)
    new = backtest.run(looser, records, ref, as_of=AS_OF)
    compared = backtest.compare(base, new).set_index("rule")
    assert compared.loc["VEH-04(a)", "gained"] > 0
    # A lower threshold fires earlier; the old firing then falls in the new one's cooldown, so
    # "lost" may count it: gained and lost are by hit (anchor), not by vehicle.
    assert compared.loc["VEH-04(a)", "after"] > compared.loc["VEH-04(a)", "before"]
    unchanged = compared.drop(index="VEH-04(a)")
    assert (unchanged["gained"] == 0).all() and (unchanged["lost"] == 0).all()
    assert set(new.per_month().columns) <= {"2026-08", "2026-09", "2026-10", "2026-11"}


def test_replay_command_writes_the_hits_file_and_a_summary(scenario, tmp_path) -> None:
    reference, records_path = scenario
    out = tmp_path / "hits.ndjson"
    result = CliRunner().invoke(
        main,
        [
            "replay",
            str(records_path),
            "--reference",
            str(reference),
            "--hits",
            str(out),
            "--as-of",
            AS_OF.isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output
    hits = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert hits and {
        "rule_id",
        "severity",
        "kind",
        "aspect",
        "key",
        "serials",
        "record_ids",
        "unit_code",
        "at",
        "message",
    } <= set(hits[0])
    assert "hits by severity" in result.output and "records read" in result.output


def test_replay_with_broken_rules_exits_non_zero_and_says_why(scenario, tmp_path) -> None:
    reference, records_path = scenario
    broken = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, broken)
    (broken / "vehicle" / "veh_04_frequent_transfers.yaml").write_text("id: [", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "replay",
            str(records_path),
            "--reference",
            str(reference),
            "--hits",
            str(tmp_path / "h.ndjson"),
            "--rules",
            str(broken),
        ],
    )
    assert result.exit_code != 0
    assert "veh_04_frequent_transfers.yaml" in result.output
