"""Planted licence and exam cases (LIC-xx, CP-37…43)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo import identity
from auditcage.demo.plants import PlantContext, near_miss, plant
from auditcage.demo.population import Person, cycle_of, licence_row
from auditcage.demo.province import Office
from auditcage.demo.records import Record, online, role_of, subject

# Exam start times inside the R10 sessions of every venue (08:30–12:00, 13:30–17:00, Mon–Fri).
SLOTS = ("08:40", "09:20", "10:00", "10:40", "14:00", "14:40", "15:20", "16:00")
AUGUST, SEPTEMBER = 0, 31  # day offsets of the two months whose rate periods close in a replay


def exam_office(ctx: PlantContext, det: int = 0) -> Office:
    return ctx.office("exam_center", det)


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
    det: int = 0,
    serial: str | None = None,
    step: int = 1,
    terminal: str | None = None,
    video: bool = True,
    **exam_fields: Any,
) -> Record:
    """One `examine` at a detachment's exam centre, judged electronically unless told otherwise,
    with the evidence a real sitting has: face captures, the exam video and, for the skills
    subjects, the examiner's body camera."""
    office = exam_office(ctx, det)
    examiner = examiner or office.examiners[0]
    serial = serial or ctx.serial("3", office.unit_code, day)
    start = ctx.t(day, hhmm)
    end = start + timedelta(seconds=seconds)
    seat = subject_no in (1, 4)
    terminal = terminal or (office.seats[0] if seat else office.exam_vehicles[0])
    captures = exam_fields.get("face_captures", 3 if seat else 1)
    rec = ctx.rec(
        "exam",
        serial,
        step,
        "license",
        "LIC_EXAM",
        "examine",
        end,
        office,
        examiner,
        accepted=start - timedelta(days=3),
    )
    evidence = [
        {
            "evidence_id": f"{serial}-{step}-F{i}",
            "kind": "face_capture",
            "uri": f"oss://exam/{serial}/{step}-f{i}.jpg",
            "sha256": identity.hexstr(ctx.rng, 256),
            "taken_at": (start + (end - start) * i / 3).isoformat(),
            "device_id": terminal,
            "model_standard": False,
        }
        for i in range(captures)
    ]
    if video:
        evidence.append(
            {
                "evidence_id": f"{serial}-{step}-V",
                "kind": "video",
                "uri": f"oss://exam/{serial}/{step}.mp4",
                "taken_at": start.isoformat(),
                "device_id": terminal,
                "model_standard": False,
            }
        )
    rec.update(
        channel="station", terminal_id=terminal, evidence=evidence, evidence_count=len(evidence)
    )
    if subject_no in (2, 3):
        rec["bodycam_refs"] = [ctx.run.bodycam(examiner, end)]
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
        "driving_school_code": ctx.pop.orgs_of("driving_school", det)[0].org_code,
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


def weekday_from(ctx: PlantContext, offset: int, weekday: int) -> date:
    """The first working day at or after start + offset that falls on `weekday` (0 = Monday)."""
    day = ctx.day(offset)
    while day.weekday() != weekday:
        day = ctx.day((day - ctx.world.start).days + 1)
    return day


