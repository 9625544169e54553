"""Violation flows (违法处理): camera records, on-site decisions, seizures, payments."""

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
    online,
    subject,
    vehicle_ids,
)
from auditcage.demo.timeutil import add_working_days, at, hours_on, is_workday

# Illustrative violation codes (5-digit style of the post-2022 table; amounts are a local standard).
# code: (description, points, fine_min, fine_max, standard fine, warning allowed)
CODES: dict[str, tuple[str, int, int, int, int, bool]] = {
    "16250": ("驾驶机动车违反道路交通信号灯通行", 6, 20, 200, 200, False),
    "10390": ("机动车违反规定停放、临时停车且驾驶人不在现场", 0, 20, 200, 150, True),
    "13441": ("超过规定时速未达20%", 0, 20, 200, 50, True),
    "13442": ("超过规定时速20%以上未达50%", 3, 20, 200, 200, False),
    "10461": ("不按导向车道行驶", 1, 20, 200, 100, True),
    "12230": ("驾驶时拨打接听手持电话", 3, 20, 200, 50, False),
    "10440": ("驾驶人未按规定使用安全带", 1, 20, 200, 50, True),
    "10060": ("驾驶机动车未随车携带行驶证", 0, 20, 200, 50, True),
    "17020": ("公路客运车辆载客超过额定乘员百分之二十以上", 6, 1000, 2000, 2000, False),
    "16340": ("造成致人轻微伤或者财产损失的交通事故后逃逸，尚不构成犯罪", 6, 200, 2000, 200, False),
}
# R7's optional categories (catalogue §0.5 item 10), for the codes whose category a rule reads
CATEGORIES: dict[str, list[str]] = {"16250": ["red_light"], "16340": ["hit_and_run"]}


def violation_code_rows() -> list[dict[str, object]]:
    """The scenario's own R7 table (§7.2): written beside the records, it replaces the shipped
    table for this scenario, so the generator never depends on what rules/ ships."""
    return [
        {
            "violation_code": code,
            "description": description,
            "points": points,
            "fine_min": fine_min,
            "fine_max": fine_max,
            "local_standard_fine": standard,
            "fixed_amounts": None,
            "warning_allowed": warning,
            "penalty_extra": [],
            "online_processable": points < 12,
            "vehicle_classes": None,
            **({"categories": CATEGORIES[code]} if code in CATEGORIES else {}),
            "effective_from": "2022-04-01",
            "effective_to": None,
        }
        for code, (description, points, fine_min, fine_max, standard, warning) in CODES.items()
    ]


CAMERA_CODES = (("10390", 5), ("13441", 3), ("16250", 1), ("13442", 2), ("10461", 2))
FIELD_CODES = (("12230", 2), ("10440", 3), ("10461", 2), ("10390", 2))
POINTS_CAP = 9  # normal drivers stay well below 12 (CP-07, CP-43, VIO-05 stay quiet)
WARNING_EVERY = 12  # every 12th eligible decision of an operator is a first-violation warning


