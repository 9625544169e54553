"""Planted violation-processing checkpoint cases (CP-01…19), positives and near misses."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo.plants import PlantContext, near_miss, plant
from auditcage.demo.plants_violation import (
    _brigade,
    _field_collect,
    _release,
    _seizure,
    decide_record,
)
from auditcage.demo.province import Office, Window
from auditcage.demo.records import Record
from auditcage.demo.timeutil import is_workday

ID_KEYS = (
    "plate_no",
    "plate_type",
    "vin",
    "vehicle_owner_id_no",
    "subject_id_type",
    "subject_id_no",
    "license_no",
    "license_holder_id_no",
    "violation_code",
)


# ---- builders -------------------------------------------------------------------------------
def _later(
    ctx: PlantContext,
    src: Record,
    step: int,
    btype: str,
    action: str,
    t: datetime,
    office: Office,
    operator: str,
    *,
    w: Window | None = None,
    where: str | None = None,
    source: str = "violation",
) -> Record:
    """A later step of `src`'s business item: same serial, ids and (copied) violation block."""
    rec = ctx.rec(
        source,
        src["serial_no"],
        step,
        "violation",
        btype,
        action,
        t,
        office,
        operator,
        w=w,
        where=where,
        accepted=datetime.fromisoformat(src.get("accepted_at") or src["action_time"]),
    )
    for key in ID_KEYS:
        if key in src:
            rec[key] = src[key]
    rec["violation"] = copy.deepcopy(src["violation"])
    return rec


def _on_duty_day(ctx: PlantContext, officer: str, offset: int) -> date:
    day = ctx.day(offset)
    while not ctx.world.field_on_duty(officer, day):
        day += timedelta(days=1)
    return day


def _field_decide(
    ctx: PlantContext, offset: int, *, code: str = "12230", points: int = 3, fine: float = 50.0
) -> tuple[Record, Office]:
    """An on-site summary decision by a field officer, filmed, handed over on the spot."""
    office = ctx.office("brigade", 0, 1)
    officer = office.field_officers[1]
    day = _on_duty_day(ctx, officer, offset)
    t = ctx.t(day, "16:40")
    dec = decide_record(
        ctx,
        office,
        None,
        t,
        ctx.person(),
        code,
        points=points,
        fine=fine,
        operator=officer,
        where="field",
        source="on_site",
    )
    dec["violation"]["driver_verify"] = {"method": "id_card", "score": None}
    dec["bodycam_refs"] = [ctx.run.bodycam(officer, t, evidence=True)]
    return dec, office


def _filing(ctx: PlantContext, dec: Record, office: Office, t: datetime) -> Record:
    """The unit's legal reviewer registers the filing (备案) of a field summary decision."""
    rec = _later(
        ctx, dec, 2, "VIO_PROCESS", "review", t, office, office.legal_reviewer, source="violation"
    )
    rec["violation"]["decision"]["filed_at"] = t.isoformat()
    return rec


def _camera_review(
    ctx: PlantContext, offset: int, late_days: int, *, confirmed_by: str | None = None
) -> Record:
    """A camera record entered at the backend `late_days` calendar days after capture."""
    office = ctx.office("brigade")
    day = ctx.day(offset)
    t = ctx.t(day, "10:00")
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    serial = ctx.serial("5", office.unit_code, day)
    captured = t - timedelta(days=late_days)
    rec = ctx.rec(
        "nonsite_review",
        serial,
        1,
        "violation",
        "VIO_NONSITE_REVIEW",
        "review",
        t,
        office,
        office.nonsite_reviewer,
        accepted=captured,
    )
    ctx.ids(rec, person=owner, car=car, licence=owner.id_no)
    rec.update(
        violation_code="10390",
        evidence_count=2,
        evidence=[
            {
                "evidence_id": f"{serial}-E{i}",
                "kind": "photo_plate",
                "uri": f"oss://camera/{serial}/{i}.jpg",
                "taken_at": (captured - timedelta(seconds=60 - 2 * i)).isoformat(),
            }
            for i in (1, 2)
        ],
    )
    rec["violation"] = {
        "violation_id": serial,
        "source": "camera",
        "violation_time": (captured - timedelta(minutes=1)).isoformat(),
        "captured_at": captured.isoformat(),
        "entered_at": t.isoformat(),
        "initial_reviewer_id": office.nonsite_initial,
        "confirmed_by": confirmed_by or office.nonsite_reviewer,
    }
    return rec


def _lawful_due(delivered: datetime) -> date:
    """The 15th calendar day after delivery, moved to the next working day (§0.2 item 7)."""
    d = delivered.date() + timedelta(days=15)
    while not is_workday(d):
        d += timedelta(days=1)
    return d


