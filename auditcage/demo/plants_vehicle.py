"""Planted vehicle-administration cases (VEH-xx, CP-30…36)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo.plants import PlantContext, plant
from auditcage.demo.population import Car, Person
from auditcage.demo.records import Record
from auditcage.demo.records_vehicle import inspection, vehicle_block


def chain(
    ctx: PlantContext,
    btype: str,
    car: Car,
    owner: str,
    person: Person,
    day: date,
    *,
    steps: tuple[str, ...] = ("accept", "inspect", "review", "approve", "issue"),
    start: str = "09:10",
    gap_min: float = 8.0,
    block: dict[str, Any] | None = None,
    new_owner: str | None = None,
) -> list[Record]:
    """One vehicle business item at the 贵阳 车管所, step by step, by distinct staff."""
    office = ctx.office("vehicle_office", car.det)
    w = ctx.window(office, ctx.rng.randrange(len(office.windows)))
    serial = ctx.serial("1", office.unit_code, day)
    t0 = ctx.t(day, start)
    t = t0
    ops = {
        "accept": w.aux_id,
        "review": w.police_id,
        "approve": office.approvers[0],
        "issue": w.police_id,
        "cancel": w.aux_id,
        "delete": w.aux_id,
    }
    out: list[Record] = []
    for i, action in enumerate(steps, start=1):
        if i > 1:
            t = t + timedelta(minutes=gap_min)
        if action == "inspect":
            ctx.run.day = day
            rec = inspection(ctx.run, office, serial, i, btype, car, owner, t, t0)
            t = datetime.fromisoformat(rec["action_time"])
        else:
            rec = ctx.rec(
                "vehicle_reg",
                serial,
                i,
                "vehicle",
                btype,
                action,
                t,
                office,
                ops[action],
                w=None if action == "approve" else w,
                accepted=t0,
            )
            ctx.ids(rec, person=person, car=car, owner=owner)
            rec["vehicle"] = vehicle_block(car, **(block or {}))
            if action == "approve":
                rec.update(reviewer_id=w.police_id, approver_id=office.approvers[0])
                if new_owner:
                    since = (t + timedelta(seconds=1)).isoformat()
                    ctx.run.ledgers.vehicle_changes.append(
                        (car.vin, since, {"owner_id_no": new_owner})
                    )
                    owner = new_owner
            if action == "issue":
                rec.update(completed_at=rec["action_time"], document_kind="driving_permit")
        out.append(rec)
    return out


@plant("VEH-04")
def veh_04(ctx: PlantContext) -> list[Record]:
    """One VIN approved for VEH_TRANSFER three times within 365 days (30+ days apart)."""
    owners = [ctx.person() for _ in range(4)]
    car = ctx.car(owners[0].id_no)
    out: list[Record] = []
    for k, offset in enumerate((6, 40, 76)):
        seller, buyer = owners[k], owners[k + 1]
        out += chain(
            ctx,
            "VEH_TRANSFER",
            car,
            seller.id_no,
            buyer,
            ctx.day(offset),
            new_owner=buyer.id_no,
            block={"transfer": {"from_owner_id_no": seller.id_no, "to_owner_id_no": buyer.id_no}},
        )
    return out


@plant("VEH-05")
def veh_05(ctx: PlantContext) -> list[Record]:
    """A vehicle deregistered as scrap is approved for a new registration 40 days later."""
    owner = ctx.person()
    car = ctx.car(owner.id_no, first_reg=ctx.world.start - timedelta(days=15 * 365))
    out = chain(
        ctx,
        "VEH_DEREGISTER",
        car,
        owner.id_no,
        owner,
        ctx.day(8),
        steps=("accept", "review", "approve"),
        block={"deregistration_reason": "scrap"},
    )
    buyer = ctx.person()
    out += chain(ctx, "VEH_REG_NEW", car, buyer.id_no, buyer, ctx.day(48))
    return out


@plant("VEH-07")
def veh_07(ctx: PlantContext) -> list[Record]:
    """A transfer approved while the vehicle is seized by a court (seizure_active)."""
    seller, buyer = ctx.person(), ctx.person()
    car = ctx.car(seller.id_no)
    ctx.run.ledgers.vehicle_changes.append(
        (
            car.vin,
            (ctx.world.start + timedelta(days=1)).isoformat(),
            {"seizure_active": True, "status": "AH"},
        )
    )
    return chain(
        ctx,
        "VEH_TRANSFER",
        car,
        seller.id_no,
        buyer,
        ctx.day(22),
        new_owner=buyer.id_no,
        block={
            "seizure_active": True,
            "vehicle_status": "H",
            "transfer": {"from_owner_id_no": seller.id_no, "to_owner_id_no": buyer.id_no},
        },
    )


@plant("VEH-13")
def veh_13(ctx: PlantContext) -> list[Record]:
    """The owner of a registered vehicle is re-keyed by a modify without basis document or
    approver."""
    owner, other = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    out = chain(ctx, "VEH_TRANSFER", car, owner.id_no, owner, ctx.day(30), steps=("accept",))
    office = ctx.office("vehicle_office")
    w = ctx.window(office)
    t = datetime.fromisoformat(out[0]["action_time"]) + timedelta(minutes=30)
    mod = ctx.rec(
        "vehicle_reg",
        out[0]["serial_no"],
        2,
        "vehicle",
        "VEH_TRANSFER",
        "modify",
        t,
        office,
        w.police_id,
        w=w,
        accepted=datetime.fromisoformat(out[0]["accepted_at"]),
    )
    ctx.ids(mod, person=owner, car=car, owner=other.id_no)
    mod.update(
        reason_code="data_correction",
        changed_fields=["vehicle_owner_id_no"],
        before={"vehicle_owner_id_no": owner.id_no},
        after={"vehicle_owner_id_no": other.id_no},
    )
    mod["vehicle"] = vehicle_block(car)
    return [*out, mod]


@plant("VEH-02")
def veh_02(ctx: PlantContext) -> list[Record]:
    """An inspection that took 70 seconds from start to end."""
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    out = chain(
        ctx,
        "VEH_TRANSFER",
        car,
        owner.id_no,
        buyer,
        ctx.day(33),
        start="14:05",
        new_owner=buyer.id_no,
        block={"transfer": {"from_owner_id_no": owner.id_no, "to_owner_id_no": buyer.id_no}},
    )
    insp = next(r for r in out if r["action"] == "inspect")["vehicle"]["inspection"]
    started = datetime.fromisoformat(insp["ended_at"]) - timedelta(seconds=70)
    insp["started_at"] = started.isoformat()
    for i, photo in enumerate(insp["photos"]):
        photo["taken_at"] = (started + timedelta(seconds=10 + 12 * i)).isoformat()
    return out


@plant("VEH-01")
def veh_01(ctx: PlantContext) -> list[Record]:
    """The VIN photo of one vehicle's inspection is reused (same sha256) for another vehicle."""
    out: list[Record] = []
    for offset in (12, 13):
        owner, buyer = ctx.person(), ctx.person()
        car = ctx.car(owner.id_no)
        out += chain(
            ctx,
            "VEH_TRANSFER",
            car,
            owner.id_no,
            buyer,
            ctx.day(offset),
            start="10:20",
            new_owner=buyer.id_no,
            block={"transfer": {"from_owner_id_no": owner.id_no, "to_owner_id_no": buyer.id_no}},
        )
    first, second = (r for r in out if r["action"] == "inspect")
    src = next(p for p in first["vehicle"]["inspection"]["photos"] if p["kind"] == "photo_vin")
    dst = next(p for p in second["vehicle"]["inspection"]["photos"] if p["kind"] == "photo_vin")
    dst.update(sha256=src["sha256"], phash=src["phash"])
    return out


