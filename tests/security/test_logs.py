"""What the application logs, at DEBUG and with SQL logging on, holds no personal data in clear
and no secret: representative flows (intake with a quarantined record, the pre-check, routing,
sign-in right and wrong, pages with data unmasked, the JSON API, a signed link) are run with every
log record captured."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from api import create_app
from auditcage import clock
from tests.builders import make_record
from tests.conftest import ADMIN_TOKEN
from tests.console.helpers import PASSWORD, csrf_token, sign_in
from tests.notifications.scenario import NOW, SUBJECT_ID, record
from tests.security import scenario as sc

# Not marked db: the scenario lives in a SQLite file of its own (scenario.py), so a PostgreSQL
# run would only repeat it.

ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _flows(tmp_path: Path) -> list[str]:
    """Run the flows; the personal data and secrets they used."""
    s = sc.build(tmp_path / "logs.db")
    app = create_app(s.settings)
    api = app.test_client()
    vehicle = make_record("vehicle")
    broken = make_record("license", subject_id_no="320102199001011231")  # bad check digit
    intake = api.post(
        "/api/v1/records",
        json=[vehicle, broken],
        headers={"Authorization": "Bearer key-vehicle-0123456789abcdef0123"},
    )
    assert intake.status_code == 200 and intake.json["quarantined"] == 1
    checked = api.post(
        "/api/v1/precheck", json=record(), headers={"Authorization": f"Bearer {sc.SOURCE_KEY}"}
    )
    assert checked.status_code == 200
    chief = {"Authorization": f"Bearer {s.staff_token('brigade_head')}"}
    assert api.get(f"/api/v1/alerts/{s.alerts['pushed']}", headers=chief).status_code == 200
    assert api.post(f"/a/{s.link_token}").status_code == 200

    console = app.test_client()
    assert sign_in(console, "inspector", "a-wrong-password").status_code == 401
    assert sign_in(console, "inspector").status_code == 302
    clear = console.get(f"/console/alerts/{s.alerts['pushed']}?unmask=1")
    assert SUBJECT_ID in clear.text  # the page shows it: the log must not
    assert console.get("/console/alerts?format=xlsx").status_code == 200
    console.post("/console/logout", data={"csrf_token": csrf_token(console, "/console/alerts")})
    app.extensions["auditcage.engine"].dispose()

    data = [SUBJECT_ID, vehicle["subject_name"], vehicle["subject_phone"]]
    data += [broken["subject_id_no"], broken["subject_name"], broken["subject_phone"]]
    secrets = [
        sc.SECRET,
        sc.SOURCE_KEY,
        "key-vehicle-0123456789abcdef0123",
        ADMIN_TOKEN,
        PASSWORD,
        "a-wrong-password",
    ]
    return data + secrets + [s.link_token, chief["Authorization"].split()[1]]


def test_no_personal_data_or_secret_reaches_the_log(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # as an operator debugging SQL
    clock.freeze(NOW)
    try:
        used = _flows(tmp_path)
    finally:
        clock.freeze(None)
    logged = caplog.text
    assert len(caplog.records) > 10  # something was logged: SQL at least
    leaked = [value for value in used if value in logged]
    assert leaked == []
    assert ID_NUMBER.findall(logged) == [] and PHONE.findall(logged) == []
