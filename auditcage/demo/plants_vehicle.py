"""Planted vehicle-administration cases (VEH-xx, CP-30…36)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo.plants import PlantContext, near_miss, plant
from auditcage.demo.population import Car, Person
from auditcage.demo.records import Record
from auditcage.demo.records_vehicle import inspection, vehicle_block
from auditcage.demo.timeutil import is_workday


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
    ops: dict[str, str] | None = None,
    window: int | None = None,
) -> list[Record]:
    """One vehicle business item at the 贵阳 车管所, step by step, by distinct staff.

    `ops` overrides who does a step: a staff id, "@police" (the window's police officer) or
    "@inspector" (the inspector of the item's inspection); `window` picks the window (else a
    random one). After the inspection every record
    carries its block, as the approval relies on it (CP-30, CP-32). The last step closes the item.
    """
    office = ctx.office("vehicle_office", car.det)
    w = ctx.window(office, ctx.rng.randrange(len(office.windows)) if window is None else window)
    serial = ctx.serial("1", office.unit_code, day)
    t0 = ctx.t(day, start)
    t = t0
    who = {
        "accept": w.aux_id,
        "review": w.police_id,
        "approve": office.approvers[0],
        "issue": w.police_id,
        "cancel": w.aux_id,
        "reject": w.aux_id,
        "delete": w.aux_id,
    }
    block = dict(block or {})
    out: list[Record] = []

    def operator(action: str) -> str:
        wanted = (ops or {}).get(action, who[action])
        if wanted == "@police":
            return w.police_id
        if wanted == "@inspector":
            return block["inspection"]["inspector_id"]
        return wanted

    for i, action in enumerate(steps, start=1):
        if i > 1:
            t = t + timedelta(minutes=gap_min)
        if action == "inspect":
            ctx.run.day = day
            ctx.run.busy.clear()  # plants are built out of date order: no queue across them
            rec = inspection(ctx.run, office, serial, i, btype, car, owner, t, t0)
            t = datetime.fromisoformat(rec["action_time"])
            block.setdefault("inspection", rec["vehicle"]["inspection"])
        else:
            op = operator(action)
            rec = ctx.rec(
                "vehicle_reg",
                serial,
                i,
                "vehicle",
                btype,
                action,
                t,
                office,
                op,
                w=None if op in office.approvers else w,
                accepted=t0,
            )
            ctx.ids(rec, person=person, car=car, owner=owner)
            rec["vehicle"] = vehicle_block(car, **block)
            if action == "approve":
                reviewer = operator("review") if "review" in steps else None
                rec.update(reviewer_id=reviewer, approver_id=op)
                if new_owner:
                    since = (t + timedelta(seconds=1)).isoformat()
                    ctx.run.ledgers.vehicle_changes.append(
                        (car.vin, since, {"owner_id_no": new_owner})
                    )
                    owner = new_owner
            if action == "issue":
                rec.update(completed_at=rec["action_time"], document_kind="driving_permit")
            if action == "cancel":
                rec.update(reason_code="applicant_withdrew", completed_at=rec["action_time"])
            if action == "reject":
                rec.update(reason_code="not_eligible", completed_at=rec["action_time"])
            if i == len(steps) and action == "approve":
                rec["completed_at"] = rec["action_time"]
        out.append(rec)
    return out


def transfer(
    ctx: PlantContext, car: Car, seller: Person, buyer: Person, day: date, **kw: Any
) -> list[Record]:
    """An ownership transfer (VEH_TRANSFER) from `seller` to `buyer`."""
    block = {
        "transfer": {"from_owner_id_no": seller.id_no, "to_owner_id_no": buyer.id_no},
        **kw.pop("block", {}),
    }
    return chain(
        ctx, "VEH_TRANSFER", car, seller.id_no, buyer, day, new_owner=buyer.id_no, block=block, **kw
    )


def station_report(ctx: PlantContext, car: Car, owner: str, inspected: datetime, no: str) -> None:
    """A passing safety-inspection report of the station feed (R13 inspection_reports)."""
    ctx.add(
        "inspection_reports",
        {
            "report_no": no,
            "vin": car.vin,
            "plate_no": car.plate,
            "owner_id_no": owner,
            "insurance_valid_to": car.insurance_to.isoformat(),
            "result": "pass",
            "inspected_at": inspected.isoformat(),
        },
    )


def mark(
    ctx: PlantContext,
    car: Car,
    owner: Person,
    day: date,
    *,
    report: str | None,
    inspected: datetime,
    start: str = "09:30",
) -> list[Record]:
    """An inspection mark (accept → issue) citing the station report `report`."""
    out = chain(
        ctx,
        "VEH_INSPECTION_MARK",
        car,
        owner.id_no,
        owner,
        day,
        steps=("accept", "issue"),
        start=start,
        block={"safety_inspection_no": report, "safety_inspected_at": inspected.isoformat()},
    )
    out[-1]["document_kind"] = "inspection_mark"
    return out


def plate_select(
    ctx: PlantContext,
    owner: Person,
    day: date,
    plate: str,
    *,
    method: str = "self_compose",
    released: datetime | None = None,
    agent: Person | None = None,
    steps: tuple[str, ...] = ("accept", "approve"),
    car: Car | None = None,
) -> list[Record]:
    """A plate-number selection (VEH_PLATE_SELECT) for a new, not yet registered car."""
    car = car or ctx.car(owner.id_no, plate="")
    sel = {
        "plate_selection": {
            "method": method,
            "candidates_offered": 1 if method == "manual_assign" else 50,
            "selected_plate": plate,
            "previous_holder_released_at": released.isoformat() if released else None,
        }
    }
    out = chain(ctx, "VEH_PLATE_SELECT", car, owner.id_no, owner, day, steps=steps, block=sel)
    if agent is not None:
        for rec in out:
            rec.update(agent_id_no=agent.id_no, agent_name=agent.name, agent_phone=agent.phone)
    return out


def drop_photo(rec: Record, kind: str) -> None:
    insp = rec["vehicle"]["inspection"]
    insp["photos"] = [p for p in insp["photos"] if p["kind"] != kind]
    rec["evidence_count"] = len(insp["photos"])


def inspect_of(records: list[Record]) -> Record:
    return next(r for r in records if r["action"] == "inspect")


# ---- VEH-01 photo reuse -----------------------------------------------------------------------
@plant("VEH-01", severity="red")
def veh_01(ctx: PlantContext) -> list[Record]:
    """The VIN photo of one vehicle's inspection is reused (same sha256) for another vehicle."""
    out: list[Record] = []
    for offset in (12, 13):
        owner, buyer = ctx.person(), ctx.person()
        car = ctx.car(owner.id_no)
        out += transfer(ctx, car, owner, buyer, ctx.day(offset), start="10:20")
    first, second = (r for r in out if r["action"] == "inspect")
    src = next(p for p in first["vehicle"]["inspection"]["photos"] if p["kind"] == "photo_vin")
    dst = next(p for p in second["vehicle"]["inspection"]["photos"] if p["kind"] == "photo_vin")
    dst.update(sha256=src["sha256"], phash=src["phash"])
    return out


@near_miss("VEH-01")
def veh_01_standard_photo(ctx: PlantContext) -> list[Record]:
    """Two new cars of one model pre-inspected with the same same-model standard photo
    (model_standard=true, allowed for 预查验 of cars under protective film)."""
    out: list[Record] = []
    for offset in (16, 17):
        owner = ctx.person()
        car = ctx.car(owner.id_no, first_reg=ctx.day(offset))
        out += chain(ctx, "VEH_REG_NEW", car, owner.id_no, owner, ctx.day(offset), start="11:00")
    first, second = (r for r in out if r["action"] == "inspect")
    src = next(p for p in first["vehicle"]["inspection"]["photos"] if p["kind"] == "photo_vin")
    for rec in (first, second):
        insp = rec["vehicle"]["inspection"]
        insp["is_pre_inspection"] = True
        photo = next(p for p in insp["photos"] if p["kind"] == "photo_vin")
        photo.update(sha256=src["sha256"], phash=src["phash"], model_standard=True)
    return out


# ---- VEH-02 perfunctory inspection ------------------------------------------------------------
def _short_inspection(ctx: PlantContext, offset: int, seconds: int) -> list[Record]:
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    out = transfer(ctx, car, owner, buyer, ctx.day(offset), start="14:05")
    insp = inspect_of(out)["vehicle"]["inspection"]
    started = datetime.fromisoformat(insp["ended_at"]) - timedelta(seconds=seconds)
    insp["started_at"] = started.isoformat()
    step = (seconds - 20) // len(insp["photos"])
    for i, photo in enumerate(insp["photos"]):
        photo["taken_at"] = (started + timedelta(seconds=10 + step * i)).isoformat()
    return out


@plant("VEH-02", severity="yellow")
def veh_02(ctx: PlantContext) -> list[Record]:
    """An inspection that took 70 seconds from start to end."""
    return _short_inspection(ctx, 33, 70)


@near_miss("VEH-02")
def veh_02_two_minutes(ctx: PlantContext) -> list[Record]:
    """An inspection of exactly 120 seconds (the limit is under 120 s), photos 20 s apart."""
    return _short_inspection(ctx, 34, 120)


def _batch(ctx: PlantContext, offset: int, vehicles: int, *, burst: bool) -> list[Record]:
    """`vehicles` transfers inspected by one inspector, the inspections starting 3 minutes apart
    (all logged within 30 minutes); with `burst` one of them has every photo shot in 21 s."""
    out: list[Record] = []
    day = ctx.day(offset)
    for i in range(vehicles):
        owner, buyer = ctx.person(), ctx.person()
        car = ctx.car(owner.id_no)
        out += transfer(ctx, car, owner, buyer, day, start=f"16:{5 + 3 * i:02d}")
    inspections = [r for r in out if r["action"] == "inspect"]
    assert len({r["vehicle"]["inspection"]["inspector_id"] for r in inspections}) == 1
    if burst:
        insp = inspections[-1]["vehicle"]["inspection"]
        started = datetime.fromisoformat(insp["started_at"])
        for i, photo in enumerate(insp["photos"]):
            photo["taken_at"] = (started + timedelta(seconds=60 + 3 * i)).isoformat()
    return out


@plant("VEH-02", severity="orange")
def veh_02_batch_with_burst(ctx: PlantContext) -> list[Record]:
    """One inspector logs six vehicles' inspections within 30 minutes (b), one of them with all
    its photos shot within 21 seconds (c): (b) and (c) together."""
    return _batch(ctx, 36, 6, burst=True)


@near_miss("VEH-02")
def veh_02_five_in_a_batch(ctx: PlantContext) -> list[Record]:
    """One inspector logs five vehicles' inspections within 30 minutes (the batch is 6)."""
    return _batch(ctx, 38, 5, burst=False)


# ---- VEH-03 place and time of the inspection --------------------------------------------------
def _moved_inspection(ctx: PlantContext, offset: int, metres: float, photos_too: bool) -> list:
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    out = transfer(ctx, car, owner, buyer, ctx.day(offset), start="15:10")
    insp = inspect_of(out)["vehicle"]["inspection"]
    north = metres / 111195  # metres per degree of latitude
    insp["gps"] = {**insp["gps"], "lat": round(insp["gps"]["lat"] + north, 6)}
    if photos_too:
        for photo in insp["photos"]:
            photo["gps"] = {**photo["gps"], "lat": round(photo["gps"]["lat"] + north, 6)}
    return out


@plant("VEH-03", severity="orange")
def veh_03(ctx: PlantContext) -> list[Record]:
    """An inspection located 2.5 km from the inspection site, its photos taken there too."""
    return _moved_inspection(ctx, 37, 2500, photos_too=True)


@near_miss("VEH-03")
def veh_03_inside_tolerance(ctx: PlantContext) -> list[Record]:
    """An inspection fix 550 m from the centre of a 300 m site: 250 m outside, within the 300 m
    tolerance; the photos are on site."""
    return _moved_inspection(ctx, 38, 550, photos_too=False)


# ---- VEH-04 frequent transfers ----------------------------------------------------------------
@plant("VEH-04", severity="yellow")
def veh_04(ctx: PlantContext) -> list[Record]:
    """One VIN approved for VEH_TRANSFER three times within 365 days (30+ days apart)."""
    owners = [ctx.person() for _ in range(4)]
    car = ctx.car(owners[0].id_no)
    out: list[Record] = []
    for k, offset in enumerate((6, 40, 76)):
        out += transfer(ctx, car, owners[k], owners[k + 1], ctx.day(offset))
    return out


@near_miss("VEH-04")
def veh_04_twice(ctx: PlantContext) -> list[Record]:
    """One VIN transferred twice, 31 days apart: below 3 a year and outside the 30-day window."""
    owners = [ctx.person() for _ in range(3)]
    car = ctx.car(owners[0].id_no)
    first = ctx.day(10)
    out = transfer(ctx, car, owners[0], owners[1], first)
    out += transfer(ctx, car, owners[1], owners[2], ctx.day((first - ctx.world.start).days + 31))
    return out


# ---- VEH-05 deregistered vehicle revived ------------------------------------------------------
def _deregister(ctx: PlantContext, car: Car, owner: Person, day: date, reason: str) -> list:
    return chain(
        ctx,
        "VEH_DEREGISTER",
        car,
        owner.id_no,
        owner,
        day,
        steps=("accept", "review", "approve"),
        block={"deregistration_reason": reason},
    )


@plant("VEH-05", severity="red")
def veh_05(ctx: PlantContext) -> list[Record]:
    """A vehicle deregistered as scrap is approved for a new registration 40 days later."""
    owner = ctx.person()
    car = ctx.car(owner.id_no, first_reg=ctx.world.start - timedelta(days=15 * 365))
    out = _deregister(ctx, car, owner, ctx.day(8), "scrap")
    buyer = ctx.person()
    out += chain(ctx, "VEH_REG_NEW", car, buyer.id_no, buyer, ctx.day(48))
    return out


@near_miss("VEH-05")
def veh_05_restore_refused(ctx: PlantContext) -> list[Record]:
    """A vehicle deregistered as scrap: the application to restore it 30 days later is turned away
    (退办), never approved."""
    owner = ctx.person()
    car = ctx.car(owner.id_no, first_reg=ctx.world.start - timedelta(days=16 * 365))
    out = _deregister(ctx, car, owner, ctx.day(12), "scrap")
    out += chain(
        ctx,
        "VEH_DEREG_RESTORE",
        car,
        owner.id_no,
        owner,
        ctx.day(42),
        steps=("accept", "reject"),
    )
    return out


# ---- VEH-06 repeated replacements -------------------------------------------------------------
def _replacements(ctx: PlantContext, offsets: tuple[int, ...]) -> list[Record]:
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    out: list[Record] = []
    for offset in offsets:
        out += chain(
            ctx,
            "VEH_REPLACE_PLATE",
            car,
            owner.id_no,
            owner,
            ctx.day(offset),
            steps=("accept", "issue"),
        )
        out[-1]["document_kind"] = "plate"
    return out


@plant("VEH-06", severity="yellow")
def veh_06(ctx: PlantContext) -> list[Record]:
    """Plates of one vehicle replaced three times within 365 days."""
    return _replacements(ctx, (9, 35, 63))


@near_miss("VEH-06")
def veh_06_twice(ctx: PlantContext) -> list[Record]:
    """Plates of one vehicle replaced twice within the year (the threshold is 3)."""
    return _replacements(ctx, (11, 58))


# ---- VEH-07 encumbered vehicle ----------------------------------------------------------------
@plant("VEH-07", severity="red")
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
    block = {"seizure_active": True, "vehicle_status": "H"}
    return transfer(ctx, car, seller, buyer, ctx.day(22), block=block)


@near_miss("VEH-07")
def veh_07_mortgagee_consents(ctx: PlantContext) -> list[Record]:
    """A mortgaged vehicle transferred with the mortgagee's written consent on file."""
    seller, buyer = ctx.person(), ctx.person()
    car = ctx.car(seller.id_no)
    since = (ctx.world.start + timedelta(days=2)).isoformat()
    ctx.run.ledgers.vehicle_changes.append((car.vin, since, {"mortgage_active": True}))
    day = ctx.day(23)
    block = {"mortgage_active": True, "mortgagee_consent_ref": f"DYTY{day:%Y%m%d}0417"}
    return transfer(ctx, car, seller, buyer, day, block=block)


# ---- VEH-08 many vehicles in one natural person's name ----------------------------------------
def _registrations(ctx: PlantContext, offsets: tuple[int, ...]) -> list[Record]:
    nominee = ctx.person()
    out: list[Record] = []
    for offset in offsets:
        car = ctx.car(nominee.id_no, first_reg=ctx.day(offset))
        out += chain(
            ctx, "VEH_REG_NEW", car, nominee.id_no, nominee, ctx.day(offset), start="15:00"
        )
    return out


@plant("VEH-08", severity="yellow")
def veh_08(ctx: PlantContext) -> list[Record]:
    """Five new vehicles registered in one natural person's name within the period."""
    return _registrations(ctx, (5, 19, 33, 47, 61))


@near_miss("VEH-08")
def veh_08_four(ctx: PlantContext) -> list[Record]:
    """Four new vehicles registered in one natural person's name (the threshold is 5)."""
    return _registrations(ctx, (7, 21, 35, 49))


# ---- VEH-09 frequent plate selection ----------------------------------------------------------
# Ordinary numbers: no run, repeat or lucky ending of R16.
BROKER_PLATES = ("黔A3K7Q2", "黔A5R2M7", "黔A7N3T9", "黔A2M8T4", "黔A9Q4K6")


@plant("VEH-09", severity="yellow")
def veh_09(ctx: PlantContext) -> list[Record]:
    """One natural-person agent (号贩子) selects three plate numbers for three owners in a
    year."""
    broker = ctx.person()
    out: list[Record] = []
    for plate, offset in zip(BROKER_PLATES[:3], (13, 41, 69), strict=True):
        out += plate_select(ctx, ctx.person(), ctx.day(offset), plate, agent=broker)
    return out


@plant("VEH-09", severity="yellow")
def veh_09_redraws(ctx: PlantContext) -> list[Record]:
    """One VIN's plate selection cancelled and redrawn twice within 90 days (退号重选)."""
    owner = ctx.person()
    car = ctx.car(owner.id_no, plate="")
    out: list[Record] = []
    for plate, offset in zip(BROKER_PLATES[3:], (26, 44), strict=True):
        out += plate_select(ctx, owner, ctx.day(offset), plate, car=car, steps=("accept", "cancel"))
    out += plate_select(ctx, owner, ctx.day(52), "黔A6T2R8", car=car)
    return out


@plant("VEH-09", severity="orange")
def veh_09_premium(ctx: PlantContext) -> list[Record]:
    """One agent selects three plate numbers in a year, the last the premium 黔A5R888 (R16: ends
    in 888), self-composed (a lawful channel, so not VEH-10)."""
    broker = ctx.person()
    out: list[Record] = []
    for plate, offset in (("黔A6K3N2", 15), ("黔A4T7M3", 43), ("黔A5R888", 71)):
        out += plate_select(ctx, ctx.person(), ctx.day(offset), plate, agent=broker)
    return out


@near_miss("VEH-09")
def veh_09_two_plates(ctx: PlantContext) -> list[Record]:
    """One agent selects two plate numbers in a year (the threshold is 3)."""
    broker = ctx.person()
    out: list[Record] = []
    for plate, offset in (("黔A4K9R3", 18), ("黔A8M2Q5", 60)):
        out += plate_select(ctx, ctx.person(), ctx.day(offset), plate, agent=broker)
    return out


# ---- VEH-10 premium plate -----------------------------------------------------------------------
@plant("VEH-10", severity="red")
def veh_10(ctx: PlantContext) -> list[Record]:
    """The premium number 黔A88888 assigned manually (manual_assign) instead of from the public
    pool."""
    return plate_select(ctx, ctx.person(), ctx.day(51), "黔A88888", method="manual_assign")


@near_miss("VEH-10")
def veh_10_public_release(ctx: PlantContext) -> list[Record]:
    """The premium number 黔A66666 drawn from the random pool 73 h after its public release."""
    day = ctx.day(53)
    released = ctx.t(day, "09:18") - timedelta(hours=73)  # the approval is at 09:18
    return plate_select(ctx, ctx.person(), day, "黔A66666", method="random_pool", released=released)


# ---- VEH-11 unregistered agent ------------------------------------------------------------------
def _agent_marks(ctx: PlantContext, n: int, first: int) -> list[Record]:
    broker = ctx.person()
    out: list[Record] = []
    for k in range(n):
        owner = ctx.person()
        car = ctx.car(owner.id_no)
        day = ctx.day(first + (k * 3) // 2)
        inspected = ctx.t(day - timedelta(days=2), "10:00")
        report = f"JC520100{day:%Y%m%d}77{k:02d}{first:02d}"
        station_report(ctx, car, owner.id_no, inspected, report)
        recs = mark(
            ctx,
            car,
            owner,
            day,
            report=report,
            inspected=inspected,
            start=("09:20", "14:40")[k % 2],
        )
        for rec in recs:
            rec.update(agent_id_no=broker.id_no, agent_name=broker.name, agent_phone=broker.phone)
        out += recs
    return out


@plant("VEH-11", severity="yellow")
def veh_11(ctx: PlantContext) -> list[Record]:
    """A natural-person agent not filed with any organisation brings 20 inspection-mark items in
    four weeks."""
    return _agent_marks(ctx, 20, 21)


@near_miss("VEH-11")
def veh_11_nineteen(ctx: PlantContext) -> list[Record]:
    """An unregistered agent with 19 vehicle items in four weeks (the threshold is 20)."""
    return _agent_marks(ctx, 19, 55)


# ---- VEH-12 inspection mark without a report ----------------------------------------------------
@plant("VEH-12", severity="red")
def veh_12(ctx: PlantContext) -> list[Record]:
    """An inspection mark issued with a report number the inspection-station feed does not have."""
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    day = ctx.day(44)
    inspected = ctx.t(day - timedelta(days=2), "10:00")
    return mark(ctx, car, owner, day, report=f"JC520100{day:%Y%m%d}999901", inspected=inspected)


@near_miss("VEH-12")
def veh_12_report_30_days_old(ctx: PlantContext) -> list[Record]:
    """An inspection mark on a passing report inspected 29 days 23 hours before the issue."""
    owner = ctx.person()
    car = ctx.car(owner.id_no, first_reg=ctx.world.start - timedelta(days=12 * 365))
    day = ctx.day(45)
    inspected = ctx.t(day, "09:30") - timedelta(days=29, hours=23)  # the issue is at 09:38
    report = f"JC520100{day:%Y%m%d}999902"
    station_report(ctx, car, owner.id_no, inspected, report)
    return mark(ctx, car, owner, day, report=report, inspected=inspected)


# ---- VEH-13 key field modified ------------------------------------------------------------------
def _modify(
    ctx: PlantContext, btype: str, car: Car, owner: Person, day: date, field: str, values: tuple
) -> list[Record]:
    out = chain(ctx, btype, car, owner.id_no, owner, day, steps=("accept",))
    office = ctx.office("vehicle_office")
    w = ctx.window(office)
    t = datetime.fromisoformat(out[0]["action_time"]) + timedelta(minutes=30)
    mod = ctx.rec(
        "vehicle_reg",
        out[0]["serial_no"],
        2,
        "vehicle",
        btype,
        "modify",
        t,
        office,
        w.police_id,
        w=w,
        accepted=datetime.fromisoformat(out[0]["accepted_at"]),
    )
    ctx.ids(mod, person=owner, car=car)
    top, _, leaf = field.rpartition(".")

    def nested(value: Any) -> dict[str, Any]:
        return {top: {leaf: value}} if top else {leaf: value}

    mod.update(
        reason_code="data_correction",
        changed_fields=[field],
        before=nested(values[0]),
        after=nested(values[1]),
    )
    mod["vehicle"] = vehicle_block(car)
    return [*out, mod]


@plant("VEH-13", severity="red")
def veh_13(ctx: PlantContext) -> list[Record]:
    """The owner of a registered vehicle is re-keyed by a modify without basis document or
    approver."""
    owner, other = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    out = _modify(
        ctx,
        "VEH_TRANSFER",
        car,
        owner,
        ctx.day(30),
        "vehicle_owner_id_no",
        (owner.id_no, other.id_no),
    )
    out[-1]["vehicle_owner_id_no"] = other.id_no
    return out


@near_miss("VEH-13")
def veh_13_proper_correction(ctx: PlantContext) -> list[Record]:
    """A mistyped engine number corrected under VEH_CORRECTION with a basis document and a
    second person approving."""
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    day = ctx.day(31)
    out = _modify(
        ctx,
        "VEH_CORRECTION",
        car,
        owner,
        day,
        "vehicle.engine_no",
        ("G4FC8A123456", "G4FC8A123465"),
    )
    approver = ctx.office("vehicle_office").approvers[0]
    out[-1].update(basis_doc_no=f"GZYJ{day:%Y%m%d}0031", approver_id=approver)
    return out


# ---- VEH-14 commercial to private, then sold --------------------------------------------------
def _taxi_sold(ctx: PlantContext, offset: int, to_use: str, days_later: int) -> list[Record]:
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no, use_nature="D")  # 出租客运
    day = ctx.day(offset)
    out = chain(ctx, "VEH_CHANGE", car, owner.id_no, owner, day, block={"use_nature": "D"})
    approve = next(r for r in out if r["action"] == "approve")
    approve.update(
        basis_doc_no=f"BGSQ{day:%Y%m%d}0112",
        changed_fields=["vehicle.use_nature"],
        before={"vehicle": {"use_nature": "D"}},
        after={"vehicle": {"use_nature": to_use}},
    )
    since = (datetime.fromisoformat(approve["action_time"]) + timedelta(seconds=1)).isoformat()
    ctx.run.ledgers.vehicle_changes.append((car.vin, since, {"use_nature": to_use}))
    car.use_nature = to_use
    sold = ctx.day((day - ctx.world.start).days + days_later)
    return out + transfer(ctx, car, owner, buyer, sold)


@plant("VEH-14", severity="yellow")
def veh_14(ctx: PlantContext) -> list[Record]:
    """A taxi changed to private use (营转非, D → A) and sold 42 days later."""
    return _taxi_sold(ctx, 9, "A", 42)


@near_miss("VEH-14")
def veh_14_still_commercial(ctx: PlantContext) -> list[Record]:
    """A taxi changed to a rental car (D → G, still commercial) and sold 42 days later."""
    return _taxi_sold(ctx, 10, "G", 42)


# ---- CP-30 inspection first, by a qualified inspector -------------------------------------------
@plant("CP-30", severity="orange")
def cp_30(ctx: PlantContext) -> list[Record]:
    """A transfer approved without any inspection of the vehicle (不见车查验)."""
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    return transfer(
        ctx, car, owner, buyer, ctx.day(19), steps=("accept", "review", "approve", "issue")
    )


@near_miss("CP-30")
def cp_30_mortgage(ctx: PlantContext) -> list[Record]:
    """A mortgage registration approved without inspection: R6 says it needs none."""
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    out = chain(
        ctx,
        "VEH_MORTGAGE",
        car,
        owner.id_no,
        owner,
        ctx.day(20),
        steps=("accept", "review", "approve", "issue"),
    )
    out[-1]["document_kind"] = "reg_certificate"
    return out


@near_miss("CP-30")
def cp_30_truck_police_inspector(ctx: PlantContext) -> list[Record]:
    """A medium goods truck (H21, a police-inspection category) inspected by a police inspector
    before the approval."""
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no, vehicle_type="H21", use_nature="F")
    return transfer(ctx, car, owner, buyer, ctx.day(21))