def slot(ctx: PlantContext, month: int, i: int) -> tuple[date, str]:
    """The i-th of a month's sittings: eight session slots a day over its first 20 weekdays."""
    day = ctx.day(month)
    for _ in range(i // len(SLOTS) % 20):
        day = ctx.day((day - ctx.world.start).days + 1)
    h, m = SLOTS[i % len(SLOTS)].split(":")
    return day, f"{h}:{int(m) + ctx.rng.randrange(0, 10):02d}"  # candidates arrive a little apart


def series(
    ctx: PlantContext,
    month: int,
    subject_no: int,
    passes: int,
    fails: int,
    *,
    examiner: str,
    det: int = 0,
    offset: int = 0,
    **exam_fields: Any,
) -> list[Record]:
    """`passes + fails` first-attempt sittings of one examiner in one month, failures spread."""
    total = passes + fails
    out = []
    for i in range(total):
        failed = fails and (i * fails) // total != ((i + 1) * fails) // total
        day, hhmm = slot(ctx, month, offset + i)
        out.append(
            exam(
                ctx,
                ctx.person(licensed=False),
                day,
                hhmm,
                subject_no,
                seconds=(700 if subject_no == 2 else 1300) + 13 * (i % 20),
                result="fail" if failed else "pass",
                examiner=examiner,
                det=det,
                **exam_fields,
            )
        )
    return out


def exam_change(
    ctx: PlantContext,
    sitting: Record,
    t: datetime,
    operator: str,
    changed: dict[str, tuple[Any, Any]],
    *,
    action: str = "modify",
) -> Record:
    """A later action on an exam record (correction, revocation) by `operator`."""
    rec = copy.deepcopy(sitting)
    serial = rec["serial_no"]
    rec.update(
        record_id=f"exam:{serial}-{int(rec['record_id'][-2:]) + 1:02d}",
        action=action,
        action_time=t.isoformat(),
        operator_id=operator,
        operator_role=role_of(ctx.world.staff[operator]),
        reason_code="score_correction",
        changed_fields=list(changed),
        before={k: v[0] for k, v in changed.items()},
        after={k: v[1] for k, v in changed.items()},
        evidence=[],
        evidence_count=0,
    )
    rec.pop("bodycam_refs", None)
    office = next(o for o in ctx.world.offices if o.unit_code == rec["unit_code"])
    if operator in office.backend:  # an administrator corrects records at the back office
        terminal, ip = office.backend[operator]
        rec.update(channel="backend", terminal_id=terminal, client_ip=ip)
    rec["operator_cert_serial"] = ctx.world.staff[operator].cert_serial
    for path, (_, new) in changed.items():
        if path.startswith("license.exam."):
            rec["license"]["exam"][path.removeprefix("license.exam.")] = new
        elif "." not in path:
            rec[path] = new
    return rec


def booking(
    ctx: PlantContext,
    learner: Person,
    t: datetime,
    subject_no: int,
    *,
    permit: date,
    lic_class: str = "C1",
    booking_seq: int = 1,
) -> Record:
    """An online exam booking (12123) that carries the learner's permit, as the booking system
    knows it."""
    office = exam_office(ctx)
    serial = ctx.serial("3", office.unit_code, t.date())
    rec = ctx.rec(
        "internet_12123",
        serial,
        1,
        "license",
        "LIC_EXAM_BOOK",
        "accept",
        t,
        office,
        "SYS:12123",
        accepted=t,
    )
    online(subject(rec, learner), learner)
    rec["license"] = {
        "license_class": lic_class,
        "learning_permit_at": permit.isoformat(),
        "learning_permit_valid_to": (permit + timedelta(days=1095)).isoformat(),
        "exam": {
            "subject": subject_no,
            "booking_seq": booking_seq,
            "venue_id": office.venue_id,
            "driving_school_code": ctx.pop.orgs_of("driving_school", 0)[0].org_code,
        },
    }
    return rec


# ---- LIC-01, LIC-02: exams too fast -----------------------------------------------------------
@plant("LIC-01", severity="orange")
def lic_01(ctx: PlantContext) -> list[Record]:
    """A subject-1 theory exam passed in 6 min 20 s (limit 600 s)."""
    return [exam(ctx, ctx.person(licensed=False), ctx.day(16), "09:05", 1, seconds=380)]


@near_miss("LIC-01")
def lic_01_quiet(ctx: PlantContext) -> list[Record]:
    """A subject-1 theory exam passed in exactly 600 s (the limit is not "below" it)."""
    return [exam(ctx, ctx.person(licensed=False), ctx.day(16), "10:05", 1, seconds=600)]


@plant("LIC-02", severity="orange")
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


@near_miss("LIC-02")
def lic_02_quiet(ctx: PlantContext) -> list[Record]:
    """A C1 subject-3 road exam passed in exactly 600 s on the registered 3.4 km route."""
    return [exam(ctx, ctx.person(licensed=False), ctx.day(17), "15:00", 3, seconds=600)]


# ---- LIC-03: a seat with a perfect record -----------------------------------------------------
def _seat(ctx: PlantContext, n: int) -> str:
    """A theory seat of the 贵阳 exam centre kept for the planted cases (R5 row added)."""
    office = exam_office(ctx)
    seat = f"SEAT-{office.unit_code[:6]}-{900 + n:03d}"
    ctx.add(
        "terminals",
        {
            "terminal_id": seat,
            "window_id": None,
            "unit_code": office.unit_code,
            "site_id": office.venue_id,
            "kind": "exam_seat",
            "ip_ranges": [f"10.52.240.{n + 2}/32"],
            "assigned_staff_ids": [],
        },
    )
    return seat


def _seat_months(ctx: PlantContext, seat: str, counts: tuple[int, int]) -> list[Record]:
    office = exam_office(ctx)
    out = []
    for month, n in zip((AUGUST, SEPTEMBER), counts, strict=True):
        for i in range(n):
            day, hhmm = slot(ctx, month, i)
            out.append(
                exam(
                    ctx,
                    ctx.person(licensed=False),
                    day,
                    hhmm,
                    1,
                    seconds=1500 + 17 * i,
                    examiner=office.examiners[i % len(office.examiners)],
                    terminal=seat,
                )
            )
    return out


def _seat_runs(ctx: PlantContext, seat: str, results: str) -> list[Record]:
    """August sittings of one seat with the given results in order (P pass, F fail)."""
    office = exam_office(ctx)
    out = []
    for i, code in enumerate(results):
        day, hhmm = slot(ctx, AUGUST, i)
        out.append(
            exam(
                ctx,
                ctx.person(licensed=False),
                day,
                hhmm,
                1,
                result="pass" if code == "P" else "fail",
                seconds=1500 + 17 * i,
                examiner=office.examiners[i % len(office.examiners)],
                terminal=seat,
            )
        )
    return out


@plant("LIC-03", severity="orange")
def lic_03_streak(ctx: PlantContext) -> list[Record]:
    """(a) After two failed sittings, one theory seat passes the next 20 subject-1 candidates in
    a row (22 sittings in August: too few for (b))."""
    return _seat_runs(ctx, _seat(ctx, 3), "FF" + "P" * 20)


@plant("LIC-03", severity="orange")
def lic_03(ctx: PlantContext) -> list[Record]:
    """(b) One theory seat passes all 31 subject-1 candidates in August and all 31 in
    September."""
    return _seat_months(ctx, _seat(ctx, 1), (31, 31))


@near_miss("LIC-03")
def lic_03_quiet(ctx: PlantContext) -> list[Record]:
    """(a)(b) A seat whose 60 August sittings pass in runs of 19 broken by a fail (19 in a row
    at most; 57 of 60 in the month)."""
    return _seat_runs(ctx, _seat(ctx, 2), ("P" * 19 + "F") * 3)


# ---- LIC-04: examiner pass rate ---------------------------------------------------------------
@plant("LIC-04", severity="yellow")
def lic_04(ctx: PlantContext) -> list[Record]:
    """One examiner passes 55 of 55 subject-2 candidates in September; two colleagues pass 37
    and 38 of 52."""
    ex = exam_office(ctx).examiners
    return [
        *series(ctx, SEPTEMBER, 2, 55, 0, examiner=ex[3]),
        *series(ctx, SEPTEMBER, 2, 37, 15, examiner=ex[0], offset=3),
        *series(ctx, SEPTEMBER, 2, 38, 14, examiner=ex[1], offset=5),
    ]


@near_miss("LIC-04")
def lic_04_quiet(ctx: PlantContext) -> list[Record]:
    """August: one examiner passes 43 of 50 (86 %) against colleagues at 62 % and 78 %
    (+16 pp, z ≈ 1.4)."""
    ex = exam_office(ctx).examiners
    return [
        *series(ctx, AUGUST, 2, 43, 7, examiner=ex[3]),
        *series(ctx, AUGUST, 2, 31, 19, examiner=ex[0], offset=3),
        *series(ctx, AUGUST, 2, 39, 11, examiner=ex[1], offset=5),
    ]


# ---- LIC-05: retake pass rate -----------------------------------------------------------------
def _retakes(
    ctx: PlantContext, month: int, first_passes: int, retakes: int, retake_fails: int
) -> list[Record]:
    """Subject-3 sittings of one examiner: `first_passes` pass at once; `retakes` candidates
    fail the first attempt and retake on the spot (补考, attempt 2), `retake_fails` of them
    failing again."""
    office = exam_office(ctx)
    examiner = office.examiners[2]
    out = series(ctx, month, 3, first_passes, 0, examiner=examiner, offset=1)
    for i in range(retakes):
        day, hhmm = slot(ctx, month, 41 + 2 * i)
        learner = ctx.person(licensed=False)
        first = exam(ctx, learner, day, hhmm, 3, seconds=1250, result="fail", examiner=examiner)
        t2 = datetime.fromisoformat(first["action_time"]) + timedelta(minutes=25)
        second = exam(
            ctx,
            learner,
            day,
            f"{t2:%H:%M}",
            3,
            seconds=1310,
            result="fail" if i < retake_fails else "pass",
            examiner=examiner,
            serial=first["serial_no"],
            step=2,
            attempt=2,
        )
        out += [first, second]
    return out


@plant("LIC-05", severity="orange")
def lic_05(ctx: PlantContext) -> list[Record]:
    """September: an examiner fails 34 of 74 subject-3 candidates at the first attempt (54 %
    pass) and passes 33 of the 34 retakes (97 %)."""
    return _retakes(ctx, SEPTEMBER, 40, 34, 1)


@near_miss("LIC-05")
def lic_05_quiet(ctx: PlantContext) -> list[Record]:
    """August: 45 of 77 first attempts pass (58 %), 28 of 32 retakes pass (87.5 %, +29 pp)."""
    return _retakes(ctx, AUGUST, 45, 32, 4)


# ---- LIC-06: manual judging -------------------------------------------------------------------
@plant("LIC-06", severity="orange")
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


@near_miss("LIC-06")
def lic_06_quiet(ctx: PlantContext) -> list[Record]:
    """Manual judging at a county venue that R10 registers as manually judged."""
    office = exam_office(ctx)
    venue = f"KC{office.unit_code[:6]}09"
    ctx.add(
        "exam_venues",
        {
            "venue_id": venue,
            "unit_code": office.unit_code,
            "judging": "manual",
            "capacity_per_day": {"2": 60},
            "sessions": [
                {"weekday": wd, "start": a, "end": b}
                for wd in range(1, 6)
                for a, b in (("08:30", "12:00"), ("13:30", "17:00"))
            ],
            "routes": [],
            "examiner_ids": list(office.examiners),
        },
    )
    return [
        exam(
            ctx,
            ctx.person(licensed=False),
            ctx.day(18),
            "14:10",
            2,
            seconds=760,
            venue_id=venue,
            manual_items=["坡道定点停车"],
            judging="manual",
        )
    ]


# ---- LIC-07, CP-39: examiner and candidate ----------------------------------------------------
def _relative_exam(ctx: PlantContext, offset: int, recused: bool, **fields: Any) -> list[Record]:
    office = exam_office(ctx)
    father = office.examiners[1]
    son = ctx.person(licensed=False)
    ctx.add("relations", {"staff_id": father, "related_id_no": son.id_no, "relation": "child"})
    examiner = office.examiners[2] if recused else father
    return [exam(ctx, son, ctx.day(offset), "09:40", 3, seconds=1300, examiner=examiner, **fields)]


@plant("LIC-07", severity="red")
def lic_07(ctx: PlantContext) -> list[Record]:
    """An examiner examines his own son (declared R4 relation child)."""
    return _relative_exam(ctx, 23, recused=False)


@near_miss("LIC-07")
def lic_07_quiet(ctx: PlantContext) -> list[Record]:
    """An examiner's son is examined by a colleague: the father recused himself."""
    return _relative_exam(ctx, 24, recused=True)


@plant("CP-39", severity="orange")
def cp_39(ctx: PlantContext) -> list[Record]:
    """(b) A subject-3 examiner assigned manually instead of at random."""
    office = exam_office(ctx)
    return [
        exam(
            ctx,
            ctx.person(licensed=False),
            ctx.day(26),
            "10:40",
            3,
            seconds=1350,
            examiner=office.examiners[3],
            assignment="manual",
        )
    ]


@near_miss("CP-39")
def cp_39_quiet(ctx: PlantContext) -> list[Record]:
    """An examiner's son sits subject 3 with a randomly drawn colleague: recusal observed."""
    return _relative_exam(ctx, 27, recused=True)


# ---- LIC-08: examiner and manual allocation ---------------------------------------------------
@plant("LIC-08", severity="orange")
def lic_08(ctx: PlantContext) -> list[Record]:
    """(b) 遵义: 10 of one examiner's 35 subject-3 sittings in September were assigned
    manually."""
    ex = exam_office(ctx, 1).examiners[0]
    return [
        *series(ctx, SEPTEMBER, 3, 20, 5, examiner=ex, det=1),
        *series(ctx, SEPTEMBER, 3, 9, 1, examiner=ex, det=1, offset=25, assignment="manual"),
    ]


@near_miss("LIC-08")
def lic_08_quiet(ctx: PlantContext) -> list[Record]:
    """(b) 遵义: 6 of another examiner's 31 subject-3 sittings were manual (19.4 %, limit 20 %)."""
    ex = exam_office(ctx, 1).examiners[1]
    return [
        *series(ctx, SEPTEMBER, 3, 19, 6, examiner=ex, det=1, offset=2),
        *series(ctx, SEPTEMBER, 3, 5, 1, examiner=ex, det=1, offset=30, assignment="manual"),
    ]


def _school_mix(
    ctx: PlantContext, month: int, pair: int, kinds: tuple[tuple[int, int, int, int], ...]
) -> list[Record]:
    """安顺 subject-3 sittings of one month: for each (examiner n°, school n°, passes, fails)
    one series, the examiners and schools of 安顺's exam centre and driving schools; `pair`
    offsets the examiners so that two plants use different ones."""
    examiners = exam_office(ctx, 2).examiners
    schools = ctx.pop.orgs_of("driving_school", 2)
    out: list[Record] = []
    offset = 0
    for examiner, school, passes, fails in kinds:
        out += series(
            ctx,
            month,
            3,
            passes,
            fails,
            examiner=examiners[pair + examiner],
            det=2,
            offset=offset,
            driving_school_code=schools[school].org_code,
        )
        offset += passes + fails
    return out


@plant("LIC-08", severity="orange")
def lic_08_school(ctx: PlantContext) -> list[Record]:
    """(a) 安顺, August: 16 of an examiner's 30 subject-3 sittings come from one driving school
    and all 16 pass, while the same school passes 10 of 20 with another examiner."""
    return _school_mix(ctx, AUGUST, 0, ((0, 0, 16, 0), (0, 1, 8, 6), (1, 0, 10, 10)))


@near_miss("LIC-08")
def lic_08_school_quiet(ctx: PlantContext) -> list[Record]:
    """(a) 安顺, September: an examiner passes all 14 sittings of one school, but they are 14
    of his 30 (under half); his 16 of another school pass at 10 of 16."""
    return _school_mix(ctx, SEPTEMBER, 2, ((0, 0, 14, 0), (0, 1, 10, 6), (1, 0, 10, 10)))


# ---- LIC-09: exam records changed or cancelled ------------------------------------------------
@plant("LIC-09", severity="red")
def lic_09(ctx: PlantContext) -> list[Record]:
    """(a) A failed subject-2 exam rewritten to a pass by the examiner two hours after the end."""
    office = exam_office(ctx)
    sitting = exam(
        ctx,
        ctx.person(licensed=False),
        ctx.day(33),
        "09:20",
        2,
        seconds=690,
        result="fail",
        examiner=office.examiners[0],
    )
    t = datetime.fromisoformat(sitting["action_time"]) + timedelta(hours=2)
    change = exam_change(
        ctx,
        sitting,
        t,
        office.examiners[0],
        {"license.exam.result": ("fail", "pass"), "license.exam.score": (60, 90)},
    )
    return [sitting, change]


def _cancellations(ctx: PlantContext, det: int, offsets: tuple[int, ...]) -> list[Record]:
    """Scheduled sittings called off by the venue's supervision post (取消考试)."""
    office = exam_office(ctx, det)
    out = []
    for k, offset in enumerate(offsets):
        day = ctx.day(offset)
        t = ctx.t(day, "09:10")
        serial = ctx.serial("3", office.unit_code, day)
        rec = ctx.rec(
            "exam",
            serial,
            1,
            "license",
            "LIC_EXAM",
            "cancel",
            t,
            office,
            office.supervision,
            accepted=t - timedelta(days=4),
        )
        rec.update(reason_code="venue_equipment_failure")
        ctx.ids(rec, person=ctx.person(licensed=False))
        rec["license"] = {
            "license_class": "C1",
            "exam": {
                "subject": 2,
                "booking_seq": 1,
                "attempt": 1,
                "venue_id": office.venue_id,
                "examiner_ids": [office.examiners[k % len(office.examiners)]],
                "result": "cancelled",
            },
        }
        out.append(rec)
    return out


@plant("LIC-09", severity="yellow")
def lic_09_cancellations(ctx: PlantContext) -> list[Record]:
    """(b) 遵义's venue calls off 5 scheduled sittings within 30 days."""
    return _cancellations(ctx, 1, (35, 40, 44, 51, 60))


@near_miss("LIC-09")
def lic_09_quiet(ctx: PlantContext) -> list[Record]:
    """(a) The supervision post corrects a candidate's phone after the exam (no score/result)."""
    office = exam_office(ctx)
    sitting = exam(ctx, ctx.person(licensed=False), ctx.day(34), "14:00", 1, seconds=1800)
    t = datetime.fromisoformat(sitting["action_time"]) + timedelta(hours=1)
    phone = sitting["subject_phone"]
    new_phone = phone[:-4] + f"{(int(phone[-4:]) + 1) % 10000:04d}"
    return [
        sitting,
        exam_change(ctx, sitting, t, office.supervision, {"subject_phone": (phone, new_phone)}),
    ]


@near_miss("LIC-09")
def lic_09_cancellations_quiet(ctx: PlantContext) -> list[Record]:
    """(b) 安顺's venue calls off 4 scheduled sittings within 30 days (threshold 5)."""
    return _cancellations(ctx, 2, (36, 41, 47, 55))


# ---- LIC-10, CP-40: identity ------------------------------------------------------------------
@plant("LIC-10", severity="red")
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


@near_miss("LIC-10")
def lic_10_quiet(ctx: PlantContext) -> list[Record]:
    """A subject-1 pass whose lowest face score is exactly 0.75, with 3 captures."""
    return [
        exam(
            ctx,
            ctx.person(licensed=False),
            ctx.day(29),
            "14:40",
            1,
            seconds=1950,
            face_scores=[0.75, 0.81, 0.88],
        )
    ]


@plant("CP-40", severity="orange")
def cp_40(ctx: PlantContext) -> list[Record]:
    """(a) The face check failed and the examiner let the candidate in by manual override."""
    return [
        exam(
            ctx,
            ctx.person(licensed=False),
            ctx.day(30),
            "09:20",
            4,
            seconds=1300,
            identity_override=True,
            face_scores=[0.41],
            face_captures=3,
        )
    ]


@near_miss("CP-40")
def cp_40_quiet(ctx: PlantContext) -> list[Record]:
    """A subject-4 exam verified at exactly the 0.75 threshold, 3 captures, video on file."""
    return [
        exam(
            ctx,
            ctx.person(licensed=False),
            ctx.day(30),
            "10:00",
            4,
            seconds=1250,
            face_scores=[0.75, 0.80, 0.84],
        )
    ]


# ---- LIC-15: sessions -------------------------------------------------------------------------
@plant("LIC-15", severity="orange")
def lic_15(ctx: PlantContext) -> list[Record]:
    """(b) A subject-2 exam started at 18:30 on a weekday, after the venue closed, and passed."""
    return [exam(ctx, ctx.person(licensed=False), ctx.day(38), "18:30", 2, seconds=760)]


@near_miss("LIC-15")
def lic_15_quiet(ctx: PlantContext) -> list[Record]:
    """(b) A subject-2 exam started at 08:30 sharp, the first minute of the morning session."""
    return [exam(ctx, ctx.person(licensed=False), ctx.day(38), "08:30", 2, seconds=760)]


# ---- CP-37, CP-38: bookings -------------------------------------------------------------------
@plant("CP-37", severity="yellow")
def cp_37(ctx: PlantContext) -> list[Record]:
    """(a) A C1 learner books subject 2 nine days after the learning permit (minimum 10)."""
    day = ctx.day(20)
    return [
        booking(
            ctx, ctx.person(licensed=False), ctx.t(day, "20:15"), 2, permit=day - timedelta(days=9)
        )
    ]


@near_miss("CP-37")
def cp_37_quiet(ctx: PlantContext) -> list[Record]:
    """(a) A C1 learner books subject 2 on day 10 after the learning permit."""
    day = ctx.day(21)
    return [
        booking(
            ctx, ctx.person(licensed=False), ctx.t(day, "07:05"), 2, permit=day - timedelta(days=10)
        )
    ]


@plant("CP-38", severity="orange")
def cp_38(ctx: PlantContext) -> list[Record]:
    """A subject-2 exam on the sixth booking within one permit (limit 5)."""
    return [
        exam(ctx, ctx.person(licensed=False), ctx.day(37), "15:00", 2, seconds=700, booking_seq=6)
    ]


@near_miss("CP-38")
def cp_38_quiet(ctx: PlantContext) -> list[Record]:
    """A subject-2 exam on the fifth and last permitted booking."""
    return [
        exam(ctx, ctx.person(licensed=False), ctx.day(37), "15:20", 2, seconds=700, booking_seq=5)
    ]


# ---- licence window business ------------------------------------------------------------------
def lic_record(
    ctx: PlantContext,
    person: Person,
    btype: str,
    action: str,
    t: datetime,
    step: int = 1,
    serial: str | None = None,
    accepted: datetime | None = None,
    office: Office | None = None,
    **block: Any,
) -> Record:
    office = office or ctx.office("vehicle_office")
    w = ctx.window(office)
    serial = serial or ctx.serial("3", office.unit_code, t.date())
    operator = w.aux_id if action == "accept" else w.police_id
    rec = ctx.rec(
        "license_mgmt",
        serial,
        step,
        "license",
        btype,
        action,
        t,
        office,
        operator,
        w=w,
        accepted=accepted or t,
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


def accept_issue(
    ctx: PlantContext, person: Person, btype: str, t: datetime, done: datetime, **block: Any
) -> list[Record]:
    """A window business accepted at `t` and issued at `done`."""
    acc = lic_record(ctx, person, btype, "accept", t, **block)
    iss = lic_record(
        ctx, person, btype, "issue", done, step=2, serial=acc["serial_no"], accepted=t, **block
    )
    return [acc, iss, archive(ctx, iss)]


def archive(ctx: PlantContext, closing: Record) -> Record:
    """The archive post of the item's office files it at 10:30 on the next working day (CP-44)."""
    office = ctx.world.office(closing["unit_code"])
    done = datetime.fromisoformat(closing["action_time"])
    rec = copy.deepcopy(closing)
    step = int(closing["record_id"][-2:]) + 1
    rec.update(
        record_id=f"{closing['source_system']}:{closing['serial_no']}-{step:02d}",
        action="archive",
        action_time=ctx.t(ctx.wd(done.date(), 1), "10:30").isoformat(),
        operator_id=office.archivist,
        operator_role=role_of(ctx.world.staff[office.archivist]),
        operator_cert_serial=ctx.world.staff[office.archivist].cert_serial,
    )
    for key in ("completed_at", "document_kind", "approval_no", "window_id", "amount"):
        rec.pop(key, None)
    rec.pop("amount_kind", None)
    terminal, ip = office.backend[office.archivist]
    rec.update(channel="backend", terminal_id=terminal, client_ip=ip)
    return rec


@plant("LIC-11", severity="red")
def lic_11(ctx: PlantContext) -> list[Record]:
    """A licence renewed while it is detained (暂扣, status D)."""
    holder = ctx.person(points=3)
    ctx.extra["licences"][-1].update(status="D", detained=True)
    t = ctx.t(ctx.day(41), "10:15")
    return accept_issue(
        ctx,
        holder,
        "LIC_RENEW",
        t,
        t + timedelta(minutes=9),
        license_status="D",
        detention_active=True,
    )


@near_miss("LIC-11")
def lic_11_quiet(ctx: PlantContext) -> list[Record]:
    """A licence renewed two days after its detention ended and the card was returned."""
    holder = ctx.person(points=3)
    returned = ctx.day(40)
    detained = ctx.extra["licences"][-1]
    normal = dict(detained, effective_from=returned.isoformat())
    detained.update(status="D", detained=True, effective_to=returned.isoformat())
    ctx.add("licences", normal)
    t = ctx.t(ctx.wd(returned, 2), "10:35")
    return accept_issue(ctx, holder, "LIC_RENEW", t, t + timedelta(minutes=8))


@plant("LIC-12", severity="yellow")
def lic_12(ctx: PlantContext) -> list[Record]:
    """One licence replaced (补证) twice within 365 days."""
    holder = ctx.person()
    out: list[Record] = []
    for offset in (11, 59):
        t = ctx.t(ctx.day(offset), "14:20")
        out += accept_issue(ctx, holder, "LIC_REPLACE", t, t + timedelta(minutes=7))
    return out


@near_miss("LIC-12")
def lic_12_quiet(ctx: PlantContext) -> list[Record]:
    """One replacement issued; a second application a month later is refused (no issue)."""
    holder = ctx.person()
    t = ctx.t(ctx.day(12), "09:50")
    out = accept_issue(ctx, holder, "LIC_REPLACE", t, t + timedelta(minutes=6))
    t2 = ctx.t(ctx.day(45), "15:10")
    acc = lic_record(ctx, holder, "LIC_REPLACE", "accept", t2)
    rej = lic_record(
        ctx,
        holder,
        "LIC_REPLACE",
        "reject",
        t2 + timedelta(minutes=5),
        step=2,
        serial=acc["serial_no"],
        accepted=t2,
    )
    rej.update(reason_code="card_not_lost", reason_text="原证件仍在有效期内且未遗失")
    return [*out, acc, rej]


def points_adjust(
    ctx: PlantContext, holder: Person, t: datetime, before: int, after: int
) -> Record:
    rec = lic_record(
        ctx, holder, "LIC_POINTS_ADJUST", "modify", t, points_before=before, points_after=after
    )
    rec.update(
        reason_code="data_correction",
        changed_fields=["license.points_after"],
        before={"license.points_after": before},
        after={"license.points_after": after},
    )
    return rec


def study_record(
    ctx: PlantContext, holder: Person, day: date, k: int, points: int, reduced: int = 2
) -> Record:
    """An on-site study-for-points round (学法减分) at the 车管所, passed."""
    office = ctx.office("vehicle_office")
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
        "points_after": points - reduced,
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
            "points_reduced": reduced,
        },
    }
    rec["completed_at"] = rec["action_time"]
    return rec