def _window_decision(
    ctx: PlantContext, offset: int, *, code: str = "13442", points: int = 3, fine: float = 200.0
) -> tuple[Record, Office, Window]:
    office, w = _brigade(ctx, 1)
    t = ctx.t(ctx.day(offset), "10:15")
    dec = decide_record(ctx, office, w, t, ctx.person(), code, points=points, fine=fine)
    delivered = datetime.fromisoformat(dec["violation"]["decision"]["delivered_at"])
    dec["violation"]["payment"]["due_date"] = _lawful_due(delivered).isoformat()
    return dec, office, w


def _bank_payment(
    ctx: PlantContext,
    dec: Record,
    office: Office,
    paid: datetime,
    *,
    banked: float,
    **payment: Any,
) -> Record:
    """The fine paid at the bank, and the R13 transaction of `banked` CNY the bank reports."""
    pay = _later(
        ctx, dec, 4, "VIO_PAYMENT", "collect", paid, office, "SYS:payment", source="payment"
    )
    fine = float(dec["amount"])
    txn = f"BK{paid:%Y%m%d}{dec['serial_no'][-10:]}"
    pay.update(amount=fine, amount_kind="fine", completed_at=paid.isoformat())
    pay["violation"].pop("notice", None)
    pay["violation"]["payment"] = {
        **dec["violation"]["payment"],
        "status": "paid",
        "channel": "bank",
        "paid_at": paid.isoformat(),
        "bank_txn_id": txn,
        **payment,
    }
    ctx.add(
        "bank_ledger",
        {
            "bank_txn_id": txn,
            "decision_no": dec["violation"]["decision"]["decision_no"],
            "amount": banked,
            "paid_on": paid.date().isoformat(),
        },
    )
    return pay


def _late_payment(
    ctx: PlantContext, offset: int, late_days: int
) -> tuple[Record, Office, datetime]:
    dec, office, _ = _window_decision(ctx, offset)
    due = date.fromisoformat(dec["violation"]["payment"]["due_date"])
    return dec, office, ctx.t(due + timedelta(days=late_days), "15:05")


def _remittance(
    ctx: PlantContext, pay: Record, remitted: datetime, deposited: datetime
) -> list[Record]:
    """The officer hands the cash to the unit; the unit's legal reviewer banks it."""
    office = ctx.world.office(pay["unit_code"])
    officer = pay["operator_id"]
    rem = _later(ctx, pay, 3, "VIO_PAYMENT", "remit", remitted, office, officer, source="payment")
    rem["channel"] = "mobile_police"
    rem["violation"]["payment"]["remitted_at"] = remitted.isoformat()
    dep = _later(
        ctx,
        rem,
        4,
        "VIO_PAYMENT",
        "remit",
        deposited,
        office,
        office.legal_reviewer,
        source="payment",
    )
    txn = f"BK{deposited:%Y%m%d}{pay['serial_no'][-10:]}"
    dep["violation"]["payment"].update(deposited_at=deposited.isoformat(), bank_txn_id=txn)
    ctx.add(
        "bank_ledger",
        {
            "bank_txn_id": txn,
            "decision_no": pay["violation"]["decision"]["decision_no"],
            "amount": pay["amount"],
            "paid_on": deposited.date().isoformat(),
        },
    )
    return [rem, dep]


def _held_vehicle(
    ctx: PlantContext, offset: int, released_after: int, *, extension_after: int | None = None
) -> list[Record]:
    """A seized vehicle whose papers are brought in the next working day; released
    `released_after` working days later (an extension approved after `extension_after`)."""
    seize, _, _, office = _seizure(ctx, offset)
    docs_day = ctx.wd(datetime.fromisoformat(seize["action_time"]).date(), 1)
    w = ctx.window(office, 1)
    t_docs = ctx.t(docs_day, "10:00")
    acc = _later(ctx, seize, 2, "VIO_PROCESS", "accept", t_docs, office, w.aux_id, w=w)
    acc["violation"]["measure"]["docs_submitted_at"] = t_docs.isoformat()
    out = [seize, acc]
    if extension_after is not None:
        t_ext = ctx.t(ctx.wd(docs_day, extension_after), "15:00")
        ext = _later(ctx, acc, 3, "VIO_MEASURE", "approve", t_ext, office, office.approvers[0])
        ext["violation"]["measure"]["extension_approval_no"] = f"YC{seize['serial_no'][-8:]}"
        ext["approval_no"] = ext["violation"]["measure"]["extension_approval_no"]
        out.append(ext)
    t_rel = ctx.t(ctx.wd(docs_day, released_after), "15:30")
    rel = _release(
        ctx, out[-1], office, t_rel, approval_no=f"SP{seize['serial_no'][-8:]}", docs=["行驶证"]
    )
    rel["approver_id"] = office.approvers[0]
    out.append(rel)
    return out