# ---- CP-31 inspection evidence ------------------------------------------------------------------
@plant("CP-31", severity="yellow")
def cp_31(ctx: PlantContext) -> list[Record]:
    """A transfer inspection without the nameplate photo."""
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    out = transfer(ctx, car, owner, buyer, ctx.day(27), start="10:40")
    drop_photo(inspect_of(out), "photo_nameplate")
    return out


@plant("CP-31", severity="orange")
def cp_31_no_vin_photo(ctx: PlantContext) -> list[Record]:
    """A transfer inspection without the VIN photo."""
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    out = transfer(ctx, car, owner, buyer, ctx.day(28), start="10:40")
    drop_photo(inspect_of(out), "photo_vin")
    return out


@near_miss("CP-31")
def cp_31_rubbing_on_film(ctx: PlantContext) -> list[Record]:
    """A transfer inspection whose VIN rubbing is the scanned film (vin_rubbing_ref), not a
    photo."""
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    out = transfer(ctx, car, owner, buyer, ctx.day(29), start="10:40")
    drop_photo(inspect_of(out), "vin_rubbing")
    return out


# ---- CP-32 separation of posts ------------------------------------------------------------------
@plant("CP-32", severity="orange")
def cp_32(ctx: PlantContext) -> list[Record]:
    """The police inspector of a transfer also does its registration review."""
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no, vehicle_type="H21", use_nature="F")  # a police inspector
    return transfer(ctx, car, owner, buyer, ctx.day(36), ops={"review": "@inspector"})


