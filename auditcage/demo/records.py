"""The streaming generator: business flows scheduled day by day, in event-time order per day.

A flow is a generator of records for one business item (one `serial_no`), in time order. Flows that
span days (a camera violation processed a week later, an accident case) are parked on a heap and
resumed on the day of their next record, so only the items in flight are held in memory, never
the whole stream. Records of one day are sorted by `action_time` before they are yielded.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo.population import (
    Car,
    Person,
    Population,
    car_row,
    make_car,
    make_person,
    person_licence_row,
)
from auditcage.demo.province import Office, Staff, Window, World
from auditcage.demo.timeutil import TZ, at, hours_on, is_workday

Record = dict[str, Any]
Flow = Callable[["Run", Office, date], Iterator[Record]]

DOC_KIND_DIGIT = {"penalty_decision": "1", "measure_voucher": "2", "fine_receipt": "3"}
STRIDE = 7919  # a prime: stepping through a pool by it visits every member once per cycle
DOC_BLOCK = 50  # numbers per R13 document-stock row


@dataclass(frozen=True)
class FlowSpec:
    name: str
    fn: Flow
    weight: float  # business items per office-day before scaling
    recs: float  # records per item, for calibrating the volume
    where: str  # office kind
    when: str  # open / exam / always / workday


@dataclass
class Ledgers:
    """Reference rows that follow from the records (R12 versions, R13 ledgers)."""

    vehicle_changes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    new_vehicles: list[dict[str, Any]] = field(default_factory=list)
    new_licences: list[dict[str, Any]] = field(default_factory=list)
    bank_ledger: list[dict[str, Any]] = field(default_factory=list)
    inspection_reports: list[dict[str, Any]] = field(default_factory=list)
    parking_ledger: list[dict[str, Any]] = field(default_factory=list)
    bodycam: dict[tuple[str, str, int], dict[str, Any]] = field(default_factory=dict)
    stock_rows: list[dict[str, Any]] = field(default_factory=list)
    stock_open: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def close(self) -> None:
        for (staff_id, kind), block in sorted(self.stock_open.items()):
            self.stock_rows.append(_stock_row(staff_id, kind, block))
        self.stock_open.clear()


def _stock_row(staff_id: str, kind: str, block: list[Any]) -> dict[str, Any]:
    first, last, issued_on, prefix = block
    return {
        "document_kind": kind,
        "number_from": f"{prefix}{first:05d}",
        "number_to": f"{prefix}{last:05d}",
        "staff_id": staff_id,
        "issued_on": issued_on,
    }


class Run:
    """The mutable state of one pass over the period; a new Run replays the same stream."""

    def __init__(self, prov: World, pop: Population, *, seed: int, scale_items: float) -> None:
        self.prov = prov
        self.pop = pop
        self.rng = random.Random(f"records:{seed}")
        self.scale_items = scale_items
        self.ledgers = Ledgers()
        self.owner: dict[str, str] = {}  # vin → owner after a transfer in this run
        self.points: dict[str, int] = {}  # licence → cumulative points in this run
        self.counters: dict[str, int] = {}
        self.doc_next: dict[tuple[str, str], int] = {}
        self.doc_start = 1
        self.signers: dict[str, tuple[str, str | None]] = {}  # operator → (role, certificate)
        self.person_cursor = 0
        self.person_steps = 0
        self.car_steps: dict[int, int] = {}
        self.buyer_cursor = 0
        self.busy: dict[str, datetime] = {}  # inspector / examiner → free again at
        self.new_plates: set[str] = set()
        self.warned: set[str] = set()  # licences that had a first-violation warning
        self._windows: dict[tuple[str, date], list[Window]] = {}
        self._iso: tuple[datetime | None, str] = (None, "")
        self.day = prov.start
        self.seq = 0
        self.day_tag = ""

    # ---- identities -------------------------------------------------------------------------
    def serial(self, prefix: str, unit_code: str) -> str:
        self.seq += 1
        return f"{prefix}{unit_code[:6]}{self.day_tag}{self.seq:06d}"

    def staff(self, staff_id: str) -> Staff:
        return self.prov.staff[staff_id]

    def owner_of(self, car: Car) -> str:
        return self.owner.get(car.vin, car.owner)

    def person_points(self, license_no: str) -> int:
        if license_no in self.points:
            return self.points[license_no]
        person = self.pop.by_id.get(license_no)
        return person.points if person else 0

    def tick(self, key: str) -> int:
        n = self.counters.get(key, 0)
        self.counters[key] = n + 1
        return n

    def fresh_person(self, det: int | None = None) -> Person:
        """A pool person not yet given a one-off business (renewal, study, …) in this run.

        People are taken in a fixed stride through the pool; once it is used up, new residents
        are minted (with their R12 licence), so a one-off business never repeats for anyone.
        """
        people = self.pop.people
        if self.person_steps < len(people):
            self.person_steps += 1
            self.person_cursor = (self.person_cursor + STRIDE) % len(people)
            return people[self.person_cursor]
        person = make_person(self.rng, self.prov.start, det=det if det is not None else 0)
        self.ledgers.new_licences.append(person_licence_row(person, self.prov.start))
        return person

    def car(self, det: int) -> Car:
        pool = self.pop.cars_by_det[det]
        return self.pop.cars[pool[self.rng.randrange(len(pool))]]

    def fresh_car(self, det: int, *, private: bool = True) -> Car | None:
        """A window-business vehicle not yet given a one-off business (transfer, …) in this run.

        Like fresh_person: a stride through the detachment's pool, then newly minted vehicles
        that were registered before the period (their R12 rows go to the ledgers).
        """
        pool = self.pop.admin_by_det[det]
        steps = self.car_steps.get(det, 0)
        if steps < len(pool):
            self.car_steps[det] = steps + 1
            return self.pop.cars[pool[(steps * STRIDE) % len(pool)]]
        owner = self.fresh_person(det)
        car = make_car(self.rng, self.prov.start, owner.id_no, "resident_id", det, set())
        car.plate = self.new_plate(det)
        self.ledgers.new_vehicles.append(
            car_row(car, self.prov.detachments[det].vehicle_office.unit_code)
        )
        return car

    def new_plate(self, det: int) -> str:
        from auditcage.demo.population import new_plate

        while True:
            value = new_plate(self.rng, det, self.new_plates)
            if value not in self.pop.plates:
                return value

    def buyer(self) -> Person:
        """New owners in turn, so that nobody acquires many vehicles by chance (VEH-08)."""
        people = self.pop.people
        self.buyer_cursor = (self.buyer_cursor + 7919) % len(people)
        return people[self.buyer_cursor]

    # ---- staff on duty ----------------------------------------------------------------------
    def window(self, office: Office, day: date) -> Window | None:
        key = (office.unit_code, day)
        ok = self._windows.get(key)
        if ok is None:
            away = self.prov.leave.get(day, ())
            ok = [w for w in office.windows if w.police_id not in away and w.aux_id not in away]
            self._windows[key] = ok
        if not ok:
            return None
        # The first window of a unit is its busiest (the violation/transfer window), so that some
        # operators reach the monthly samples of the rate rules (n ≥ 30) even in small scenarios.
        x = self.rng.random()
        return ok[0] if x < 0.5 else ok[int((x - 0.5) * 2 * len(ok))]

    def pick(self, staff_ids: list[str], day: date, *, exclude: tuple[str, ...] = ()) -> str:
        away = self.prov.leave.get(day, ())
        ok = [s for s in staff_ids if s not in exclude and s not in away]
        return self.rng.choice(ok or [s for s in staff_ids if s not in exclude] or staff_ids)

    # ---- times ------------------------------------------------------------------------------
    def office_start(self, office: Office, day: date, *, span: int = 90) -> datetime | None:
        """A start time inside opening hours leaving `span` minutes for the remaining steps."""
        intervals = hours_on(office.hours, day)
        if not intervals:
            return None
        a, b = self.rng.choice(intervals)
        latest = max(a + 5, b - span)
        return at(day, self.rng.uniform(a + 5, latest if latest > a + 5 else a + 6))

    def later(self, t: datetime, minutes: float, office: Office) -> datetime:
        """`t` plus some minutes, skipping the lunch break of the office."""
        out = t + timedelta(seconds=int(minutes * 60))
        minute = out.hour * 60 + out.minute
        intervals = hours_on(office.hours, out.date())
        if intervals and len(intervals) > 1 and intervals[0][1] <= minute < intervals[1][0]:
            out += timedelta(minutes=intervals[1][0] - intervals[0][1])
        return out

    # ---- ledgers ----------------------------------------------------------------------------
    def bodycam(self, staff_id: str, t: datetime, *, evidence: bool = False) -> str:
        block = t.hour // 2
        key = (staff_id, t.date().isoformat(), block)
        row = self.ledgers.bodycam.get(key)
        if row is None:
            begin = datetime(t.year, t.month, t.day, block * 2, tzinfo=TZ) - timedelta(minutes=10)
            end = begin + timedelta(minutes=140)
            row = {
                "clip_id": f"BC-{staff_id}-{t:%Y%m%d}-{block:02d}",
                "device_id": f"BCD-{staff_id}",
                "staff_id": staff_id,
                "started_at": begin.isoformat(),
                "ended_at": end.isoformat(),
                "uploaded_at": (end + timedelta(minutes=self.rng.randrange(30, 600))).isoformat(),
                "retention_class": "normal",
                "deleted_at": None,
            }
            self.ledgers.bodycam[key] = row
        if evidence:
            row["retention_class"] = "evidence"
        return row["clip_id"]

    def document(self, staff_id: str, kind: str, unit_code: str, day: date) -> str:
        key = (staff_id, kind)
        n = self.doc_next.get(key, self.doc_start)
        self.doc_next[key] = n + 1
        digits = "".join(c for c in staff_id if c.isdigit())
        prefix = f"{unit_code[:6]}{DOC_KIND_DIGIT[kind]}{digits:0>6}"
        block = self.ledgers.stock_open.get(key)
        if block is None:
            self.ledgers.stock_open[key] = [n, n, (day - timedelta(days=3)).isoformat(), prefix]
        else:
            block[1] = n
            if block[1] - block[0] + 1 >= DOC_BLOCK:
                self.ledgers.stock_rows.append(_stock_row(staff_id, kind, block))
                del self.ledgers.stock_open[key]
        return f"{prefix}{n:05d}"


# ---- record building ------------------------------------------------------------------------
def role_of(staff: Staff) -> str:
    if staff.kind != "police":
        return "auxiliary"
    return {"examiner": "examiner", "vehicle_inspector": "inspector"}.get(staff.position, "police")


def base(
    run: Run,
    source: str,
    serial: str,
    step: int,
    service: str,
    btype: str,
    action: str,
    t: datetime,
    accepted: datetime | None,
    unit_code: str,
    operator: str,
) -> Record:
    """The common part of a record; the caller adds the channel and the extension block."""
    signer = run.signers.get(operator)
    if signer is None:
        if operator.startswith("SYS:"):
            signer = ("system", None)
        else:
            staff = run.prov.staff[operator]
            signer = (role_of(staff), staff.cert_serial)
        run.signers[operator] = signer
    role, cert = signer
    rec: Record = {
        "record_id": f"{source}:{serial}-{step:02d}",
        "source_system": source,
        "schema_version": "1.0",
        "serial_no": serial,
        "service": service,
        "business_type": btype,
        "action": action,
        "action_time": t.isoformat(),
        "unit_code": unit_code,
        "channel": "system",
        "operator_id": operator,
        "operator_role": role,
        "evidence_count": 0,
    }
    if action != "query":
        acc = accepted or t
        last, text = run._iso
        if acc is not last:
            text = acc.isoformat()
            run._iso = (acc, text)
        rec["accepted_at"] = text
    if cert:
        rec["operator_cert_serial"] = cert
    return rec


def at_window(rec: Record, w: Window) -> Record:
    rec["channel"] = "window"
    rec["window_id"] = w.window_id
    rec["terminal_id"] = w.terminal_id
    rec["client_ip"] = w.ip
    return rec


def at_backend(rec: Record, office: Office, staff_id: str) -> Record:
    terminal, ip = office.backend[staff_id]
    rec["channel"] = "backend"
    rec["terminal_id"] = terminal
    rec["client_ip"] = ip
    return rec


def online(rec: Record, person: Person) -> Record:
    rec["channel"] = "internet"
    rec["account_id"] = person.account
    rec["client_ip"] = person.ip
    rec["device_fingerprint"] = person.device
    return rec


def subject(rec: Record, person: Person) -> Record:
    rec["subject_id_type"] = "resident_id"
    rec["subject_id_no"] = person.id_no
    rec["subject_name"] = person.name
    rec["subject_phone"] = person.phone
    return rec


def vehicle_ids(rec: Record, car: Car, owner: str) -> Record:
    rec["plate_no"] = car.plate
    rec["plate_type"] = car.plate_type
    rec["vin"] = car.vin
    rec["vehicle_owner_id_no"] = owner
    return rec


# ---- scheduling -----------------------------------------------------------------------------
def day_factor(spec: FlowSpec, office: Office, day: date) -> float:
    if spec.when == "always":
        return 1.0 if is_workday(day) else 0.6
    if spec.when == "workday":
        return 1.0 if is_workday(day) else 0.0
    if spec.when == "exam":
        return 1.0 if is_workday(day) and day.weekday() < 5 else 0.0
    intervals = hours_on(office.hours, day)
    if not intervals:
        return 0.0
    return 1.0 if is_workday(day) else 0.4


def calibrate(prov: World, specs: list[FlowSpec], records_target: int) -> float:
    """Items per (spec, office, day) unit weight so that the stream has about records_target."""
    total = 0.0
    for day in _days(prov):
        for spec in specs:
            for office in prov.offices:
                if office.kind == spec.where:
                    total += (
                        spec.weight
                        * spec.recs
                        * _det_weight(prov, office)
                        * day_factor(spec, office, day)
                    )
    return records_target / total if total else 0.0


def _det_weight(prov: World, office: Office) -> float:
    det = prov.detachments[office.det]
    per_kind = sum(1 for o in det.offices if o.kind == office.kind)
    return det.weight / per_kind


def _days(prov: World) -> Iterator[date]:
    day = prov.start
    while day < prov.end:
        yield day
        day += timedelta(days=1)


def stream(run: Run, specs: list[FlowSpec], planted: dict[str, list[Record]]) -> Iterator[Record]:
    """Every record of the period: normal flows plus the planted records, day by day."""
    parked: list[tuple[str, int, Record, Iterator[Record]]] = []
    order = 0
    end_iso = run.prov.end.isoformat()
    for day in _days(run.prov):
        run.day = day
        run.seq = 0
        run.day_tag = f"{day:%Y%m%d}"
        day_iso = day.isoformat()
        batch: list[Record] = list(planted.get(day_iso, ()))
        resumed = []
        while parked and parked[0][0] <= day_iso:
            _, _, rec, gen = heapq.heappop(parked)
            batch.append(rec)
            resumed.append(gen)
        gens = resumed
        for spec in specs:
            for office in run.prov.offices:
                if office.kind != spec.where:
                    continue
                expected = spec.weight * run.scale_items * _det_weight(run.prov, office)
                expected *= day_factor(spec, office, day)
                n = int(expected + run.rng.random()) if expected > 0 else 0
                gens.extend(spec.fn(run, office, day) for _ in range(n))
        if len(run._windows) > 5000:
            run._windows.clear()
        for gen in gens:
            for rec in gen:
                rec_day = rec["action_time"][:10]
                if rec_day <= day_iso:
                    batch.append(rec)
                    continue
                if rec_day < end_iso:
                    order += 1
                    heapq.heappush(parked, (rec_day, order, rec, gen))
                break
        batch.sort(key=_time_key)
        yield from batch
    run.ledgers.close()


def _time_key(rec: Record) -> str:
    return rec["action_time"]
