"""Planted violation-processing cases (VIO-xx); CP-01…19 are in plants_cp_violation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from auditcage.demo.plants import PlantContext, plant
from auditcage.demo.population import Car, Person
from auditcage.demo.province import Office, Window
from auditcage.demo.records import Record


def decide_record(
    ctx: PlantContext,
    office: Office,
    w: Window | None,
    t: datetime,
    driver: Person,
    code: str,
    *,
    points: int,
    fine: float,
    car: Car | None = None,
    operator: str | None = None,
    kinds: tuple[str, ...] = ("fine",),
    procedure: str = "simple",
    serial: str | None = None,
    step: int = 1,
    where: str | None = None,
    **block: Any,
) -> Record:
    """A violation `decide` at a window (or in the field) crediting `driver`'s licence."""
    if car is None:
        owner = ctx.person()
        car = ctx.car(owner.id_no)
    serial = serial or ctx.serial("5", office.unit_code, t.date())
    op = operator or (w.police_id if w else office.field_officers[0])
    rec = ctx.rec(
        "violation",
        serial,
        step,
        "violation",
        "VIO_PROCESS",
        "decide",
        t,
        office,
        op,
        w=w,
        where=where,
        accepted=t - timedelta(minutes=4),
    )
    ctx.ids(rec, person=driver, car=car, licence=driver.id_no)
    doc = ctx.run.document(op, "penalty_decision", office.unit_code, t.date())
    rec.update(
        violation_code=code,
        points=points,
        amount=fine,
        amount_kind="fine",
        completed_at=t.isoformat(),
        document_no=doc,
        document_kind="penalty_decision",
    )
    vtime = t - timedelta(days=6, hours=3)
    rec["violation"] = {
        "violation_id": serial,
        "source": "camera",
        "violation_time": vtime.isoformat(),
        "location_code": office.unit_code[:6],
        "procedure": procedure,
        "notice": {
            "notified_at": (t - timedelta(minutes=3)).isoformat(),
            "proposed_fine": fine,
            "proposed_points": points,
            "statement_recorded": False,
        },
        "license_used": driver.id_no,
        "driver_verify": {"method": "face", "score": 0.95},
        "decision": {
            "decision_no": doc,
            "decided_at": t.isoformat(),
            "decided_by": op,
            "penalty_kinds": list(kinds),
            "delivered_at": (t + timedelta(minutes=1)).isoformat(),
            "delivery_method": "on_spot",
        },
        "payment": {"status": "unpaid", "due_date": (t.date() + timedelta(days=15)).isoformat()},
    }
    rec["violation"].update(block)
    return rec


def _brigade(ctx: PlantContext, n: int = 0) -> tuple[Office, Window]:
    office = ctx.office("brigade", 0, n)
    return office, ctx.window(office, 0)


@plant("VIO-01")
def vio_01(ctx: PlantContext) -> list[Record]:
    """One licence takes 6 points each for three vehicles of three unrelated owners within a
    month."""
    office, w = _brigade(ctx)
    seller = ctx.person()
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(offset), "10:30"), seller, "16250", points=6, fine=200.0
        )
        for offset in (20, 34, 48)
    ]


@plant("VIO-02")
def vio_02(ctx: PlantContext) -> list[Record]:
    """One vehicle has its points taken by three different unrelated licences within two months."""
    office, w = _brigade(ctx, 1)
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    return [
        decide_record(
            ctx,
            office,
            w,
            ctx.t(ctx.day(offset), "15:10"),
            ctx.person(),
            "13442",
            points=3,
            fine=200.0,
            car=car,
        )
        for offset in (15, 36, 57)
    ]


@plant("VIO-03")
def vio_03(ctx: PlantContext) -> list[Record]:
    """Ten points-bearing decisions on one plate within 50 minutes, each on a different licence."""
    office, w = _brigade(ctx)
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    t0 = ctx.t(ctx.day(62), "14:05")
    return [
        decide_record(
            ctx,
            office,
            w,
            t0 + timedelta(minutes=5 * i),
            ctx.person(),
            "13442",
            points=3,
            fine=200.0,
            car=car,
        )
        for i in range(10)
    ]


@plant("VIO-07")
def vio_07(ctx: PlantContext) -> list[Record]:
    """Five out-of-province licences take points for local vehicles at one window on one day."""
    office, w = _brigade(ctx, 1)
    t0 = ctx.t(ctx.day(45), "09:20")
    out = []
    for i in range(5):
        driver = ctx.person(province="44", area="440106")
        out.append(
            decide_record(
                ctx,
                office,
                w,
                t0 + timedelta(minutes=25 * i),
                driver,
                "10461",
                points=1,
                fine=100.0,
            )
        )
    return out


