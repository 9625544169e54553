"""Demo accounts, one per console role, bound to staff of the sample province.

The chiefs chosen are those who own the most alerts, so that a newcomer signing in finds warnings
waiting; a second brigade head shows that another brigade sees none of them.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage.accounts import service
from auditcage.accounts.models import Account
from auditcage.reference.index import ReferenceIndex
from notifications.lifecycle_models import AlertAssignment


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    staff_id: str | None
    unit_code: str | None
    display_name: str


# username, console role, R2 position (None: not a staff member of the loop), unit level
PLAN: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("inspector", "inspector", "inspector_discipline", "province"),
    ("chief", "brigade_head", "brigade_head", None),
    ("chief2", "brigade_head", "brigade_head", None),
    ("detachment", "detachment_head", "detachment_head", None),
    ("province", "province_head", "province_head", None),
    ("supervision", "supervision", "supervision_post", None),
    ("author", "rule_author", None, None),
    ("admin", "admin", None, None),
)


def _owned(session: Session) -> Counter[str]:
    owned: Counter[str] = Counter()
    for owners in session.scalars(select(AlertAssignment.owner_ids)):
        owned.update(owners or ())
    return owned


def _candidates(ref: ReferenceIndex, position: str, level: str | None) -> list[dict]:
    out = []
    for row in ref.rows("staff"):
        if row.get("position") != position or row.get("status") != "active":
            continue
        unit = ref.get("units", row.get("unit_code")) or {}
        if level is None or unit.get("level") == level:
            out.append(row)
    return out


def ensure_demo_accounts(
    session: Session, ref: ReferenceIndex, *, password: str | None = None
) -> list[DemoAccount]:
    """Create (or reset the password of) every demo account; return them with their passwords."""
    owned = _owned(session)
    taken: set[str] = set()
    made = []
    for username, role, position, level in PLAN:
        staff = None
        if position is not None:
            rows = [r for r in _candidates(ref, position, level) if r["staff_id"] not in taken]
            if not rows:
                continue
            staff = max(rows, key=lambda r: (owned[r["staff_id"]], -_order(r["staff_id"])))
            taken.add(staff["staff_id"])
        secret = password or secrets.token_urlsafe(9)
        name = str(staff.get("name")) if staff and staff.get("name") else username
        account = session.scalars(select(Account).where(Account.username == username)).first()
        if account is None:
            account = service.create(
                session,
                service.NewAccount(
                    username=username,
                    display_name=name,
                    password=secret,
                    roles=(role,),
                    staff_id=staff["staff_id"] if staff else None,
                    unit_code=staff.get("unit_code") if staff else _root(ref),
                ),
                actor="demo",
                ref=ref,
            )
        else:
            service.change_password(session, account.id, secret, actor="demo")
        made.append(DemoAccount(username, secret, role, account.staff_id, account.unit_code, name))
    return made


def _order(staff_id: str) -> int:
    digits = "".join(ch for ch in staff_id if ch.isdigit())
    return int(digits) if digits else 0


def _root(ref: ReferenceIndex) -> str | None:
    roots = [u["unit_code"] for u in ref.rows("units") if not u.get("parent_code")]
    return roots[0] if roots else None
