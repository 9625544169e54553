"""POST /api/v1/precheck: decisions by the policy in the rule packs, clear errors, every answer
logged, and only a source system's key gets in."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from auditcage.config import DEFAULT_RULES_DIR
from auditcage.precheck.models import PrecheckLog
from auditcage.precheck.policy import Decision, load_precheck_policy, validate_precheck_policy
from auditcage.records.models import Record

pytestmark = pytest.mark.db

KEY = {"Authorization": "Bearer key-vehicle-0123456789abcdef0123"}


def _transfer(**changes: object) -> dict:
    bases = yaml.safe_load((DEFAULT_RULES_DIR / "examples" / "base_records.yaml").read_text())
    record = dict(bases["vehicle"])
    record["vehicle"] = {**record["vehicle"], **changes}
    return record


def test_a_transfer_of_a_seized_vehicle_is_blocked_by_its_rule(client, committing_engine) -> None:
    reply = client.post("/api/v1/precheck", json=_transfer(seizure_active=True), headers=KEY)
    assert reply.status_code == 200, reply.json
    body = reply.json
    assert body["decision"] == "block"
    fired = {r["rule_id"]: r for r in body["rules"]}
    assert fired["VEH-07"]["decision"] == "block" and fired["VEH-07"]["severity"] == "red"
    assert "受限车辆" in fired["VEH-07"]["message"]


def test_a_clean_transfer_is_allowed_and_nothing_is_stored_but_the_log(
    client, committing_engine: Engine
) -> None:
    reply = client.post("/api/v1/precheck", json=_transfer(seizure_active=False), headers=KEY)
    assert reply.json["decision"] == "allow" and reply.json["rules"] == []
    with Session(committing_engine) as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 0
        log = session.scalars(select(PrecheckLog)).one()
    assert log.decision == "allow" and log.source_system == "vehicle_reg"


def test_an_invalid_record_is_answered_with_every_problem_and_logged(
    client, committing_engine: Engine
) -> None:
    record = _transfer()
    del record["unit_code"]
    record["action"] = "sell"
    reply = client.post("/api/v1/precheck", json=record, headers=KEY)
    assert reply.status_code == 422
    fields = {p["field"] for p in reply.json["problems"]}
    assert {"unit_code", "action"} <= fields
    with Session(committing_engine) as session:
        assert session.scalars(select(PrecheckLog.decision)).one() == "invalid"


def test_only_the_key_of_the_records_own_source_system_is_accepted(client) -> None:
    assert client.post("/api/v1/precheck", json=_transfer()).status_code == 401
    other = {"Authorization": "Bearer key-violation-0123456789abcdef0123"}
    reply = client.post("/api/v1/precheck", json=_transfer(), headers=other)
    assert reply.status_code == 422
    assert reply.json["problems"][0]["code"] == "source_system_mismatch"


def test_the_policy_decides_by_rule_first_then_by_severity(tmp_path: Path) -> None:
    policy = load_precheck_policy(DEFAULT_RULES_DIR)
    assert policy.severities["red"] is Decision.BLOCK
    assert policy.severities["blue"] is Decision.ALLOW
    assert policy.rules["VEH-07"] is Decision.BLOCK


def test_a_broken_policy_names_the_line_and_field_and_unknown_rules(tmp_path: Path) -> None:
    path = tmp_path / "precheck.yaml"
    path.write_text(
        "version: 1\nseverities:\n  red: stop\nrules:\n  VEH-99: block\n", encoding="utf-8"
    )
    issues = validate_precheck_policy(path, ["VEH-07"])
    assert any(i.line == 3 and "severities.red" in i.field for i in issues), issues
    path.write_text("version: 1\nseverities: {red: block}\nrules: {VEH-99: block}\n")
    issues = validate_precheck_policy(path, ["VEH-07"])
    assert [i.field for i in issues] == ["rules.VEH-99"]