def _decided_seizure(ctx: PlantContext, offset: int) -> tuple[Record, Record, Office, Window]:
    """A seizure whose party came in two working days later and accepted a 50 CNY fine."""
    seize, car, owner, office = _seizure(ctx, offset)
    w = ctx.window(office, 1)
    day = ctx.wd(datetime.fromisoformat(seize["action_time"]).date(), 2)
    t = ctx.t(day, "10:30")
    dec = decide_record(
        ctx,
        office,
        w,
        t,
        owner,
        "10060",
        points=0,
        fine=50.0,
        car=car,
        serial=seize["serial_no"],
        step=3,
        source="on_site",
        measure={**seize["violation"]["measure"], "docs_submitted_at": t.isoformat()},
    )
    return seize, dec, office, w


def _release_of(
    ctx: PlantContext,
    prior: Record,
    office: Office,
    t: datetime,
    releaser: str,
    approver: str | None,
    docs: list[str],
) -> Record:
    """A window release of a seized vehicle by `releaser`, restating the item's violation block."""
    w = next(x for x in office.windows if releaser in (x.police_id, x.aux_id))
    rel = _later(ctx, prior, 6, "VIO_RELEASE", "release", t, office, releaser, w=w)
    approval = f"SP{prior['serial_no'][-8:]}"
    rel.update(
        reason_code="docs_verified",
        approver_id=approver,
        approval_no=approval,
        related_serial_no=prior["serial_no"],
        completed_at=t.isoformat(),
    )
    rel["violation"]["release"] = {
        "released_at": t.isoformat(),
        "released_by": releaser,
        "approval_no": approval,
        "docs": docs,
    }
    measure = rel["violation"]["measure"]
    ctx.add(
        "parking_ledger",
        {
            "plate_no": prior["plate_no"],
            "lot_id": measure["parking_lot_id"],
            "in_at": measure["lot_in_at"],
            "out_at": (t + timedelta(minutes=30)).isoformat(),
            "released_by": releaser,
        },
    )
    return rel


def _correction(
    ctx: PlantContext,
    dec: Record,
    t: datetime,
    office: Office,
    *,
    approver: str,
    basis: str | None,
    basis_doc: str | None,
    w: Window | None = None,
) -> Record:
    """A revocation of `dec` (VIO_CORRECTION revoke), at window `w` by its police officer or at
    the legal reviewer's backend: points and fine go back to zero."""
    op = w.police_id if w else office.legal_reviewer
    rec = _later(ctx, dec, 9, "VIO_CORRECTION", "revoke", t, office, op, w=w)
    rec.update(
        reason_code=basis or "self_correction",
        approver_id=approver,
        related_serial_no=dec["serial_no"],
        points=0,
        amount=0.0,
        amount_kind="fine",
        before={"points": dec["points"], "amount": dec["amount"]},
        after={"points": 0, "amount": 0.0},
    )
    if basis_doc:
        rec["basis_doc_no"] = basis_doc
    rec["violation"]["revocation"] = {"basis_type": basis, "basis_doc_no": basis_doc}
    return rec


# ---- A. violation processing ----------------------------------------------------------------
@plant("CP-01", severity="yellow")
def cp_01(ctx: PlantContext) -> list[Record]:
    """A camera record reviewed and entered 18 days after capture (limit 10 working days)."""
    return [_camera_review(ctx, 42, 18)]


@plant("CP-01", severity="orange")
def cp_01_auxiliary(ctx: PlantContext) -> list[Record]:
    """A camera record confirmed and entered by the auxiliary who did the initial review."""
    office = ctx.office("brigade")
    return [_camera_review(ctx, 44, 2, confirmed_by=office.nonsite_initial)]


@near_miss("CP-01")
def cp_01_near(ctx: PlantContext) -> list[Record]:
    """A camera record entered on the 10th working day after capture, confirmed by police."""
    rec = _camera_review(ctx, 46, 0)
    entered = ctx.t(ctx.wd(ctx.day(46), 10), "16:30")
    rec.update(action_time=entered.isoformat())
    rec["violation"]["entered_at"] = entered.isoformat()
    return [rec]


@plant("CP-02", severity="orange")
def cp_02(ctx: PlantContext) -> list[Record]:
    """A summary-procedure decision that also suspends the licence (only warning/fine allowed)."""
    office, w = _brigade(ctx)
    return [
        decide_record(
            ctx,
            office,
            w,
            ctx.t(ctx.day(57), "10:45"),
            ctx.person(),
            "16250",
            points=6,
            fine=200.0,
            kinds=("fine", "suspend"),
            suspend_months=1,
        )
    ]


@near_miss("CP-02")
def cp_02_near(ctx: PlantContext) -> list[Record]:
    """A summary decision at the ceiling: a 200 CNY fine and 6 points, decided by police."""
    office, w = _brigade(ctx)
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(58), "11:05"), ctx.person(), "16250", points=6, fine=200.0
        )
    ]


