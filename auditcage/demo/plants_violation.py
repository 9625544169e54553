"""Planted violation-processing cases (VIO-xx); CP-01…19 are in plants_cp_violation."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo import identity
from auditcage.demo.plants import PlantContext, near_miss, plant
from auditcage.demo.population import Car, Person, licence_row
from auditcage.demo.province import Office, Window
from auditcage.demo.records import DOC_KIND_DIGIT, Record
from auditcage.demo.timeutil import is_workday


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


# The party and vehicle fields every later step of a violation repeats from its first record.
_PARTY_KEYS = (
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


def _brigade(ctx: PlantContext, n: int = 0) -> tuple[Office, Window]:
    office = ctx.office("brigade", 0, n)
    return office, ctx.window(office, 0)


@plant("VIO-01", severity="orange")
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


@plant("VIO-02", severity="orange")
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


@plant("VIO-03", severity="red")
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


@plant("VIO-07", severity="orange")
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


@near_miss("VIO-01")
def vio_01_near(ctx: PlantContext) -> list[Record]:
    """One licence takes points for two unrelated owners' vehicles and for the holder's own car
    within a year: only two non-owned vehicles (the threshold is three)."""
    office, w = _brigade(ctx, 1)
    driver = ctx.person()
    own = ctx.car(driver.id_no)
    cars = [None, None, own]
    return [
        decide_record(
            ctx,
            office,
            w,
            ctx.t(ctx.day(offset), "11:20"),
            driver,
            "13442",
            points=3,
            fine=200.0,
            car=car,
        )
        for offset, car in zip((18, 41, 66), cars, strict=True)
    ]


@near_miss("VIO-02")
def vio_02_near(ctx: PlantContext) -> list[Record]:
    """A family car whose points are taken by the owner himself and by two other licences within
    a year: the owner's own licence is excluded, leaving two (the threshold is three)."""
    office, w = _brigade(ctx)
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    drivers = [owner, ctx.person(), ctx.person()]
    return [
        decide_record(
            ctx,
            office,
            w,
            ctx.t(ctx.day(offset), "14:35"),
            driver,
            "12230",
            points=3,
            fine=50.0,
            car=car,
        )
        for offset, driver in zip((12, 33, 59), drivers, strict=True)
    ]


@near_miss("VIO-03")
def vio_03_near(ctx: PlantContext) -> list[Record]:
    """Ten one-point decisions on one plate, the tenth exactly one hour after the first (so nine
    in any one-hour window), totalling ten points in the day (the 24-hour sum needs 24)."""
    office, w = _brigade(ctx, 1)
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    t0 = ctx.t(ctx.day(47), "14:00")
    times = [t0 + timedelta(minutes=6 * i) for i in range(9)] + [t0 + timedelta(hours=1)]
    return [
        decide_record(ctx, office, w, t, ctx.person(), "10461", points=1, fine=100.0, car=car)
        for t in times
    ]


@near_miss("VIO-03")
def vio_03_near_sum(ctx: PlantContext) -> list[Record]:
    """Six decisions on one plate in one afternoon, each on another licence, totalling 23 points
    (the 24-hour sum needs 24; six decisions are far from ten in an hour)."""
    office, w = _brigade(ctx)
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    t0 = ctx.t(ctx.day(53), "13:30")
    plan = (("16250", 6, 200.0), ("16250", 6, 200.0), ("16250", 6, 200.0))
    plan += (("13442", 3, 200.0), ("10461", 1, 100.0), ("10440", 1, 50.0))
    return [
        decide_record(
            ctx,
            office,
            w,
            t0 + timedelta(minutes=40 * i),
            ctx.person(),
            code,
            points=points,
            fine=fine,
            car=car,
        )
        for i, (code, points, fine) in enumerate(plan)
    ]


@near_miss("VIO-07")
def vio_07_near(ctx: PlantContext) -> list[Record]:
    """Four out-of-province licences and one local licence take points at one window on one day
    (the threshold is five non-local licences)."""
    office, w = _brigade(ctx)
    t0 = ctx.t(ctx.day(57), "09:10")
    drivers = [ctx.person(province="44", area="440106") for _ in range(4)] + [ctx.person()]
    return [
        decide_record(
            ctx, office, w, t0 + timedelta(minutes=30 * i), d, "10461", points=1, fine=100.0
        )
        for i, d in enumerate(drivers)
    ]