@plant("LIC-13", severity="red")
def lic_13(ctx: PlantContext) -> list[Record]:
    """Points cut from 6 to 0 by a manual adjustment with no study, exam, revocation or roll-
    over."""
    holder = ctx.person(points=6)
    return [points_adjust(ctx, holder, ctx.t(ctx.day(47), "16:40"), 6, 0)]


@near_miss("LIC-13")
def lic_13_quiet(ctx: PlantContext) -> list[Record]:
    """A passed on-site study round (−2) in the morning, booked as a 6 → 4 adjustment at 15:00."""
    holder = ctx.person(points=6)
    day = ctx.day(48)
    study = study_record(ctx, holder, day, 9, 6)
    return [study, archive(ctx, study), points_adjust(ctx, holder, ctx.t(day, "15:00"), 6, 4)]


def _study_rounds(ctx: PlantContext, offsets: tuple[int, ...], points: int) -> list[Record]:
    """Rounds of one holder whose scoring cycle spans them all (licence first issued in March)."""
    holder = ctx.person(points=points)
    assert holder.first_issue is not None
    holder.first_issue = holder.first_issue.replace(month=3, day=15)
    ctx.extra["licences"][-1] = licence_row(
        holder.id_no, holder.birth, "C1", holder.first_issue, points, ctx.world.start
    )
    out = []
    for k, offset in enumerate(offsets):
        rec = study_record(ctx, holder, ctx.day(offset), k, points)
        out += [rec, archive(ctx, rec)]
        points -= 2
    return out


