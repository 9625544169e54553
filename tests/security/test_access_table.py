"""Every endpoint, every kind of caller: who is let in and who is turned away.

The table has one row per (endpoint, method) of the application's URL map and one column per
caller: each console role signed in (and, on the JSON API, holding the staff token of its staff
member, the administrator holding the administrator token), the chief of another unit, a source
system's API key, and nobody. A route added without a row fails
`test_every_route_of_the_application_has_a_row`; a row whose cell does not match fails with the
route, the caller and both answers.

Cells are status codes, or LOGIN for the redirect to the sign-in page that asks to sign in
first (a redirect there after signing out or changing one's password is a plain 302). Denials
are 401 (no or a bad credential), 403 (a credential that may not do this), 404 (an alert outside
the caller's jurisdiction: the same answer as an alert that does not exist) and LOGIN. Allowed
requests carry a valid payload and meet the alert in the state their step needs
(tests/security/scenario.py), so they succeed: 200, or 302 to the next page. The few allowed
answers that are not a success say why in a comment.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
from flask import Flask

from api import create_app
from auditcage import clock
from tests.conftest import ADMIN_TOKEN
from tests.console.helpers import CSRF, PASSWORD
from tests.notifications import province as p
from tests.notifications.scenario import NOW, record
from tests.security import scenario as sc

# Not marked db: the scenario lives in a SQLite file of its own (scenario.py), so a PostgreSQL
# run would only repeat it.

LOGIN: Final = "login"  # 302 to /console/login?next=…: "sign in first"
Expect = int | str

STAFF = ("inspector", "brigade_head", "detachment_head", "province_head", "supervision")
SIGNED_IN = (*STAFF, "rule_author", "admin", "other_unit")
CALLERS = (*SIGNED_IN, "source_key", "anonymous")


def everyone(expect: Expect) -> dict[str, Expect]:
    return dict.fromkeys(CALLERS, expect)


def console(allowed: Mapping[str, Expect], *, others: Expect = 403) -> dict[str, Expect]:
    """A console page: the allowed callers' answers; other signed-in callers get `others`; a
    source system (its key is no sign-in) and nobody go to the sign-in page."""
    return {
        **{c: allowed.get(c, others) for c in SIGNED_IN},
        "source_key": LOGIN,
        "anonymous": LOGIN,
    }


def staff_api(allowed: Mapping[str, Expect], *, others: Expect = 403) -> dict[str, Expect]:
    """/api/v1/alerts: a staff token is the only way in; the session cookie of a console account
    (rule author), the administrator token and a source key are no staff token."""
    staff = (*STAFF, "other_unit")
    return {
        **{c: allowed.get(c, others) for c in staff},
        **dict.fromkeys(("rule_author", "admin", "source_key", "anonymous"), 401),
    }


def source_api(ok: int) -> dict[str, Expect]:
    """Intake and the pre-check: a source system's key and nothing else."""
    return {
        **dict.fromkeys((*STAFF, "other_unit", "admin"), 403),  # a bearer, but not a source key
        "source_key": ok,
        "rule_author": 401,
        "anonymous": 401,
    }


def alert_page(ok: Expect) -> dict[str, Expect]:
    """A page of one alert of unit A: whoever holds ALERTS and has it in their jurisdiction."""
    return console({**dict.fromkeys(STAFF, ok), "other_unit": 404})


INSPECTION = {"inspector": 302, "province_head": 302}  # INSPECT: review, dismiss, assign
RULE_READERS = ("inspector", "province_head", "rule_author", "admin")
DASHBOARDS = ("inspector", "province_head", "detachment_head", "brigade_head", "other_unit")
INBOX = ("brigade_head", "detachment_head", "province_head", "supervision", "other_unit")
OWNERS = ("brigade_head", "detachment_head")  # the east chief and the detachment chief