def _handled(rec: Record, agent: Person, *, org: str | None = None) -> Record:
    """The decision was handled by `agent` (委托代理人) on the subject's behalf."""
    rec.update(agent_id_no=agent.id_no, agent_name=agent.name, agent_phone=agent.phone)
    if org is not None:
        rec["agent_org_code"] = org
    return rec


def _brokered(ctx: PlantContext, n: int, offsets: tuple[int, ...], office: Office, w: Window):
    broker = ctx.person(licensed=False)
    codes = ("13442", "12230", "16250", "13442", "12230")
    return [
        _handled(
            decide_record(
                ctx,
                office,
                w,
                ctx.t(ctx.day(offsets[i]), "15:40"),
                ctx.person(),
                codes[i % len(codes)],
                points=6 if codes[i % len(codes)] == "16250" else 3,
                fine=200.0 if codes[i % len(codes)] != "12230" else 50.0,
            ),
            broker,
        )
        for i in range(n)
    ]


@plant("VIO-04", severity="orange")
def vio_04(ctx: PlantContext) -> list[Record]:
    """A broker (代理人) brings five different people's licences to one window within three weeks
    and has each take the points of a violation."""
    office, w = _brigade(ctx, 1)
    return _brokered(ctx, 5, (24, 28, 31, 37, 44), office, w)


@near_miss("VIO-04")
def vio_04_near(ctx: PlantContext) -> list[Record]:
    """One agent handles points decisions for four different licences within 30 days (the
    threshold is five)."""
    office = ctx.office("brigade", 1)
    return _brokered(ctx, 4, (30, 35, 41, 50), office, ctx.window(office, 1))


@near_miss("VIO-04")
def vio_04_near_fleet(ctx: PlantContext) -> list[Record]:
    """A haulage fleet's clerk handles the violations of six of its registered vehicles for six
    of its registered drivers within a month (R9 fleet exemption named by the catalogue)."""
    office = ctx.office("brigade", 1, 1)
    w = ctx.window(office, 0)
    org = identity.uscc(ctx.rng, area=office.unit_code[:6])
    clerk = ctx.person(licensed=False)
    drivers = [ctx.person() for _ in range(6)]
    cars = [ctx.car(org, owner_type="uscc", use_nature="B") for _ in range(6)]
    ctx.add(
        "agents",
        {
            "org_code": org,
            "kind": "fleet",
            "name": "黔运达物流有限公司",
            "authorised_agent_id_nos": [clerk.id_no],
            "registered_drivers": [d.id_no for d in drivers],
            "registered_plates": [c.plate for c in cars],
            "blacklisted": False,
        },
    )
    out = []
    for i, (driver, car) in enumerate(zip(drivers, cars, strict=True)):
        t = ctx.t(ctx.day(26 + 4 * i), "10:50")
        rec = decide_record(ctx, office, w, t, driver, "13442", points=3, fine=200.0, car=car)
        out.append(_handled(rec, clerk, org=org))
    return out


def _licence_row(ctx: PlantContext, person: Person) -> dict[str, Any]:
    """The R12 licence row the context added for `person`."""
    return next(r for r in reversed(ctx.extra["licences"]) if r["license_no"] == person.id_no)


def _cycle_ending(ctx: PlantContext, end: date, *, points: int) -> Person:
    """A licence holder whose scoring cycle ends on `end`, with `points` already on it."""
    p = ctx.person(points=points)
    first = (end + timedelta(days=1)).replace(year=ctx.world.start.year - 2)
    p.first_issue = first
    row = licence_row(p.id_no, p.birth, p.lic_class or "C1", first, points, ctx.world.start)
    _licence_row(ctx, p).update(row)
    assert row["cycle_end"] == end.isoformat()
    return p


def _workday_before(d: date) -> date:
    while not is_workday(d) or d.weekday() >= 5:
        d -= timedelta(days=1)
    return d


@plant("VIO-05", severity="yellow")
def vio_05(ctx: PlantContext) -> list[Record]:
    """Ten days before his cycle ends, a licence holder with 6 points takes 3 more for a stranger's
    car, reaching 9."""
    office, w = _brigade(ctx)
    end = ctx.world.start + timedelta(days=50)
    seller = _cycle_ending(ctx, end, points=6)
    t = ctx.t(_workday_before(end - timedelta(days=10)), "16:05")
    return [decide_record(ctx, office, w, t, seller, "13442", points=3, fine=200.0)]