@plant("LIC-14", severity="orange")
def lic_14(ctx: PlantContext) -> list[Record]:
    """Four on-site study rounds of 2 points each in one cycle: 8 points reduced (cap 6)."""
    return _study_rounds(ctx, (13, 27, 41, 55), 9)


@near_miss("LIC-14")
def lic_14_quiet(ctx: PlantContext) -> list[Record]:
    """Three on-site study rounds of 2 points each in one cycle: exactly the cap of 6."""
    return _study_rounds(ctx, (14, 28, 42), 9)


def _penalty_then_study(ctx: PlantContext, code: str, offset: int) -> list[Record]:
    """A holder's violation decided at a brigade window (code `code`, 6 points), then a passed
    on-site study round reducing 2 points five weeks later, in the same scoring cycle."""
    from auditcage.demo.plants_violation import decide_record  # registration order unchanged

    holder = ctx.person(points=6)
    office = ctx.office("brigade", 1)
    decided = ctx.t(ctx.day(offset), "10:10")
    fine = 200.0
    dec = decide_record(ctx, office, ctx.window(office), decided, holder, code, points=6, fine=fine)
    study = study_record(ctx, holder, ctx.day(offset + 35), 0, 6)
    return [dec, study, archive(ctx, study)]


@plant("LIC-14", severity="orange")
def lic_14_after_hit_and_run(ctx: PlantContext) -> list[Record]:
    """Study-for-points granted five weeks after a hit-and-run penalty (逃逸, code 16340) on the
    same licence: a barring penalty within the last three cycles."""
    return _penalty_then_study(ctx, "16340", 11)


