"""Sign-in, sign-out, the session's user, and the capability check every console view makes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from marshmallow import EXCLUDE, Schema, fields, validate

from api import db
from api.console.i18n import t
from api.ratelimit import SignInLimits
from auditcage import clock
from auditcage.accounts import service
from auditcage.accounts.models import Account
from auditcage.accounts.roles import HOME, Capability, capabilities_of, viewer_role_of
from notifications.access import Viewer

bp = Blueprint("console", __name__, url_prefix="/console")
login_manager = LoginManager()
F = TypeVar("F", bound=Callable[..., Any])

# However active, a session ends this long after sign-in.
ABSOLUTE_SESSION = timedelta(hours=12)


@dataclass(frozen=True)
class ConsoleUser(UserMixin):
    """A snapshot of the signed-in account for one request."""

    account_id: int
    username: str
    display_name: str
    roles: tuple[str, ...]
    unit_code: str | None
    staff_id: str | None
    locale: str
    epoch: int

    def get_id(self) -> str:
        # The epoch makes a password change or deactivation end every other session.
        return f"{self.account_id}:{self.epoch}"

    @property
    def capabilities(self) -> frozenset[Capability]:
        return capabilities_of(self.roles)

    def can(self, capability: str) -> bool:
        return Capability(capability) in self.capabilities

    @property
    def viewer(self) -> Viewer:
        return Viewer(
            self.staff_id or f"account:{self.username}",
            viewer_role_of(self.roles),
            self.unit_code,
        )

    @property
    def actor(self) -> str:
        """Who the audit trail and the lifecycle name: the staff id, or the account."""
        return self.staff_id or f"account:{self.username}"

    @classmethod
    def of(cls, account: Account) -> ConsoleUser:
        return cls(
            account.id,
            account.username,
            account.display_name,
            tuple(account.roles),
            account.unit_code,
            account.staff_id,
            account.locale,
            account.session_epoch,
        )


def init_app(app: Flask) -> None:
    settings = app.extensions["auditcage"]
    app.extensions["auditcage.sign_in_limits"] = SignInLimits(
        settings.login_limit_per_address, settings.login_limit_per_account
    )
    login_manager.init_app(app)
    login_manager.login_view = "console.login"
    login_manager.login_message = None  # the login page says why on its own
    login_manager.session_protection = "strong"


@login_manager.user_loader
def _load(user_id: str) -> ConsoleUser | None:
    account_id, _, epoch = user_id.partition(":")
    now = clock.now().timestamp()
    signed_in_at, seen_at = session.get("signed_in_at"), session.get("seen_at")
    if not signed_in_at or now - signed_in_at > ABSOLUTE_SESSION.total_seconds():
        return None
    # Idle expiry checked here too, on auditcage.clock like the absolute limit: the cookie's own
    # expiry runs on the wall clock and is the browser's to honour.
    if not seen_at or now - seen_at > db.settings().session_ttl.total_seconds():
        return None
    session["seen_at"] = now
    account = db.session().get(Account, int(account_id)) if account_id.isdigit() else None
    if account is None or not account.active or str(account.session_epoch) != epoch:
        return None
    return ConsoleUser.of(account)


def user() -> ConsoleUser:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def requires(capability: Capability | None = None) -> Callable[[F], F]:
    """Signed in and, if given, holding the capability; sets g.reference for the services."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if capability is not None and not user().can(capability):
                abort(403)
            g.reference = db.reference_cache().index(db.session())
            return view(*args, **kwargs)

        wrapped.required_capability = capability or "signed_in"  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


class SignInForm(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token, checked by Flask-WTF

    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    next = fields.String(load_default="")


def _safe_next(target: str) -> str | None:
    """Only a path on this site: an open redirect would help phishing."""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return None


def throttled(
    username: str | None, template: str = "console/login.html"
) -> ResponseReturnValue | None:
    """429 with Retry-After when this address or this account name tries too often; the first
    refusal of an episode is audited (api/ratelimit.py)."""
    limits: SignInLimits = current_app.extensions["auditcage.sign_in_limits"]
    refusal = limits.check(address=request.remote_addr, username=username)
    if refusal is None:
        return None
    if refusal.first:
        from auditcage.audit import trail

        with db.transaction() as s:
            trail.record(
                s,
                actor="anonymous",
                action="account.sign_in_throttled",
                detail={
                    "scope": refusal.scope,
                    "username": (username or "")[:64],
                    "address": request.remote_addr,
                },
            )
    flash(t("login.throttled", seconds=refusal.retry_after), "error")
    page = render_template(template, next=request.form.get("next", ""))
    return page, 429, {"Retry-After": str(refusal.retry_after)}


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("console/login.html", next=request.args.get("next", ""))
    refused = throttled(request.form.get("username"))
    if refused is not None:
        return refused
    errors = SignInForm().validate(request.form)
    if errors:
        flash(t("login.missing"), "error")
        return render_template("console/login.html", next=request.form.get("next", "")), 400
    with db.transaction() as s:
        try:
            account = service.authenticate(
                s,
                request.form["username"].strip(),
                request.form["password"],
                ref=db.reference_cache().index(s),
            )
        except service.SignInRefused:
            account = None
        signed_in = ConsoleUser.of(account) if account else None
    if signed_in is None:
        flash(t("login.refused"), "error")
        return render_template("console/login.html", next=request.form.get("next", "")), 401
    session.clear()  # a fresh session: nothing from before sign-in carries over
    session.permanent = True
    session["signed_in_at"] = session["seen_at"] = clock.now().timestamp()
    session["lang"] = signed_in.locale
    login_user(signed_in)
    return redirect(_safe_next(request.form.get("next", "")) or url_for("console.home"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        with db.transaction() as s:
            service.sign_out(s, user().account_id, actor=f"account:{user().username}")
    logout_user()
    session.clear()
    return redirect(url_for("console.login"))


@bp.get("/")
@requires()
def home() -> ResponseReturnValue:
    for capability, endpoint in HOME:
        if user().can(capability) and endpoint in current_app.view_functions:
            return redirect(url_for(endpoint))
    return render_template("console/home.html")


@bp.get("/lang/<code>")
def language(code: str) -> ResponseReturnValue:
    if code in ("zh", "en"):
        session["lang"] = code
    back = _safe_next(request.args.get("next", "")) or url_for("console.home")
    return redirect(back)
