"""Roles and what each may do in the console. One table, so a page and its test read the same."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    INSPECTOR = "inspector"  # 纪检督察
    BRIGADE_HEAD = "brigade_head"  # 大队长
    DETACHMENT_HEAD = "detachment_head"  # 支队长
    PROVINCE_HEAD = "province_head"  # 总队领导
    SUPERVISION = "supervision"  # 业务监管岗
    RULE_AUTHOR = "rule_author"  # 规则编写
    ADMIN = "admin"  # 系统管理员


class Capability(StrEnum):
    QUEUE = "queue"  # the inspectors' queue of every alert in the jurisdiction
    INBOX = "inbox"  # the warnings pushed to me
    ALERTS = "alerts"  # open an alert of the jurisdiction
    INSPECT = "inspect"  # review, return, dismiss, assign
    UNMASK = "unmask"  # see personal data in clear (audited)
    DASHBOARDS = "dashboards"
    RULES_READ = "rules.read"
    RULES_EDIT = "rules.edit"  # drafts, examples, back-tests
    RULES_PUBLISH = "rules.publish"
    ACCOUNTS = "accounts"


C = Capability
CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.INSPECTOR: frozenset({C.QUEUE, C.ALERTS, C.INSPECT, C.UNMASK, C.DASHBOARDS, C.RULES_READ}),
    Role.PROVINCE_HEAD: frozenset(
        {C.QUEUE, C.INBOX, C.ALERTS, C.INSPECT, C.UNMASK, C.DASHBOARDS, C.RULES_READ}
    ),
    Role.DETACHMENT_HEAD: frozenset({C.INBOX, C.ALERTS, C.DASHBOARDS}),
    Role.BRIGADE_HEAD: frozenset({C.INBOX, C.ALERTS, C.DASHBOARDS}),
    Role.SUPERVISION: frozenset({C.INBOX, C.ALERTS}),
    Role.RULE_AUTHOR: frozenset({C.RULES_READ, C.RULES_EDIT, C.RULES_PUBLISH}),
    Role.ADMIN: frozenset({C.ACCOUNTS, C.RULES_READ}),
}

# The alert-visibility role of notifications.access for each console role (most seeing first).
VIEWER_ROLE: tuple[tuple[Role, str], ...] = (
    (Role.INSPECTOR, "inspector"),
    (Role.PROVINCE_HEAD, "leadership"),
    (Role.DETACHMENT_HEAD, "chief"),
    (Role.BRIGADE_HEAD, "chief"),
    (Role.SUPERVISION, "supervision"),
)

# Roles that act in the acknowledgement loop: their account must name an active staff member
# (R2), because the loop checks owners, actors and recusal by staff id.
STAFF_ROLES = frozenset(role for role, _ in VIEWER_ROLE)

# Where each role lands after signing in.
HOME: tuple[tuple[Capability, str], ...] = (
    (C.QUEUE, "console_alerts.queue"),
    (C.INBOX, "console_alerts.inbox"),
    (C.RULES_EDIT, "console_rules.index"),
    (C.ACCOUNTS, "console_admin.accounts"),
)


def capabilities_of(roles: list[str] | tuple[str, ...]) -> frozenset[Capability]:
    out: set[Capability] = set()
    for name in roles:
        out |= CAPABILITIES.get(Role(name), frozenset())
    return frozenset(out)


def viewer_role_of(roles: list[str] | tuple[str, ...]) -> str:
    for role, viewer_role in VIEWER_ROLE:
        if role.value in roles:
            return viewer_role
    return "staff"
