"""Planted staff-behaviour cases (STF-xx) and archive checkpoints (CP-05, CP-44…46)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta

from auditcage.demo import identity
from auditcage.demo.plants import PlantContext, near_miss, plant
from auditcage.demo.plants_violation import decide_record
from auditcage.demo.population import Car, Person
from auditcage.demo.province import Office, Staff, Window
from auditcage.demo.records import Record
from auditcage.demo.records_vehicle import vehicle_block
from auditcage.demo.timeutil import TZ, hours_on, is_workday


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


@plant("STF-01", severity="yellow")
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


@plant("STF-02", severity="red")
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


@plant("STF-03", severity="orange")
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


@plant("STF-04", severity="red")
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


@plant("STF-05", severity="red")
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


@plant("STF-13", severity="red")
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


@plant("CP-05", severity="orange")
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


@plant("CP-44", severity="yellow")
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


@plant("CP-45", severity="orange")
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


@plant("CP-46", severity="red")
def cp_46(ctx: PlantContext) -> list[Record]:
    """The evidence clip of an on-site decision that is itself in an alert (the officer fined
    his wife: STF-03) deleted 20 days later."""
    office = ctx.office("brigade")
    officer = office.field_officers[1 % len(office.field_officers)]
    day = ctx.day(22)
    while not ctx.world.field_on_duty(officer, day):
        day += timedelta(days=1)
    t = ctx.t(day, "16:35")
    wife = ctx.person()
    ctx.add("relations", {"staff_id": officer, "related_id_no": wife.id_no, "relation": "spouse"})
    rec = decide_record(
        ctx,
        office,
        None,
        t,
        wife,
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


# ---- helpers for the cases below ----------------------------------------------------------------
def _hire(ctx: PlantContext, unit_code: str, *, kind: str = "auxiliary", position: str) -> str:
    """A staff member who appears in no normal flow (R2 row and roster follow from world.staff)."""
    n = 1 + sum(1 for s in ctx.world.staff if s[1:4] == "529")
    staff_id = f"F529{n:03d}" if kind != "police" else f"529{n:03d}"
    birth = identity.birth_date(ctx.rng, min_age=23, max_age=45, on=ctx.world.start)
    since = (ctx.world.start - timedelta(days=200)).isoformat()
    ctx.world.staff[staff_id] = Staff(
        staff_id=staff_id,
        id_no=identity.resident_id(ctx.rng, area=unit_code[:6], birth=birth),
        name=identity.name(ctx.rng),
        kind=kind,
        unit_code=unit_code,
        position=position,
        cert_serial=identity.hexstr(ctx.rng, 64).upper(),
        certificates=[],
        periods=[(since, None, unit_code, "active")],
    )
    return staff_id


def _veh(
    ctx: PlantContext,
    office: Office,
    serial: str,
    step: int,
    btype: str,
    action: str,
    t: datetime,
    operator: str,
    person: Person,
    car: Car,
    *,
    accepted: datetime,
    w: Window | None = None,
) -> Record:
    rec = ctx.rec(
        "vehicle_reg",
        serial,
        step,
        "vehicle",
        btype,
        action,
        t,
        office,
        operator,
        w=w,
        accepted=accepted,
    )
    ctx.ids(rec, person=person, car=car)
    rec["vehicle"] = vehicle_block(car)
    return rec


def _window_item(
    ctx: PlantContext,
    office: Office,
    w: Window,
    t0: datetime,
    *,
    clerk: str | None = None,
    btype: str = "VEH_REPLACE_PERMIT",
    agent: Person | None = None,
    rejected: bool = False,
) -> list[Record]:
    """One walk-in item of a 车管所 window: accepted by the clerk, then either turned away
    (materials incomplete) or issued by the window officer and archived the next working day."""
    owner = ctx.person(det=office.det)
    car = ctx.car(owner.id_no, det=office.det)
    serial = ctx.serial("1", office.unit_code, t0.date())
    clerk = clerk or w.aux_id
    acc = _veh(ctx, office, serial, 1, btype, "accept", t0, clerk, owner, car, accepted=t0, w=w)
    out = [acc]
    if rejected:
        rej = _veh(
            ctx,
            office,
            serial,
            2,
            btype,
            "reject",
            t0 + timedelta(minutes=3),
            clerk,
            owner,
            car,
            accepted=t0,
            w=w,
        )
        rej.update(
            reason_code="materials_incomplete",
            reason_text="申请材料不齐全",
            completed_at=rej["action_time"],
        )
        out.append(rej)
    else:
        t = t0 + timedelta(minutes=6)
        issue = _veh(
            ctx, office, serial, 2, btype, "issue", t, w.police_id, owner, car, accepted=t0, w=w
        )
        issue.update(completed_at=t.isoformat(), document_kind="driving_permit")
        out.append(issue)
        archived = ctx.t(ctx.wd(t0.date(), 1), "10:30")
        archivist = office.archivist or office.supervision
        out.append(
            _veh(
                ctx,
                office,
                serial,
                3,
                btype,
                "archive",
                archived,
                archivist,
                owner,
                car,
                accepted=t0,
            )
        )
    if agent is not None:
        acc.update(agent_id_no=agent.id_no, agent_name=agent.name, agent_phone=agent.phone)
    return out


def _query(
    ctx: PlantContext,
    office: Office,
    w: Window | None,
    t: datetime,
    operator: str,
    *,
    person: Person | None = None,
    car: Car | None = None,
    where: str | None = None,
) -> Record:
    """A lookup (action query) of a person's or a vehicle's violation records."""
    serial = ctx.serial("Q", office.unit_code, t.date())
    rec = ctx.rec(
        "violation",
        serial,
        1,
        "violation",
        "VIO_PROCESS",
        "query",
        t,
        office,
        operator,
        w=w,
        where=where,
    )
    ctx.ids(rec, person=person, car=car)
    rec["violation"] = {"violation_id": serial, "source": "camera"}
    return rec


def _workdays(ctx: PlantContext, first: date, n: int) -> list[date]:
    days = [first]
    while len(days) < n:
        days.append(ctx.wd(days[-1], 1))
    return days


# ---- STF-01 ---------------------------------------------------------------------------------
@plant("STF-01", severity="orange")
def stf_01_holiday(ctx: PlantContext) -> list[Record]:
    """A transfer accepted at the 遵义 车管所 window on a statutory holiday (National Day in the
    demo's autumn), office closed, no duty shift."""
    office = ctx.office("vehicle_office", 1)
    w = ctx.window(office, 1)
    day = ctx.holiday()
    owner = ctx.person(det=1)
    car = ctx.car(owner.id_no, det=1)
    t = ctx.t(day, "10:20")
    serial = ctx.serial("1", office.unit_code, day)
    return [
        _veh(
            ctx,
            office,
            serial,
            1,
            "VEH_TRANSFER",
            "accept",
            t,
            w.aux_id,
            owner,
            car,
            accepted=t,
            w=w,
        )
    ]


@near_miss("STF-01")
def stf_01_weekend_service(ctx: PlantContext) -> list[Record]:
    """A replacement permit taken in on a Saturday morning at the 贵阳 车管所, which registers
    weekend service (sat 09:00–12:00) and rosters its window staff for it."""
    office = ctx.office("vehicle_office", 0)
    w = ctx.window(office, 1)
    day = ctx.world.start + timedelta(days=10)
    while day.weekday() != 5 or not hours_on(office.hours, day):
        day += timedelta(days=1)
    return _window_item(ctx, office, w, ctx.t(day, "10:35"))[:1]


# ---- STF-02 ---------------------------------------------------------------------------------
@plant("STF-02", severity="yellow")
def stf_02_query(ctx: PlantContext) -> list[Record]:
    """A window officer looks up the violation records of his own car (query: yellow)."""
    office = ctx.office("brigade", 1)
    w = ctx.window(office)
    me = _staff_person(ctx, w.police_id)
    car = ctx.car(me.id_no, det=1)
    ctx.add("staff_assets", {"staff_id": w.police_id, "kind": "plate", "value": car.plate})
    return [_query(ctx, office, w, ctx.t(ctx.day(40), "15:20"), w.police_id, person=me, car=car)]


@near_miss("STF-02")
def stf_02_colleague(ctx: PlantContext) -> list[Record]:
    """A window officer decides the violation of a colleague from another brigade (not his own
    matter, no declared relation)."""
    office = ctx.office("brigade", 0, 1)
    w = ctx.window(office)
    other = ctx.office("brigade", 1, 1)
    colleague = _staff_person(ctx, ctx.window(other).police_id)
    car = ctx.car(colleague.id_no)
    return [
        decide_record(
            ctx,
            office,
            w,
            ctx.t(ctx.day(44), "10:40"),
            colleague,
            "13442",
            points=3,
            fine=200.0,
            car=car,
        )
    ]


# ---- STF-03 ---------------------------------------------------------------------------------
@plant("STF-03", severity="red")
def stf_03_points_avoided(ctx: PlantContext) -> list[Record]:
    """A window officer decides his brother's red-light violation with no points (6 due)."""
    office = ctx.office("brigade", 2)
    w = ctx.window(office)
    brother = ctx.person(det=2)
    ctx.add(
        "relations",
        {"staff_id": w.police_id, "related_id_no": brother.id_no, "relation": "sibling"},
    )
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(36), "14:50"), brother, "16250", points=0, fine=200.0
        )
    ]