@near_miss("CP-32")
def cp_32_plate_replacement(ctx: PlantContext) -> list[Record]:
    """A plate replacement (not a four-eyes type) accepted and approved by the same officer."""
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    out = chain(
        ctx,
        "VEH_REPLACE_PLATE",
        car,
        owner.id_no,
        owner,
        ctx.day(39),
        steps=("accept", "approve", "issue"),
        ops={"accept": "@police", "approve": "@police"},
    )
    out[-1]["document_kind"] = "plate"
    return out


# ---- CP-33 completion time ----------------------------------------------------------------------
@plant("CP-33", severity="yellow")
def cp_33(ctx: PlantContext) -> list[Record]:
    """A transfer accepted on a Monday and completed four working days later (SLA 1 day)."""
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    day = ctx.day(14)
    out = transfer(ctx, car, owner, buyer, day)
    return _shift_tail(out, ctx.t(ctx.wd(day, 4), "10:30"))


def _shift_tail(out: list[Record], to: datetime) -> list[Record]:
    """Move the approval and the issue to `to` (approval) and after."""
    shift = to - datetime.fromisoformat(
        next(r for r in out if r["action"] == "approve")["action_time"]
    )
    for rec in out:
        if rec["action"] in ("approve", "issue"):
            rec["action_time"] = (datetime.fromisoformat(rec["action_time"]) + shift).isoformat()
            if "completed_at" in rec:
                rec["completed_at"] = rec["action_time"]
    return out