@plant("VIO-08")
def vio_08(ctx: PlantContext) -> list[Record]:
    """One operator eliminates five camera violation records within seven days."""
    office, w = _brigade(ctx)
    out = []
    for k, offset in enumerate((70, 71, 72, 73, 74)):
        day = ctx.day(offset)
        t = ctx.t(day, "11:15")
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
            accepted=t - timedelta(minutes=3),
        )
        ctx.ids(rec, person=owner, car=car, licence=owner.id_no)
        rec.update(
            violation_code="10390", reason_code="record_defective", approver_id=office.approvers[0]
        )
        rec["violation"] = {
            "violation_id": serial,
            "source": "camera",
            "violation_time": (t - timedelta(days=4)).isoformat(),
            "elimination": {
                "reason_code": "record_defective",
                "verified_at": (t - timedelta(hours=2)).isoformat(),
                "evidence_refs": [f"oss://elim/{serial}/{k}.pdf"],
            },
        }
        out.append(rec)
    return out


def _modify(
    ctx: PlantContext, dec: Record, t: datetime, fields: dict[str, tuple[Any, Any]], **extra: Any
) -> Record:
    office = ctx.world.office(dec["unit_code"])
    w = next(x for x in office.windows if x.window_id == dec.get("window_id"))
    mod = ctx.rec(
        "violation",
        dec["serial_no"],
        9,
        "violation",
        "VIO_CORRECTION",
        "modify",
        t,
        office,
        w.police_id,
        w=w,
        accepted=datetime.fromisoformat(dec["accepted_at"]),
    )
    for key in (
        "plate_no",
        "plate_type",
        "vin",
        "vehicle_owner_id_no",
        "subject_id_type",
        "subject_id_no",
        "license_no",
        "license_holder_id_no",
        "violation_code",
    ):
        mod[key] = dec[key]
    mod.update(
        reason_code="data_correction",
        changed_fields=list(fields),
        before={k: v[0] for k, v in fields.items()},
        after={k: v[1] for k, v in fields.items()},
    )
    mod["violation"] = dict(dec["violation"])
    mod.update(extra)
    return mod


@plant("VIO-09")
def vio_09(ctx: PlantContext) -> list[Record]:
    """After the decision, the points are moved to another licence by a modify with no basis
    document."""
    office, w = _brigade(ctx)
    owner = ctx.person()
    dec = decide_record(
        ctx, office, w, ctx.t(ctx.day(38), "10:00"), owner, "16250", points=6, fine=200.0
    )
    other = ctx.person()
    mod = _modify(
        ctx,
        dec,
        ctx.t(ctx.day(40), "16:20"),
        {"violation.license_used": (owner.id_no, other.id_no)},
    )
    mod["violation"]["license_used"] = other.id_no
    return [dec, mod]


@plant("VIO-11")
def vio_11(ctx: PlantContext) -> list[Record]:
    """A red-light fine of 500 CNY (statutory range 20–200)."""
    office, w = _brigade(ctx, 1)
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(25), "11:05"), ctx.person(), "16250", points=6, fine=500.0
        )
    ]


@plant("VIO-10")
def vio_10(ctx: PlantContext) -> list[Record]:
    """A red-light fine of 50 CNY where the local standard is 200, without any mitigation
    approval."""
    office, w = _brigade(ctx)
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(26), "15:35"), ctx.person(), "16250", points=6, fine=50.0
        )
    ]


@plant("VIO-17")
def vio_17(ctx: PlantContext) -> list[Record]:
    """The same licence receives a first-violation warning twice within two months."""
    office, w = _brigade(ctx)
    driver = ctx.person()
    out = []
    for offset in (19, 61):
        rec = decide_record(
            ctx,
            office,
            w,
            ctx.t(ctx.day(offset), "09:50"),
            driver,
            "10440",
            points=0,
            fine=0.0,
            kinds=("warning",),
        )
        rec["reason_code"] = "first_violation"
        out.append(rec)
    return out


@plant("VIO-16")
def vio_16(ctx: PlantContext) -> list[Record]:
    """One penalty-decision number used on two different violations."""
    office, w = _brigade(ctx, 1)
    a = decide_record(
        ctx, office, w, ctx.t(ctx.day(52), "10:40"), ctx.person(), "10461", points=1, fine=100.0
    )
    b = decide_record(
        ctx, office, w, ctx.t(ctx.day(54), "14:40"), ctx.person(), "10461", points=1, fine=100.0
    )
    b["document_no"] = a["document_no"]
    b["violation"]["decision"]["decision_no"] = a["document_no"]
    return [a, b]


def _field_collect(
    ctx: PlantContext, offset: int, fine: float, *, receipt: bool = True
) -> tuple[Record, Record]:
    office = ctx.office("brigade")
    officer = office.field_officers[0]
    day = ctx.day(offset)
    while not ctx.world.field_on_duty(officer, day):
        day += timedelta(days=1)
    t = ctx.t(day, "10:20")
    dec = decide_record(
        ctx,
        office,
        None,
        t,
        ctx.person(),
        "10440",
        points=1,
        fine=fine,
        operator=officer,
        where="field",
        source="on_site",
    )
    dec["bodycam_refs"] = [ctx.run.bodycam(officer, t, evidence=True)]
    pay = ctx.rec(
        "payment",
        dec["serial_no"],
        2,
        "violation",
        "VIO_PAYMENT",
        "collect",
        t + timedelta(minutes=2),
        office,
        officer,
        where="field",
        accepted=t,
    )
    for key in (
        "plate_no",
        "plate_type",
        "vin",
        "vehicle_owner_id_no",
        "subject_id_type",
        "subject_id_no",
        "license_no",
        "license_holder_id_no",
        "violation_code",
    ):
        pay[key] = dec[key]
    number = ctx.run.document(officer, "fine_receipt", office.unit_code, day) if receipt else None
    pay.update(amount=fine, amount_kind="fine", document_no=number, document_kind="fine_receipt")
    pay["violation"] = {
        **dec["violation"],
        "payment": {
            "status": "paid",
            "channel": "on_spot",
            "receipt_no": number,
            "paid_at": pay["action_time"],
        },
    }
    return dec, pay