@plant("CP-03", severity="yellow")
def cp_03(ctx: PlantContext) -> list[Record]:
    """A field summary decision filed with the unit on the 3rd working day (limit 2)."""
    dec, office = _field_decide(ctx, 22)
    day = datetime.fromisoformat(dec["action_time"]).date()
    return [dec, _filing(ctx, dec, office, ctx.t(ctx.wd(day, 3), "09:40"))]


@near_miss("CP-03")
def cp_03_near(ctx: PlantContext) -> list[Record]:
    """A field summary decision filed late on the 2nd working day."""
    dec, office = _field_decide(ctx, 24)
    day = datetime.fromisoformat(dec["action_time"]).date()
    return [dec, _filing(ctx, dec, office, ctx.t(ctx.wd(day, 2), "17:20"))]


@plant("CP-04", severity="orange")
def cp_04(ctx: PlantContext) -> list[Record]:
    """A decision made before the party was notified and heard (notice 2 hours after the
    decision)."""
    office, w = _brigade(ctx, 1)
    t = ctx.t(ctx.day(60), "09:30")
    rec = decide_record(ctx, office, w, t, ctx.person(), "13442", points=3, fine=200.0)
    rec["violation"]["notice"]["notified_at"] = (t + timedelta(hours=2)).isoformat()
    return [rec]


@near_miss("CP-04")
def cp_04_near(ctx: PlantContext) -> list[Record]:
    """An on-the-spot decision whose oral notice is recorded at the decision time itself."""
    dec, _ = _field_decide(ctx, 26)
    dec["violation"]["notice"]["notified_at"] = dec["action_time"]
    return [dec]


@near_miss("CP-04")
def cp_04_statement(ctx: PlantContext) -> list[Record]:
    """The party's statement is heard and rejected; the decision is exactly what was proposed."""
    office, w = _brigade(ctx)
    t = ctx.t(ctx.day(27), "14:10")
    rec = decide_record(ctx, office, w, t, ctx.person(), "16250", points=6, fine=200.0)
    rec["violation"]["notice"].update(
        statement_recorded=True,
        statement_at=(t - timedelta(minutes=2)).isoformat(),
        statement_accepted=False,
    )
    return [rec]


@plant("CP-05", severity="red")
def cp_05_auxiliary(ctx: PlantContext) -> list[Record]:
    """A general-procedure decision signed by the auxiliary at the window (no enforcement
    status)."""
    office, w = _brigade(ctx, 1)
    return [
        decide_record(
            ctx,
            office,
            w,
            ctx.t(ctx.day(29), "15:20"),
            ctx.person(),
            "17020",
            points=6,
            fine=1000.0,
            procedure="general",
            operator=w.aux_id,
        )
    ]


@near_miss("CP-05")
def cp_05_near(ctx: PlantContext) -> list[Record]:
    """A 2,000 CNY general-procedure fine decided by police and approved by the legal
    reviewer."""
    office = ctx.office("brigade")
    w = ctx.window(office, 1)
    day = ctx.day(31)
    rec = decide_record(
        ctx,
        office,
        w,
        ctx.t(ctx.wd(day, 7), "10:40"),
        ctx.person(),
        "17020",
        points=6,
        fine=2000.0,
        procedure="general",
    )
    rec["approver_id"] = office.legal_reviewer
    rec["violation"]["decision"]["approved_by"] = office.legal_reviewer
    rec["violation"]["notice"].update(
        notified_at=ctx.t(day, "10:00").isoformat(),
        hearing_notified_at=ctx.t(day, "10:00").isoformat(),
    )
    return [rec]


def _hearing_case(ctx: PlantContext, offset: int, decided: datetime, **notice: Any) -> Record:
    office = ctx.office("brigade")
    w = ctx.window(office, 1)
    notified = ctx.t(ctx.day(offset), "09:50")
    rec = decide_record(
        ctx, office, w, decided, ctx.person(), "17020", points=6, fine=2000.0, procedure="general"
    )
    rec["approver_id"] = office.approvers[0]
    rec["violation"]["decision"]["approved_by"] = office.approvers[0]
    rec["violation"]["notice"].update(
        notified_at=notified.isoformat(), hearing_notified_at=notified.isoformat(), **notice
    )
    return rec


@plant("CP-06", severity="orange")
def cp_06(ctx: PlantContext) -> list[Record]:
    """A 2,000 CNY fine decided on the 3rd working day after the hearing notice (5 to request)."""
    decided = ctx.t(ctx.wd(ctx.day(36), 3), "11:00")
    return [_hearing_case(ctx, 36, decided, hearing_requested=False)]


@near_miss("CP-06")
def cp_06_near(ctx: PlantContext) -> list[Record]:
    """A 2,000 CNY fine decided the morning after the 5-working-day request period ran out."""
    decided = ctx.t(ctx.wd(ctx.day(38), 6), "09:10")
    return [_hearing_case(ctx, 38, decided, hearing_requested=False)]


