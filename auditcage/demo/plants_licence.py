"""Planted licence and exam cases (LIC-xx, CP-37…43)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo import identity
from auditcage.demo.plants import PlantContext, plant
from auditcage.demo.population import Person, cycle_of
from auditcage.demo.records import Record


def exam(
    ctx: PlantContext,
    learner: Person,
    day: date,
    hhmm: str,
    subject_no: int,
    *,
    seconds: int,
    result: str = "pass",
    examiner: str | None = None,
    **exam_fields: Any,
) -> Record:
    """One `examine` at the 贵阳 exam centre, judged electronically unless told otherwise."""
    office = ctx.office("exam_center")
    examiner = examiner or office.examiners[0]
    serial = ctx.serial("3", office.unit_code, day)
    start = ctx.t(day, hhmm)
    end = start + timedelta(seconds=seconds)
    seat = subject_no in (1, 4)
    terminal = office.seats[0] if seat else office.exam_vehicles[0]
    captures = 3 if seat else 1
    rec = ctx.rec(
        "exam",
        serial,
        1,
        "license",
        "LIC_EXAM",
        "examine",
        end,
        office,
        examiner,
        accepted=start - timedelta(days=3),
    )
    rec.update(channel="station", terminal_id=terminal)
    ctx.ids(rec, person=learner)
    permit = ctx.world.start - timedelta(days=60)
    block = {
        "subject": subject_no,
        "booking_seq": 1,
        "attempt": 1,
        "venue_id": office.venue_id,
        "seat_id": terminal if seat else None,
        "exam_vehicle_id": None if seat else terminal,
        "route_id": office.routes[0][0] if subject_no == 3 else None,
        "route_distance_km": office.routes[0][1] if subject_no == 3 else None,
        "examiner_ids": [examiner],
        "assignment": "random",
        "started_at": start.isoformat(),
        "ended_at": end.isoformat(),
        "score": 96 if result == "pass" else 60,
        "result": result,
        "judging": "electronic",
        "manual_items": [],
        "manual_override": False,
        "face_scores": [0.93] * captures,
        "face_captures": captures,
        "identity_override": False,
        "driving_school_code": ctx.pop.orgs_of("driving_school", 0)[0].org_code,
        "candidate_province": "52",
    }
    block.update(exam_fields)
    rec["license"] = {
        "license_class": "C1",
        "exam": block,
        "learning_permit_at": permit.isoformat(),
        "learning_permit_valid_to": (permit + timedelta(days=1095)).isoformat(),
    }
    return rec


@plant("LIC-01")
def lic_01(ctx: PlantContext) -> list[Record]:
    """A subject-1 theory exam passed in 6 min 20 s (limit 600 s)."""
    return [exam(ctx, ctx.person(licensed=False), ctx.day(16), "09:05", 1, seconds=380)]


@plant("LIC-02")
def lic_02(ctx: PlantContext) -> list[Record]:
    """A C1 subject-3 road exam passed on a 2.1 km route (legal minimum 3 km)."""
    return [
        exam(
            ctx,
            ctx.person(licensed=False),
            ctx.day(17),
            "14:00",
            3,
            seconds=900,
            route_distance_km=2.1,
        )
    ]


@plant("LIC-06")
def lic_06(ctx: PlantContext) -> list[Record]:
    """Manual judging on an electronically judged subject-2 exam, with a manual override."""
    return [
        exam(
            ctx,
            ctx.person(licensed=False),
            ctx.day(18),
            "10:10",
            2,
            seconds=720,
            manual_override=True,
            manual_items=["倒车入库"],
            judging="mixed",
        )
    ]


@plant("LIC-07")
def lic_07(ctx: PlantContext) -> list[Record]:
    """An examiner examines his own son (declared R4 relation child)."""
    office = ctx.office("exam_center")
    examiner = office.examiners[1]
    son = ctx.person(licensed=False)
    ctx.add("relations", {"staff_id": examiner, "related_id_no": son.id_no, "relation": "child"})
    return [exam(ctx, son, ctx.day(23), "09:40", 3, seconds=1300, examiner=examiner)]


@plant("LIC-10")
def lic_10(ctx: PlantContext) -> list[Record]:
    """A subject-1 pass whose face comparison scored 0.52 (proxy test-taker)."""
    return [
        exam(
            ctx,
            ctx.person(licensed=False),
            ctx.day(29),
            "13:50",
            1,
            seconds=1900,
            face_scores=[0.52, 0.61, 0.58],
        )
    ]


@plant("LIC-04")
def lic_04(ctx: PlantContext) -> list[Record]:
    """One examiner passes 55 of 55 subject-2 candidates in one month (peers pass about 72 %)."""
    office = ctx.office("exam_center")
    examiner = office.examiners[-1]
    out: list[Record] = []
    for i in range(55):
        day = ctx.day(31 + i % 26)
        hour = (9, 10, 11, 14, 15, 16)[i % 6]
        out.append(
            exam(
                ctx,
                ctx.person(licensed=False),
                day,
                f"{hour:02d}:{10 + (i * 7) % 30:02d}",
                2,
                seconds=600 + 11 * i,
                examiner=examiner,
            )
        )
    return out


@plant("CP-38")
def cp_38(ctx: PlantContext) -> list[Record]:
    """A subject-2 exam on the sixth booking within one permit (limit 5)."""
    return [
        exam(ctx, ctx.person(licensed=False), ctx.day(37), "15:00", 2, seconds=700, booking_seq=6)
    ]


def lic_record(
    ctx: PlantContext,
    person: Person,
    btype: str,
    action: str,
    t: datetime,
    step: int = 1,
    serial: str | None = None,
    **block: Any,
) -> Record:
    office = ctx.office("vehicle_office")
    w = ctx.window(office)
    serial = serial or ctx.serial("3", office.unit_code, t.date())
    operator = w.aux_id if action == "accept" else w.police_id
    rec = ctx.rec(
        "license_mgmt", serial, step, "license", btype, action, t, office, operator, w=w, accepted=t
    )
    ctx.ids(rec, person=person, licence=person.id_no)
    first = person.first_issue or ctx.world.start
    c_start, c_end = cycle_of(first, t.date())
    lic = {
        "license_class": "C1",
        "license_status": "A",
        "first_issue_date": first.isoformat(),
        "cycle_start": c_start.isoformat(),
        "cycle_end": c_end.isoformat(),
        "points_before": person.points,
        "points_after": person.points,
        "probation": False,
        "detention_active": False,
        "full_score_count_cycle": 0,
        "full_score_count_prev": 0,
    }
    lic.update(block)
    rec["license"] = lic
    if action == "issue":
        rec.update(completed_at=rec["action_time"], document_kind="license_card")
    return rec


@plant("LIC-11")
def lic_11(ctx: PlantContext) -> list[Record]:
    """A licence renewed while it is detained (暂扣, status D)."""
    holder = ctx.person(points=3)
    ctx.extra["licences"][-1].update(status="D", detained=True)
    day = ctx.day(41)
    t = ctx.t(day, "10:15")
    acc = lic_record(
        ctx, holder, "LIC_RENEW", "accept", t, license_status="D", detention_active=True
    )
    iss = lic_record(
        ctx,
        holder,
        "LIC_RENEW",
        "issue",
        t + timedelta(minutes=9),
        step=2,
        serial=acc["serial_no"],
        license_status="D",
        detention_active=True,
    )
    return [acc, iss]


@plant("LIC-12")
def lic_12(ctx: PlantContext) -> list[Record]:
    """One licence replaced (补证) twice within 365 days."""
    holder = ctx.person()
    out: list[Record] = []
    for offset in (11, 59):
        t = ctx.t(ctx.day(offset), "14:20")
        acc = lic_record(ctx, holder, "LIC_REPLACE", "accept", t)
        out += [
            acc,
            lic_record(
                ctx,
                holder,
                "LIC_REPLACE",
                "issue",
                t + timedelta(minutes=7),
                step=2,
                serial=acc["serial_no"],
            ),
        ]
    return out


@plant("LIC-13")
def lic_13(ctx: PlantContext) -> list[Record]:
    """Points cut from 6 to 0 by a manual adjustment with no study, exam, revocation or roll-
    over."""
    holder = ctx.person(points=6)
    holder.points = 6
    t = ctx.t(ctx.day(47), "16:40")
    rec = lic_record(ctx, holder, "LIC_POINTS_ADJUST", "modify", t, points_before=6, points_after=0)
    rec.update(
        reason_code="data_correction",
        changed_fields=["license.points_after"],
        before={"license.points_after": 6},
        after={"license.points_after": 0},
    )
    return [rec]


@plant("LIC-14")
def lic_14(ctx: PlantContext) -> list[Record]:
    """Four on-site study rounds of 2 points each in one cycle: 8 points reduced (cap 6)."""
    holder = ctx.person(points=9)
    office = ctx.office("vehicle_office")
    out: list[Record] = []
    points = 9
    for k, offset in enumerate((13, 27, 41, 55)):
        day = ctx.day(offset)
        start = ctx.t(day, "09:00")
        end = start + timedelta(minutes=180)
        serial = ctx.serial("3", office.unit_code, day)
        rec = ctx.rec(
            "license_mgmt",
            serial,
            1,
            "license",
            "LIC_STUDY_REDUCE",
            "examine",
            end,
            office,
            "SYS:study",
            accepted=start,
        )
        ctx.ids(rec, person=holder, licence=holder.id_no)
        first = holder.first_issue or ctx.world.start
        c_start, c_end = cycle_of(first, day)
        rec["license"] = {
            "license_class": "C1",
            "license_status": "A",
            "first_issue_date": first.isoformat(),
            "cycle_start": c_start.isoformat(),
            "cycle_end": c_end.isoformat(),
            "points_before": points,
            "points_after": points - 2,
            "probation": False,
            "detention_active": False,
            "study": {
                "kind": "onsite",
                "started_at": start.isoformat(),
                "ended_at": end.isoformat(),
                "minutes": 180,
                "device_id": f"XF-{office.unit_code[:6]}-{k}",
                "ip": "10.52.200.9",
                "passed": True,
                "points_reduced": 2,
            },
        }
        rec["completed_at"] = rec["action_time"]
        points -= 2
        out.append(rec)
    return out


@plant("CP-41")
def cp_41(ctx: PlantContext) -> list[Record]:
    """A licence issued with 10 minutes of safety education and no exam passes on record."""
    learner = ctx.person(licensed=False)
    t = ctx.t(ctx.day(53), "11:00")
    acc = lic_record(ctx, learner, "LIC_ISSUE", "accept", t, safety_education_minutes=10)
    iss = lic_record(
        ctx,
        learner,
        "LIC_ISSUE",
        "issue",
        t + timedelta(minutes=6),
        step=2,
        serial=acc["serial_no"],
        safety_education_minutes=10,
    )
    cert = identity.hexstr(ctx.rng, 8)
    iss["approval_no"] = f"FZ{cert}"
    return [acc, iss]