@near_miss("STF-03")
def stf_03_recused(ctx: PlantContext) -> list[Record]:
    """An officer's spouse has her violation decided by the officer at the other window
    (recusal observed)."""
    office = ctx.office("brigade", 0, 1)
    mine, other = ctx.window(office, 0), ctx.window(office, 1)
    spouse = ctx.person()
    ctx.add(
        "relations",
        {"staff_id": mine.police_id, "related_id_no": spouse.id_no, "relation": "spouse"},
    )
    if other.police_id == mine.police_id:  # a single-window brigade: the neighbouring brigade
        office = ctx.office("brigade", 0, 0)
        other = ctx.window(office, 0)
    return [
        decide_record(
            ctx, office, other, ctx.t(ctx.day(54), "09:40"), spouse, "16250", points=6, fine=200.0
        )
    ]


# ---- STF-04 ---------------------------------------------------------------------------------
@near_miss("STF-04")
def stf_04_assisting(ctx: PlantContext) -> list[Record]:
    """The window auxiliary takes in the driver's papers (accept); the police officer decides."""
    office = ctx.office("brigade", 1, 1)
    w = ctx.window(office)
    t = ctx.t(ctx.day(33), "10:15")
    dec = decide_record(ctx, office, w, t, ctx.person(det=1), "13442", points=3, fine=200.0)
    acc = copy.deepcopy(dec)
    acc.update(
        record_id=dec["record_id"][:-2] + "00",
        action="accept",
        action_time=dec["accepted_at"],
        operator_id=w.aux_id,
        operator_role="auxiliary",
        operator_cert_serial=ctx.world.staff[w.aux_id].cert_serial,
    )
    for key in ("completed_at", "document_no", "document_kind", "points", "amount", "amount_kind"):
        acc.pop(key, None)
    acc["violation"].pop("decision", None)
    return [acc, dec]


