"""Accident flows (事故): summary cases on the spot, online fast settlement, general cases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo import identity
from auditcage.demo.population import Car, Person
from auditcage.demo.province import Office
from auditcage.demo.records import (
    STRIDE,
    FlowSpec,
    Record,
    Run,
    at_backend,
    base,
    online,
    subject,
    vehicle_ids,
)
from auditcage.demo.timeutil import add_working_days, at, is_workday

NO_CRIME = {
    "dui": False,
    "drugs": False,
    "unlicensed": False,
    "hit_and_run": False,
    "hazmat": False,
    "other": False,
}


def _party(
    run: Run, seq: int, car: Car, person: Person, t: datetime, liability: str
) -> dict[str, Any]:
    return {
        "seq": seq,
        "role": "driver",
        "id_no": person.id_no,
        "license_no": person.id_no,
        "plate_no": car.plate,
        "phone": person.phone,
        "liability": liability,
        "alcohol_test": {
            "done": True,
            "tested_at": (t + timedelta(minutes=20)).isoformat(),
            "result_mg_100ml": 0,
        },
    }


def _road_user(run: Run, det: int) -> Car:
    """A vehicle of the detachment for an accident, passing over vehicles and owners already in
    an accident of this run.

    Drawing at random from a small demo pool makes the same driver crash again within weeks
    (and meet the same officer) far more often than on real roads; repeat parties are what
    ACC-05 and ACC-06 look for, so the normal flows give each vehicle and owner one accident.
    The draw keeps using one random number, so the rest of the stream is unchanged.
    """
    pool = run.pop.cars_by_det[det]
    first = run.rng.randrange(len(pool))
    car = run.pop.cars[pool[first]]
    for k in range(min(len(pool), 40)):  # a bounded search: in a big scenario repeats can occur
        car = run.pop.cars[pool[(first + k * STRIDE) % len(pool)]]
        fresh_car = run.tick(f"accident_vin:{car.vin}") == 0
        if fresh_car and run.tick(f"accident_party:{run.owner_of(car)}") == 0:
            return car
    return car


def _parties(
    run: Run, office: Office, t: datetime
) -> tuple[list[dict[str, Any]], Car, str, Person] | None:
    cars = [_road_user(run, office.det), _road_user(run, office.det)]
    people = [run.pop.by_id.get(run.owner_of(c)) for c in cars]
    if None in people or cars[0].vin == cars[1].vin:
        return None
    liabilities = run.rng.choice((("full", "none"), ("main", "secondary"), ("equal", "equal")))
    parties = [
        _party(run, i + 1, c, p, t, li)
        for i, (c, p, li) in enumerate(zip(cars, people, liabilities, strict=True))
    ]
    return parties, cars[0], run.owner_of(cars[0]), people[0]  # type: ignore[return-value]


def _duty(run: Run, officers: list[str], when: datetime) -> tuple[str, datetime]:
    """The same clock time on the next working day on which one of the case's investigators is
    on duty (R3: backend work only on duty), and that officer.

    The lead comes first; when he is off or on leave the second investigator takes the step, as
    a real team does, so that a week of leave does not push a statutory deadline (CP-23, CP-25).
    """
    while True:
        if is_workday(when.date()):
            for officer in officers:
                if run.prov.field_on_duty(officer, when.date()):
                    return officer, when
        when += timedelta(days=1)


def _rec(
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
    person: Person,
    block: dict[str, Any],
) -> Record:
    rec = base(
        run,
        "accident",
        serial,
        step,
        "accident",
        btype,
        action,
        t,
        accepted,
        office.unit_code,
        operator,
    )
    subject(rec, person)
    vehicle_ids(rec, car, owner)
    rec["case_no"] = serial
    rec["accident"] = dict(block)
    return rec


def simple_case(run: Run, office: Office, day: date) -> Iterator[Record]:
    """简易程序: one officer; determination delivered on the spot; closed, archived."""
    rng = run.rng
    on_duty = [s for s in office.accident_officers if run.prov.field_on_duty(s, day)]
    if not on_duty:
        return
    officer = rng.choice(on_duty)
    reported = at(day, rng.uniform(8 * 60, 18 * 60))
    drawn = _parties(run, office, reported)
    if drawn is None:
        return
    parties, car, owner, person = drawn
    serial = run.serial("7", office.unit_code)
    scene_start = reported + timedelta(minutes=rng.randrange(8, 25))
    scene_end = scene_start + timedelta(minutes=rng.randrange(10, 30))
    block: dict[str, Any] = {
        "accident_no": serial,
        "procedure": "simple",
        "report_mode": "on_scene",
        "reported_at": reported.isoformat(),
        "deaths": 0,
        "injured_serious": 0,
        "injured_minor": 0,
        "property_damage_only": True,
        "consent_simple": True,
        "crime_flags": NO_CRIME,
        "complex_case": False,
        "officers": [officer],
        "parties": parties,
    }
    yield _rec(
        run,
        office,
        serial,
        1,
        "ACC_REPORT",
        "accept",
        reported,
        reported,
        "SYS:122",
        car,
        owner,
        person,
        block,
    )
    block |= {"scene_started_at": scene_start.isoformat(), "scene_ended_at": scene_end.isoformat()}
    clip = run.bodycam(officer, scene_end, evidence=True)
    scene = _rec(
        run,
        office,
        serial,
        2,
        "ACC_SCENE",
        "inspect",
        scene_end,
        reported,
        officer,
        car,
        owner,
        person,
        block,
    )
    scene.update(
        channel="field",
        terminal_id=office.pda[officer],
        bodycam_refs=[clip],
        evidence=_photos(run, serial, scene_start, 3),
        evidence_count=3,
    )
    yield scene
    made = scene_end + timedelta(minutes=rng.randrange(3, 10))
    block |= {
        "determination": {
            "type": "simple",
            "made_at": made.isoformat(),
            "delivered_at": made.isoformat(),
            "rights_notified": True,
        }
    }
    dec = _rec(
        run,
        office,
        serial,
        3,
        "ACC_DETERMINATION",
        "decide",
        made,
        reported,
        officer,
        car,
        owner,
        person,
        block,
    )
    dec.update(
        channel="field",
        terminal_id=office.pda[officer],
        bodycam_refs=[run.bodycam(officer, made, evidence=True)],
        document_kind="determination",
        document_no=f"JY{serial}",
    )
    yield dec
    closed = made + timedelta(minutes=rng.randrange(2, 8))
    block |= {"closed_at": closed.isoformat()}
    close = _rec(
        run,
        office,
        serial,
        4,
        "ACC_CLOSE",
        "close",
        closed,
        reported,
        officer,
        car,
        owner,
        person,
        block,
    )
    close.update(channel="field", terminal_id=office.pda[officer], completed_at=closed.isoformat())
    yield close
    yield from _archive(run, office, serial, 5, closed, reported, car, owner, person, block)


def _archive(
    run: Run,
    office: Office,
    serial: str,
    step: int,
    closed: datetime,
    reported: datetime,
    car: Car,
    owner: str,
    person: Person,
    block: dict[str, Any],
) -> Iterator[Record]:
    when = at(
        add_working_days(closed.date(), run.rng.randrange(1, 6)),
        run.rng.uniform(9 * 60, 11 * 60 + 30),
    )
    block = block | {"archived_at": when.isoformat()}
    rec = _rec(
        run,
        office,
        serial,
        step,
        "ACC_CLOSE",
        "archive",
        when,
        reported,
        office.supervision,
        car,
        owner,
        person,
        block,
    )
    yield at_backend(rec, office, office.supervision)


def _photos(run: Run, serial: str, t: datetime, n: int) -> list[dict[str, Any]]:
    rng = run.rng
    return [
        {
            "evidence_id": f"{serial}-S{i}",
            "kind": "photo_scene",
            "uri": f"oss://accident/{serial}/{i}.jpg",
            "sha256": identity.hexstr(rng, 256),
            "phash": identity.hexstr(rng, 64),
            "taken_at": (t + timedelta(seconds=40 * i)).isoformat(),
            "model_standard": False,
        }
        for i in range(1, n + 1)
    ]


def fast_online(run: Run, office: Office, day: date) -> Iterator[Record]:
    """快处快赔: the parties report through 12123, an officer confirms liability online."""
    rng = run.rng
    t0 = run.office_start(office, day, span=40)
    if t0 is None:
        return
    drawn = _parties(run, office, t0)
    if drawn is None:
        return
    parties, car, owner, person = drawn
    on_duty = [s for s in office.accident_officers if run.prov.field_on_duty(s, day)]
    if not on_duty:
        return
    officer = rng.choice(on_duty)
    serial = run.serial("7", office.unit_code)
    block: dict[str, Any] = {
        "accident_no": serial,
        "procedure": "fast_online",
        "report_mode": "on_scene",
        "reported_at": t0.isoformat(),
        "deaths": 0,
        "injured_serious": 0,
        "injured_minor": 0,
        "property_damage_only": True,
        "consent_simple": True,
        "crime_flags": NO_CRIME,
        "complex_case": False,
        "officers": [officer],
        "parties": parties,
    }
    rec = _rec(
        run, office, serial, 1, "ACC_FAST", "accept", t0, t0, "SYS:12123", car, owner, person, block
    )
    rec.update(evidence=_photos(run, serial, t0 - timedelta(minutes=5), 4), evidence_count=4)
    yield online(rec, person)
    made = run.later(t0, rng.uniform(10, 30), office)
    block |= {
        "determination": {
            "type": "simple",
            "made_at": made.isoformat(),
            "delivered_at": made.isoformat(),
            "rights_notified": True,
        },
        "closed_at": made.isoformat(),
    }
    dec = _rec(
        run, office, serial, 2, "ACC_FAST", "decide", made, t0, officer, car, owner, person, block
    )
    yield at_backend(dec, office, officer)
    close = _rec(
        run,
        office,
        serial,
        3,
        "ACC_FAST",
        "close",
        made + timedelta(minutes=1),
        t0,
        "SYS:12123",
        car,
        owner,
        person,
        block,
    )
    close["completed_at"] = close["action_time"]
    yield close


def general_case(run: Run, office: Office, day: date) -> Iterator[Record]:
    """一般程序 with injuries: two officers, appraisal, determination, delivery, close."""
    rng = run.rng
    on_duty = [s for s in office.accident_officers if run.prov.field_on_duty(s, day)]
    if len(on_duty) < 2:
        return
    officers = rng.sample(on_duty, 2)
    reported = at(day, rng.uniform(8 * 60, 17 * 60))
    drawn = _parties(run, office, reported)
    if drawn is None:
        return
    parties, car, owner, person = drawn
    serial = run.serial("7", office.unit_code)
    scene_start = reported + timedelta(minutes=rng.randrange(8, 25))
    scene_end = scene_start + timedelta(minutes=rng.randrange(50, 110))
    block: dict[str, Any] = {
        "accident_no": serial,
        "procedure": "general",
        "report_mode": "on_scene",
        "reported_at": reported.isoformat(),
        "deaths": 0,
        "injured_serious": rng.choice((0, 1)),
        "injured_minor": rng.randrange(1, 3),
        "property_damage_only": False,
        "consent_simple": False,
        "crime_flags": NO_CRIME,
        "complex_case": False,
        "officers": officers,
        "parties": parties,
    }
    yield _rec(
        run,
        office,
        serial,
        1,
        "ACC_REPORT",
        "accept",
        reported,
        reported,
        "SYS:122",
        car,
        owner,
        person,
        block,
    )
    block |= {
        "scene_started_at": scene_start.isoformat(),
        "scene_ended_at": scene_end.isoformat(),
        "scene_diagram_ref": f"oss://accident/{serial}/diagram.pdf",
        "survey_record_ref": f"oss://accident/{serial}/survey.pdf",
    }
    scene = _rec(
        run,
        office,
        serial,
        2,
        "ACC_SCENE",
        "inspect",
        scene_end,
        reported,
        officers[0],
        car,
        owner,
        person,
        block,
    )
    scene.update(
        channel="field",
        terminal_id=office.pda[officers[0]],
        evidence=_photos(run, serial, scene_start, 8),
        evidence_count=8,
        bodycam_refs=[run.bodycam(officers[0], scene_end, evidence=True)],
    )
    yield scene
    agencies = [
        a
        for a in run.pop.agencies
        if a["region_unit_code"][:4] == office.unit_code[:4] and a["qualified"]
    ]
    agency = agencies[run.tick(f"agency:{office.unit_code}") % len(agencies)]["agency_id"]
    commissioner, commissioned = _duty(
        run,
        officers,
        at(add_working_days(scene_end.date(), rng.randrange(1, 3)), rng.uniform(540, 660)),
    )
    result = at(
        add_working_days(commissioned.date(), rng.randrange(4, 10)), rng.uniform(9 * 60, 16 * 60)
    )
    confirmer, confirmed = _duty(
        run, officers, at(add_working_days(result.date(), 1), rng.uniform(9 * 60, 11 * 60))
    )
    appraisal = {
        "kind": "vehicle",
        "commissioned_at": commissioned.isoformat(),
        "agency_id": agency,
        "agreed_days": 20,
        "superior_approval_no": None,
    }
    block |= {"appraisals": [appraisal]}
    yield at_backend(
        _rec(
            run,
            office,
            serial,
            3,
            "ACC_APPRAISAL",
            "accept",
            commissioned,
            reported,
            commissioner,
            car,
            owner,
            person,
            block,
        ),
        office,
        commissioner,
    )
    appraisal = appraisal | {
        "result_at": result.isoformat(),
        "served_at": result.isoformat(),
        "confirmed_at": confirmed.isoformat(),
    }
    block |= {"appraisals": [appraisal]}
    yield at_backend(
        _rec(
            run,
            office,
            serial,
            4,
            "ACC_APPRAISAL",
            "review",
            confirmed,
            reported,
            confirmer,
            car,
            owner,
            person,
            block,
        ),
        office,
        confirmer,
    )
    maker, made = _duty(
        run,
        officers,
        at(add_working_days(confirmed.date(), rng.randrange(1, 3)), rng.uniform(540, 660)),
    )
    block |= {
        "determination": {
            "type": "determination",
            "made_at": made.isoformat(),
            "rights_notified": True,
        }
    }
    dec = _rec(
        run,
        office,
        serial,
        5,
        "ACC_DETERMINATION",
        "decide",
        made,
        reported,
        maker,
        car,
        owner,
        person,
        block,
    )
    dec.update(
        approver_id=office.approvers[0], document_kind="determination", document_no=f"RD{serial}"
    )
    yield at_backend(dec, office, maker)
    delivered = made + timedelta(hours=rng.randrange(1, 5))
    block |= {"determination": block["determination"] | {"delivered_at": delivered.isoformat()}}
    deliver = _rec(
        run,
        office,
        serial,
        6,
        "ACC_DETERMINATION",
        "deliver",
        delivered,
        reported,
        maker,
        car,
        owner,
        person,
        block,
    )
    yield at_backend(deliver, office, maker)
    closer, closed = _duty(
        run,
        officers,
        at(add_working_days(delivered.date(), rng.randrange(3, 10)), rng.uniform(540, 960)),
    )
    block |= {
        "mediation": {
            "requested_at": delivered.isoformat(),
            "notified_at": delivered.isoformat(),
            "concluded_at": closed.isoformat(),
            "outcome": "agreement",
        },
        "closed_at": closed.isoformat(),
    }
    close = _rec(
        run,
        office,
        serial,
        7,
        "ACC_CLOSE",
        "close",
        closed,
        reported,
        closer,
        car,
        owner,
        person,
        block,
    )
    close["completed_at"] = close["action_time"]
    yield at_backend(close, office, closer)
    yield from _archive(run, office, serial, 8, closed, reported, car, owner, person, block)


ACCIDENT_FLOWS = [
    FlowSpec("acc_simple", simple_case, 0.6, 5.0, "brigade", "always"),
    FlowSpec("acc_fast", fast_online, 0.5, 3.0, "brigade", "open"),
    FlowSpec("acc_general", general_case, 0.15, 6.5, "brigade", "always"),
]