@near_miss("CP-06")
def cp_06_waived(ctx: PlantContext) -> list[Record]:
    """A 2,000 CNY fine decided two days after the notice; the party waived the hearing."""
    decided = ctx.t(ctx.wd(ctx.day(40), 2), "10:20")
    return [_hearing_case(ctx, 40, decided, hearing_requested=False, hearing_waived=True)]


@plant("CP-07", severity="orange")
def cp_07(ctx: PlantContext) -> list[Record]:
    """Six points put on a licence at the window with no check of who actually drove."""
    office, w = _brigade(ctx)
    rec = decide_record(
        ctx, office, w, ctx.t(ctx.day(33), "16:05"), ctx.person(), "16250", points=6, fine=200.0
    )
    rec["violation"]["driver_verify"] = {"method": "none", "score": None}
    return [rec]


@plant("CP-07", severity="orange")
def cp_07_full_score(ctx: PlantContext) -> list[Record]:
    """A licence already at 12 points takes 3 more points for a stranger's car."""
    office, w = _brigade(ctx, 1)
    holder = ctx.person(points=12)
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(35), "10:50"), holder, "13442", points=3, fine=200.0
        )
    ]


@near_miss("CP-07")
def cp_07_near(ctx: PlantContext) -> list[Record]:
    """A face-verified licence at 11 points takes 1 point for another owner's car."""
    office, w = _brigade(ctx, 1)
    holder = ctx.person(points=11)
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(37), "14:25"), holder, "10461", points=1, fine=100.0
        )
    ]


@plant("CP-08", severity="yellow")
def cp_08(ctx: PlantContext) -> list[Record]:
    """A decision sent by post and never delivered (no delivered_at, no later deliver)."""
    office, w = _brigade(ctx, 1)
    rec = decide_record(
        ctx, office, w, ctx.t(ctx.day(35), "11:30"), ctx.person(), "13442", points=3, fine=200.0
    )
    rec["violation"]["decision"].update(delivery_method="post", delivered_at=None)
    return [rec]


@near_miss("CP-08")
def cp_08_near(ctx: PlantContext) -> list[Record]:
    """A decision sent by post and delivered on the 7th working day."""
    office, w = _brigade(ctx, 1)
    t = ctx.t(ctx.day(39), "11:40")
    dec = decide_record(ctx, office, w, t, ctx.person(), "13442", points=3, fine=200.0)
    dec["violation"]["decision"].update(delivery_method="post", delivered_at=None)
    delivered = ctx.t(ctx.wd(t.date(), 7), "15:10")
    rec = _later(ctx, dec, 2, "VIO_PROCESS", "deliver", delivered, office, "SYS:post")
    rec["violation"]["decision"]["delivered_at"] = delivered.isoformat()
    return [dec, rec]


def _elimination(
    ctx: PlantContext, day: date, *, verified: datetime | None, **fields: Any
) -> Record:
    office, w = _brigade(ctx, 1)
    t = ctx.t(day, "15:20")
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    serial = ctx.serial("5", office.unit_code, day)
    rec = ctx.rec(
        "violation",
        serial,
        1,
        "violation",
        "VIO_ELIMINATION",
        "eliminate",
        t,
        office,
        w.police_id,
        w=w,
        accepted=t - timedelta(minutes=2),
    )
    ctx.ids(rec, person=owner, car=car, licence=owner.id_no)
    rec.update(violation_code="16250")
    rec["violation"] = {
        "violation_id": serial,
        "source": "camera",
        "violation_time": (t - timedelta(days=9)).isoformat(),
        "elimination": {
            "verified_at": verified.isoformat() if verified else None,
        },
    }
    rec.update({k: v for k, v in fields.items() if k != "elimination"})
    rec["violation"]["elimination"].update(fields.get("elimination", {}))
    return rec


@plant("CP-09", severity="red")
def cp_09(ctx: PlantContext) -> list[Record]:
    """An elimination with a reason outside the statutory list, no evidence and no approver."""
    rec = _elimination(
        ctx,
        ctx.day(64),
        verified=None,
        reason_code="other",
        reason_text="熟人打招呼",
        elimination={"reason_code": "acquaintance_request", "evidence_refs": []},
    )
    return [rec]


@near_miss("CP-09")
def cp_09_near(ctx: PlantContext) -> list[Record]:
    """A defective camera record eliminated on the 3rd working day after verification, with
    proof and another officer's approval."""
    day = ctx.day(50)
    office, _ = _brigade(ctx, 1)
    rec = _elimination(
        ctx,
        ctx.wd(day, 3),
        verified=ctx.t(day, "10:00"),
        reason_code="record_defective",
        approver_id=office.approvers[0],
        elimination={
            "reason_code": "record_defective",
            "evidence_refs": [f"oss://elim/{day:%Y%m%d}/plate-unreadable.pdf"],
        },
    )
    return [rec]


