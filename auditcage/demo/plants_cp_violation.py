"""Planted violation-processing checkpoint cases (CP-01…19)."""

from __future__ import annotations

from datetime import datetime, timedelta

from auditcage.demo.plants import PlantContext, plant
from auditcage.demo.plants_violation import (
    _brigade,
    _field_collect,
    _release,
    _seizure,
    decide_record,
)
from auditcage.demo.records import Record


@plant("CP-16")
def cp_16(ctx: PlantContext) -> list[Record]:
    """A 200 CNY fine collected in cash on the spot (only ≤100 or a listed reason is lawful)."""
    dec, pay = _field_collect(ctx, 43, 200.0)
    return [dec, pay]


@plant("CP-14")
def cp_14(ctx: PlantContext) -> list[Record]:
    """A seized vehicle held 14 working days after the documents were brought in, with no
    extension."""
    seize, _, _, office = _seizure(ctx, 9)
    docs_day = ctx.wd(datetime.fromisoformat(seize["action_time"]).date(), 1)
    seize["violation"]["measure"]["docs_submitted_at"] = ctx.t(docs_day, "10:00").isoformat()
    w = ctx.window(office, 1)
    acc = ctx.rec(
        "violation",
        seize["serial_no"],
        2,
        "violation",
        "VIO_PROCESS",
        "accept",
        ctx.t(docs_day, "10:00"),
        office,
        w.aux_id,
        w=w,
    )
    for key in ("plate_no", "plate_type", "vin", "vehicle_owner_id_no", "violation_code"):
        acc[key] = seize[key]
    acc["violation"] = seize["violation"]
    late = ctx.t(ctx.wd(docs_day, 14), "15:30")
    rel = _release(
        ctx, seize, office, late, approval_no=f"SP{seize['serial_no'][-8:]}", docs=["行驶证"]
    )
    rel["approver_id"] = office.approvers[0]
    return [seize, acc, rel]


@plant("CP-11")
def cp_11(ctx: PlantContext) -> list[Record]:
    """A vehicle seized on the road with no voucher number and the party's signature absent."""
    seize, *_ = _seizure(ctx, 28, voucher_no=None, signed_by_party="absent")
    seize.pop("document_no")
    return [seize]


@plant("CP-12")
def cp_12(ctx: PlantContext) -> list[Record]:
    """A field seizure reported to the unit head 30 hours later (limit 24 h)."""
    seize, *_ = _seizure(ctx, 49)
    measured = datetime.fromisoformat(seize["action_time"])
    seize["violation"]["measure"].update(
        reported_at=(measured + timedelta(hours=30)).isoformat(),
        approved_at=(measured + timedelta(hours=30)).isoformat(),
    )
    return [seize]


@plant("CP-08")
def cp_08(ctx: PlantContext) -> list[Record]:
    """A decision sent by post and never delivered (no delivered_at, no later deliver)."""
    office, w = _brigade(ctx, 1)
    rec = decide_record(
        ctx, office, w, ctx.t(ctx.day(35), "11:30"), ctx.person(), "13442", points=3, fine=200.0
    )
    rec["violation"]["decision"].update(delivery_method="post", delivered_at=None)
    return [rec]


@plant("CP-02")
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


@plant("CP-04")
def cp_04(ctx: PlantContext) -> list[Record]:
    """A decision made before the party was notified and heard (notice 2 hours after the
    decision)."""
    office, w = _brigade(ctx, 1)
    t = ctx.t(ctx.day(60), "09:30")
    rec = decide_record(ctx, office, w, t, ctx.person(), "13442", points=3, fine=200.0)
    rec["violation"]["notice"]["notified_at"] = (t + timedelta(hours=2)).isoformat()
    return [rec]


@plant("CP-09")
def cp_09(ctx: PlantContext) -> list[Record]:
    """An elimination with a reason outside the statutory list, no evidence and no approver."""
    office, w = _brigade(ctx, 1)
    day = ctx.day(64)
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
    rec.update(violation_code="16250", reason_code="other", reason_text="熟人打招呼")
    rec["violation"] = {
        "violation_id": serial,
        "source": "camera",
        "violation_time": (t - timedelta(days=9)).isoformat(),
        "elimination": {
            "reason_code": "acquaintance_request",
            "verified_at": None,
            "evidence_refs": [],
        },
    }
    return [rec]


@plant("CP-13")
def cp_13(ctx: PlantContext) -> list[Record]:
    """An on-site decision with no body-camera recording attached."""
    office = ctx.office("brigade", 0, 1)
    officer = office.field_officers[-1]
    day = ctx.day(68)
    while not ctx.world.field_on_duty(officer, day):
        day += timedelta(days=1)
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


@plant("CP-01")
def cp_01(ctx: PlantContext) -> list[Record]:
    """A camera record reviewed and entered 18 days after capture (limit 10 days)."""
    office = ctx.office("brigade")
    day = ctx.day(42)
    t = ctx.t(day, "10:00")
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    serial = ctx.serial("5", office.unit_code, day)
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
        accepted=t - timedelta(days=18),
    )
    ctx.ids(rec, person=owner, car=car, licence=owner.id_no)
    captured = t - timedelta(days=18)
    rec.update(violation_code="10390", evidence_count=2)
    rec["violation"] = {
        "violation_id": serial,
        "source": "camera",
        "violation_time": captured.isoformat(),
        "captured_at": captured.isoformat(),
        "entered_at": t.isoformat(),
        "initial_reviewer_id": office.nonsite_initial,
        "confirmed_by": office.nonsite_reviewer,
    }
    return [rec]