@plant("VIO-05", severity="orange")
def vio_05_sum(ctx: PlantContext) -> list[Record]:
    """In the last three weeks of its cycle a clean licence takes 3 + 3 points for two strangers'
    cars (6 points in the last 30 days)."""
    office, w = _brigade(ctx, 1)
    end = ctx.world.start + timedelta(days=62)
    seller = _cycle_ending(ctx, end, points=0)
    return [
        decide_record(
            ctx,
            office,
            w,
            ctx.t(_workday_before(end - timedelta(days=back)), "10:25"),
            seller,
            code,
            points=3,
            fine=fine,
        )
        for back, code, fine in ((20, "13442", 200.0), (4, "12230", 50.0))
    ]


@near_miss("VIO-05")
def vio_05_near(ctx: PlantContext) -> list[Record]:
    """A licence with 6 points takes 3 for a stranger's car 31 days before its cycle ends, one day
    before the last 30 days begin."""
    office, w = _brigade(ctx)
    end = ctx.world.start + timedelta(days=75)
    seller = _cycle_ending(ctx, end, points=6)
    day = end - timedelta(days=31)
    while not is_workday(day):
        day -= timedelta(days=1)
    t = ctx.t(day, "11:45")
    return [decide_record(ctx, office, w, t, seller, "13442", points=3, fine=200.0)]


@near_miss("VIO-05")
def vio_05_near_sum(ctx: PlantContext) -> list[Record]:
    """A clean licence takes 3 + 1 + 1 points for strangers' cars in the last 30 days of its cycle:
    5 points (the sum needs 6) and a cumulative 5 (the cumulative test needs 9)."""
    office, w = _brigade(ctx, 1)
    end = ctx.world.start + timedelta(days=80)
    seller = _cycle_ending(ctx, end, points=0)
    plan = ((25, "13442", 3, 200.0), (14, "10461", 1, 100.0), (3, "10440", 1, 50.0))
    return [
        decide_record(
            ctx,
            office,
            w,
            ctx.t(_workday_before(end - timedelta(days=back)), "15:15"),
            seller,
            code,
            points=points,
            fine=fine,
        )
        for back, code, points, fine in plan
    ]


def _licence_status(ctx: PlantContext, person: Person, since: date, status: str) -> None:
    """From `since` on, R12 shows `person`'s licence with `status` (a new version of the row)."""
    row = _licence_row(ctx, person)
    row["effective_to"] = since.isoformat()
    ctx.add(
        "licences",
        {
            **row,
            "status": status,
            "detained": status == "D",
            "effective_from": since.isoformat(),
            "effective_to": None,
        },
    )


@plant("VIO-06", severity="orange")
def vio_06(ctx: PlantContext) -> list[Record]:
    """A licence detained (暂扣) since day 20 takes the points of a violation committed while it
    was detained: its holder could not lawfully have been driving."""
    office, w = _brigade(ctx, 1)
    holder = ctx.person()
    _licence_status(ctx, holder, ctx.world.start + timedelta(days=20), "D")
    t = ctx.t(ctx.day(34), "14:20")
    return [decide_record(ctx, office, w, t, holder, "16250", points=6, fine=200.0)]


@plant("VIO-06", severity="red")
def vio_06_repeat(ctx: PlantContext) -> list[Record]:
    """A revoked (吊销) licence takes points twice within two months for other people's cars."""
    office, w = _brigade(ctx)
    holder = ctx.person()
    _licence_status(ctx, holder, ctx.world.start - timedelta(days=40), "F")
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(offset), "10:05"), holder, code, points=3, fine=200.0
        )
        for offset, code in ((27, "13442"), (64, "13442"))
    ]


def _renewed_elsewhere(ctx: PlantContext, det: int, offset: int) -> list[Record]:
    """A holder renews his licence at the 车管所 window of detachment `det` on start + offset;
    eleven days later a brigade window in 贵阳 (云岩) credits his licence with the points of a
    violation there that happened 25 minutes before the renewal."""
    from auditcage.demo.plants_licence import accept_issue  # registration order unchanged

    holder = ctx.person()
    renewal = ctx.t(ctx.day(offset), "14:35")
    elsewhere = ctx.office("vehicle_office", det)
    renew = accept_issue(
        ctx, holder, "LIC_RENEW", renewal, renewal + timedelta(minutes=8), office=elsewhere
    )
    office, w = _brigade(ctx, 1)
    dec = decide_record(
        ctx, office, w, ctx.t(ctx.day(offset + 11), "10:40"), holder, "13442", points=3, fine=200.0
    )
    dec["violation"]["violation_time"] = (renewal - timedelta(minutes=25)).isoformat()
    return [*renew, dec]