def _cumulative(weighted: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    codes, cum, total = [], [], 0
    for code, weight in weighted:
        total += weight
        codes.append(code)
        cum.append(total)
    return codes, cum


_CUM = {id(w): _cumulative(w) for w in (CAMERA_CODES, FIELD_CODES)}


def _code(run: Run, weighted: tuple[tuple[str, int], ...]) -> str:
    codes, cum = _CUM[id(weighted)]
    return run.rng.choices(codes, cum_weights=cum)[0]


def _driver(run: Run, car: Car) -> Person | None:
    owner = run.owner_of(car)
    if car.fleet >= 0:
        return run.pop.by_id.get(run.rng.choice(run.pop.orgs[car.fleet].drivers))
    return run.pop.by_id.get(owner)


def _ids(rec: Record, car: Car, owner: str, driver: Person, code: str) -> Record:
    vehicle_ids(rec, car, owner)
    subject(rec, driver)
    rec.update(license_no=driver.id_no, license_holder_id_no=driver.id_no, violation_code=code)
    return rec


def _block(
    serial: str, source: str, vtime: datetime, unit_code: str, **extra: Any
) -> dict[str, Any]:
    block = {
        "violation_id": serial,
        "source": source,
        "violation_time": vtime.isoformat(),
        "location_code": unit_code[:6],
        "location_text": f"{unit_code[:6]}辖区道路",
    }
    block.update(extra)
    return block


def due_date(delivered: datetime) -> str:
    """The last day to pay: 15 days from the day after delivery (行政处罚法 第67条), moved to the
    next working day when it is not one (民法典 第203条; catalogue §0.2 item 7)."""
    day = delivered.date() + timedelta(days=15)
    while not is_workday(day):
        day += timedelta(days=1)
    return day.isoformat()


def _penalty(
    run: Run, code: str, license_no: str, operator: str
) -> tuple[int, float, list[str], str | None]:
    """(points, fine, penalty kinds, reason) — the statutory points and the local standard fine."""
    _, points, _, _, fine, warning_ok = CODES[code]
    if (
        warning_ok
        and license_no not in run.warned
        and run.tick(f"warn:{operator}") % WARNING_EVERY == 3
    ):
        run.warned.add(license_no)
        return 0, 0.0, ["warning"], "first_violation"
    return points, float(fine), ["fine"], None


def _decision(
    run: Run,
    rec: Record,
    serial: str,
    t: datetime,
    operator: str,
    doc_no: str | None,
    kinds: list[str],
    fine: float,
    points: int,
    delivery: str,
) -> dict[str, Any]:
    rec.update(points=points, amount=fine, amount_kind="fine", completed_at=t.isoformat())
    if doc_no:
        rec.update(document_no=doc_no, document_kind="penalty_decision")
    delivered = t + timedelta(minutes=1) if delivery == "on_spot" else t
    return {
        "decision_no": doc_no or serial,
        "decided_at": t.isoformat(),
        "decided_by": operator,
        "penalty_kinds": kinds,
        "delivered_at": delivered.isoformat(),
        "delivery_method": delivery,
    }


def _delivered(rec: Record, decided: datetime, block: dict[str, Any] | None = None) -> datetime:
    """When the decision of `rec` was delivered (its decision block), else when it was made."""
    decision = (block or rec.get("violation") or {}).get("decision") or {}
    text = decision.get("delivered_at")
    return datetime.fromisoformat(text) if text else decided


def _payment_later(
    run: Run,
    office: Office,
    serial: str,
    step: int,
    rec: Record,
    decided: datetime,
    decision_no: str,
    fine: float,
) -> Iterator[Record]:
    """The fine paid through the bank or online within 15 days, with its R13 bank transaction."""
    rng = run.rng
    if fine <= 0 or rng.random() < 0.08:
        return
    paid = decided + timedelta(days=rng.randrange(0, 11), minutes=rng.randrange(5, 600))
    txn = f"BK{paid:%Y%m%d}{serial[-10:]}"
    pay = base(
        run,
        "payment",
        serial,
        step,
        "violation",
        "VIO_PAYMENT",
        "collect",
        paid,
        decided,
        office.unit_code,
        "SYS:payment",
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
        if key in rec:
            pay[key] = rec[key]
    pay.update(amount=fine, amount_kind="fine", completed_at=paid.isoformat())
    channel = rng.choice(("bank", "online"))
    pay["violation"] = {
        **rec["violation"],
        "payment": {
            "status": "paid",
            "channel": channel,
            "paid_at": paid.isoformat(),
            "bank_txn_id": txn,
            "due_date": due_date(_delivered(rec, decided)),
        },
    }
    pay["violation"].pop("notice", None)
    run.ledgers.bank_ledger.append(
        {
            "bank_txn_id": txn,
            "decision_no": decision_no,
            "amount": fine,
            "paid_on": paid.date().isoformat(),
        }
    )
    yield pay


def camera(run: Run, office: Office, day: date) -> Iterator[Record]:
    """Camera capture → review and entry → notice → processed at a window or online → paid."""
    rng = run.rng
    t_review = run.office_start(office, day, span=20)
    if t_review is None:
        return
    car = run.car(office.det)
    driver = _driver(run, car)
    if driver is None:
        return
    owner = run.owner_of(car)
    code = _code(run, CAMERA_CODES)
    serial = run.serial("5", office.unit_code)
    vtime = at(day - timedelta(days=rng.randrange(1, 6)), rng.uniform(7 * 60, 21 * 60))
    captured = vtime + timedelta(minutes=1)
    pics = [
        {
            "evidence_id": f"{serial}-E{i}",
            "kind": "photo_plate",
            "uri": f"oss://camera/{serial}/{i}.jpg",
            "sha256": identity.hexstr(rng, 256),
            "phash": identity.hexstr(rng, 64),
            "taken_at": (vtime + timedelta(seconds=2 * i)).isoformat(),
            "device_id": f"CAM{office.unit_code[:6]}07",
            "model_standard": False,
        }
        for i in (1, 2)
    ]
    common = {
        "device_id": f"CAM{office.unit_code[:6]}07",
        "captured_at": captured.isoformat(),
        "entered_at": t_review.isoformat(),
        "initial_reviewer_id": office.nonsite_initial,
        "confirmed_by": office.nonsite_reviewer,
    }
    rec = base(
        run,
        "nonsite_review",
        serial,
        1,
        "violation",
        "VIO_NONSITE_REVIEW",
        "review",
        t_review,
        captured,
        office.unit_code,
        office.nonsite_reviewer,
    )
    at_backend(_ids(rec, car, owner, driver, code), office, office.nonsite_reviewer)
    rec.update(evidence=pics, evidence_count=2)
    rec["violation"] = _block(serial, "camera", vtime, office.unit_code, **common)
    yield rec
    t_notice = t_review + timedelta(minutes=rng.randrange(30, 180))
    note = base(
        run,
        "violation",
        serial,
        2,
        "violation",
        "VIO_NOTICE",
        "notify",
        t_notice,
        captured,
        office.unit_code,
        "SYS:notice",
    )
    _ids(note, car, owner, driver, code)
    note["violation"] = _block(
        serial,
        "camera",
        vtime,
        office.unit_code,
        **common,
        published_at=t_notice.isoformat(),
        notified_at=t_notice.isoformat(),
    )
    yield note
    if rng.random() < 0.15:
        return  # not processed (yet)
    points, fine, kinds, reason = _penalty(run, code, driver.id_no, office.unit_code)
    if run.person_points(driver.id_no) + points > POINTS_CAP:
        return
    run.points[driver.id_no] = run.person_points(driver.id_no) + points
    p_day = day + timedelta(days=rng.randrange(2, 20))
    notice = {
        "notified_at": t_notice.isoformat(),
        "proposed_fine": fine,
        "proposed_points": points,
        "statement_recorded": False,
    }
    block = _block(
        serial,
        "camera",
        vtime,
        office.unit_code,
        **common,
        notified_at=t_notice.isoformat(),
        notice=notice,
        license_used=driver.id_no,
    )
    if rng.random() < 0.45 and fine > 0:
        t = at(p_day, rng.uniform(7 * 60, 23 * 60))
        dec = base(
            run,
            "internet_12123",
            serial,
            3,
            "violation",
            "VIO_PROCESS",
            "decide",
            t,
            t,
            office.unit_code,
            "SYS:12123",
        )
        online(_ids(dec, car, owner, driver, code), driver)
        block.update(
            procedure="online_self_service", driver_verify={"method": "realname_app", "score": 0.97}
        )
        block["decision"] = _decision(
            run, dec, serial, t, "SYS:12123", None, kinds, fine, points, "electronic"
        )
        dec["violation"] = block
        yield dec
        yield from _payment_later(run, office, serial, 4, dec, t, serial, fine)
        return
    yield from _at_window(
        run, office, p_day, serial, car, owner, driver, code, block, points, fine, kinds, reason
    )


def _at_window(
    run: Run,
    office: Office,
    day: date,
    serial: str,
    car: Car,
    owner: str,
    driver: Person,
    code: str,
    block: dict[str, Any],
    points: int,
    fine: float,
    kinds: list[str],
    reason: str | None,
    step: int = 3,
) -> Iterator[Record]:
    rng = run.rng
    while not hours_on(office.hours, day):
        day += timedelta(days=1)
    t0 = run.office_start(office, day, span=20)
    w = run.window(office, day)
    if t0 is None or w is None:
        return
    query = base(
        run,
        "violation",
        serial,
        step,
        "violation",
        "VIO_PROCESS",
        "query",
        t0 - timedelta(minutes=1),
        None,
        office.unit_code,
        w.aux_id,
    )
    at_window(_ids(query, car, owner, driver, code), w)
    query["violation"] = block
    yield query
    acc = base(
        run,
        "violation",
        serial,
        step + 1,
        "violation",
        "VIO_PROCESS",
        "accept",
        t0,
        t0,
        office.unit_code,
        w.aux_id,
    )
    at_window(_ids(acc, car, owner, driver, code), w)
    acc["violation"] = block
    yield acc
    t = run.later(t0, rng.uniform(3, 9), office)
    doc_no = run.document(w.police_id, "penalty_decision", office.unit_code, day)
    dec = base(
        run,
        "violation",
        serial,
        step + 2,
        "violation",
        "VIO_PROCESS",
        "decide",
        t,
        t0,
        office.unit_code,
        w.police_id,
    )
    at_window(_ids(dec, car, owner, driver, code), w)
    if reason:
        dec["reason_code"] = reason
    notice = block.get("notice") or {
        "notified_at": (t - timedelta(minutes=2)).isoformat(),
        "proposed_fine": fine,
        "proposed_points": points,
        "statement_recorded": False,
    }
    dec["violation"] = {
        **block,
        "procedure": "simple",
        "notice": notice,
        "driver_verify": {"method": "face", "score": round(rng.uniform(0.88, 0.99), 3)},
        "decision": _decision(
            run, dec, serial, t, w.police_id, doc_no, kinds, fine, points, "on_spot"
        ),
    }
    dec["violation"]["payment"] = {"status": "unpaid", "due_date": due_date(_delivered(dec, t))}
    yield dec
    yield from _payment_later(run, office, serial, step + 3, dec, t, doc_no, fine)


def _field_time(run: Run, office: Office, day: date) -> tuple[str, datetime] | None:
    on_duty = [s for s in office.field_officers if run.prov.field_on_duty(s, day)]
    if not on_duty:
        return None
    return run.rng.choice(on_duty), at(day, run.rng.uniform(8 * 60, 19 * 60))


def field(run: Run, office: Office, day: date) -> Iterator[Record]:
    """An on-site summary decision by a police officer, filed with the unit, paid later or in
    cash."""
    rng = run.rng
    duty = _field_time(run, office, day)
    car = run.car(office.det)
    driver = _driver(run, car)
    if duty is None or driver is None:
        return
    officer, t = duty
    owner = run.owner_of(car)
    code = _code(run, FIELD_CODES)
    points, fine, kinds, reason = _penalty(run, code, driver.id_no, officer)
    if run.person_points(driver.id_no) + points > POINTS_CAP:
        return
    run.points[driver.id_no] = run.person_points(driver.id_no) + points
    serial = run.serial("5", office.unit_code)
    doc_no = run.document(officer, "penalty_decision", office.unit_code, day)
    dec = base(
        run,
        "violation",
        serial,
        1,
        "violation",
        "VIO_PROCESS",
        "decide",
        t,
        t,
        office.unit_code,
        officer,
    )
    dec.update(
        channel="field",
        terminal_id=office.pda[officer],
        bodycam_refs=[run.bodycam(officer, t, evidence=True)],
    )
    _ids(dec, car, owner, driver, code)
    if reason:
        dec["reason_code"] = reason
    lat, lon = (
        run.prov.inspection_sites[office.det]["lat"],
        run.prov.inspection_sites[office.det]["lon"],
    )
    dec["gps"] = {
        "lat": round(lat + rng.uniform(-0.05, 0.05), 6),
        "lon": round(lon + rng.uniform(-0.05, 0.05), 6),
        "accuracy_m": 15,
        "datum": "WGS84",
    }
    block = _block(
        serial,
        "on_site",
        t - timedelta(minutes=3),
        office.unit_code,
        procedure="simple",
        notice={
            "notified_at": t.isoformat(),
            "proposed_fine": fine,
            "proposed_points": points,
            "statement_recorded": False,
        },
        license_used=driver.id_no,
        driver_verify={"method": "id_card", "score": None},
    )
    block["decision"] = _decision(
        run, dec, serial, t, officer, doc_no, kinds, fine, points, "on_spot"
    )
    block["payment"] = {"status": "unpaid", "due_date": due_date(_delivered(dec, t, block))}
    dec["violation"] = block
    yield dec
    filed_day = add_working_days(day, 1)
    t_file = at(filed_day, rng.uniform(9 * 60, 11 * 60))
    filing = base(
        run,
        "violation",
        serial,
        2,
        "violation",
        "VIO_PROCESS",
        "review",
        t_file,
        t,
        office.unit_code,
        office.legal_reviewer,
    )
    at_backend(_ids(filing, car, owner, driver, code), office, office.legal_reviewer)
    filing["violation"] = {
        **block,
        "decision": {**block["decision"], "filed_at": t_file.isoformat()},
    }
    if 0 < fine <= 100 and rng.random() < 0.2:
        later = list(_cash(run, office, serial, dec, t, officer, fine))
    else:
        later = list(_payment_later(run, office, serial, 3, dec, t, doc_no, fine))
    yield from sorted([filing, *later], key=lambda r: r["action_time"])  # payment may come first


def _remit_time(run: Run, officer: str, paid: datetime) -> datetime:
    """The officer hands the cash to the unit on his next duty day within the two working days
    the law allows (行政处罚法 第71条), or at the end of the same shift when he is off on both."""
    for n in (1, 2):
        day = add_working_days(paid.date(), n)
        if run.prov.field_on_duty(officer, day):
            return at(day, run.rng.uniform(9 * 60, 11 * 60))
    return max(paid + timedelta(minutes=15), at(paid.date(), 18 * 60 + 40))  # shift ends 19:30


def _cash(
    run: Run, office: Office, serial: str, dec: Record, t: datetime, officer: str, fine: float
):
    """当场收缴: a stock receipt; remitted, then deposited, one working day each."""
    rng = run.rng
    receipt = run.document(officer, "fine_receipt", office.unit_code, t.date())
    paid = t + timedelta(minutes=2)
    remitted = _remit_time(run, officer, paid)
    deposited = at(add_working_days(remitted.date(), 1), rng.uniform(9 * 60, 11 * 60))
    txn = f"BK{deposited:%Y%m%d}{serial[-10:]}"
    payment = {
        "status": "paid",
        "channel": "on_spot",
        "receipt_no": receipt,
        "paid_at": paid.isoformat(),
        "due_date": due_date(_delivered(dec, t)),
    }
    steps = (
        ("collect", paid, officer, {}),
        ("remit", remitted, officer, {"remitted_at": remitted.isoformat()}),
        (
            "remit",
            deposited,
            office.legal_reviewer,
            {
                "remitted_at": remitted.isoformat(),
                "deposited_at": deposited.isoformat(),
                "bank_txn_id": txn,
            },
        ),
    )
    for step, (action, when, op, extra) in enumerate(steps, start=3):
        rec = base(
            run,
            "payment",
            serial,
            step,
            "violation",
            "VIO_PAYMENT",
            action,
            when,
            t,
            office.unit_code,
            op,
        )
        if action == "collect":
            rec.update(
                channel="field",
                terminal_id=office.pda[officer],
                document_no=receipt,
                document_kind="fine_receipt",
            )
        elif op == office.legal_reviewer:
            at_backend(rec, office, op)
        else:
            rec["channel"] = "mobile_police"
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
            rec[key] = dec[key]
        rec.update(amount=fine, amount_kind="fine")
        rec["violation"] = {**dec["violation"], "payment": {**payment, **extra}}
        yield rec
    run.ledgers.bank_ledger.append(
        {
            "bank_txn_id": txn,
            "decision_no": dec["document_no"],
            "amount": fine,
            "paid_on": deposited.date().isoformat(),
        }
    )


def seizure(run: Run, office: Office, day: date) -> Iterator[Record]:
    """扣留机动车 (no 行驶证) → documents brought in → decision → release with approval."""
    rng = run.rng
    duty = _field_time(run, office, day)
    car = run.fresh_car(office.det)
    if duty is None or car is None:
        return
    driver = _driver(run, car)
    if driver is None:
        return
    officer, t = duty
    owner = run.owner_of(car)
    code = "10060"
    serial = run.serial("5", office.unit_code)
    voucher = run.document(officer, "measure_voucher", office.unit_code, day)
    head = office.approvers[0]
    lot = f"TCC{office.unit_code[:6]}01"
    reported = t + timedelta(minutes=rng.randrange(40, 180))
    measure = {
        "type": "seize_vehicle",
        "voucher_no": voucher,
        "measured_at": t.isoformat(),
        "reported_at": reported.isoformat(),
        "approved_by": head,
        "approved_at": reported.isoformat(),
        "signed_by_party": "yes",
        "parking_lot_id": lot,
        "lot_in_at": (t + timedelta(minutes=50)).isoformat(),
    }
    seize = base(
        run,
        "violation",
        serial,
        1,
        "violation",
        "VIO_MEASURE",
        "seize",
        t,
        t,
        office.unit_code,
        officer,
    )
    seize.update(
        channel="field",
        terminal_id=office.pda[officer],
        document_no=voucher,
        document_kind="measure_voucher",
        bodycam_refs=[run.bodycam(officer, t, evidence=True)],
    )
    _ids(seize, car, owner, driver, code)
    block = _block(
        serial,
        "on_site",
        t - timedelta(minutes=5),
        office.unit_code,
        measure=measure,
        license_used=driver.id_no,
        procedure="simple",
    )
    seize["violation"] = block
    yield seize
    docs_day = add_working_days(day, rng.randrange(1, 4))
    recs = list(
        _at_window(
            run,
            office,
            docs_day,
            serial,
            car,
            owner,
            driver,
            code,
            block,
            0,
            50.0,
            ["fine"],
            None,
            step=2,
        )
    )
    if not recs:
        return
    # The party brings the missing documents to the window (the first step of the visit), then
    # accepts processing: the documents are submitted before the decision, never after it.
    measure = {**measure, "docs_submitted_at": recs[0]["action_time"]}
    for r in recs:
        r["violation"] = {**r["violation"], "measure": measure}
    payment = [r for r in recs if r["action"] == "collect"]
    recs = [r for r in recs if r["action"] != "collect"]
    yield from recs
    if not recs or recs[-1]["action"] != "decide":
        return
    decided = datetime.fromisoformat(recs[-1]["action_time"])
    w_id = recs[-1]["window_id"]
    window = next(x for x in office.windows if x.window_id == w_id)
    release = _release(run, office, serial, recs[-1], decided, window, head, lot)
    yield from sorted([release, *payment], key=lambda r: r["action_time"])


def _release(
    run: Run,
    office: Office,
    serial: str,
    dec: Record,
    decided: datetime,
    w: Window,
    head: str,
    lot: str,
) -> Record:
    t = run.later(decided, run.rng.uniform(5, 15), office)
    rel = base(
        run,
        "violation",
        serial,
        6,
        "violation",
        "VIO_RELEASE",
        "release",
        t,
        decided,
        office.unit_code,
        w.police_id,
    )
    at_window(rel, w)
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
        rel[key] = dec[key]
    approval = f"SP{office.unit_code[:6]}{serial[-8:]}"
    rel.update(
        reason_code="docs_verified",
        approver_id=head,
        approval_no=approval,
        related_serial_no=serial,
        completed_at=t.isoformat(),
    )
    rel["violation"] = {
        **dec["violation"],
        "release": {
            "released_at": t.isoformat(),
            "released_by": w.police_id,
            "approval_no": approval,
            "docs": ["行驶证", "处罚决定书"],
        },
    }
    run.ledgers.parking_ledger.append(
        {
            "plate_no": dec["plate_no"],
            "lot_id": lot,
            "in_at": dec["violation"]["measure"]["lot_in_at"],
            "out_at": (t + timedelta(minutes=run.rng.randrange(15, 80))).isoformat(),
            "released_by": w.police_id,
        }
    )
    return rel


VIOLATION_FLOWS = [
    FlowSpec("vio_camera", camera, 4.0, 4.5, "brigade", "workday"),
    FlowSpec("vio_field", field, 1.4, 3.0, "brigade", "always"),
    FlowSpec("vio_seizure", seizure, 0.15, 6.0, "brigade", "always"),
]
