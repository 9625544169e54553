"""Planted staff-behaviour cases (STF-xx) and archive checkpoints (CP-05, CP-44…46)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from auditcage.demo import identity
from auditcage.demo.plants import PlantContext, plant
from auditcage.demo.plants_violation import decide_record
from auditcage.demo.population import Person
from auditcage.demo.records import Record
from auditcage.demo.records_vehicle import vehicle_block


def _staff_person(ctx: PlantContext, staff_id: str) -> Person:
    """The staff member as a citizen (with a licence and a car in R12 and R4 staff_assets)."""
    s = ctx.world.staff[staff_id]
    birth = date(int(s.id_no[6:10]), int(s.id_no[10:12]), int(s.id_no[12:14]))
    p = Person(
        id_no=s.id_no,
        name=s.name,
        phone=identity.phone(ctx.rng),
        birth=birth,
        det=0,
        account="U0",
        ip="100.64.0.1",
        device="0",
        lic_class="C1",
        first_issue=date(birth.year + 20, 6, 1),
        points=0,
    )
    return p


@plant("STF-01")
def stf_01(ctx: PlantContext) -> list[Record]:
    """A transfer accepted at a window at 21:40 on a working day, with no roster shift."""
    office = ctx.office("vehicle_office", 1)
    w = ctx.window(office)
    day = ctx.day(39)
    owner = ctx.person(det=1)
    car = ctx.car(owner.id_no, det=1)
    serial = ctx.serial("1", office.unit_code, day)
    rec = ctx.rec(
        "vehicle_reg",
        serial,
        1,
        "vehicle",
        "VEH_TRANSFER",
        "accept",
        ctx.t(day, "21:40"),
        office,
        w.aux_id,
        w=w,
    )
    ctx.ids(rec, person=owner, car=car)
    rec["vehicle"] = vehicle_block(car)
    return [rec]


@plant("STF-02")
def stf_02(ctx: PlantContext) -> list[Record]:
    """A window officer decides the violation of his own car on his own licence."""
    office = ctx.office("brigade")
    w = ctx.window(office)
    me = _staff_person(ctx, w.police_id)
    car = ctx.car(me.id_no)
    ctx.add("staff_assets", {"staff_id": w.police_id, "kind": "plate", "value": car.plate})
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(46), "16:05"), me, "13442", points=3, fine=200.0, car=car
        )
    ]


@plant("STF-03")
def stf_03(ctx: PlantContext) -> list[Record]:
    """A window officer decides a red-light violation for his spouse (R4 declared relation)."""
    office = ctx.office("brigade", 0, 1)
    w = ctx.window(office)
    spouse = ctx.person()
    ctx.add(
        "relations", {"staff_id": w.police_id, "related_id_no": spouse.id_no, "relation": "spouse"}
    )
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(53), "09:35"), spouse, "16250", points=6, fine=200.0
        )
    ]


@plant("STF-04")
def stf_04(ctx: PlantContext) -> list[Record]:
    """A window auxiliary makes a penalty decision (claimed role police; R2 says auxiliary)."""
    office = ctx.office("brigade", 1)
    w = ctx.window(office)
    rec = decide_record(
        ctx,
        office,
        w,
        ctx.t(ctx.day(32), "14:25"),
        ctx.person(det=1),
        "16250",
        points=6,
        fine=200.0,
        operator=w.aux_id,
    )
    rec["operator_role"] = "police"
    return [rec]


@plant("STF-05")
def stf_05(ctx: PlantContext) -> list[Record]:
    """A decision signed with a digital certificate that is not the operator's."""
    office = ctx.office("brigade", 2)
    w = ctx.window(office)
    rec = decide_record(
        ctx,
        office,
        w,
        ctx.t(ctx.day(61), "10:55"),
        ctx.person(det=2),
        "13442",
        points=3,
        fine=200.0,
    )
    rec["operator_cert_serial"] = identity.hexstr(ctx.rng, 64).upper()
    return [rec]


@plant("STF-13")
def stf_13(ctx: PlantContext) -> list[Record]:
    """A retired officer's account approves a vehicle mortgage after the retirement date."""
    notes = ctx.world.notes
    retired = notes["retired"]
    unit_code = ctx.world.staff[retired].unit_code
    office = ctx.world.office(unit_code)
    day = ctx.day((date.fromisoformat(notes["retired_on"]) - ctx.world.start).days + 12)
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    serial = ctx.serial("1", unit_code, day)
    rec = ctx.rec(
        "vehicle_reg",
        serial,
        1,
        "vehicle",
        "VEH_MORTGAGE",
        "approve",
        ctx.t(day, "15:45"),
        office,
        retired,
    )
    rec.update(channel="backend", client_ip="10.52.9.77", terminal_id=f"B-{office.approvers[1]}")
    ctx.ids(rec, person=owner, car=car)
    rec["vehicle"] = vehicle_block(car)
    return [rec]


