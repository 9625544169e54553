"""Licence flows (驾管): a learner's four exams then the licence, renewals, study-for-points."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo import identity
from auditcage.demo.population import Person, cycle_of, make_person
from auditcage.demo.province import Office
from auditcage.demo.records import (
    FlowSpec,
    Record,
    Run,
    at_backend,
    at_window,
    base,
    online,
    subject,
)
from auditcage.demo.timeutil import at, is_workday, next_workday

# Exam minutes (min, max) and pass probability per subject; limits of LIC-01/02 are well below.
EXAM_MINUTES = {1: (14, 44), 2: (8, 16), 3: (16, 30), 4: (9, 25)}
PASS_RATE = {1: 0.86, 2: 0.72, 3: 0.76, 4: 0.93}
SESSIONS = ((8 * 60 + 40, 11 * 60 + 20), (13 * 60 + 40, 16 * 60 + 20))


def exam_day(day: date, min_gap: int) -> date:
    d = day + timedelta(days=min_gap)
    while not (is_workday(d) and d.weekday() < 5):
        d += timedelta(days=1)
    return d


def licence_block(run: Run, person: Person, **extra: Any) -> dict[str, Any]:
    first = person.first_issue or run.day
    cycle_start, cycle_end = cycle_of(first, run.day)
    points = run.person_points(person.id_no)
    block = {
        "license_class": person.lic_class or "C1",
        "license_status": "A",
        "first_issue_date": first.isoformat(),
        "cycle_start": cycle_start.isoformat(),
        "cycle_end": cycle_end.isoformat(),
        "points_before": points,
        "points_after": points,
        "full_score_count_cycle": 0,
        "full_score_count_prev": 0,
        "probation": (run.day - first).days < 365,
        "detention_active": False,
    }
    block.update(extra)
    return block


def _archive(
    run: Run,
    office: Office,
    person: Person,
    serial: str,
    step: int,
    btype: str,
    t0: datetime,
    *,
    online_item: bool = False,
) -> Record:
    """The file goes to the archive on the next working day (R6 archive_items, CP-44): the
    archive post files a window business, the system an online study record."""
    day = next_workday(t0.date())
    operator = "SYS:archive" if online_item else office.archivist
    t = None if online_item else run.office_start(office, day, span=10)
    t = t or at(day, run.rng.uniform(9 * 60, 11 * 60))
    rec = base(
        run,
        "license_mgmt",
        serial,
        step,
        "license",
        btype,
        "archive",
        t,
        t0,
        office.unit_code,
        operator,
    )
    if not online_item:
        at_backend(rec, office, operator)
    subject(rec, person)
    rec.update(license_no=person.id_no, license_holder_id_no=person.id_no)
    rec["license"] = licence_block(run, person)
    return rec


def _examine(
    run: Run,
    office: Office,
    serial: str,
    step: int,
    learner: Person,
    school: str,
    subject_no: int,
    t: datetime,
    booked: datetime,
    attempt: int,
    booking_seq: int,
    permit: date | None,
) -> tuple[Record, bool]:
    rng = run.rng
    examiner = run.pick(office.examiners, t.date())
    seat_kind = subject_no in (1, 4)
    terminal = rng.choice(office.seats if seat_kind else office.exam_vehicles)
    passed = rng.random() < PASS_RATE[subject_no]
    if seat_kind:  # a seat never shows a long perfect streak (LIC-03)
        streak = run.tick(f"seat:{terminal}") if passed else 0
        if not passed:
            run.counters[f"seat:{terminal}"] = 0
        elif streak >= 9:
            passed = False
            run.counters[f"seat:{terminal}"] = 0
    lo, hi = EXAM_MINUTES[subject_no]
    end = t + timedelta(seconds=rng.randrange(lo * 60, hi * 60))
    captures = 3 if seat_kind else 1
    evidence = [
        {
            "evidence_id": f"{serial}-{step}-F{i}",
            "kind": "face_capture",
            "uri": f"oss://exam/{serial}/f{i}.jpg",
            "sha256": identity.hexstr(rng, 256),
            "taken_at": (t + (end - t) * i / 3).isoformat(),
            "device_id": terminal,
            "model_standard": False,
        }
        for i in range(captures)
    ]
    evidence.append(
        {
            "evidence_id": f"{serial}-{step}-V",
            "kind": "video",
            "uri": f"oss://exam/{serial}/{step}.mp4",
            "taken_at": t.isoformat(),
            "device_id": terminal,
            "model_standard": False,
        }
    )
    route = rng.choice(office.routes)
    exam = {
        "subject": subject_no,
        "booking_seq": booking_seq,
        "attempt": attempt,
        "venue_id": office.venue_id,
        "seat_id": terminal if seat_kind else None,
        "exam_vehicle_id": None if seat_kind else terminal,
        "route_id": route[0] if subject_no == 3 else None,
        "route_distance_km": route[1] if subject_no == 3 else None,
        "examiner_ids": [examiner],
        "assignment": "random",
        "started_at": t.isoformat(),
        "ended_at": end.isoformat(),
        "score": rng.randrange(90, 101) if passed else rng.randrange(40, 89),
        "result": "pass" if passed else "fail",
        "judging": "electronic",
        "manual_items": [],
        "manual_override": False,
        "face_scores": [round(rng.uniform(0.86, 0.99), 3) for _ in range(captures)],
        "face_captures": captures,
        "identity_override": False,
        "driving_school_code": school,
        "candidate_province": "52",
    }
    rec = base(
        run,
        "exam",
        serial,
        step,
        "license",
        "LIC_EXAM",
        "examine",
        end,
        booked,
        office.unit_code,
        examiner,
    )
    rec.update(
        channel="station", terminal_id=terminal, evidence=evidence, evidence_count=len(evidence)
    )
    subject(rec, learner)
    if subject_no in (2, 3):
        rec["bodycam_refs"] = [run.bodycam(examiner, end)]
    block: dict[str, Any] = {"license_class": learner.lic_class or "C1", "exam": exam}
    if permit is not None:
        block["learning_permit_at"] = permit.isoformat()
        block["learning_permit_valid_to"] = (permit + timedelta(days=3 * 365)).isoformat()
    rec["license"] = block
    return rec, passed


def _sitting(
    run: Run,
    office: Office,
    learner: Person,
    school: str,
    subject_no: int,
    book_day: date,
    booking_seq: int,
    permit: date | None,
) -> Iterator[Record | bool]:
    """Booking online, then the exam (with one retake on the spot for subjects 2 and 3)."""
    rng = run.rng
    serial = run.serial("3", office.unit_code)
    booked = at(book_day, rng.uniform(7 * 60, 22 * 60))
    rec = base(
        run,
        "internet_12123",
        serial,
        1,
        "license",
        "LIC_EXAM_BOOK",
        "accept",
        booked,
        booked,
        office.unit_code,
        "SYS:12123",
    )
    online(subject(rec, learner), learner)
    rec["license"] = {
        "license_class": learner.lic_class or "C1",
        "exam": {
            "subject": subject_no,
            "booking_seq": booking_seq,
            "venue_id": office.venue_id,
            "driving_school_code": school,
        },
    }
    if permit is not None:  # the booking system knows the learning permit (CP-37's intervals)
        rec["license"]["learning_permit_at"] = permit.isoformat()
        rec["license"]["learning_permit_valid_to"] = (permit + timedelta(days=3 * 365)).isoformat()
    yield rec
    day = exam_day(book_day, 2)
    a, b = rng.choice(SESSIONS)
    t = at(day, rng.uniform(a, b))
    exam_rec, passed = _examine(
        run, office, serial, 2, learner, school, subject_no, t, booked, 1, booking_seq, permit
    )
    yield exam_rec
    if not passed and subject_no in (2, 3) and exam_rec["action_time"][11:16] < "16:20":
        t = datetime.fromisoformat(exam_rec["action_time"]) + timedelta(
            minutes=rng.randrange(10, 40)
        )
        minute = t.hour * 60 + t.minute
        if SESSIONS[0][1] < minute < SESSIONS[1][0]:  # the venue breaks for lunch (LIC-15(b))
            t = at(day, SESSIONS[1][0] + rng.uniform(0, 20))
        exam_rec, passed = _examine(
            run, office, serial, 3, learner, school, subject_no, t, booked, 2, booking_seq, permit
        )
        yield exam_rec
    yield passed


def learner_journey(run: Run, office: Office, day: date) -> Iterator[Record]:
    """Subjects 1 → 2 → 3 → 4 at the exam centre, then the licence at the 车管所 window."""
    rng = run.rng
    learner = make_person(rng, run.prov.start, det=office.det, licensed=False, min_age=18)
    learner.lic_class = "C1" if rng.random() < 0.8 else "C2"
    school = rng.choice(run.pop.orgs_of("driving_school", office.det)).org_code
    permit: date | None = None
    book_day = day
    for subject_no, gap in ((1, 0), (2, 10), (3, 30), (4, 0)):
        if permit is not None and gap:
            book_day = max(book_day, permit + timedelta(days=gap + rng.randrange(0, 8)))
        for booking_seq in range(1, 4):
            passed = False
            for item in _sitting(
                run, office, learner, school, subject_no, book_day, booking_seq, permit
            ):
                if isinstance(item, bool):
                    passed = item
                else:
                    last = item
                    yield item
            exam_date = datetime.fromisoformat(last["action_time"]).date()
            if passed:
                book_day = exam_date
                break
            book_day = exam_date + timedelta(
                days=10 + rng.randrange(0, 6)
            )  # CP-37: ≥10 d after a fail
        else:
            return
        if subject_no == 1:
            permit = exam_date
    yield from _issue(
        run, run.prov.detachments[office.det].vehicle_office, learner, next_workday(book_day)
    )


def _issue(run: Run, office: Office, learner: Person, day: date) -> Iterator[Record]:
    rng = run.rng
    t0 = run.office_start(office, day, span=40)
    w = run.window(office, day)
    if t0 is None or w is None:
        return
    serial = run.serial("3", office.unit_code)
    learner.first_issue = day
    steps = (
        ("accept", 0, w.aux_id),
        ("review", rng.uniform(4, 10), w.police_id),
        ("issue", rng.uniform(3, 8), w.police_id),
    )
    t = t0
    for step, (action, minutes, op) in enumerate(steps, start=1):
        t = run.later(t, minutes, office)
        rec = base(
            run,
            "license_mgmt",
            serial,
            step,
            "license",
            "LIC_ISSUE",
            action,
            t,
            t0,
            office.unit_code,
            op,
        )
        at_window(subject(rec, learner), w)
        rec.update(license_no=learner.id_no, license_holder_id_no=learner.id_no)
        rec["license"] = licence_block(run, learner, safety_education_minutes=rng.randrange(30, 61))
        if action == "issue":
            rec.update(
                completed_at=rec["action_time"],
                document_kind="license_card",
                amount=10.0,
                amount_kind="fee",
                reviewer_id=w.police_id,
            )
            cycle_start, cycle_end = cycle_of(day, day)
            run.ledgers.new_licences.append(
                {
                    "license_no": learner.id_no,
                    "holder_id_no": learner.id_no,
                    "holder_birth_date": learner.birth.isoformat(),
                    "license_class": learner.lic_class,
                    "status": "A",
                    "first_issue_date": day.isoformat(),
                    "cycle_start": cycle_start.isoformat(),
                    "cycle_end": cycle_end.isoformat(),
                    "points": 0,
                    "issuing_province": "52",
                    "detained": False,
                    "effective_from": rec["action_time"],
                    "effective_to": None,
                }
            )
        yield rec
    yield _archive(run, office, learner, serial, len(steps) + 1, "LIC_ISSUE", t0)


def renewal(run: Run, office: Office, day: date) -> Iterator[Record]:
    """期满换证 / 补证 / 换证 at a 车管所 window; one per person in the run (LIC-12 stays quiet)."""
    rng = run.rng
    t0 = run.office_start(office, day, span=30)
    w = run.window(office, day)
    if t0 is None or w is None:
        return
    person = run.fresh_person(office.det)
    btype = rng.choices(("LIC_RENEW", "LIC_REPLACE", "LIC_EXCHANGE", "LIC_AUDIT"), (5, 2, 2, 1))[0]
    serial = run.serial("3", office.unit_code)
    t1 = run.later(t0, rng.uniform(4, 12), office)
    for step, (action, t, op) in enumerate(
        (("accept", t0, w.aux_id), ("issue", t1, w.police_id)), start=1
    ):
        rec = base(
            run, "license_mgmt", serial, step, "license", btype, action, t, t0, office.unit_code, op
        )
        at_window(subject(rec, person), w)
        rec.update(license_no=person.id_no, license_holder_id_no=person.id_no)
        rec["license"] = licence_block(run, person)
        if action == "issue":
            rec.update(completed_at=rec["action_time"], document_kind="license_card")
            if btype != "LIC_AUDIT":
                rec.update(amount=10.0, amount_kind="fee")
        yield rec
    yield _archive(run, office, person, serial, 3, btype, t0)


def study_reduce(run: Run, office: Office, day: date) -> Iterator[Record]:
    """学法减分 online: one round, one point, for someone who has points and is eligible."""
    rng = run.rng
    person = run.fresh_person(office.det)
    points = run.person_points(person.id_no)
    if points <= 0 or person.first_issue is None or (day - person.first_issue).days < 365:
        return
    serial = run.serial("3", office.unit_code)
    start = at(day, rng.uniform(8 * 60, 21 * 60))
    end = start + timedelta(minutes=rng.randrange(35, 70))
    study = {
        "kind": "online",
        "started_at": start.isoformat(),
        "ended_at": end.isoformat(),
        "minutes": int((end - start).total_seconds() // 60),
        "device_id": person.device,
        "ip": person.ip,
        "passed": True,
        "points_reduced": 1,
    }
    for step, (action, t) in enumerate((("accept", start), ("examine", end)), start=1):
        rec = base(
            run,
            "internet_12123",
            serial,
            step,
            "license",
            "LIC_STUDY_REDUCE",
            action,
            t,
            start,
            office.unit_code,
            "SYS:study",
        )
        online(subject(rec, person), person)
        rec.update(license_no=person.id_no, license_holder_id_no=person.id_no)
        after = points - 1 if action == "examine" else points
        rec["license"] = licence_block(
            run, person, points_before=points, points_after=after, study=study
        )
        if action == "examine":
            rec["completed_at"] = rec["action_time"]
            run.points[person.id_no] = points - 1
        yield rec
    yield _archive(run, office, person, serial, 3, "LIC_STUDY_REDUCE", start, online_item=True)


LICENSE_FLOWS = [
    FlowSpec("lic_journey", learner_journey, 2.2, 7.3, "exam_center", "exam"),
    FlowSpec("lic_renewal", renewal, 1.2, 3.0, "vehicle_office", "open"),
    FlowSpec("lic_study", study_reduce, 0.6, 0.75, "vehicle_office", "always"),
]