# ---- STF-05 ---------------------------------------------------------------------------------
@plant("STF-05", severity="orange")
def stf_05_two_windows(ctx: PlantContext) -> list[Record]:
    """One auxiliary account takes in items at two windows of the 遵义 车管所 within 6 minutes."""
    office = ctx.office("vehicle_office", 1)
    clerk = _hire(ctx, office.unit_code, position="window_officer")
    t = ctx.t(ctx.day(24), "09:40")
    first = _window_item(ctx, office, ctx.window(office, 0), t, clerk=clerk)[:1]
    second = _window_item(
        ctx, office, ctx.window(office, 1), t + timedelta(minutes=6), clerk=clerk
    )[:1]
    return first + second


@near_miss("STF-05")
def stf_05_two_windows_apart(ctx: PlantContext) -> list[Record]:
    """The same pattern exactly 10 minutes apart (the window is (t − 10 min, t]): one clerk
    moving to the neighbouring window."""
    office = ctx.office("vehicle_office", 2)
    clerk = _hire(ctx, office.unit_code, position="window_officer")
    t = ctx.t(ctx.day(26), "09:40")
    first = _window_item(ctx, office, ctx.window(office, 0), t, clerk=clerk)[:1]
    second = _window_item(
        ctx, office, ctx.window(office, 1), t + timedelta(minutes=10), clerk=clerk
    )[:1]
    return first + second


@near_miss("STF-05")
def stf_05_back_from_leave(ctx: PlantContext) -> list[Record]:
    """A window officer's account decides on his first working day back from leave."""
    for office in [o for d in ctx.world.detachments for o in d.brigades]:
        for w in office.windows:
            days = sorted(d for d, away in ctx.world.leave.items() if w.police_id in away)
            if not days:
                continue
            back = ctx.wd(days[-1], 1)
            if back < ctx.world.end and ctx.world.available(w.police_id, back):
                t = ctx.t(back, "09:05")
                return [
                    decide_record(
                        ctx, office, w, t, ctx.person(det=office.det), "13442", points=3, fine=200.0
                    )
                ]
    office = ctx.office("brigade")
    w = ctx.window(office)
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(29), "17:29"), ctx.person(), "13442", points=3, fine=200.0
        )
    ]