@plant("VIO-06", severity="orange")
def vio_06_elsewhere(ctx: PlantContext) -> list[Record]:
    """The holder credited was renewing his licence in 遵义 (~120 km away) 25 minutes after the
    violation in 贵阳: he cannot have been the driver."""
    return _renewed_elsewhere(ctx, 1, 31)


@near_miss("VIO-06")
def vio_06_elsewhere_near(ctx: PlantContext) -> list[Record]:
    """The holder credited was renewing his licence in 安顺 (~70 km away, under 100 km) 25
    minutes after the violation in 贵阳."""
    return _renewed_elsewhere(ctx, 2, 33)


@near_miss("VIO-06")
def vio_06_near(ctx: PlantContext) -> list[Record]:
    """The licence was detained the day after the violation; the points are taken while it is
    detained, but at the time of the violation it was valid."""
    office, w = _brigade(ctx, 1)
    holder = ctx.person()
    t = ctx.t(ctx.day(58), "09:35")
    rec = decide_record(ctx, office, w, t, holder, "13442", points=3, fine=200.0)
    vtime = datetime.fromisoformat(rec["violation"]["violation_time"])
    _licence_status(ctx, holder, vtime.date() + timedelta(days=1), "D")
    return [rec]


def _elimination(ctx: PlantContext, office: Office, w: Window, t: datetime, k: int) -> Record:
    """A lawful-looking elimination (record_defective, verified, evidenced, approved)."""
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    serial = ctx.serial("5", office.unit_code, t.date())
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
    return rec


@plant("VIO-08", severity="orange")
def vio_08(ctx: PlantContext) -> list[Record]:
    """One operator eliminates five camera violation records within seven days."""
    office, w = _brigade(ctx)
    return [
        _elimination(ctx, office, w, ctx.t(ctx.day(offset), "11:15"), k)
        for k, offset in enumerate((70, 71, 72, 73, 74))
    ]


@near_miss("VIO-08")
def vio_08_near(ctx: PlantContext) -> list[Record]:
    """Five eliminations by one operator, the fifth exactly seven days after the first: at most
    four are ever inside one 7-day window."""
    office = ctx.office("brigade", 1, 1)
    w = ctx.window(office, 1)
    d0 = ctx.day(22)
    while not (is_workday(d0 + timedelta(days=7)) and ctx.wd(d0, 3) < d0 + timedelta(days=7)):
        d0 = ctx.wd(d0, 1)
    days = [d0, ctx.wd(d0, 1), ctx.wd(d0, 2), ctx.wd(d0, 3), d0 + timedelta(days=7)]
    return [_elimination(ctx, office, w, ctx.t(day, "10:40"), k) for k, day in enumerate(days)]


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


@plant("VIO-09", severity="red")
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


@near_miss("VIO-09")
def vio_09_near(ctx: PlantContext) -> list[Record]:
    """The points are moved to the real driver after a statement review (申辩复核) found the owner
    was not driving: the change carries its basis document and an approval."""
    office, w = _brigade(ctx, 1)
    owner = ctx.person()
    dec = decide_record(
        ctx, office, w, ctx.t(ctx.day(29), "10:30"), owner, "13442", points=3, fine=200.0
    )
    driver = ctx.person()
    basis = f"FH{office.unit_code[:6]}{dec['serial_no'][-6:]}"
    mod = _modify(
        ctx,
        dec,
        ctx.t(ctx.day(33), "15:10"),
        {"violation.license_used": (owner.id_no, driver.id_no)},
        basis_doc_no=basis,
        approver_id=office.approvers[0],
        reason_code="statement_review",
    )
    mod["violation"]["license_used"] = driver.id_no
    mod["violation"]["revocation"] = {"basis_type": "statement_review", "basis_doc_no": basis}
    return [dec, mod]