@plant("CP-05")
def cp_05(ctx: PlantContext) -> list[Record]:
    """A general-procedure decision of 2 000 CNY with no approval by a head or legal reviewer."""
    office = ctx.office("brigade")
    w = ctx.window(office, 1)
    rec = decide_record(
        ctx,
        office,
        w,
        ctx.t(ctx.day(67), "11:20"),
        ctx.person(),
        "17020",
        points=0,
        fine=2000.0,
        procedure="general",
    )
    rec["violation"]["decision"]["approved_by"] = None
    rec["violation"]["notice"]["hearing_notified_at"] = ctx.t(ctx.day(55), "10:00").isoformat()
    return [rec]


@plant("CP-44")
def cp_44(ctx: PlantContext) -> list[Record]:
    """A closed general accident case archived 45 days after closure (limit 30)."""
    from auditcage.demo.plants_accident import Case

    case = Case(ctx, ctx.day(3))
    out = case.report_and_scene()
    closed = ctx.t(ctx.wd(case.day, 8), "10:00")
    out.append(
        case.step(
            "ACC_CLOSE",
            "close",
            closed,
            determination={
                "type": "certificate",
                "made_at": closed.isoformat(),
                "delivered_at": closed.isoformat(),
                "rights_notified": True,
            },
            closed_at=closed.isoformat(),
        )
    )
    archived = closed + timedelta(days=45)
    out.append(
        case.step(
            "ACC_CLOSE",
            "archive",
            archived,
            operator=case.office.supervision,
            archived_at=archived.isoformat(),
        )
    )
    return out


@plant("CP-45")
def cp_45(ctx: PlantContext) -> list[Record]:
    """An archived violation decision modified without a retrieval (reopen) approval."""
    office = ctx.office("brigade", 0, 1)
    w = ctx.window(office, 1)
    dec = decide_record(
        ctx, office, w, ctx.t(ctx.day(8), "10:00"), ctx.person(), "10461", points=1, fine=100.0
    )
    archived = ctx.t(ctx.day(20), "09:00")
    arch = ctx.rec(
        "violation",
        dec["serial_no"],
        2,
        "violation",
        "VIO_PROCESS",
        "archive",
        archived,
        office,
        office.supervision,
        accepted=datetime.fromisoformat(dec["accepted_at"]),
    )
    for key in ("plate_no", "plate_type", "vin", "vehicle_owner_id_no", "violation_code"):
        arch[key] = dec[key]
    arch["violation"] = {**dec["violation"], "archived_at": archived.isoformat()}
    t = ctx.t(ctx.day(50), "17:10")
    mod = ctx.rec(
        "violation",
        dec["serial_no"],
        3,
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
        changed_fields=["amount"],
        before={"amount": 100.0},
        after={"amount": 50.0},
        amount=50.0,
        amount_kind="fine",
    )
    mod["violation"] = {
        **arch["violation"],
        "revocation": {
            "basis_type": "self_correction",
            "basis_doc_no": f"JZ{dec['serial_no'][-6:]}",
        },
    }
    return [dec, arch, mod]


@plant("CP-46")
def cp_46(ctx: PlantContext) -> list[Record]:
    """The body-camera clip of an on-site decision deleted 20 days later (kept ≥ 6 months as
    evidence)."""
    office = ctx.office("brigade")
    officer = office.field_officers[1 % len(office.field_officers)]
    day = ctx.day(22)
    while not ctx.world.field_on_duty(officer, day):
        day += timedelta(days=1)
    t = ctx.t(day, "16:35")
    rec = decide_record(
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
    clip = f"BC-{officer}-{day:%Y%m%d}-P1"
    ctx.add(
        "bodycam_index",
        {
            "clip_id": clip,
            "device_id": f"BCD-{officer}",
            "staff_id": officer,
            "started_at": (t - timedelta(minutes=20)).isoformat(),
            "ended_at": (t + timedelta(minutes=15)).isoformat(),
            "uploaded_at": (t + timedelta(hours=3)).isoformat(),
            "retention_class": "evidence",
            "deleted_at": (t + timedelta(days=20)).isoformat(),
        },
    )
    rec["bodycam_refs"] = [clip]
    return [rec]