# ---- STF-06 ---------------------------------------------------------------------------------
def _mortgage(ctx: PlantContext, det: int, day: date, approve_after: timedelta) -> list[Record]:
    """A mortgage registration accepted by the clerk and approved by the head `approve_after`
    later, then issued and archived."""
    office = ctx.office("vehicle_office", det)
    w = ctx.window(office, 1)
    owner = ctx.person(det=det)
    car = ctx.car(owner.id_no, det=det)
    serial = ctx.serial("1", office.unit_code, day)
    t0 = ctx.t(day, "14:05")
    btype = "VEH_MORTGAGE"
    acc = _veh(ctx, office, serial, 1, btype, "accept", t0, w.aux_id, owner, car, accepted=t0, w=w)
    head = office.approvers[0]
    t1 = t0 + approve_after
    app = _veh(ctx, office, serial, 2, btype, "approve", t1, head, owner, car, accepted=t0)
    app.update(reviewer_id=w.police_id, approver_id=head)
    t2 = t1 + timedelta(minutes=5)
    iss = _veh(
        ctx, office, serial, 3, btype, "issue", t2, w.police_id, owner, car, accepted=t0, w=w
    )
    iss.update(completed_at=t2.isoformat(), document_kind="reg_certificate")
    arch = _veh(
        ctx,
        office,
        serial,
        4,
        btype,
        "archive",
        ctx.t(ctx.wd(day, 1), "10:00"),
        office.archivist,
        owner,
        car,
        accepted=t0,
    )
    for rec in (acc, app, iss, arch):
        rec["vehicle"]["mortgage_active"] = rec is not acc
    return [acc, app, iss, arch]


@plant("STF-06", severity="yellow")
def stf_06_mortgage(ctx: PlantContext) -> list[Record]:
    """A four-eyes mortgage registration approved 29 seconds after it was accepted."""
    return _mortgage(ctx, 1, ctx.day(31), timedelta(seconds=29))


@near_miss("STF-06")
def stf_06_thirty_seconds(ctx: PlantContext) -> list[Record]:
    """A mortgage registration approved exactly 30 seconds after acceptance (limit: < 30 s)."""
    return _mortgage(ctx, 2, ctx.day(31), timedelta(seconds=30))


# ---- STF-07 ---------------------------------------------------------------------------------
def _batch_day(
    ctx: PlantContext, det: int, offset: int, n: int, agent: Person | None = None
) -> list[Record]:
    """`n` replacement permits taken in at one window on one day, 12 minutes apart; with an
    `agent`, the window officer takes in (with the agent on the acceptance) and issues each."""
    office = ctx.office("vehicle_office", det)
    w = ctx.window(office, len(office.windows) - 1)
    day = ctx.day(offset)
    out: list[Record] = []
    t = ctx.t(day, "08:40")
    clerk = w.police_id if agent is not None else None
    for _ in range(n):
        out += _window_item(ctx, office, w, t, agent=agent, clerk=clerk)
        t += timedelta(minutes=12)
        if t.hour == 12:
            t = ctx.t(day, "13:05")
    return out


@plant("STF-07", severity="yellow")
def stf_07(ctx: PlantContext) -> list[Record]:
    """A window clerk who usually takes in one or two replacement permits a day takes in 22 on
    one day."""
    return _batch_day(ctx, 1, 68, 22)


@plant("STF-07", severity="orange")
def stf_07_broker(ctx: PlantContext) -> list[Record]:
    """A window officer takes in and issues 22 replacement permits on one day, every one brought
    by the same agent filed with no organisation: the agent reaches VEH-11's 20 items that day,
    and the officer's spike coincides with his key (catalogue: orange)."""
    return _batch_day(ctx, 0, 75, 22, agent=ctx.person())


@near_miss("STF-07")
def stf_07_nineteen(ctx: PlantContext) -> list[Record]:
    """The same clerk pattern with 19 items in the day (the floor is 20)."""
    return _batch_day(ctx, 2, 68, 19)


# ---- STF-08 ---------------------------------------------------------------------------------
@plant("STF-08", severity="orange")
def stf_08_bulk(ctx: PlantContext) -> list[Record]:
    """A window officer looks up 200 different citizens in one morning."""
    office = ctx.office("brigade", 1, 1)
    w = ctx.window(office)
    t = ctx.t(ctx.day(47), "08:45")
    out = []
    for _ in range(200):
        out.append(_query(ctx, office, w, t, w.police_id, person=ctx.person(det=1)))
        t += timedelta(seconds=50)
    return out