@plant("VIO-12", severity="red")
def vio_12(ctx: PlantContext) -> list[Record]:
    """A red-light violation (6 statutory points) decided with 3 points."""
    office, w = _brigade(ctx)
    t = ctx.t(ctx.day(36), "11:25")
    return [decide_record(ctx, office, w, t, ctx.person(), "16250", points=3, fine=200.0)]


@plant("VIO-12", severity="red")
def vio_12_code(ctx: PlantContext) -> list[Record]:
    """After the decision, a red-light violation is re-coded as a wrong-lane violation (6 → 1
    point) with no basis document."""
    office, w = _brigade(ctx, 1)
    dec = decide_record(
        ctx, office, w, ctx.t(ctx.day(43), "09:55"), ctx.person(), "16250", points=6, fine=200.0
    )
    mod = _modify(
        ctx,
        dec,
        ctx.t(ctx.day(45), "16:40"),
        {"violation_code": ("16250", "10461"), "points": (6, 1), "amount": (200.0, 100.0)},
    )
    mod.update(violation_code="10461", points=1, amount=100.0, amount_kind="fine")
    return [dec, mod]


@near_miss("VIO-12")
def vio_12_near(ctx: PlantContext) -> list[Record]:
    """A lawful first-violation warning (首违警告) without points on a wrong-lane violation, a code
    that allows one (the catalogue's exclusion)."""
    office, w = _brigade(ctx, 1)
    rec = decide_record(
        ctx,
        office,
        w,
        ctx.t(ctx.day(39), "10:15"),
        ctx.person(),
        "10461",
        points=0,
        fine=0.0,
        kinds=("warning",),
    )
    rec["reason_code"] = "first_violation"
    return [rec]


@near_miss("VIO-12")
def vio_12_near_basis(ctx: PlantContext) -> list[Record]:
    """A red-light violation re-coded as a wrong-lane violation after an administrative
    reconsideration (复议决定书) found the signal was not red: the change has its basis."""
    office, w = _brigade(ctx)
    dec = decide_record(
        ctx, office, w, ctx.t(ctx.day(21), "14:05"), ctx.person(), "16250", points=6, fine=200.0
    )
    basis = f"FY{office.unit_code[:6]}{dec['serial_no'][-6:]}"
    mod = _modify(
        ctx,
        dec,
        ctx.t(ctx.day(48), "10:20"),
        {"violation_code": ("16250", "10461"), "points": (6, 1), "amount": (200.0, 100.0)},
        basis_doc_no=basis,
        approver_id=office.approvers[0],
        reason_code="reconsideration",
    )
    mod.update(violation_code="10461", points=1, amount=100.0, amount_kind="fine")
    mod["violation"]["revocation"] = {"basis_type": "reconsideration", "basis_doc_no": basis}
    return [dec, mod]


@plant("VIO-11", severity="red")
def vio_11(ctx: PlantContext) -> list[Record]:
    """A red-light fine of 500 CNY (statutory range 20–200)."""
    office, w = _brigade(ctx, 1)
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(25), "11:05"), ctx.person(), "16250", points=6, fine=500.0
        )
    ]


@plant("VIO-10", severity="orange")
def vio_10(ctx: PlantContext) -> list[Record]:
    """A red-light fine of 50 CNY where the local standard is 200, without any mitigation
    approval."""
    office, w = _brigade(ctx)
    return [
        decide_record(
            ctx, office, w, ctx.t(ctx.day(26), "15:35"), ctx.person(), "16250", points=6, fine=50.0
        )
    ]


@near_miss("VIO-11")
def vio_11_near(ctx: PlantContext) -> list[Record]:
    """A red-light fine of exactly 200 CNY: the statutory maximum and the summary-procedure
    limit, not above them."""
    office, w = _brigade(ctx)
    t = ctx.t(ctx.day(31), "10:45")
    return [decide_record(ctx, office, w, t, ctx.person(), "16250", points=6, fine=200.0)]


@near_miss("VIO-10")
def vio_10_near(ctx: PlantContext) -> list[Record]:
    """A red-light fine of 100 CNY, below the local standard of 200, with a mitigation approved by
    the brigade head and its approval number (the catalogue's exemption)."""
    office, w = _brigade(ctx, 1)
    t = ctx.t(ctx.day(32), "14:50")
    rec = decide_record(ctx, office, w, t, ctx.person(), "16250", points=6, fine=100.0)
    rec.update(
        reason_code="mitigation_approved",
        approval_no=f"JQ{office.unit_code[:6]}{rec['serial_no'][-6:]}",
        approver_id=office.approvers[0],
    )
    return [rec]