@near_miss("CP-33")
def cp_33_friday_to_monday(ctx: PlantContext) -> list[Record]:
    """A transfer accepted on a Friday and completed on Monday: the 1-day period's last day is a
    Saturday, so it ends on the next working day."""
    day = ctx.day(15)
    while not (
        day.weekday() == 4
        and not is_workday(day + timedelta(days=1))
        and is_workday(day + timedelta(days=3))
    ):
        day = ctx.day((day - ctx.world.start).days + 1)
    owner, buyer = ctx.person(), ctx.person()
    car = ctx.car(owner.id_no)
    out = transfer(ctx, car, owner, buyer, day, start="15:30")
    return _shift_tail(out, ctx.t(day + timedelta(days=3), "10:30"))


# ---- CP-34 temporary plates ---------------------------------------------------------------------
def _temp_plate(ctx: PlantContext, offset: int, days: int) -> list[Record]:
    buyer = ctx.person()
    car = ctx.car(buyer.id_no, plate="")
    day = ctx.day(offset)
    tp = {
        "temp_plate": {
            "reason": "purchased_unregistered",
            "valid_from": day.isoformat(),
            "valid_to": (day + timedelta(days=days)).isoformat(),
            "issue_seq": 1,
        }
    }
    out = chain(
        ctx, "VEH_TEMP_PLATE", car, buyer.id_no, buyer, day, steps=("accept", "issue"), block=tp
    )
    out[-1]["document_kind"] = "temp_plate"
    return out