@plant("STF-08", severity="yellow")
def stf_08_protected(ctx: PlantContext) -> list[Record]:
    """A window auxiliary looks up a protected person on the R14 watchlist."""
    office = ctx.office("brigade", 2, 1)
    w = ctx.window(office)
    row = next(r for r in ctx.pop.watchlist if r["kind"] == "protected_person")
    vip = ctx.person(det=2)
    vip.id_no = row["value"]
    return [_query(ctx, office, w, ctx.t(ctx.day(52), "10:10"), w.aux_id, person=vip)]


@plant("STF-08", severity="orange")
def stf_08_protected_no_business(ctx: PlantContext) -> list[Record]:
    """A window officer looks up a protected person on the R14 watchlist and handles no business
    for her the day before or after (no related business)."""
    office = ctx.office("brigade", 1)
    w = ctx.window(office, 1)
    row = [r for r in ctx.pop.watchlist if r["kind"] == "protected_person"][1]
    vip = ctx.person(det=1)
    vip.id_no = row["value"]
    return [_query(ctx, office, w, ctx.t(ctx.day(38), "15:20"), w.police_id, person=vip)]


@plant("STF-08", severity="yellow")
def stf_08_night(ctx: PlantContext) -> list[Record]:
    """A window auxiliary looks up a citizen at 20:15 on a working day."""
    office = ctx.office("brigade", 2)
    w = ctx.window(office)
    return [_query(ctx, office, w, ctx.t(ctx.day(57), "20:15"), w.aux_id, person=ctx.person())]


@near_miss("STF-08")
def stf_08_extended_hours(ctx: PlantContext) -> list[Record]:
    """A lookup at 17:50 at the 贵阳 车管所, whose registered extended hours run to 18:00."""
    office = ctx.office("vehicle_office", 0)
    w = ctx.window(office, 1)
    return [_query(ctx, office, w, ctx.t(ctx.day(45), "17:50"), w.aux_id, person=ctx.person())]


# ---- STF-09 ---------------------------------------------------------------------------------
def _permit_prints(ctx: PlantContext, det: int, offsets: list[int]) -> list[Record]:
    """A replacement permit issued, then printed again on the given days after the issue."""
    office = ctx.office("vehicle_office", det)
    w = ctx.window(office, 2)
    day = ctx.day(6)
    while not all(is_workday(day + timedelta(days=o)) for o in offsets):
        day += timedelta(days=1)
    item = _window_item(ctx, office, w, ctx.t(day, "09:20"))
    doc = f"{office.unit_code[:6]}5{ctx.rng.randrange(10**9):09d}"
    item[1]["document_no"] = doc
    out = item
    for i, offset in enumerate(offsets):
        t = ctx.t(day + timedelta(days=offset), "09:30")
        rec = copy.deepcopy(item[1])
        rec.update(
            record_id=f"{rec['record_id'][:-3]}-P{i + 1}",
            action="reprint" if i else "print",
            action_time=t.isoformat(),
            document_no=doc,
            document_kind="driving_permit",
        )
        rec.pop("completed_at")
        out.append(rec)
    return out


@plant("STF-09", severity="yellow")
def stf_09_three(ctx: PlantContext) -> list[Record]:
    """One driving permit printed three times within 30 days of its issue."""
    return _permit_prints(ctx, 0, [0, 9, 21])


@plant("STF-09", severity="orange")
def stf_09_five(ctx: PlantContext) -> list[Record]:
    """One driving permit printed five times within 30 days."""
    return _permit_prints(ctx, 1, [0, 4, 9, 16, 23])


@near_miss("STF-09")
def stf_09_window_passed(ctx: PlantContext) -> list[Record]:
    """Three prints of one permit, the first exactly 30 days before the third."""
    return _permit_prints(ctx, 2, [0, 12, 30])


# ---- STF-10 ---------------------------------------------------------------------------------
def _broker_items(ctx: PlantContext, det: int, n_pair: int, n_elsewhere: int) -> list[Record]:
    """A broker brings `n_pair` items to one window clerk and `n_elsewhere` to the next window
    within four weeks, one or two a day."""
    office = ctx.office("vehicle_office", det)
    mine, other = ctx.window(office, 0), ctx.window(office, 1)
    broker = ctx.person(det=det)
    days = _workdays(ctx, ctx.day(12), 20)
    out: list[Record] = []
    for i in range(n_pair + n_elsewhere):
        w = mine if i < n_pair else other
        t = ctx.t(days[i % len(days)], "15:10" if i < len(days) else "10:25")
        out += _window_item(ctx, office, w, t, agent=broker, btype="VEH_REPLACE_PLATE")
    return out