@plant("VIO-17", severity="yellow")
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


@plant("VIO-16", severity="red")
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


@near_miss("VIO-17")
def vio_17_near(ctx: PlantContext) -> list[Record]:
    """A first-violation warning, then a second seat-belt violation of the same licence two
    months later fined as the standard says (leniency given once)."""
    office, w = _brigade(ctx, 1)
    driver = ctx.person()
    first = decide_record(
        ctx,
        office,
        w,
        ctx.t(ctx.day(17), "10:35"),
        driver,
        "10440",
        points=0,
        fine=0.0,
        kinds=("warning",),
    )
    first["reason_code"] = "first_violation"
    second = decide_record(
        ctx, office, w, ctx.t(ctx.day(63), "10:35"), driver, "10440", points=1, fine=50.0
    )
    return [first, second]


def _voided_forms(ctx: PlantContext, office: Office, offsets: tuple[int, ...]) -> list[Record]:
    """A field officer voids (作废) penalty-decision forms of his stock on the given days."""
    officer = office.field_officers[1]
    out = []
    for offset in offsets:
        day = ctx.day(offset)
        while not ctx.world.field_on_duty(officer, day):
            day += timedelta(days=1)
        t = ctx.t(day, "16:10")
        owner = ctx.person()
        serial = ctx.serial("5", office.unit_code, day)
        rec = ctx.rec(
            "violation",
            serial,
            1,
            "violation",
            "VIO_PROCESS",
            "cancel",
            t,
            office,
            officer,
            where="field",
            accepted=t,
        )
        ctx.ids(rec, person=owner, car=ctx.car(owner.id_no), licence=owner.id_no)
        rec.update(
            violation_code="10440",
            document_no=ctx.run.document(officer, "penalty_decision", office.unit_code, day),
            document_kind="penalty_decision",
            reason_code="form_spoiled",
            reason_text="文书填写错误作废",
        )
        rec["violation"] = {
            "violation_id": serial,
            "source": "on_site",
            "violation_time": (t - timedelta(minutes=10)).isoformat(),
            "procedure": "simple",
        }
        out.append(rec)
    return out


@plant("VIO-16", severity="orange")
def vio_16_voided(ctx: PlantContext) -> list[Record]:
    """One field officer voids three penalty-decision forms within three weeks."""
    return _voided_forms(ctx, ctx.office("brigade", 2), (40, 47, 55))


@near_miss("VIO-16")
def vio_16_near(ctx: PlantContext) -> list[Record]:
    """One field officer voids two penalty-decision forms within a month (the threshold is
    three)."""
    return _voided_forms(ctx, ctx.office("brigade", 2, 1), (23, 41))


def _stock_decisions(
    ctx: PlantContext, offset: int, first: int, used: tuple[tuple[int, int], ...]
) -> list[Record]:
    """An officer is issued penalty-decision forms first … first + 4 on start + offset (an
    explicit R13 stock row) and enters decisions on them: `used` gives (number − first, days
    after issue) pairs."""
    office, w = _brigade(ctx, 1)
    officer = w.police_id
    issued = ctx.day(offset)
    digits = "".join(c for c in officer if c.isdigit())
    prefix = f"{office.unit_code[:6]}{DOC_KIND_DIGIT['penalty_decision']}{digits:0>6}"
    ctx.add(
        "document_stock",
        {
            "document_kind": "penalty_decision",
            "number_from": f"{prefix}{first}",
            "number_to": f"{prefix}{first + 4}",
            "staff_id": officer,
            "issued_on": issued.isoformat(),
        },
    )
    out = []
    for number, days in used:
        day = issued + timedelta(days=days)
        while not is_workday(day) or day.weekday() >= 5:  # the last working day by then
            day -= timedelta(days=1)
        rec = decide_record(
            ctx, office, w, ctx.t(day, "10:20"), ctx.person(), "10461", points=1, fine=100.0
        )
        rec["document_no"] = f"{prefix}{first + number}"
        rec["violation"]["decision"]["decision_no"] = rec["document_no"]
        out.append(rec)
    return out


@plant("VIO-16", severity="orange")
def vio_16_skipped(ctx: PlantContext) -> list[Record]:
    """Of five penalty-decision forms issued to a window officer, 80001, 80003 and 80004 are
    entered within three weeks; 80002 appears on no record 30 days after issue (跳号)."""
    return _stock_decisions(ctx, 8, 80001, ((0, 2), (2, 9), (3, 16)))