TABLE: Final[dict[tuple[str, str], dict[str, Expect]]] = {
    # --- public: no credential needed, none changes the answer
    ("health.healthz", "GET"): everyone(200),
    ("openapi.serve", "GET"): everyone(200),  # the API's description: no data, no secret
    ("static", "GET"): everyone(200),
    ("root", "GET"): everyone(302),
    ("console.login", "GET"): everyone(200),
    ("console.login", "POST"): everyone(401),  # a wrong password, whoever is signed in
    ("console.logout", "POST"): everyone(302),
    ("console.language", "GET"): everyone(302),
    # the signed link names the east chief and the pushed alert: whoever holds it acts as him,
    # for that alert only (tests/security/test_links.py: a forged or expired one is refused)
    ("alert_links.show", "GET"): everyone(200),
    ("alert_links.acknowledge", "POST"): everyone(200),
    # --- the console
    ("console.home", "GET"): console(dict.fromkeys(SIGNED_IN, 302)),  # to the role's start page
    ("console_admin.accounts", "GET"): console({"admin": 200}),
    ("console_admin.create_account", "POST"): console({"admin": 302}),
    ("console_admin.set_active", "POST"): console({"admin": 302}),
    ("console_admin.password", "GET"): console(dict.fromkeys(SIGNED_IN, 200)),
    # one's own password: changed, then to the sign-in page with the new one
    ("console_admin.password", "POST"): console(dict.fromkeys(SIGNED_IN, 302)),
    ("console_alerts.queue", "GET"): console({"inspector": 200, "province_head": 200}),
    ("console_alerts.bulk", "POST"): console(INSPECTION),
    ("console_alerts.inbox", "GET"): console(dict.fromkeys(INBOX, 200)),
    ("console_alerts.detail", "GET"): alert_page(200),
    ("console_alerts.report_form", "GET"): alert_page(200),
    ("console_alerts.download", "GET"): alert_page(200),
    # a red alert is acknowledged and reported by its named owners (the east chief, the
    # detachment chief): the others who may see it are refused by the lifecycle
    ("console_alerts.acknowledge", "POST"): console(
        {**dict.fromkeys(STAFF, 403), **dict.fromkeys(OWNERS, 302), "other_unit": 404}
    ),
    ("console_alerts.feedback", "POST"): console(
        {**dict.fromkeys(STAFF, 403), **dict.fromkeys(OWNERS, 302), "other_unit": 404}
    ),
    # capability first: a chief of any unit lacks INSPECT before jurisdiction is asked
    ("console_alerts.review", "POST"): console(INSPECTION),
    ("console_alerts.dismiss", "POST"): console(INSPECTION),
    ("console_alerts.assign", "POST"): console(INSPECTION),
    ("console_dashboards.index", "GET"): console(dict.fromkeys(DASHBOARDS, 200)),
    ("console_dashboards.scoreboard", "GET"): console(dict.fromkeys(DASHBOARDS, 200)),
    ("console_dashboards.briefing", "GET"): console(dict.fromkeys(DASHBOARDS, 200)),
    ("console_rules.index", "GET"): console(dict.fromkeys(RULE_READERS, 200)),
    ("console_rules.detail", "GET"): console(dict.fromkeys(RULE_READERS, 200)),
    ("console_rules.versions", "GET"): console(dict.fromkeys(RULE_READERS, 200)),
    ("console_rules.edit", "GET"): console({"rule_author": 200}),
    ("console_rules.examples", "GET"): console({"rule_author": 200}),
    ("console_rules.backtest_page", "GET"): console({"rule_author": 200}),
    ("console_rules.draft_page", "GET"): console({"rule_author": 200}),
    ("console_rules.check", "POST"): console({"rule_author": 200}),
    ("console_rules.save", "POST"): console({"rule_author": 302}),
    ("console_rules.discard_draft", "POST"): console({"rule_author": 302}),
    # past the capability check, the author has no open draft to publish
    ("console_rules.publish_draft", "POST"): console({"rule_author": 404}),
    # past the capability check, there is no earlier version to roll back to
    ("console_rules.rollback", "POST"): console({"rule_author": 404}),
    # --- the JSON API
    ("alerts_api.mine", "GET"): staff_api(dict.fromkeys((*STAFF, "other_unit"), 200)),
    ("alerts_api.detail", "GET"): staff_api({**dict.fromkeys(STAFF, 200), "other_unit": 404}),
    ("alerts_api.history", "GET"): staff_api({**dict.fromkeys(STAFF, 200), "other_unit": 404}),
    ("alerts_api.acknowledge", "POST"): staff_api(
        {**dict.fromkeys(OWNERS, 200), "other_unit": 404}
    ),
    ("alerts_api.feedback", "POST"): staff_api({**dict.fromkeys(OWNERS, 200), "other_unit": 404}),
    # jurisdiction first on the API (actions.acting): the other unit learns nothing
    ("alerts_api.review", "POST"): staff_api(
        {"inspector": 200, "province_head": 200, "other_unit": 404}
    ),
    ("alerts_api.return_report", "POST"): staff_api(
        {"inspector": 200, "province_head": 200, "other_unit": 404}
    ),
    ("alerts_api.dismiss", "POST"): staff_api(
        {"inspector": 200, "province_head": 200, "other_unit": 404}
    ),
    ("alerts_api.assign", "POST"): staff_api(
        {"inspector": 200, "province_head": 200, "other_unit": 404}
    ),
    ("records_api.ingest", "POST"): source_api(200),
    ("precheck_api.check", "POST"): source_api(200),
    # reference data: the administrator token only
    ("reference_api.replace", "PUT"): {
        **dict.fromkeys((*STAFF, "other_unit", "source_key"), 403),
        "admin": 200,
        "rule_author": 401,
        "anonymous": 401,
    },
}