@plant("VEH-12")
def veh_12(ctx: PlantContext) -> list[Record]:
    """An inspection mark issued with a report number the inspection-station feed does not have."""
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    day = ctx.day(44)
    return chain(
        ctx,
        "VEH_INSPECTION_MARK",
        car,
        owner.id_no,
        owner,
        day,
        steps=("accept", "issue"),
        block={
            "safety_inspection_no": f"JC520100{day:%Y%m%d}999901",
            "safety_inspected_at": ctx.t(day - timedelta(days=2), "10:00").isoformat(),
        },
    )


@plant("VEH-10")
def veh_10(ctx: PlantContext) -> list[Record]:
    """The premium number 黔A88888 assigned manually (manual_assign) instead of from the public
    pool."""
    owner = ctx.person()
    car = ctx.car(owner.id_no, plate="")
    sel = {
        "plate_selection": {
            "method": "manual_assign",
            "candidates_offered": 1,
            "selected_plate": "黔A88888",
            "previous_holder_released_at": None,
        }
    }
    return chain(
        ctx,
        "VEH_PLATE_SELECT",
        car,
        owner.id_no,
        owner,
        ctx.day(51),
        steps=("accept", "approve"),
        block=sel,
    )


@plant("VEH-06")
def veh_06(ctx: PlantContext) -> list[Record]:
    """Plates of one vehicle replaced three times within 365 days."""
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    out: list[Record] = []
    for offset in (9, 35, 63):
        out += chain(
            ctx,
            "VEH_REPLACE_PLATE",
            car,
            owner.id_no,
            owner,
            ctx.day(offset),
            steps=("accept", "issue"),
        )
    return out