@near_miss("VIO-16")
def vio_16_skipped_near(ctx: PlantContext) -> list[Record]:
    """Of five forms 80011–80015 issued to a window officer, 80011 and 80013 are entered early
    and 80012 on the 29th day after issue: every number below the highest is accounted for
    30 days after issue."""
    return _stock_decisions(ctx, 12, 80011, ((0, 2), (2, 9), (1, 29)))


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


@plant("VIO-13", severity="red")
def vio_13(ctx: PlantContext) -> list[Record]:
    """A 50 CNY fine collected in cash on the spot and never remitted to the unit or the bank."""
    return list(_field_collect(ctx, 34, 50.0))


def _remit(
    ctx: PlantContext, pay: Record, t: datetime, operator: str, step: int, **payment: Any
) -> Record:
    """A remit step (上缴) of an on-the-spot payment: officer → unit, or unit → bank."""
    office = ctx.world.office(pay["unit_code"])
    rec = ctx.rec(
        "payment",
        pay["serial_no"],
        step,
        "violation",
        "VIO_PAYMENT",
        "remit",
        t,
        office,
        operator,
        accepted=datetime.fromisoformat(pay["accepted_at"]),
    )
    if operator not in office.backend:
        rec["channel"] = "mobile_police"
    for key in (*_PARTY_KEYS, "amount", "amount_kind"):
        rec[key] = pay[key]
    rec["violation"] = {
        **pay["violation"],
        "payment": {**pay["violation"]["payment"], **payment},
    }
    return rec


@near_miss("VIO-13")
def vio_13_near(ctx: PlantContext) -> list[Record]:
    """A 50 CNY cash fine remitted to the unit late on the second working day and deposited in
    the bank on the second working day after that: both deadlines just met."""
    officer = ctx.office("brigade").field_officers[0]
    day = ctx.day(52)
    while not (
        ctx.world.field_on_duty(officer, day) and ctx.world.field_on_duty(officer, ctx.wd(day, 2))
    ):
        day = ctx.day((day - ctx.world.start).days + 1)
    dec, pay = _field_collect(ctx, (day - ctx.world.start).days, 50.0)
    office = ctx.world.office(pay["unit_code"])
    paid = datetime.fromisoformat(pay["action_time"])
    remitted = ctx.t(ctx.wd(paid.date(), 2), "17:20")
    deposited = ctx.t(ctx.wd(remitted.date(), 2), "16:45")
    txn = f"BK{deposited:%Y%m%d}{dec['serial_no'][-10:]}"
    ctx.add(
        "bank_ledger",
        {
            "bank_txn_id": txn,
            "decision_no": dec["document_no"],
            "amount": 50.0,
            "paid_on": deposited.date().isoformat(),
        },
    )
    return [
        dec,
        pay,
        _remit(ctx, pay, remitted, officer, 3, remitted_at=remitted.isoformat()),
        _remit(
            ctx,
            pay,
            deposited,
            office.legal_reviewer,
            4,
            remitted_at=remitted.isoformat(),
            deposited_at=deposited.isoformat(),
            bank_txn_id=txn,
        ),
    ]


@plant("VIO-14", severity="red")
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


@plant("VIO-14", severity="red")
def vio_14_waiver(ctx: PlantContext) -> list[Record]:
    """The late-payment surcharge of an overdue fine waived by hand, with no waiver approval."""
    office, w = _brigade(ctx, 1)
    dec = decide_record(
        ctx, office, w, ctx.t(ctx.day(12), "15:30"), ctx.person(), "12230", points=3, fine=50.0
    )
    mod = _modify(
        ctx,
        dec,
        ctx.t(ctx.day(46), "11:50"),
        {"violation.payment.late_fee_waived": (False, True)},
    )
    mod["violation"]["payment"] = {
        **dec["violation"]["payment"],
        "status": "overdue",
        "late_fee_amount": 50.0,
        "late_fee_waived": True,
    }
    return [dec, mod]