# --- how each request is made -----------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    name: str
    cookie: str  # the session cookie: signed in, or an anonymous session holding a CSRF token
    csrf: str
    bearer: str | None


@dataclass(frozen=True)
class Table:
    app: Flask
    scenario: sc.Scenario
    saved: Path
    callers: dict[str, Caller]
    dirty: list[bool]  # an allowed request may have changed the database since the last reset


def _which_alert(endpoint: str) -> str:
    step = endpoint.rsplit(".", 1)[-1]
    if step in ("review", "return_report"):
        return "submitted"
    if step in ("feedback", "report_form", "download"):
        return "acknowledged"
    if step in ("dismiss", "assign", "bulk"):
        return "blue"
    return "pushed"


def _arguments(s: sc.Scenario, endpoint: str) -> dict[str, Any]:
    return {
        "alert_id": s.alerts[_which_alert(endpoint)],
        "sha256": s.attachment_sha256,
        "token": s.link_token,
        "key": "STF-05b",
        "account_id": s.account_ids["spare"],
        "dataset": "units",
        "code": "en",
        "filename": "console.css",
    }


def _payload(s: sc.Scenario, endpoint: str) -> dict[str, Any]:
    """A valid body for the step, so an allowed caller succeeds."""
    blue = s.alerts["blue"]
    forms: dict[str, dict[str, Any]] = {
        "console.login": {"username": "nobody", "password": "wrong-password"},
        "console_admin.create_account": {
            "username": "newcomer",
            "password": "a-long-enough-password",
            "roles": "rule_author",
        },
        "console_admin.set_active": {"active": "0"},
        "console_admin.password": {
            "current": PASSWORD,
            "new": "another-long-password",
            "repeat": "another-long-password",
        },
        "console_alerts.bulk": {
            "alert_ids": [blue],
            "operation": "dismiss",
            "reason_code": "source_data_error",
        },
        "console_alerts.feedback": {
            **{k: v for k, v in sc.FINAL.items() if k != "persons_responsible"},
            "persons_responsible": p.OPERATOR,
        },
        "console_alerts.review": {"outcome": "accept", "comment": "核查属实"},
        "console_alerts.dismiss": {"reason_code": "source_data_error"},
        "console_alerts.assign": {"unit_code": p.EAST},
        "console_rules.save": {"text": _rule_text()},
        "console_rules.publish_draft": {"reason": "季度调整"},
        "console_rules.rollback": {"reason": "误发布"},
    }
    bodies: dict[str, Any] = {
        "console_rules.check": {"text": _rule_text()},
        "alerts_api.acknowledge": {},
        "alerts_api.feedback": sc.FINAL,
        "alerts_api.review": {"outcome": "accept"},
        "alerts_api.return_report": {"comment": "补充视频"},
        "alerts_api.dismiss": {"reason_code": "source_data_error"},
        "alerts_api.assign": {"unit_code": p.EAST},
        "records_api.ingest": [record()],
        "precheck_api.check": record(),
        "reference_api.replace": p.UNITS,
    }
    if endpoint in bodies:
        return {"json": bodies[endpoint]}
    return {"data": forms.get(endpoint, {})}


@functools.cache
def _rule_text() -> str:
    """STF-05b as it stands: saving it unchanged is a valid edit."""
    from auditcage.config import DEFAULT_RULES_DIR
    from auditcage.rulepacks import drafts, publish

    files = publish.directory_files(DEFAULT_RULES_DIR)
    path = drafts.find_rule(files, "STF-05b")
    return drafts.extract(files[path], "STF-05b", path).text