@plant("CP-34", severity="yellow")
def cp_34(ctx: PlantContext) -> list[Record]:
    """A temporary plate for a purchased, unregistered car valid for 60 days (limit 30)."""
    return _temp_plate(ctx, 24, 60)


@near_miss("CP-34")
def cp_34_thirty_days(ctx: PlantContext) -> list[Record]:
    """A temporary plate for a purchased, unregistered car valid for exactly 30 days."""
    return _temp_plate(ctx, 25, 30)


# ---- CP-35 corrections --------------------------------------------------------------------------
def _correction(ctx: PlantContext, offset: int, basis: bool) -> list[Record]:
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    day = ctx.day(offset)
    out = chain(
        ctx,
        "VEH_CORRECTION",
        car,
        owner.id_no,
        owner,
        day,
        steps=("accept", "review", "approve"),
        start="10:05",
    )
    if basis:
        for rec in out:
            rec["basis_doc_no"] = f"GZYJ{day:%Y%m%d}00{offset:02d}"
    return out


@plant("CP-35", severity="orange")
def cp_35(ctx: PlantContext) -> list[Record]:
    """A correction of registration items approved without any basis document."""
    return _correction(ctx, 42, basis=False)


@near_miss("CP-35")
def cp_35_with_basis(ctx: PlantContext) -> list[Record]:
    """A correction approved on a basis document, reviewed by another officer than the approver."""
    return _correction(ctx, 43, basis=True)


# ---- CP-36 inspection-mark preconditions --------------------------------------------------------
def _mark_insured_to(ctx: PlantContext, offset: int, days_before: int, no: str) -> list[Record]:
    owner = ctx.person()
    day = ctx.day(offset)
    car = ctx.car(owner.id_no, insurance_to=day - timedelta(days=days_before))
    report = f"JC520100{day:%Y%m%d}{no}"
    inspected = ctx.t(day - timedelta(days=3), "09:40")
    station_report(ctx, car, owner.id_no, inspected, report)
    return mark(ctx, car, owner, day, report=report, inspected=inspected)


@plant("CP-36", severity="orange")
def cp_36(ctx: PlantContext) -> list[Record]:
    """An inspection mark issued although the compulsory insurance ended a month earlier."""
    return _mark_insured_to(ctx, 66, 30, "888801")


@near_miss("CP-36")
def cp_36_insured_to_today(ctx: PlantContext) -> list[Record]:
    """An inspection mark issued on the last day of the compulsory insurance."""
    return _mark_insured_to(ctx, 67, 0, "888802")


@plant("STF-06", severity="yellow")
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
