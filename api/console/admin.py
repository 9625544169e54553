"""Administration: accounts (create, deactivate, reset a password) and one's own password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import logout_user

from api import db
from api.console.auth import requires, throttled, user
from api.console.export import excel_response, wants_excel
from api.console.i18n import t
from auditcage.accounts import service
from auditcage.accounts.roles import Capability, Role
from auditcage.errors import InvalidInput
from auditcage.records.masking import mask_name

bp = Blueprint("console_admin", __name__, url_prefix="/console/admin")

COLUMNS = (
    ("username", "accounts.username"),
    ("display_name", "accounts.display_name"),
    ("roles", "accounts.roles"),
    ("unit_code", "common.unit"),
    ("staff_id", "accounts.staff_id"),
    ("active", "accounts.active"),
    ("last_login_at", "accounts.last_login"),
)


@bp.get("/accounts")
@requires(Capability.ACCOUNTS)
def accounts() -> ResponseReturnValue:
    rows = [
        {
            "id": a.id,
            "username": a.username,
            "display_name": mask_name(a.display_name),  # a list: names masked
            "roles": "、".join(t(f"role.{r}") for r in a.roles),
            "unit_code": a.unit_code,
            "staff_id": a.staff_id,
            "active": a.active,
            "last_login_at": a.last_login_at,
        }
        for a in service.all_accounts(db.session())
    ]
    if wants_excel():
        return excel_response("accounts", rows, COLUMNS)
    return render_template("console/accounts.html", rows=rows, roles=list(Role))


@bp.post("/accounts")
@requires(Capability.ACCOUNTS)
def create_account() -> ResponseReturnValue:
    form = request.form
    new = service.NewAccount(
        username=form.get("username", "").strip(),
        display_name=form.get("display_name", "").strip() or form.get("username", ""),
        password=form.get("password", ""),
        roles=tuple(form.getlist("roles")),
        unit_code=form.get("unit_code", "").strip() or None,
        staff_id=form.get("staff_id", "").strip() or None,
        locale=form.get("locale", "zh"),
    )
    try:
        with db.transaction() as s:
            service.create(s, new, actor=user().actor, ref=db.reference_cache().index(s))
    except InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for(".accounts"))
    flash(t("accounts.created", username=new.username), "ok")
    return redirect(url_for(".accounts"))


@bp.post("/accounts/<int:account_id>/active")
@requires(Capability.ACCOUNTS)
def set_active(account_id: int) -> ResponseReturnValue:
    with db.transaction() as s:
        service.set_active(s, account_id, request.form.get("active") == "1", actor=user().actor)
    return redirect(url_for(".accounts"))


@bp.route("/password", methods=["GET", "POST"])
@requires()
def password() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("console/password.html")
    # The current password is checked here too: the same limits as the sign-in page.
    refused = throttled(user().username, "console/password.html")
    if refused is not None:
        return refused
    with db.transaction() as s:
        account = service.get(s, user().account_id)
        try:
            service.authenticate(s, account.username, request.form.get("current", ""))
        except service.SignInRefused:
            flash(t("password.wrong"), "error")
            return render_template("console/password.html"), 400
    if request.form.get("new") != request.form.get("repeat"):
        flash(t("password.mismatch"), "error")
        return render_template("console/password.html"), 400
    try:
        with db.transaction() as s:
            service.change_password(s, user().account_id, request.form["new"], actor=user().actor)
    except InvalidInput as exc:
        flash(str(exc), "error")
        return render_template("console/password.html"), 400
    logout_user()  # the epoch moved: sign in again with the new password
    flash(t("password.changed"), "ok")
    return redirect(url_for("console.login"))