@near_miss("VIO-14")
def vio_14_near(ctx: PlantContext) -> list[Record]:
    """The payment status set to paid by hand three days after the party paid at the bank: the
    R13 ledger holds the transaction for the decision, same amount, within three days."""
    office, w = _brigade(ctx, 1)
    dec = decide_record(
        ctx, office, w, ctx.t(ctx.day(35), "09:45"), ctx.person(), "13442", points=3, fine=200.0
    )
    t = ctx.t(ctx.day(44), "15:25")
    paid_on = t.date() - timedelta(days=3)
    txn = f"BK{paid_on:%Y%m%d}{dec['serial_no'][-10:]}"
    ctx.add(
        "bank_ledger",
        {
            "bank_txn_id": txn,
            "decision_no": dec["document_no"],
            "amount": 200.0,
            "paid_on": paid_on.isoformat(),
        },
    )
    mod = _modify(ctx, dec, t, {"violation.payment.status": ("unpaid", "paid")})
    mod.update(amount=200.0, amount_kind="fine")
    mod["violation"]["payment"] = {"status": "paid", "channel": "bank", "bank_txn_id": txn}
    return [dec, mod]


@near_miss("VIO-14")
def vio_14_near_waiver(ctx: PlantContext) -> list[Record]:
    """The surcharge of an overdue fine waived by hand with the waiver approval number of the
    brigade head (暂缓/减免 approved, 行政处罚法 第66条)."""
    office, w = _brigade(ctx)
    dec = decide_record(
        ctx, office, w, ctx.t(ctx.day(13), "10:20"), ctx.person(), "12230", points=3, fine=50.0
    )
    approval = f"JM{office.unit_code[:6]}{dec['serial_no'][-6:]}"
    mod = _modify(
        ctx,
        dec,
        ctx.t(ctx.day(47), "14:30"),
        {"violation.payment.late_fee_waived": (False, True)},
        approver_id=office.approvers[0],
    )
    mod["violation"]["payment"] = {
        **dec["violation"]["payment"],
        "status": "overdue",
        "late_fee_amount": 50.0,
        "late_fee_waived": True,
        "waiver_approval_no": approval,
    }
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


@plant("VIO-15", severity="red")
def vio_15(ctx: PlantContext) -> list[Record]:
    """A seized vehicle released the next day with no documents, no decision and no approval."""
    seize, _, _, office = _seizure(ctx, 21)
    t = ctx.t(ctx.wd(datetime.fromisoformat(seize["action_time"]).date(), 1), "16:50")
    return [seize, _release(ctx, seize, office, t)]


@plant("VIO-15", severity="red")
def vio_15_lot_exit(ctx: PlantContext) -> list[Record]:
    """A seized vehicle leaves the parking lot two working days later (R13 parking ledger
    out_at) while no release record of it is ever entered."""
    seize, car, owner, office = _seizure(ctx, 26)
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
        measure=seize["violation"]["measure"],
    )
    ctx.add(
        "parking_ledger",
        {
            "plate_no": seize["plate_no"],
            "lot_id": seize["violation"]["measure"]["parking_lot_id"],
            "in_at": seize["violation"]["measure"]["lot_in_at"],
            "out_at": (t + timedelta(hours=3)).isoformat(),
            "released_by": w.police_id,
        },
    )
    return [seize, dec]


@near_miss("VIO-15")
def vio_15_near(ctx: PlantContext) -> list[Record]:
    """A seized vehicle released by a window officer after the owner brought the 行驶证 and
    accepted the decision, with the brigade head's release approval."""
    seize, car, owner, office = _seizure(ctx, 33)
    w = ctx.window(office, 1)
    docs_day = ctx.wd(datetime.fromisoformat(seize["action_time"]).date(), 2)
    t = ctx.t(docs_day, "10:30")
    measure = {**seize["violation"]["measure"], "docs_submitted_at": t.isoformat()}
    dec = decide_record(
        ctx,
        office,
        w,
        t + timedelta(minutes=15),
        owner,
        "10060",
        points=0,
        fine=50.0,
        car=car,
        serial=seize["serial_no"],
        step=3,
        source="on_site",
        measure=measure,
    )
    approval = f"SP{office.unit_code[:6]}{seize['serial_no'][-8:]}"
    rel = _release(
        ctx,
        seize,
        office,
        t + timedelta(minutes=40),
        approval_no=approval,
        docs=["行驶证", "处罚决定书"],
    )
    rel.update(approval_no=approval, approver_id=office.approvers[0])
    rel["violation"]["measure"] = measure
    return [seize, dec, rel]