@plant("STF-10", severity="orange")
def stf_10(ctx: PlantContext) -> list[Record]:
    """A broker brings 21 of his 23 items in four weeks to the same window clerk."""
    return _broker_items(ctx, 0, 21, 2)


@near_miss("STF-10")
def stf_10_nineteen(ctx: PlantContext) -> list[Record]:
    """A broker brings all his items to one clerk, but only 19 in four weeks (floor 20)."""
    return _broker_items(ctx, 2, 19, 0)


# ---- STF-11 ---------------------------------------------------------------------------------
def _decide_then_revoke(ctx: PlantContext, after: timedelta) -> list[Record]:
    office = ctx.office("brigade", 1)
    w = ctx.window(office, 0)
    t = ctx.t(ctx.day(41), "10:20")
    dec = decide_record(ctx, office, w, t, ctx.person(det=1), "13442", points=3, fine=200.0)
    rev = copy.deepcopy(dec)
    rev.update(
        record_id=dec["record_id"][:-2] + "02",
        action="revoke",
        action_time=(t + after).isoformat(),
        reason_code="data_error",
        changed_fields=["points", "amount"],
        before={"points": 3, "amount": 200.0},
        after={"points": 0, "amount": 0.0},
    )
    rev.pop("completed_at")
    return [dec, rev]


@plant("STF-11", severity="yellow")
def stf_11_revoked(ctx: PlantContext) -> list[Record]:
    """A window officer decides a violation and revokes his own decision 3 hours later."""
    return _decide_then_revoke(ctx, timedelta(hours=3))


@near_miss("STF-11")
def stf_11_next_day(ctx: PlantContext) -> list[Record]:
    """The officer revokes his decision 24 hours and 1 minute after making it."""
    return _decide_then_revoke(ctx, timedelta(hours=24, minutes=1))


def _quick_cancels(
    ctx: PlantContext, offset: int, window: int, gaps: tuple[timedelta, ...]
) -> list[Record]:
    """The officer of one vehicle window accepts an item and cancels it `gap` later, one item every
    other day (vehicle items: a single occurrence is no STF-11 hit, only the 7-day pattern)."""
    from auditcage.demo.plants_vehicle import chain

    out: list[Record] = []
    for i, gap in enumerate(gaps):
        owner = ctx.person(det=1)
        car = ctx.car(owner.id_no, det=1)
        items = chain(
            ctx,
            "VEH_REPLACE_PLATE",
            car,
            owner.id_no,
            owner,
            ctx.day(offset + 2 * i),
            steps=("accept", "cancel"),
            start="11:10",
            gap_min=gap.total_seconds() / 60,
            window=window,
        )
        out += items
    return out


@plant("STF-11", severity="orange")
def stf_11_three_quick_cancels(ctx: PlantContext) -> list[Record]:
    """A vehicle-window officer cancels three items within hours of accepting them, within
    five days."""
    return _quick_cancels(ctx, 76, 3, (timedelta(hours=2), timedelta(hours=1), timedelta(hours=3)))


@near_miss("STF-11")
def stf_11_third_cancel_next_day(ctx: PlantContext) -> list[Record]:
    """The same pattern, but the third item is cancelled 24 hours and 1 minute after it was
    accepted (two quick cancellations in 7 days)."""
    gaps = (timedelta(hours=2), timedelta(hours=1), timedelta(hours=24, minutes=1))
    return _quick_cancels(ctx, 78, 4, gaps)


# ---- STF-12 ---------------------------------------------------------------------------------
def _foreign_correction(ctx: PlantContext, basis: str | None) -> list[Record]:
    """An officer of the 遵义 车管所 corrects the owner's name on a vehicle registered in 贵阳."""
    office = ctx.office("vehicle_office", 1)
    w = ctx.window(office, 0)
    owner = ctx.person(det=0)
    car = ctx.car(owner.id_no, det=0)
    day = ctx.day(62)
    serial = ctx.serial("1", office.unit_code, day)
    t = ctx.t(day, "15:35")
    rec = _veh(
        ctx,
        office,
        serial,
        1,
        "VEH_CORRECTION",
        "modify",
        t,
        w.police_id,
        owner,
        car,
        accepted=t - timedelta(minutes=20),
        w=w,
    )
    rec.update(
        reason_code="data_error",
        changed_fields=["vehicle_owner_name"],
        before={"vehicle_owner_name": owner.name[:1] + "某"},
        after={"vehicle_owner_name": owner.name},
        basis_doc_no=basis,
    )
    if basis is None:
        rec.pop("basis_doc_no")
    return [rec]