@plant("CP-10", severity="orange")
def cp_10(ctx: PlantContext) -> list[Record]:
    """The deciding officer revokes his own decision three days later, with no basis document
    and himself as approver."""
    dec, office, w = _window_decision(ctx, 41)
    t = ctx.t(ctx.wd(datetime.fromisoformat(dec["action_time"]).date(), 3), "16:45")
    return [
        dec,
        _correction(ctx, dec, t, office, approver=w.police_id, basis=None, basis_doc=None, w=w),
    ]


@plant("CP-10", severity="orange")
def cp_10_deputy(ctx: PlantContext) -> list[Record]:
    """A decision revoked after reconsideration, approved only by the deputy brigade head."""
    dec, office, _ = _window_decision(ctx, 43)
    t = ctx.t(ctx.wd(datetime.fromisoformat(dec["action_time"]).date(), 20), "10:30")
    return [
        dec,
        _correction(
            ctx,
            dec,
            t,
            office,
            approver=office.approvers[1],
            basis="reconsideration",
            basis_doc=f"FY{dec['serial_no'][-8:]}",
        ),
    ]


@near_miss("CP-10")
def cp_10_near(ctx: PlantContext) -> list[Record]:
    """A decision revoked after reconsideration, by the legal reviewer, approved by the brigade
    head."""
    dec, office, _ = _window_decision(ctx, 45)
    t = ctx.t(ctx.wd(datetime.fromisoformat(dec["action_time"]).date(), 20), "11:10")
    return [
        dec,
        _correction(
            ctx,
            dec,
            t,
            office,
            approver=office.approvers[0],
            basis="reconsideration",
            basis_doc=f"FY{dec['serial_no'][-8:]}",
        ),
    ]


# ---- B. compulsory measures -----------------------------------------------------------------
@plant("CP-11", severity="orange")
def cp_11(ctx: PlantContext) -> list[Record]:
    """A vehicle seized on the road with no voucher number and the party's signature absent."""
    seize, *_ = _seizure(ctx, 28, voucher_no=None, signed_by_party="absent")
    seize.pop("document_no")
    return [seize]


@near_miss("CP-11")
def cp_11_near(ctx: PlantContext) -> list[Record]:
    """A vehicle seized with a voucher; the driver refused to sign and the refusal is noted."""
    seize, *_ = _seizure(ctx, 30, signed_by_party="refused")
    return [seize]


@plant("CP-12", severity="orange")
def cp_12(ctx: PlantContext) -> list[Record]:
    """A field seizure reported to the unit head 30 hours later (limit 24 h)."""
    seize, *_ = _seizure(ctx, 49)
    measured = datetime.fromisoformat(seize["action_time"])
    seize["violation"]["measure"].update(
        reported_at=(measured + timedelta(hours=30)).isoformat(),
        approved_at=(measured + timedelta(hours=30)).isoformat(),
    )
    return [seize]


@near_miss("CP-12")
def cp_12_near(ctx: PlantContext) -> list[Record]:
    """A field seizure reported to the head and approved 23 h 59 min later."""
    seize, *_ = _seizure(ctx, 51)
    measured = datetime.fromisoformat(seize["action_time"])
    seize["violation"]["measure"].update(
        reported_at=(measured + timedelta(hours=23, minutes=59)).isoformat(),
        approved_at=(measured + timedelta(hours=23, minutes=59)).isoformat(),
    )
    return [seize]


@plant("CP-13", severity="orange")
def cp_13(ctx: PlantContext) -> list[Record]:
    """An on-site decision with no body-camera recording attached."""
    office = ctx.office("brigade", 0, 1)
    officer = office.field_officers[-1]
    day = _on_duty_day(ctx, officer, 68)
    return [
        decide_record(
            ctx,
            office,
            None,
            ctx.t(day, "18:10"),
            ctx.person(),
            "12230",
            points=3,
            fine=50.0,
            operator=officer,
            where="field",
            source="on_site",
        )
    ]


@near_miss("CP-13")
def cp_13_near(ctx: PlantContext) -> list[Record]:
    """An on-site decision filmed by the officer's body camera."""
    dec, _ = _field_decide(ctx, 69)
    return [dec]


def _late_upload(ctx: PlantContext, offset: int, delay: timedelta) -> list[Record]:
    """An on-site decision filmed by its officer on a clip of its own, uploaded `delay` after
    the clip ended."""
    office = ctx.office("brigade", 0, 1)
    officer = office.field_officers[1]
    day = _on_duty_day(ctx, officer, offset)
    t = ctx.t(day, "17:20")
    begin, end = t - timedelta(minutes=20), t + timedelta(minutes=15)
    clip = f"BC-{officer}-{t:%Y%m%d}-U{offset}"
    ctx.add(
        "bodycam_index",
        {
            "clip_id": clip,
            "device_id": f"BCD-{officer}",
            "staff_id": officer,
            "started_at": begin.isoformat(),
            "ended_at": end.isoformat(),
            "uploaded_at": (end + delay).isoformat(),
            "retention_class": "evidence",
            "deleted_at": None,
        },
    )
    dec = decide_record(
        ctx,
        office,
        None,
        t,
        ctx.person(),
        "12230",
        points=3,
        fine=50.0,
        operator=officer,
        where="field",
        source="on_site",
    )
    dec["violation"]["driver_verify"] = {"method": "id_card", "score": None}
    dec["bodycam_refs"] = [clip]
    return [dec]