@plant("VEH-08")
def veh_08(ctx: PlantContext) -> list[Record]:
    """Five new vehicles registered in one natural person's name within the period."""
    nominee = ctx.person()
    out: list[Record] = []
    for offset in (5, 19, 33, 47, 61):
        car = ctx.car(nominee.id_no, first_reg=ctx.day(offset))
        out += chain(
            ctx, "VEH_REG_NEW", car, nominee.id_no, nominee, ctx.day(offset), start="15:00"
        )
    return out


@plant("STF-06")
def stf_06(ctx: PlantContext) -> list[Record]:
    """A four-eyes transfer approved 12 seconds after it was accepted (rubber-stamp review)."""
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    out = chain(
        ctx,
        "VEH_TRANSFER",
        car,
        owner.id_no,
        buyer,
        ctx.day(27),
        steps=("accept", "approve", "issue"),
        gap_min=0.2,
        new_owner=buyer.id_no,
        block={"transfer": {"from_owner_id_no": owner.id_no, "to_owner_id_no": buyer.id_no}},
    )
    return out


@plant("STF-11")
def stf_11(ctx: PlantContext) -> list[Record]:
    """One operator accepts then deletes three vehicle items within 24 hours, three times in 7
    days."""
    out: list[Record] = []
    office = ctx.office("vehicle_office")
    w = ctx.window(office, 1)
    for offset in (55, 56, 58):
        owner = ctx.person()
        car = ctx.car(owner.id_no)
        day = ctx.day(offset)
        serial = ctx.serial("1", office.unit_code, day)
        t0 = ctx.t(day, "16:10")
        for step, (action, t) in enumerate(
            (("accept", t0), ("delete", t0 + timedelta(minutes=35))), start=1
        ):
            rec = ctx.rec(
                "vehicle_reg",
                serial,
                step,
                "vehicle",
                "VEH_TRANSFER",
                action,
                t,
                office,
                w.aux_id,
                w=w,
                accepted=t0,
            )
            ctx.ids(rec, person=owner, car=car)
            rec["vehicle"] = vehicle_block(car)
            if action == "delete":
                rec.update(reason_code="entered_by_mistake")
            out.append(rec)
    return out


@plant("CP-33")
def cp_33(ctx: PlantContext) -> list[Record]:
    """A transfer accepted on a Monday and completed four working days later (SLA 1 day)."""
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    day = ctx.day(14)
    out = chain(
        ctx,
        "VEH_TRANSFER",
        car,
        owner.id_no,
        buyer,
        day,
        new_owner=buyer.id_no,
        block={"transfer": {"from_owner_id_no": owner.id_no, "to_owner_id_no": buyer.id_no}},
    )
    late = ctx.t(ctx.wd(day, 4), "10:30")
    for rec in out:
        if rec["action"] in ("approve", "issue"):
            shift = late - datetime.fromisoformat(out[0]["action_time"])
            rec["action_time"] = (datetime.fromisoformat(rec["action_time"]) + shift).isoformat()
            if "completed_at" in rec:
                rec["completed_at"] = rec["action_time"]
    return out


@plant("CP-34")
def cp_34(ctx: PlantContext) -> list[Record]:
    """A temporary plate for a purchased, unregistered car valid for 60 days (limit 30)."""
    buyer = ctx.person()
    car = ctx.car(buyer.id_no, plate="")
    day = ctx.day(24)
    tp = {
        "temp_plate": {
            "reason": "purchased_unregistered",
            "valid_from": day.isoformat(),
            "valid_to": (day + timedelta(days=60)).isoformat(),
            "issue_seq": 1,
        }
    }
    out = chain(
        ctx, "VEH_TEMP_PLATE", car, buyer.id_no, buyer, day, steps=("accept", "issue"), block=tp
    )
    out[-1]["document_kind"] = "temp_plate"
    return out


@plant("CP-36")
def cp_36(ctx: PlantContext) -> list[Record]:
    """An inspection mark issued although the compulsory insurance ended a month earlier."""
    owner = ctx.person()
    day = ctx.day(66)
    car = ctx.car(owner.id_no, insurance_to=day - timedelta(days=30))
    report = f"JC520100{day:%Y%m%d}888801"
    inspected = ctx.t(day - timedelta(days=3), "09:40")
    ctx.add(
        "inspection_reports",
        {
            "report_no": report,
            "vin": car.vin,
            "plate_no": car.plate,
            "owner_id_no": owner.id_no,
            "insurance_valid_to": car.insurance_to.isoformat(),
            "result": "pass",
            "inspected_at": inspected.isoformat(),
        },
    )
    out = chain(
        ctx,
        "VEH_INSPECTION_MARK",
        car,
        owner.id_no,
        owner,
        day,
        steps=("accept", "issue"),
        block={"safety_inspection_no": report, "safety_inspected_at": inspected.isoformat()},
    )
    out[-1]["document_kind"] = "inspection_mark"
    return out
