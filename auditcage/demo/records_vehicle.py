"""Vehicle-administration flows (车管): registration, transfer, inspection mark, replacement, …"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo import identity
from auditcage.demo.population import Car, Person
from auditcage.demo.province import Office, Window
from auditcage.demo.records import (
    FlowSpec,
    Record,
    Run,
    at_backend,
    at_window,
    base,
    subject,
    vehicle_ids,
)
from auditcage.demo.timeutil import next_workday

PHOTO_KINDS = (
    "photo_front_left_45",
    "photo_rear_right_45",
    "photo_vin",
    "vin_rubbing",
    "photo_nameplate",
)
REJECT_EVERY = 25  # every 25th acceptance of an operator is turned away: a flat, unremarkable rate


def vehicle_block(car: Car, **extra: Any) -> dict[str, Any]:
    block = {
        "vehicle_type": car.vehicle_type,
        "use_nature": car.use_nature,
        "vehicle_status": "A",
        "first_reg_date": car.first_reg.isoformat(),
        "mortgage_active": False,
        "seizure_active": False,
        "stolen_flag": False,
        "insurance_valid_to": car.insurance_to.isoformat(),
    }
    block.update(extra)
    return block


def photos(
    run: Run, serial: str, start: datetime, end: datetime, office: Office, pda: str
) -> list[dict]:
    rng = run.rng
    lat, lon = office.site_centre
    span = max(1, int((end - start).total_seconds()) - 30)
    out = []
    for i, kind in enumerate(PHOTO_KINDS):
        taken = start + timedelta(seconds=15 + (span * i) // len(PHOTO_KINDS) + rng.randrange(20))
        out.append(
            {
                "evidence_id": f"{serial}-P{i + 1}",
                "kind": kind,
                "uri": f"oss://inspection/{serial}/{kind}.jpg",
                "sha256": identity.hexstr(rng, 256),
                "phash": identity.hexstr(rng, 64),
                "taken_at": taken.isoformat(),
                "gps": {
                    "lat": round(lat + rng.uniform(-6e-4, 6e-4), 6),
                    "lon": round(lon + rng.uniform(-6e-4, 6e-4), 6),
                    "accuracy_m": 8,
                    "datum": "WGS84",
                },
                "device_id": pda,
                "model_standard": False,
            }
        )
    return out


def inspection(
    run: Run,
    office: Office,
    serial: str,
    step: int,
    btype: str,
    car: Car,
    owner: str,
    t_ready: datetime,
    accepted: datetime,
) -> Record:
    """One `inspect` by the inspector free soonest; police inspectors for medium/large vehicles."""
    pool = office.police_inspectors if car.vehicle_type.startswith("H") else office.inspectors
    pool = [s for s in pool if run.prov.available(s, run.day)] or pool
    inspector = min(pool, key=lambda s: run.busy.get(s, t_ready))
    start = max(t_ready, run.busy.get(inspector, t_ready))
    end = start + timedelta(seconds=run.rng.randrange(420, 900))
    run.busy[inspector] = end + timedelta(seconds=run.rng.randrange(120, 400))
    pda = office.pda[inspector]
    lat, lon = office.site_centre
    pics = photos(run, serial, start, end, office, pda)
    rec = base(
        run,
        "inspection_pda",
        serial,
        step,
        "vehicle",
        btype,
        "inspect",
        end,
        accepted,
        office.unit_code,
        inspector,
    )
    rec.update(channel="station", terminal_id=pda, evidence_count=len(pics))
    rec["bodycam_refs"] = [run.bodycam(inspector, end)]
    vehicle_ids(rec, car, owner)
    rec["vehicle"] = vehicle_block(
        car,
        inspection={
            "inspector_id": inspector,
            "site_id": office.site_id,
            "started_at": start.isoformat(),
            "ended_at": end.isoformat(),
            "gps": {"lat": lat, "lon": lon, "accuracy_m": 10, "datum": "WGS84"},
            "result": "pass",
            "photos": pics,
            "vin_rubbing_ref": f"oss://inspection/{serial}/rubbing.tif",
            "video_ref": f"oss://inspection/{serial}/video.mp4",
            "is_pre_inspection": False,
        },
    )
    return rec


def _step(
    run: Run,
    office: Office,
    serial: str,
    step: int,
    btype: str,
    action: str,
    t: datetime,
    accepted: datetime,
    operator: str,
    car: Car,
    owner: str,
    person: Person | None,
    w: Window | None,
    **block: Any,
) -> Record:
    rec = base(
        run,
        "vehicle_reg",
        serial,
        step,
        "vehicle",
        btype,
        action,
        t,
        accepted,
        office.unit_code,
        operator,
    )
    if w is not None:
        at_window(rec, w)
    else:
        at_backend(rec, office, operator)
    if person is not None:
        subject(rec, person)
    vehicle_ids(rec, car, owner)
    rec["vehicle"] = vehicle_block(car, **block)
    return rec


def _rejected(run: Run, w: Window) -> bool:
    return run.tick(f"accept:{w.aux_id}") % REJECT_EVERY == REJECT_EVERY - 1


def _archive(
    run: Run, office: Office, day: date, serial: str, step: int, btype: str, t0: datetime
) -> Record:
    """The archive post files the item on the next working day (R6 archive_items, CP-44)."""
    t = datetime.combine(next_workday(day), t0.timetz()).replace(hour=10, minute=0, second=0)
    t += timedelta(minutes=run.rng.randrange(0, 300))
    return base(
        run,
        "vehicle_reg",
        serial,
        step,
        "vehicle",
        btype,
        "archive",
        t,
        t0,
        office.unit_code,
        office.archivist,
    )


def _four_eyes(
    run: Run,
    office: Office,
    day: date,
    serial: str,
    btype: str,
    car: Car,
    owner: str,
    person: Person,
    *,
    inspect: bool,
    new_owner: str | None = None,
    fee: float | None = None,
    doc_kind: str = "driving_permit",
    extra: dict[str, Any] | None = None,
) -> Iterator[Record]:
    """accept → (inspect) → review → approve → issue → archive, each by a different person."""
    t0 = run.office_start(office, day, span=110)
    w = run.window(office, day)
    if t0 is None or w is None:
        return
    extra = extra or {}
    yield _step(
        run, office, serial, 1, btype, "accept", t0, t0, w.aux_id, car, owner, person, w, **extra
    )
    if _rejected(run, w):
        rej = _step(
            run,
            office,
            serial,
            2,
            btype,
            "reject",
            run.later(t0, 4, office),
            t0,
            w.aux_id,
            car,
            owner,
            person,
            w,
            **extra,
        )
        rej.update(
            reason_code="materials_incomplete",
            reason_text="申请材料不齐全",
            completed_at=rej["action_time"],
        )
        yield rej
        return
    t = run.later(t0, run.rng.uniform(4, 10), office)
    step = 2
    if inspect:
        rec = inspection(run, office, serial, step, btype, car, owner, t, t0)
        yield rec
        t = datetime.fromisoformat(rec["action_time"])
        step += 1
        # The business record carries the inspection it relies on from here on (as the record
        # contract's base example does): CP-30 and CP-32 judge the approval by it.
        extra = {**extra, "inspection": rec["vehicle"]["inspection"]}
    t = run.later(t, run.rng.uniform(5, 15), office)
    review = _step(
        run,
        office,
        serial,
        step,
        btype,
        "review",
        t,
        t0,
        w.police_id,
        car,
        owner,
        person,
        w,
        **extra,
    )
    yield review
    approver = run.pick(office.approvers, day)
    t = run.later(t, run.rng.uniform(3, 12), office)
    approve = _step(
        run,
        office,
        serial,
        step + 1,
        btype,
        "approve",
        t,
        t0,
        approver,
        car,
        owner,
        person,
        None,
        **extra,
    )
    approve.update(reviewer_id=w.police_id, approver_id=approver)
    yield approve
    if new_owner:
        run.owner[car.vin] = new_owner
        # the new owner holds the vehicle from the instant after the approval
        since = (datetime.fromisoformat(approve["action_time"]) + timedelta(seconds=1)).isoformat()
        run.ledgers.vehicle_changes.append((car.vin, since, {"owner_id_no": new_owner}))
        owner = new_owner
    t = run.later(t, run.rng.uniform(3, 10), office)
    issue = _step(
        run,
        office,
        serial,
        step + 2,
        btype,
        "issue",
        t,
        t0,
        w.police_id,
        car,
        owner,
        person,
        w,
        **extra,
    )
    issue.update(
        completed_at=issue["action_time"],
        document_kind=doc_kind,
        reviewer_id=w.police_id,
        approver_id=approver,
    )
    if fee is not None:
        issue.update(amount=fee, amount_kind="fee")
    yield issue
    t_archive = datetime.combine(next_workday(day), t.timetz()).replace(hour=10)
    t_archive += timedelta(minutes=run.rng.randrange(0, 300))
    yield _step(
        run,
        office,
        serial,
        step + 3,
        btype,
        "archive",
        t_archive,
        t0,
        office.archivist,
        car,
        owner,
        None,
        None,
        **extra,
    )


def transfer(run: Run, office: Office, day: date) -> Iterator[Record]:
    car = run.fresh_car(office.det)
    if car is None:
        return
    seller, buyer = run.owner_of(car), run.buyer()
    serial = run.serial("1", office.unit_code)
    extra = {"transfer": {"from_owner_id_no": seller, "to_owner_id_no": buyer.id_no}}
    yield from _four_eyes(
        run,
        office,
        day,
        serial,
        "VEH_TRANSFER",
        car,
        seller,
        buyer,
        inspect=True,
        new_owner=buyer.id_no,
        fee=15.0,
        extra=extra,
    )


def registration(run: Run, office: Office, day: date) -> Iterator[Record]:
    """A new car sold by a dealer: plate selection from the random pool, then registration."""
    rng = run.rng
    dealers = run.pop.orgs_of("dealer", office.det)
    dealer = rng.choice(dealers)
    buyer = run.buyer()
    first = run.day
    car = Car(
        vin=identity.vin(rng, model_year=2026),
        plate=run.new_plate(office.det),
        plate_type="02",
        vehicle_type="K33",
        use_nature="A",
        first_reg=first,
        owner=buyer.id_no,
        owner_type="resident_id",
        det=office.det,
        insurance_to=first + timedelta(days=364),
    )
    serial = run.serial("1", office.unit_code)
    agent = {"agent_id_no": rng.choice(dealer.agents), "agent_org_code": dealer.org_code}
    selection = {
        "plate_selection": {
            "method": "random_pool",
            "candidates_offered": 50,
            "selected_plate": car.plate,
            "previous_holder_released_at": None,
        }
    }
    recs = list(
        _four_eyes(
            run,
            office,
            day,
            serial,
            "VEH_REG_NEW",
            car,
            buyer.id_no,
            buyer,
            inspect=True,
            fee=130.0,
            doc_kind="plate",
            extra=selection,
        )
    )
    for rec in recs:
        rec.update(agent)
    if recs and recs[-1]["action"] == "archive":
        approve = next(r for r in recs if r["action"] == "approve")
        run.ledgers.new_vehicles.append(_master(car, office, approve["action_time"]))
    yield from recs


def _master(car: Car, office: Office, since: str) -> dict[str, Any]:
    return {
        "vin": car.vin,
        "plate_no": car.plate,
        "plate_type": car.plate_type,
        "owner_id_no": car.owner,
        "vehicle_type": car.vehicle_type,
        "use_nature": car.use_nature,
        "status": "A",
        "mortgage_active": False,
        "seizure_active": False,
        "stolen_flag": False,
        "first_reg_date": car.first_reg.isoformat(),
        "registering_unit": office.unit_code,
        "effective_from": since,
        "effective_to": None,
    }


def replace_permit(run: Run, office: Office, day: date) -> Iterator[Record]:
    car = run.fresh_car(office.det)
    if car is None:
        return
    owner = run.owner_of(car)
    person = run.pop.by_id.get(owner)
    if person is None:
        return
    serial = run.serial("1", office.unit_code)
    yield from _four_eyes(
        run, office, day, serial, "VEH_REPLACE_PERMIT", car, owner, person, inspect=False, fee=10.0
    )


def mortgage(run: Run, office: Office, day: date) -> Iterator[Record]:
    car = run.fresh_car(office.det)
    if car is None:
        return
    owner = run.owner_of(car)
    person = run.pop.by_id.get(owner)
    if person is None:
        return
    serial = run.serial("1", office.unit_code)
    recs = list(
        _four_eyes(
            run,
            office,
            day,
            serial,
            "VEH_MORTGAGE",
            car,
            owner,
            person,
            inspect=False,
            doc_kind="reg_certificate",
        )
    )
    approve = next((r for r in recs if r["action"] == "approve"), None)
    if approve is not None:
        run.ledgers.vehicle_changes.append(
            (car.vin, approve["action_time"], {"mortgage_active": True})
        )
    yield from recs


def inspection_mark(run: Run, office: Office, day: date) -> Iterator[Record]:
    """检验合格标志: a passing station report (R13), then the mark at a window or kiosk."""
    car = run.fresh_car(office.det)
    if car is None:
        return
    owner = run.owner_of(car)
    person = run.pop.by_id.get(owner)
    t0 = run.office_start(office, day, span=30)
    if person is None or t0 is None:
        return
    rng = run.rng
    serial = run.serial("1", office.unit_code)
    report_no = f"JC{office.unit_code[:6]}{run.day_tag}{run.seq:06d}"
    inspected = t0 - timedelta(days=rng.randrange(1, 12), hours=rng.randrange(1, 5))
    run.ledgers.inspection_reports.append(
        {
            "report_no": report_no,
            "vin": car.vin,
            "plate_no": car.plate,
            "owner_id_no": owner,
            "insurance_valid_to": car.insurance_to.isoformat(),
            "result": "pass",
            "inspected_at": inspected.isoformat(),
        }
    )
    block = {
        "safety_inspection_no": report_no,
        "safety_inspected_at": inspected.isoformat(),
        "inspection_mark_valid_to": (day.replace(day=1) + timedelta(days=400))
        .replace(day=1)
        .isoformat(),
    }
    kiosk = rng.random() < 0.3
    w = None if kiosk else run.window(office, day)
    if not kiosk and w is None:
        return
    ops = ("SYS:kiosk", "SYS:kiosk") if w is None else (w.aux_id, w.police_id)
    t1 = run.later(t0, rng.uniform(3, 9), office)
    for step, (action, t, op) in enumerate(
        (("accept", t0, ops[0]), ("issue", t1, ops[1])), start=1
    ):
        rec = base(
            run,
            "kiosk" if kiosk else "vehicle_reg",
            serial,
            step,
            "vehicle",
            "VEH_INSPECTION_MARK",
            action,
            t,
            t0,
            office.unit_code,
            op,
        )
        if w is None:
            rec.update(channel="kiosk", terminal_id=f"K-{office.unit_code}-01")
        else:
            at_window(rec, w)
        subject(rec, person)
        vehicle_ids(rec, car, owner)
        rec["vehicle"] = vehicle_block(car, **block)
        if action == "issue":
            rec.update(completed_at=rec["action_time"], document_kind="inspection_mark")
        yield rec
    archive = _archive(run, office, day, serial, 3, "VEH_INSPECTION_MARK", t0)
    at_backend(archive, office, office.archivist)
    vehicle_ids(archive, car, owner)
    archive["vehicle"] = vehicle_block(car, **block)
    yield archive


def temp_plate(run: Run, office: Office, day: date) -> Iterator[Record]:
    rng = run.rng
    t0 = run.office_start(office, day, span=30)
    w = run.window(office, day)
    if t0 is None or w is None:
        return
    buyer = run.buyer()
    car = Car(
        vin=identity.vin(rng, model_year=2026),
        plate="",
        plate_type="02",
        vehicle_type="K33",
        use_nature="A",
        first_reg=day,
        owner=buyer.id_no,
        owner_type="resident_id",
        det=office.det,
        insurance_to=day + timedelta(days=364),
    )
    serial = run.serial("1", office.unit_code)
    tp = {
        "temp_plate": {
            "reason": "purchased_unregistered",
            "valid_from": day.isoformat(),
            "valid_to": (day + timedelta(days=15)).isoformat(),
            "issue_seq": 1,
        }
    }
    t1 = run.later(t0, rng.uniform(3, 9), office)
    for step, (action, t, op) in enumerate(
        (("accept", t0, w.aux_id), ("issue", t1, w.police_id)), start=1
    ):
        rec = base(
            run,
            "vehicle_reg",
            serial,
            step,
            "vehicle",
            "VEH_TEMP_PLATE",
            action,
            t,
            t0,
            office.unit_code,
            op,
        )
        at_window(rec, w)
        subject(rec, buyer)
        rec.update(vin=car.vin, vehicle_owner_id_no=buyer.id_no)
        rec["vehicle"] = vehicle_block(car, **tp)
        if action == "issue":
            rec.update(
                completed_at=rec["action_time"],
                document_kind="temp_plate",
                amount=5.0,
                amount_kind="fee",
            )
        yield rec
    archive = _archive(run, office, day, serial, 3, "VEH_TEMP_PLATE", t0)
    at_backend(archive, office, office.archivist)
    archive.update(vin=car.vin, vehicle_owner_id_no=buyer.id_no)
    archive["vehicle"] = vehicle_block(car, **tp)
    yield archive


VEHICLE_FLOWS = [
    FlowSpec("veh_transfer", transfer, 1.0, 5.8, "vehicle_office", "open"),
    FlowSpec("veh_registration", registration, 0.8, 5.8, "vehicle_office", "open"),
    FlowSpec("veh_inspection_mark", inspection_mark, 1.2, 2.0, "vehicle_office", "open"),
    FlowSpec("veh_replace_permit", replace_permit, 0.3, 4.8, "vehicle_office", "open"),
    FlowSpec("veh_mortgage", mortgage, 0.3, 4.8, "vehicle_office", "open"),
    FlowSpec("veh_temp_plate", temp_plate, 0.3, 2.0, "vehicle_office", "open"),
]