@plant("CP-13", severity="orange")
def cp_13_late_upload(ctx: PlantContext) -> list[Record]:
    """An on-site decision filmed by the officer, the clip uploaded 26 hours after it ended
    (upload within 24 h)."""
    return _late_upload(ctx, 72, timedelta(hours=26))


@near_miss("CP-13")
def cp_13_upload_at_24h(ctx: PlantContext) -> list[Record]:
    """An on-site decision filmed by the officer, the clip uploaded exactly 24 hours after it
    ended."""
    return _late_upload(ctx, 74, timedelta(hours=24))


@plant("CP-14", severity="yellow")
def cp_14(ctx: PlantContext) -> list[Record]:
    """A seized vehicle released 14 working days after the documents were brought in, with no
    extension."""
    return _held_vehicle(ctx, 9, 14)


@plant("CP-14", severity="orange")
def cp_14_beyond_15(ctx: PlantContext) -> list[Record]:
    """A seized vehicle released 17 working days after the documents, though an extension was
    approved."""
    return _held_vehicle(ctx, 12, 17, extension_after=8)


@near_miss("CP-14")
def cp_14_near(ctx: PlantContext) -> list[Record]:
    """A seized vehicle released on the 10th working day after the documents."""
    return _held_vehicle(ctx, 15, 10)


@near_miss("CP-14")
def cp_14_extended(ctx: PlantContext) -> list[Record]:
    """An extension approved on the 9th working day; released on the 15th."""
    return _held_vehicle(ctx, 18, 15, extension_after=9)


@plant("CP-15", severity="red")
def cp_15(ctx: PlantContext) -> list[Record]:
    """A seized vehicle released after the fine, by the officer who also signed the approval."""
    seize, dec, office, w = _decided_seizure(ctx, 25)
    t = datetime.fromisoformat(dec["action_time"]) + timedelta(minutes=12)
    rel = _release_of(ctx, dec, office, t, w.police_id, w.police_id, ["行驶证", "处罚决定书"])
    return [seize, dec, rel]


@plant("CP-15", severity="red")
def cp_15_auxiliary(ctx: PlantContext) -> list[Record]:
    """A seized vehicle released by the window auxiliary (approved by the head)."""
    seize, dec, office, w = _decided_seizure(ctx, 47)
    t = datetime.fromisoformat(dec["action_time"]) + timedelta(minutes=15)
    rel = _release_of(ctx, dec, office, t, w.aux_id, office.approvers[0], ["行驶证", "处罚决定书"])
    return [seize, dec, rel]


@near_miss("CP-15")
def cp_15_near(ctx: PlantContext) -> list[Record]:
    """A seized vehicle released before any decision, on the driving permit and insurance the
    party brought, with the head's approval."""
    seize, _, _, office = _seizure(ctx, 53)
    w = ctx.window(office, 1)
    t = ctx.t(ctx.wd(datetime.fromisoformat(seize["action_time"]).date(), 1), "14:30")
    return [
        seize,
        _release_of(ctx, seize, office, t, w.police_id, office.approvers[0], ["行驶证", "保险"]),
    ]


# ---- C. fines and payments ------------------------------------------------------------------
@plant("CP-16", severity="orange")
def cp_16(ctx: PlantContext) -> list[Record]:
    """A 200 CNY fine collected in cash on the spot (only ≤100 or a listed reason is lawful)."""
    dec, pay = _field_collect(ctx, 43, 200.0)
    return [dec, pay]


@near_miss("CP-16")
def cp_16_near(ctx: PlantContext) -> list[Record]:
    """A 100 CNY fine collected in cash on the spot, remitted and banked in time."""
    dec, pay = _field_collect(ctx, 45, 100.0)
    paid = datetime.fromisoformat(pay["action_time"])
    remitted = ctx.t(ctx.wd(paid.date(), 1), "09:30")
    return [dec, pay, *_remittance(ctx, pay, remitted, ctx.t(ctx.wd(remitted.date(), 1), "10:00"))]


@plant("CP-17", severity="red")
def cp_17(ctx: PlantContext) -> list[Record]:
    """A 50 CNY on-the-spot fine handed to the unit only on the 3rd working day (limit 2)."""
    dec, pay = _field_collect(ctx, 52, 50.0)
    paid = datetime.fromisoformat(pay["action_time"])
    remitted = ctx.t(ctx.wd(paid.date(), 3), "09:30")
    return [dec, pay, *_remittance(ctx, pay, remitted, ctx.t(ctx.wd(remitted.date(), 1), "10:00"))]