@near_miss("LIC-14")
def lic_14_after_red_light(ctx: PlantContext) -> list[Record]:
    """Study-for-points granted five weeks after a red-light penalty (code 16250), which does not
    bar the reduction."""
    return _penalty_then_study(ctx, "16250", 12)


@plant("CP-41", severity="red")
def cp_41(ctx: PlantContext) -> list[Record]:
    """A licence issued with 10 minutes of safety education and no exam passes on record."""
    learner = ctx.person(licensed=False)
    t = ctx.t(ctx.day(53), "11:00")
    acc, iss, filed = accept_issue(
        ctx, learner, "LIC_ISSUE", t, t + timedelta(minutes=6), safety_education_minutes=10
    )
    cert = identity.hexstr(ctx.rng, 8)
    iss["approval_no"] = f"FZ{cert}"
    return [acc, iss, filed]


@near_miss("CP-41")
def cp_41_quiet(ctx: PlantContext) -> list[Record]:
    """A licence issued after exactly 30 minutes of safety education, the exams passed."""
    learner = ctx.person(licensed=False)
    passes = [
        exam(ctx, learner, ctx.day(30), "09:00", 1, seconds=1500),
        exam(ctx, learner, ctx.day(38), "09:30", 2, seconds=900),
        exam(ctx, learner, ctx.day(46), "10:00", 3, seconds=1500),
        exam(ctx, learner, ctx.day(46), "14:00", 4, seconds=1200),
    ]
    t = ctx.t(ctx.day(54), "10:20")
    return passes + accept_issue(
        ctx, learner, "LIC_ISSUE", t, t + timedelta(minutes=7), safety_education_minutes=30
    )


