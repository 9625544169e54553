"""The seeded province the security tests walk: alerts of unit A (城东大队), people of every role,
and one brigade chief of unit B (城西大队) who must see none of it.

Built in a SQLite file of its own (whatever AUDITCAGE_TEST_DATABASE_URL says): the allow/deny table
restores that file before every request that may change state, so each cell is judged on the same
starting point. Every alert is in the state its step needs, so an allowed request really succeeds:

- `pushed`: a red VIO-03 alert routed to the east chief and the detachment chief (acknowledge).
- `acknowledged`: another, acknowledged by the east chief, with a PDF attached (report, download).
- `submitted`: another, its final report filed (review, return).
- `blue`: a blue STF-14 alert waiting in the inspectors' queue (assign, dismiss, bulk).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from api.auth import issue_staff_token
from auditcage.config import Settings
from auditcage.reference.service import build_index
from auditcage.storage.schema import upgrade
from auditcage.storage.session import make_engine
from notifications import actions, links, pipeline
from notifications.access import viewer_of
from tests.conftest import ADMIN_TOKEN, SOURCE_KEY_OF, SOURCE_KEYS
from tests.console.helpers import make_account
from tests.notifications import province as p
from tests.notifications.scenario import NOW, alert, notifier, store_and_route

SECRET = "security-test-secret"
SOURCE_KEY = SOURCE_KEY_OF["violation"]  # the violation system's intake key
PDF = b"%PDF-1.4\n% a scanned statement\n%%EOF\n"
FINAL = {
    "kind": "final",
    "verification_methods": ["video_reviewed", "system_logs"],
    "facts": "调阅窗口视频，协勤代他人处理记分属实",
    "persons_responsible": [p.OPERATOR],
    "finding": "confirmed",
    "disposal": ["dismiss_auxiliary"],
    "business_remedy": ["restore_points"],
}

# Console account → (roles, staff id, unit). The other-unit chief is 城西's, back from leave.
ACCOUNTS: dict[str, tuple[str, str | None, str | None]] = {
    "inspector": ("inspector", p.DETACHMENT_INSPECTOR, p.NANJING),
    "brigade_head": ("brigade_head", p.EAST_CHIEF, p.EAST),
    "detachment_head": ("detachment_head", p.DETACHMENT_CHIEF, p.NANJING),
    "province_head": ("province_head", p.PROVINCE_CHIEF, p.PROVINCE),
    "supervision": ("supervision", p.EAST_SUPERVISION, p.EAST),
    "rule_author": ("rule_author", None, None),
    "admin": ("admin", None, None),
    "other_unit": ("brigade_head", p.WEST_CHIEF, p.WEST),
    "spare": ("admin", None, None),  # the account the administrator deactivates
}


@dataclass(frozen=True)
class Scenario:
    path: Path  # the SQLite file
    settings: Settings
    alerts: dict[str, int]
    account_ids: dict[str, int]
    attachment_sha256: str
    link_token: str  # the east chief's signed link to the pushed alert

    def staff_token(self, name: str) -> str | None:
        staff_id = ACCOUNTS[name][1]
        return issue_staff_token(SECRET, staff_id) if staff_id else None


def settings_for(path: Path, **overrides: object) -> Settings:
    return Settings(
        database_url=f"sqlite:///{path}",
        secret_key=SECRET,
        source_keys=SOURCE_KEYS,
        admin_token=ADMIN_TOKEN,
        **overrides,  # type: ignore[arg-type]
    )


def build(path: Path, **overrides: object) -> Scenario:
    """The province, its alerts in their states and an account per role; the clock at NOW."""
    settings = settings_for(path, **overrides)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    staff = p.staff_with(p.WEST_CHIEF, status="active")
    ids = {"pushed": store_and_route(engine, settings, staff)}
    with Session(engine) as session, session.begin():
        ids["acknowledged"] = alert(session, hit_id="sec-acked").id
        ids["submitted"] = alert(session, hit_id="sec-submitted").id
        ids["blue"] = alert(
            session,
            severity="blue",
            rule_id="STF-14",
            hit_id="sec-blue",
            at=NOW - timedelta(days=3),
        ).id
    with Session(engine) as session, session.begin():
        pipeline.route_new_alerts(session, notifier(session, settings), now=NOW)
    sha256 = _take_steps(engine, settings, ids)
    account_ids = {
        name: make_account(
            engine, name, role, staff_id=staff_id, unit_code=unit, display_name=f"用户{name}"
        )
        for name, (role, staff_id, unit) in ACCOUNTS.items()
    }
    checkpoint(engine)
    engine.dispose()
    token = links.sign(SECRET, links.AlertLink(ids["pushed"], p.EAST_CHIEF, "open"))
    return Scenario(path, settings, ids, account_ids, sha256, token)


def _take_steps(engine: Engine, settings: Settings, ids: dict[str, int]) -> str:
    """The east chief acknowledges two alerts, attaches a PDF to one, files the other's report."""
    with Session(engine) as session, session.begin():
        ref = build_index(session)
        chief = viewer_of(ref, p.EAST_CHIEF)
        for name in ("acknowledged", "submitted"):
            actions.acknowledge(session, ref, chief, ids[name])
        stored = actions.attach(
            session,
            ref,
            chief,
            ids["acknowledged"],
            actions.Upload("statement.pdf", "application/pdf", PDF),
        )
        actions.submit_feedback(
            session, ref, chief, ids["submitted"], FINAL, notifier=notifier(session, settings)
        )
        return stored.sha256


def checkpoint(engine: Engine) -> None:
    """Everything in the main file, so copying it copies the database."""
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def snapshot(path: Path) -> Path:
    saved = path.with_suffix(".snapshot")
    shutil.copyfile(path, saved)
    return saved


def restore(saved: Path, path: Path) -> None:
    """Put the database back as it was (the caller has closed every connection to it)."""
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(saved, path)