@plant("VIO-13")
def vio_13(ctx: PlantContext) -> list[Record]:
    """A 50 CNY fine collected in cash on the spot and never remitted to the unit or the bank."""
    return list(_field_collect(ctx, 34, 50.0))


@plant("VIO-14")
def vio_14(ctx: PlantContext) -> list[Record]:
    """The payment status of a decision set to paid by hand; no bank transaction exists."""
    office, w = _brigade(ctx)
    dec = decide_record(
        ctx, office, w, ctx.t(ctx.day(30), "10:10"), ctx.person(), "13442", points=3, fine=200.0
    )
    mod = _modify(
        ctx, dec, ctx.t(ctx.day(33), "17:05"), {"violation.payment.status": ("unpaid", "paid")}
    )
    mod["violation"]["payment"] = {"status": "paid", "channel": "bank"}
    return [dec, mod]


def _seizure(ctx: PlantContext, offset: int, **measure: Any) -> tuple[Record, Car, Person, Office]:
    office = ctx.office("brigade", 0, 1)
    officer = office.field_officers[0]
    day = ctx.day(offset)
    while not ctx.world.field_on_duty(officer, day):
        day += timedelta(days=1)
    t = ctx.t(day, "09:40")
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    serial = ctx.serial("5", office.unit_code, day)
    rec = ctx.rec(
        "violation",
        serial,
        1,
        "violation",
        "VIO_MEASURE",
        "seize",
        t,
        office,
        officer,
        where="field",
        accepted=t,
    )
    ctx.ids(rec, person=owner, car=car, licence=owner.id_no)
    voucher = ctx.run.document(officer, "measure_voucher", office.unit_code, day)
    rec.update(
        violation_code="10060",
        document_no=voucher,
        document_kind="measure_voucher",
        bodycam_refs=[ctx.run.bodycam(officer, t, evidence=True)],
    )
    m = {
        "type": "seize_vehicle",
        "voucher_no": voucher,
        "measured_at": t.isoformat(),
        "reported_at": (t + timedelta(hours=1)).isoformat(),
        "approved_by": office.approvers[0],
        "approved_at": (t + timedelta(hours=1)).isoformat(),
        "signed_by_party": "yes",
        "parking_lot_id": f"TCC{office.unit_code[:6]}01",
        "lot_in_at": (t + timedelta(minutes=50)).isoformat(),
    }
    m.update(measure)
    rec["violation"] = {
        "violation_id": serial,
        "source": "on_site",
        "violation_time": t.isoformat(),
        "procedure": "simple",
        "measure": m,
        "license_used": owner.id_no,
    }
    return rec, car, owner, office


def _release(
    ctx: PlantContext, seize: Record, office: Office, t: datetime, **release: Any
) -> Record:
    w = ctx.window(office, 1)
    rel = ctx.rec(
        "violation",
        seize["serial_no"],
        5,
        "violation",
        "VIO_RELEASE",
        "release",
        t,
        office,
        w.police_id,
        w=w,
        accepted=t - timedelta(minutes=20),
    )
    for key in (
        "plate_no",
        "plate_type",
        "vin",
        "vehicle_owner_id_no",
        "subject_id_type",
        "subject_id_no",
        "license_no",
        "license_holder_id_no",
        "violation_code",
    ):
        rel[key] = seize[key]
    info = {
        "released_at": t.isoformat(),
        "released_by": w.police_id,
        "approval_no": None,
        "docs": [],
    }
    info.update(release)
    rel.update(
        reason_code="docs_verified",
        related_serial_no=seize["serial_no"],
        completed_at=t.isoformat(),
    )
    rel["violation"] = {**seize["violation"], "release": info}
    ctx.add(
        "parking_ledger",
        {
            "plate_no": seize["plate_no"],
            "lot_id": seize["violation"]["measure"]["parking_lot_id"],
            "in_at": seize["violation"]["measure"]["lot_in_at"],
            "out_at": (t + timedelta(minutes=30)).isoformat(),
            "released_by": w.police_id,
        },
    )
    return rel


@plant("VIO-15")
def vio_15(ctx: PlantContext) -> list[Record]:
    """A seized vehicle released the next day with no documents, no decision and no approval."""
    seize, _, _, office = _seizure(ctx, 21)
    t = ctx.t(ctx.wd(datetime.fromisoformat(seize["action_time"]).date(), 1), "16:50")
    return [seize, _release(ctx, seize, office, t)]