def _issue_after(
    ctx: PlantContext, subjects: tuple[tuple[int, int], ...], offset: int
) -> list[Record]:
    """Exam passes (subject, day offset) of one learner, then a licence issued on start + offset
    after 30 minutes of safety education."""
    learner = ctx.person(licensed=False)
    seconds = {1: 1500, 2: 900, 3: 1500, 4: 1200}
    passes = [
        exam(
            ctx,
            learner,
            ctx.day(day),
            "09:00" if subject != 4 else "14:00",
            subject,
            seconds=seconds[subject],
        )
        for subject, day in subjects
    ]
    t = ctx.t(ctx.day(offset), "10:20")
    return passes + accept_issue(
        ctx, learner, "LIC_ISSUE", t, t + timedelta(minutes=7), safety_education_minutes=30
    )


@plant("CP-41", severity="red")
def cp_41_no_theory_pass(ctx: PlantContext) -> list[Record]:
    """A licence issued after subjects 2, 3 and 4 were passed, with no subject-1 (theory) pass on
    record in the three years before."""
    return _issue_after(ctx, ((2, 12), (3, 40), (4, 40)), 56)


@plant("CP-41", severity="red")
def cp_41_issued_by_examiner(ctx: PlantContext) -> list[Record]:
    """A licence issued, after every exam was passed and 30 minutes of education, by the
    examiner who passed the candidate in subject 3 (separation of duties)."""
    learner = ctx.person(licensed=False)
    examiner = exam_office(ctx).examiners[1]
    passes = [
        exam(ctx, learner, ctx.day(31), "09:00", 1, seconds=1500),
        exam(ctx, learner, ctx.day(39), "09:30", 2, seconds=900),
        exam(ctx, learner, ctx.day(47), "10:00", 3, seconds=1500, examiner=examiner),
        exam(ctx, learner, ctx.day(47), "14:00", 4, seconds=1200),
    ]
    t = ctx.t(ctx.day(55), "10:20")
    acc, iss, filed = accept_issue(
        ctx, learner, "LIC_ISSUE", t, t + timedelta(minutes=7), safety_education_minutes=30
    )
    staff = ctx.world.staff[examiner]
    iss.update(operator_id=examiner, operator_role=role_of(staff))
    iss["operator_cert_serial"] = staff.cert_serial
    return [*passes, acc, iss, filed]