@plant("STF-12", severity="orange")
def stf_12(ctx: PlantContext) -> list[Record]:
    """An officer corrects a vehicle registered by another detachment, without a delegation."""
    return _foreign_correction(ctx, None)


@near_miss("STF-12")
def stf_12_delegated(ctx: PlantContext) -> list[Record]:
    """The same correction under a designation of jurisdiction (指定管辖决定书)."""
    return _foreign_correction(ctx, f"黔公交指字{ctx.world.start.year}第17号")


# ---- STF-13 ---------------------------------------------------------------------------------
@near_miss("STF-13")
def stf_13_last_day(ctx: PlantContext) -> list[Record]:
    """The officer who retires approves a mortgage on his last working day before retiring."""
    notes = ctx.world.notes
    retired = notes["retired"]
    unit_code = ctx.world.staff[retired].unit_code
    office = ctx.world.office(unit_code)
    day = date.fromisoformat(notes["retired_on"]) - timedelta(days=1)
    while not is_workday(day) or day.weekday() >= 5:
        day -= timedelta(days=1)
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    serial = ctx.serial("1", unit_code, day)
    t = ctx.t(day, "15:45")
    rec = _veh(
        ctx,
        office,
        serial,
        1,
        "VEH_MORTGAGE",
        "approve",
        t,
        retired,
        owner,
        car,
        accepted=t - timedelta(minutes=30),
    )
    rec.update(channel="backend", client_ip="10.52.9.77", terminal_id=f"B-{office.approvers[1]}")
    return [rec]