@plant("CP-17", severity="red")
def cp_17_no_receipt(ctx: PlantContext) -> list[Record]:
    """A 50 CNY fine taken in cash on the spot with no receipt issued."""
    dec, pay = _field_collect(ctx, 54, 50.0, receipt=False)
    pay.pop("document_no")
    pay.pop("document_kind")
    return [dec, pay]


@near_miss("CP-17")
def cp_17_near(ctx: PlantContext) -> list[Record]:
    """A receipted on-the-spot fine remitted on the 2nd working day and banked on the 2nd
    working day after that."""
    dec, pay = _field_collect(ctx, 56, 50.0)
    paid = datetime.fromisoformat(pay["action_time"])
    remitted = ctx.t(ctx.wd(paid.date(), 2), "17:00")
    return [dec, pay, *_remittance(ctx, pay, remitted, ctx.t(ctx.wd(remitted.date(), 2), "16:30"))]


@plant("CP-18", severity="yellow")
def cp_18(ctx: PlantContext) -> list[Record]:
    """A 200 CNY fine paid 5 days late with no surcharge charged (3% a day: 30 CNY)."""
    dec, office, paid = _late_payment(ctx, 20, 5)
    return [dec, _bank_payment(ctx, dec, office, paid, banked=200.0)]


@plant("CP-18", severity="orange")
def cp_18_waived(ctx: PlantContext) -> list[Record]:
    """A 200 CNY fine paid 6 days late with the surcharge waived and no approval."""
    dec, office, paid = _late_payment(ctx, 23, 6)
    return [dec, _bank_payment(ctx, dec, office, paid, banked=200.0, late_fee_waived=True)]


@near_miss("CP-18")
def cp_18_near(ctx: PlantContext) -> list[Record]:
    """A 200 CNY fine paid 5 days late with the lawful 30 CNY surcharge."""
    dec, office, paid = _late_payment(ctx, 26, 5)
    return [dec, _bank_payment(ctx, dec, office, paid, banked=230.0, late_fee_amount=30.0)]


@near_miss("CP-18")
def cp_18_on_due_date(ctx: PlantContext) -> list[Record]:
    """A 200 CNY fine paid in the evening of its due date, no surcharge."""
    dec, office, paid = _late_payment(ctx, 28, 0)
    paid = paid.replace(hour=21)
    return [dec, _bank_payment(ctx, dec, office, paid, banked=200.0)]


@plant("CP-19", severity="orange")
def cp_19(ctx: PlantContext) -> list[Record]:
    """A fine recorded as paid 200 CNY whose bank transaction shows only 100 received."""
    dec, office, _ = _window_decision(ctx, 30)
    paid = datetime.fromisoformat(dec["action_time"]) + timedelta(days=4, hours=2)
    return [dec, _bank_payment(ctx, dec, office, paid, banked=100.0)]


def _instalments(ctx: PlantContext, offset: int, shares: tuple[float, ...]) -> list[Record]:
    """A fine recorded as paid, banked as several transactions of the given shares of it."""
    dec, office, _ = _window_decision(ctx, offset)
    paid = datetime.fromisoformat(dec["action_time"]) + timedelta(days=4, hours=2)
    fine = float(dec["amount"])
    pay = _bank_payment(ctx, dec, office, paid, banked=round(fine * shares[-1], 2))
    for i, share in enumerate(shares[:-1], start=1):
        ctx.add(
            "bank_ledger",
            {
                "bank_txn_id": f"BK{paid:%Y%m%d}{dec['serial_no'][-8:]}I{i}",
                "decision_no": dec["violation"]["decision"]["decision_no"],
                "amount": round(fine * share, 2),
                "paid_on": (paid - timedelta(days=i)).date().isoformat(),
            },
        )
    return [dec, pay]


@plant("CP-19", severity="orange")
def cp_19_three_unequal(ctx: PlantContext) -> list[Record]:
    """A fine recorded as paid whose three unequal bank transactions (25 %, 30 %, 50 % of it)
    add up to 105 % of the fine."""
    return _instalments(ctx, 34, (0.25, 0.3, 0.5))


@near_miss("CP-19")
def cp_19_three_add_up(ctx: PlantContext) -> list[Record]:
    """A fine recorded as paid whose three unequal bank transactions (25 %, 30 %, 45 % of it)
    add up to exactly the fine."""
    return _instalments(ctx, 36, (0.25, 0.3, 0.45))


@near_miss("CP-19")
def cp_19_near(ctx: PlantContext) -> list[Record]:
    """A late fine whose bank transaction is the fine plus the 30 CNY surcharge."""
    dec, office, paid = _late_payment(ctx, 32, 5)
    return [dec, _bank_payment(ctx, dec, office, paid, banked=230.0, late_fee_amount=30.0)]
