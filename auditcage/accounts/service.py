"""Create accounts, check passwords, lock out guessing. Every change goes to the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from auditcage import clock
from auditcage.accounts.models import Account
from auditcage.accounts.roles import STAFF_ROLES, Role
from auditcage.audit import trail
from auditcage.errors import AuditcageError, InvalidInput, NotFound
from auditcage.reference.index import ReferenceIndex

MIN_PASSWORD = 10
MAX_FAILURES = 5  # then the account is locked for LOCKOUT
LOCKOUT = timedelta(minutes=15)


class SignInRefused(AuditcageError):
    """One message for a wrong name, a wrong password and a locked account: no oracle."""

    code = "sign_in_refused"


@dataclass(frozen=True)
class NewAccount:
    username: str
    display_name: str
    password: str
    roles: tuple[str, ...]
    unit_code: str | None = None
    staff_id: str | None = None
    locale: str = "zh"


def _check(new: NewAccount, ref: ReferenceIndex | None) -> None:
    problems = []
    if not new.username or len(new.username) > 64 or not new.username.isascii():
        problems.append("username: 1–64 ASCII characters")
    if len(new.password) < MIN_PASSWORD:
        problems.append(f"password: at least {MIN_PASSWORD} characters")
    unknown = [r for r in new.roles if r not in Role._value2member_map_]
    if unknown or not new.roles:
        problems.append(f"roles: choose from {', '.join(r.value for r in Role)}")
    if STAFF_ROLES & {Role(r) for r in new.roles if not unknown}:
        if not new.staff_id:
            problems.append("staff_id: the loop roles act as a staff member of R2")
        elif ref is not None:
            row = ref.get("staff", new.staff_id)
            if row is None:
                problems.append(f"staff_id: {new.staff_id} is not in R2")
            elif new.unit_code and row.get("unit_code") != new.unit_code:
                problems.append(f"unit_code: {new.staff_id} belongs to {row.get('unit_code')}")
    if new.locale not in ("zh", "en"):
        problems.append("locale: zh or en")
    if problems:
        raise InvalidInput("; ".join(problems))


def create(
    session: Session, new: NewAccount, *, actor: str, ref: ReferenceIndex | None = None
) -> Account:
    _check(new, ref)
    if session.scalars(select(Account).where(Account.username == new.username)).first():
        raise InvalidInput(f"username: {new.username} exists")
    unit = new.unit_code
    if unit is None and new.staff_id and ref is not None:
        unit = (ref.get("staff", new.staff_id) or {}).get("unit_code")
    account = Account(
        username=new.username,
        display_name=new.display_name,
        password_hash=generate_password_hash(new.password),
        roles=list(new.roles),
        unit_code=unit,
        staff_id=new.staff_id,
        locale=new.locale,
    )
    session.add(account)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="account.create",
        subject=("account", account.id),
        detail={"username": account.username, "roles": account.roles, "unit": unit},
    )
    return account


def authenticate(
    session: Session, username: str, password: str, *, ref: ReferenceIndex | None = None
) -> Account:
    """The account, or SignInRefused; failures count towards a lock-out and are audited."""
    account = session.scalars(select(Account).where(Account.username == username)).first()
    now = clock.now()
    if account is None:
        # Hash anyway, so a missing name takes as long as a wrong password.
        check_password_hash(_DUMMY_HASH, password)
        trail.record(
            session,
            actor="anonymous",
            action="account.sign_in_failed",
            detail={"username": username[:64], "why": "unknown"},
        )
        raise SignInRefused("wrong username or password, or the account is locked")
    why = None
    if account.locked_until is not None and account.locked_until > now:
        why = "locked"
    elif not check_password_hash(account.password_hash, password):
        why = "password"
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILURES:
            account.locked_until = now + LOCKOUT
            account.failed_logins = 0
    elif not account.active:
        why = "inactive"
    elif account.staff_id and ref is not None:
        row = ref.get("staff", account.staff_id)
        if row is None or row.get("status") != "active":
            why = "staff_not_active"  # on leave or gone: R2 is the authority
    if why is not None:
        trail.record(
            session,
            actor=f"account:{account.username}",
            action="account.sign_in_failed",
            subject=("account", account.id),
            detail={"why": why},
        )
        raise SignInRefused("wrong username or password, or the account is locked")
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    trail.record(
        session,
        actor=f"account:{account.username}",
        action="account.sign_in",
        subject=("account", account.id),
    )
    return account


def change_password(session: Session, account_id: int, new_password: str, *, actor: str) -> None:
    if len(new_password) < MIN_PASSWORD:
        raise InvalidInput(f"password: at least {MIN_PASSWORD} characters")
    account = get(session, account_id)
    account.password_hash = generate_password_hash(new_password)
    account.session_epoch += 1  # every other session of this account ends
    trail.record(
        session, actor=actor, action="account.password_changed", subject=("account", account.id)
    )


def sign_out(session: Session, account_id: int, *, actor: str) -> None:
    """End every session of the account. Sessions are signed cookies the server cannot revoke
    one by one, so this is how a cookie copied before signing out becomes worthless after."""
    account = get(session, account_id)
    account.session_epoch += 1
    trail.record(session, actor=actor, action="account.sign_out", subject=("account", account.id))


def set_active(session: Session, account_id: int, active: bool, *, actor: str) -> None:
    account = get(session, account_id)
    account.active = active
    account.session_epoch += 1
    trail.record(
        session,
        actor=actor,
        action="account.activate" if active else "account.deactivate",
        subject=("account", account.id),
    )


def get(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    return account


def all_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.username)))


_DUMMY_HASH = generate_password_hash("not-a-real-password")
