"""/a/<token>: the signed link of a pushed warning — open it on the device, acknowledge (签收).

The token names one alert and one staff member and expires (notifications.links); whoever holds
it acts as that person for that alert only, and every acknowledgement through it is audited by
the lifecycle like any other.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from api import db
from notifications import alert_views, lifecycle, links
from notifications.access import viewer_of

bp = Blueprint("alert_links", __name__)


SEVERITY_ZH = {"red": "红色预警", "orange": "橙色预警", "yellow": "黄色预警", "blue": "蓝色预警"}


def _open(token: str):  # type: ignore[no-untyped-def]
    settings = db.settings()
    link = links.verify(settings.secret_key, token, max_age=settings.link_ttl)
    ref = db.reference_cache().index(db.session())
    viewer = viewer_of(ref, link.staff_id)
    return link, ref, viewer


@bp.get("/a/<token>")
def show(token: str) -> ResponseReturnValue:
    link, ref, viewer = _open(token)
    return _page(link, ref, viewer, message=None)


@bp.post("/a/<token>")
def acknowledge(token: str) -> ResponseReturnValue:
    link, ref, viewer = _open(token)
    alert_views.get_visible(db.session(), ref, viewer, link.alert_id)
    with db.transaction() as session:
        lifecycle.acknowledge(session, link.alert_id, viewer.staff_id)
    if request.accept_mimetypes.best == "application/json":
        return {"alert_id": link.alert_id, "status": "acknowledged"}
    return _page(link, ref, viewer, message="已签收，请按时回告核查情况。")


def _page(link, ref, viewer, *, message: str | None) -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    detail = alert_views.alert_detail(db.session(), ref, viewer, link.alert_id)
    owners = {o["staff_id"] for o in detail["routing"]["owners"]}
    can_ack = detail["status"] == "pushed" and viewer.staff_id in owners
    return render_template(
        "alert_link.html",
        a=detail,
        severity_zh=SEVERITY_ZH.get(detail["severity"], detail["severity"]),
        can_ack=can_ack,
        message=message,
    )