# ---- STF-14 ---------------------------------------------------------------------------------
def _month_of_items(
    ctx: PlantContext, office: Office, w: Window, clerk: str, first: date, n: int, rejects: int
) -> list[Record]:
    """`n` items taken in by `clerk` over the working days from `first`, `rejects` turned away."""
    days = _workdays(ctx, first, 15)
    out: list[Record] = []
    for i in range(n):
        t = ctx.t(days[i % len(days)], "09:00" if i < len(days) else "14:10") + timedelta(
            minutes=7 * (i // (2 * len(days)))
        )
        rejected = (i * rejects) // n != ((i + 1) * rejects) // n  # spread evenly
        out += _window_item(ctx, office, w, t, clerk=clerk, rejected=rejected)
    return out


@plant("STF-14", severity="yellow")
def stf_14(ctx: PlantContext) -> list[Record]:
    """In the period's second month a window clerk turns away 12 of 32 applicants; the clerk at
    the next window turns away 1 of 31."""
    office = ctx.office("vehicle_office", 0)
    first = ctx.day((ctx.month(1) - ctx.world.start).days)
    harsh = _hire(ctx, office.unit_code, position="window_officer")
    usual = _hire(ctx, office.unit_code, position="window_officer")
    out = _month_of_items(ctx, office, ctx.window(office, 1), usual, first, 31, 1)
    return out + _month_of_items(ctx, office, ctx.window(office, 2), harsh, first, 32, 12)


@near_miss("STF-14")
def stf_14_small_sample(ctx: PlantContext) -> list[Record]:
    """A registration-station clerk turns away 12 of only 29 applicants in the period's second
    month (n_min 30)."""
    office = ctx.office("vehicle_office", 1)
    station = office.unit_code[:8] + "0100"
    clerk = _hire(ctx, station, kind="contractor", position="other")
    terminal = f"ST-{clerk}"
    ctx.add(
        "terminals",
        {
            "terminal_id": terminal,
            "window_id": None,
            "unit_code": station,
            "site_id": None,
            "kind": "window",
            "ip_ranges": [],
            "assigned_staff_ids": [clerk],
        },
    )
    first = ctx.day((ctx.month(1) - ctx.world.start).days)
    out = _month_of_items(ctx, office, ctx.window(office, 0), clerk, first, 29, 12)
    for rec in out:
        if rec["operator_id"] == clerk:
            for key in ("window_id", "client_ip"):
                rec.pop(key, None)
            rec.update(
                channel="station",
                terminal_id=terminal,
                unit_code=station,
                operator_role="agency_staff",
            )
    return out


# ---- CP-05 ----------------------------------------------------------------------------------
@near_miss("CP-05")
def cp_05_below_threshold(ctx: PlantContext) -> list[Record]:
    """A general-procedure overload fine of 1 999 CNY by a police officer: below 2 000, no
    approval by a head or legal reviewer needed."""
    office = ctx.office("brigade", 0)
    w = ctx.window(office, 1)
    t = ctx.t(ctx.day(66), "11:20")
    rec = decide_record(
        ctx, office, w, t, ctx.person(), "13090", points=3, fine=1999.0, procedure="general"
    )
    rec["violation"]["decision"]["approved_by"] = None
    rec["violation"]["notice"]["notified_at"] = ctx.t(ctx.day(52), "10:00").isoformat()
    return [rec]


# ---- CP-44 ----------------------------------------------------------------------------------
@near_miss("CP-44")
def cp_44_day_30(ctx: PlantContext) -> list[Record]:
    """A closed general accident case archived on the 30th day after closure."""
    from auditcage.demo.plants_accident import Case

    case = Case(ctx, ctx.day(5), office=ctx.office("brigade", 1))
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
    archived = ctx.t(closed.date() + timedelta(days=30), "16:30")
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


# ---- CP-45 ----------------------------------------------------------------------------------
@near_miss("CP-45")
def cp_45_reopened(ctx: PlantContext) -> list[Record]:
    """An archived decision retrieved (reopen, approved by the brigade head), then corrected."""
    out = cp_45(ctx)
    dec, arch, mod = out
    office = ctx.world.office(dec["unit_code"])
    head = office.approvers[0]
    t = datetime.fromisoformat(mod["action_time"]) - timedelta(hours=2)
    reopen = copy.deepcopy(arch)
    reopen.update(
        record_id=arch["record_id"][:-2] + "R1",
        action="reopen",
        action_time=t.isoformat(),
        operator_id=head,
        operator_role="police",
        operator_cert_serial=ctx.world.staff[head].cert_serial,
        approval_no=f"DJ{dec['serial_no'][-6:]}",
        approver_id=head,
        reason_code="data_correction",
    )
    mod.update(approval_no=reopen["approval_no"], approver_id=head)
    return [dec, arch, reopen, mod]


# ---- CP-46 ----------------------------------------------------------------------------------
def _clip(staff_id: str, start: datetime, minutes: int, tag: str, **fields: object) -> dict:
    return {
        "clip_id": f"BC-{staff_id}-{start:%Y%m%d}-{tag}",
        "device_id": f"BCD-{staff_id}",
        "staff_id": staff_id,
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
        "uploaded_at": (start + timedelta(minutes=minutes, hours=3)).isoformat(),
        "retention_class": "normal",
        "deleted_at": None,
        **fields,
    }


@plant("CP-46", severity="orange")
def cp_46_normal_clip(ctx: PlantContext) -> list[Record]:
    """The clip of a roadside licence check deleted 70 days after recording (keep ≥ 6 months)."""
    office = ctx.office("brigade", 1)
    officer = office.field_officers[0]
    day = ctx.day(4)
    while not ctx.world.field_on_duty(officer, day):
        day += timedelta(days=1)
    t = ctx.t(day, "09:50")
    row = _clip(
        officer, t - timedelta(minutes=5), 25, "P2", deleted_at=(t + timedelta(days=70)).isoformat()
    )
    ctx.add("bodycam_index", row)
    rec = _query(ctx, office, None, t, officer, person=ctx.person(det=1), where="field")
    rec["bodycam_refs"] = [row["clip_id"]]
    return [rec]


@near_miss("CP-46")
def cp_46_six_months(ctx: PlantContext) -> list[Record]:
    """The supervision post spot-checks the footage of a routine February stop (no enforcement
    use); the normal clip is deleted on schedule 187 days after recording."""
    office = ctx.office("brigade", 2)
    officer = office.field_officers[0]
    start = ctx.world.start
    recorded = datetime(start.year, 2, 14, 9, 30, tzinfo=TZ)
    row = _clip(
        officer,
        recorded,
        20,
        "P3",
        deleted_at=datetime(start.year, 8, 20, 2, 0, tzinfo=TZ).isoformat(),
    )
    ctx.add("bodycam_index", row)
    check = ctx.t(ctx.day(7), "15:00")
    rec = _query(ctx, office, None, check, office.supervision, person=ctx.person(det=2))
    rec["bodycam_refs"] = [row["clip_id"]]
    return [rec]