def _session_of(client: Any, username: str | None) -> tuple[str, str]:
    """Sign in (or not) and fetch a page with a CSRF token: the cookie and the token."""
    page = client.get("/console/login")
    token = CSRF.search(page.text)
    assert token
    if username is not None:
        reply = client.post(
            "/console/login",
            data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert reply.status_code == 302, username
        page = client.get("/console/admin/password")  # every signed-in role may open it
        token = CSRF.search(page.text)
        assert token
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value, token.group(1)


def _bearer(s: sc.Scenario, name: str) -> str | None:
    if name == "source_key":
        return sc.SOURCE_KEY
    if name == "admin":
        return ADMIN_TOKEN
    if name in sc.ACCOUNTS:
        return s.staff_token(name)
    return None


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Table]:
    clock.freeze(NOW)
    path = tmp_path_factory.mktemp("access") / "access.db"
    # The sign-in limits are not what this table is about (test_login_limits.py is).
    s = sc.build(path, login_limit_per_address=10_000, login_limit_per_account=10_000)
    app = create_app(s.settings)
    callers = {}
    for name in CALLERS:
        signed_in = name if name in SIGNED_IN else None
        cookie, csrf = _session_of(app.test_client(), signed_in)
        callers[name] = Caller(name, cookie, csrf, _bearer(s, name))
    app.extensions["auditcage.engine"].dispose()
    saved = sc.snapshot(path)
    yield Table(app, s, saved, callers, [False])
    app.extensions["auditcage.engine"].dispose()
    clock.freeze(None)


def _reset(table: Table) -> None:
    """The database as the scenario left it, and nothing cached from what changed since."""
    table.app.extensions["auditcage.engine"].dispose()
    sc.restore(table.saved, table.scenario.path)
    table.dirty[0] = False
    table.app.extensions["auditcage.reference"].invalidate()
    table.app.extensions.pop("auditcage.precheck", None)


def _answer(table: Table, endpoint: str, method: str, name: str) -> Expect:
    rule = next(
        r
        for r in table.app.url_map.iter_rules()
        if r.endpoint == endpoint and method in (r.methods or ())
    )
    values = _arguments(table.scenario, endpoint)
    url = rule.build({k: values[k] for k in rule.arguments})[1]
    caller = table.callers[name]
    client = table.app.test_client()
    client.set_cookie("session", caller.cookie)
    headers = {"Authorization": f"Bearer {caller.bearer}"} if caller.bearer else {}
    kwargs = _payload(table.scenario, endpoint) if method != "GET" else {}
    if "data" in kwargs:
        kwargs["data"] = {**kwargs["data"], "csrf_token": caller.csrf}
    elif kwargs:
        headers["X-CSRFToken"] = caller.csrf
    reply = client.open(url, method=method, headers=headers, **kwargs)
    reply.close()
    location = reply.headers.get("Location", "")
    if reply.status_code == 302 and location.startswith("/console/login?next="):
        return LOGIN
    return reply.status_code


def test_every_route_of_the_application_has_a_row(client) -> None:  # type: ignore[no-untyped-def]
    routes = {
        (rule.endpoint, method)
        for rule in client.application.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert sorted(routes - TABLE.keys()) == [], "routes without a row in the access table"
    assert sorted(TABLE.keys() - routes) == [], "rows for routes that no longer exist"
    assert all(set(row) == set(CALLERS) for row in TABLE.values())


@pytest.mark.parametrize(("endpoint", "method"), sorted(TABLE), ids=lambda v: str(v))
def test_each_caller_is_let_in_or_turned_away_as_the_table_says(
    table: Table, endpoint: str, method: str
) -> None:
    expected = TABLE[(endpoint, method)]
    wrong = {}
    for name in CALLERS:
        if method != "GET" and table.dirty[0]:
            _reset(table)
        got = _answer(table, endpoint, method, name)
        # A refusal changes nothing (its transaction rolled back), so only after another answer
        # does the next caller need the database put back.
        table.dirty[0] = table.dirty[0] or got not in (401, 403, 404, LOGIN)
        if got != expected[name]:
            wrong[name] = f"expected {expected[name]}, got {got}"
    assert wrong == {}, f"{method} {endpoint}"