@plant("CP-42", severity="orange")
def cp_42(ctx: PlantContext) -> list[Record]:
    """(b) A replacement (补证) accepted on a Tuesday and issued on Thursday (1 working day)."""
    day = weekday_from(ctx, 22, 1)
    t = ctx.t(day, "10:05")
    return accept_issue(ctx, ctx.person(), "LIC_REPLACE", t, ctx.t(ctx.wd(day, 2), "09:40"))


@near_miss("CP-42")
def cp_42_quiet(ctx: PlantContext) -> list[Record]:
    """(b) A replacement accepted on a Friday afternoon and issued on Monday morning."""
    day = weekday_from(ctx, 22, 4)
    t = ctx.t(day, "16:30")
    return accept_issue(ctx, ctx.person(), "LIC_REPLACE", t, ctx.t(ctx.wd(day, 1), "09:10"))


# ---- CP-43: full score ------------------------------------------------------------------------
def _full_score(ctx: PlantContext, offset: int, detained_after: int | None) -> list[Record]:
    """A 6-point decision on Friday takes a licence from 6 to 12 points; the licence is detained
    `detained_after` working days later at 16:10 (never when None)."""
    from auditcage.demo.plants_violation import decide_record

    driver = ctx.person(points=6)
    office = ctx.office("brigade")
    day = weekday_from(ctx, offset, 4)
    decision = decide_record(
        ctx, office, ctx.window(office), ctx.t(day, "16:00"), driver, "16250", points=6, fine=200.0
    )
    out = [decision]
    if detained_after is not None:
        driver.points = 12
        rec = lic_record(
            ctx,
            driver,
            "LIC_DETENTION",
            "seize",
            ctx.t(ctx.wd(day, detained_after), "16:10"),
            detention_active=False,
        )
        rec["related_serial_no"] = decision["serial_no"]
        out.append(rec)
    return out


@plant("CP-43", severity="orange")
def cp_43(ctx: PlantContext) -> list[Record]:
    """(a) A licence reaches 12 points and is never detained."""
    return _full_score(ctx, 44, None)


@near_miss("CP-43")
def cp_43_quiet(ctx: PlantContext) -> list[Record]:
    """(a) A licence reaches 12 points on Friday and is detained on Monday, the next working
    day."""
    return _full_score(ctx, 50, 1)
