"""Planted cases: records built from the catalogue's definitions (never from rules/).

`PLANTS` lists, for every catalogue id, functions that build a case in a `PlantContext` and return
its records: positives (`@plant(id, severity=...)`, which must fire at that severity) and near
misses (`@near_miss(id)`: just short of the threshold, or covered by an exemption the catalogue
names, which must stay quiet). Planted cases use their own people, vehicles and serials, added to
the reference data through the context, so they never disturb the normal flows.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo import identity
from auditcage.demo.population import Car, Person, Population, make_person
from auditcage.demo.province import Office, Window, World
from auditcage.demo.records import (
    Record,
    Run,
    at_backend,
    at_window,
    base,
    role_of,
    subject,
    vehicle_ids,
)
from auditcage.demo.reference import car_row, licence_row
from auditcage.demo.timeutil import TZ, add_working_days, is_workday, next_workday

PlantFn = Callable[["PlantContext"], list[Record]]
SEVERITIES = ("red", "orange", "yellow", "blue")


@dataclass(frozen=True)
class PlantSpec:
    catalogue_id: str
    fn: PlantFn
    fires: bool
    severity: str | None  # the severity a positive must fire at; None for a near miss


PLANTS: list[PlantSpec] = []


def plant(catalogue_id: str, *, severity: str | None = None) -> Callable[[PlantFn], PlantFn]:
    """Register a positive case of `catalogue_id` that must fire at `severity`."""
    if severity is not None and severity not in SEVERITIES:
        raise ValueError(f"{catalogue_id}: unknown severity {severity!r}")

    def register(fn: PlantFn) -> PlantFn:
        PLANTS.append(PlantSpec(catalogue_id, fn, True, severity))
        return fn

    return register


def near_miss(catalogue_id: str) -> Callable[[PlantFn], PlantFn]:
    """Register a case of `catalogue_id` just short of firing, which must stay quiet."""

    def register(fn: PlantFn) -> PlantFn:
        PLANTS.append(PlantSpec(catalogue_id, fn, False, None))
        return fn

    return register


def planted_ids() -> set[str]:
    return {spec.catalogue_id for spec in PLANTS if spec.fires}


@dataclass(frozen=True)
class PlantedCase:
    catalogue_id: str
    serial_no: str
    record_ids: list[str]
    note: str
    fires: bool = True
    severity: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "catalogue_id": self.catalogue_id,
            "serial_no": self.serial_no,
            "record_ids": self.record_ids,
            "note": self.note,
            "fires": self.fires,
            "severity": self.severity,
        }


class PlantContext:
    """What a plant may use: the world, fresh identities, serials, record builders, reference
    rows."""

    def __init__(self, world: World, pop: Population, *, seed: int) -> None:
        self.world = world
        self.pop = pop
        self.rng = random.Random(f"plants:{seed}")
        self.run = Run(world, pop, seed=seed, scale_items=0.0)
        self.run.doc_start = 90000  # planted forms come from a later block of each officer's stock
        self.records: list[Record] = []
        self.extra: dict[str, list[dict[str, Any]]] = {}
        self._seq = 900000

    # ---- bookkeeping ------------------------------------------------------------------------
    def plant(self, spec: PlantSpec) -> PlantedCase:
        records = spec.fn(self)
        if spec.catalogue_id not in PAPERWORK_EXEMPT:
            records = records + archived(records, self.world)
        end = self.world.end.isoformat()
        records = [r for r in records if r["action_time"][:10] < end]
        if not records:
            raise ValueError(
                f"{spec.fn.__name__} ({spec.catalogue_id}) plants nothing between "
                f"{self.world.start} and {self.world.end}: the period is too short for it"
            )
        self.records.extend(records)
        note = (spec.fn.__doc__ or spec.catalogue_id).strip().splitlines()[0]
        return PlantedCase(
            spec.catalogue_id,
            records[-1]["serial_no"],
            [r["record_id"] for r in records],
            note,
            spec.fires,
            spec.severity,
        )

    def add(self, dataset: str, row: dict[str, Any]) -> None:
        self.extra.setdefault(dataset, []).append(row)

    def close_ledgers(self) -> None:
        """Close the plants' ledgers, with document stock that matches the planted records.

        Plants are built in registration order, not in time order, and some overwrite or drop
        the form number they drew, so a stock row of drawn numbers could show numbers never
        entered or entered out of order (VIO-16(b) looks for exactly such gaps). The rows are
        rebuilt from the numbers the planted records carry: runs of consecutive numbers entered
        in time order, each issued three days before its first use.
        """
        ledgers = self.run.ledgers
        ledgers.close()
        uses: dict[tuple[str, str], dict[str, str]] = {}
        for row in ledgers.stock_rows:
            uses.setdefault((row["staff_id"], row["document_kind"]), {})
        ranges = [
            (r["staff_id"], r["document_kind"], r["number_from"], r["number_to"])
            for r in ledgers.stock_rows
        ]
        for rec in self.records:
            number, kind = rec.get("document_no"), rec.get("document_kind")
            if not isinstance(number, str):
                continue
            for staff_id, row_kind, low, high in ranges:
                if kind == row_kind and len(number) == len(low) and low <= number <= high:
                    seen = uses[(staff_id, kind)]
                    seen[number] = min(seen.get(number, rec["action_time"]), rec["action_time"])
        rows = []
        for (staff_id, kind), seen in sorted(uses.items()):
            run: list[tuple[str, str]] = []
            for number, at in sorted(seen.items(), key=lambda item: (item[1], item[0])):
                if run and (int(number) != int(run[-1][0]) + 1):
                    rows.append(_stock(staff_id, kind, run))
                    run = []
                run.append((number, at))
            if run:
                rows.append(_stock(staff_id, kind, run))
        ledgers.stock_rows[:] = rows

    # ---- time -------------------------------------------------------------------------------
    def day(self, offset: int, *, weekday: bool = True) -> date:
        """The first working day (Mon–Fri when `weekday`) at or after start + offset days."""
        d = self.world.start + timedelta(days=offset)
        while not is_workday(d) or (weekday and d.weekday() >= 5):
            d += timedelta(days=1)
        return d

    def holiday(self) -> date:
        """The first statutory holiday of the period that falls on a weekday, else (a period
        the holiday calendar does not know yet) its second Sunday: a day the offices are shut."""
        d = self.world.start
        while d < self.world.end:
            if not is_workday(d) and d.weekday() < 5:
                return d
            d += timedelta(days=1)
        first_sunday = self.world.start + timedelta(days=(6 - self.world.start.weekday()) % 7)
        return first_sunday + timedelta(days=7)

    def month(self, n: int) -> date:
        """The first day of the n-th calendar month of the period (0: the first)."""
        year, month = divmod(self.world.start.month - 1 + n, 12)
        return date(self.world.start.year + year, month + 1, 1)

    @staticmethod
    def t(day: date, hhmm: str, seconds: int = 0) -> datetime:
        h, m = hhmm.split(":")
        return datetime(day.year, day.month, day.day, int(h), int(m), seconds, tzinfo=TZ)

    @staticmethod
    def wd(day: date, n: int) -> date:
        return add_working_days(day, n)

    # ---- places and people ------------------------------------------------------------------
    def office(self, kind: str, det: int = 0, n: int = 0) -> Office:
        return [o for o in self.world.detachments[det].offices if o.kind == kind][n]

    def window(self, office: Office, n: int = 0) -> Window:
        return office.windows[n % len(office.windows)]

    def serial(self, prefix: str, unit_code: str, day: date) -> str:
        self._seq += 1
        return f"{prefix}{unit_code[:6]}{day:%Y%m%d}{self._seq:06d}"

    def person(
        self,
        *,
        det: int = 0,
        licensed: bool = True,
        province: str = "52",
        points: int = 0,
        area: str | None = None,
    ) -> Person:
        p = make_person(
            self.rng, self.world.start, det=det, licensed=licensed, area=area or "520102"
        )
        p.points = points
        if licensed and p.first_issue is not None:
            self.add(
                "licences",
                licence_row(
                    p.id_no,
                    p.birth,
                    p.lic_class or "C1",
                    p.first_issue,
                    points,
                    self.world.start,
                    province=province,
                ),
            )
        return p

    def car(
        self, owner: str, *, det: int = 0, owner_type: str = "resident_id", **fields: Any
    ) -> Car:
        start = self.world.start
        car = Car(
            vin=identity.vin(self.rng),
            plate=self.run.new_plate(det),
            plate_type="02",
            vehicle_type="K33",
            use_nature="A",
            first_reg=start - timedelta(days=self.rng.randrange(400, 2000)),
            owner=owner,
            owner_type=owner_type,
            det=det,
            insurance_to=start + timedelta(days=300),
        )
        for key, value in fields.items():
            setattr(car, key, value)
        row = car_row(car, self.world.detachments[det].vehicle_office.unit_code)
        self.run.ledgers.new_vehicles.append(row)
        return car

    # ---- records ----------------------------------------------------------------------------
    def rec(
        self,
        source: str,
        serial: str,
        step: int,
        service: str,
        btype: str,
        action: str,
        t: datetime,
        office: Office,
        operator: str,
        *,
        w: Window | None = None,
        where: str | None = None,
        accepted: datetime | None = None,
    ) -> Record:
        """A record at a window (`w`), at the operator's backend terminal, in the field or by the
        system."""
        rec = base(
            self.run,
            source,
            serial,
            step,
            service,
            btype,
            action,
            t,
            accepted,
            office.unit_code,
            operator,
        )
        if w is not None:
            at_window(rec, w)
        elif where == "field":
            rec.update(channel="field", terminal_id=office.pda.get(operator, f"M-{operator}"))
        elif where == "station":
            rec.update(channel="station", terminal_id=office.pda.get(operator, f"PDA-{operator}"))
        elif operator in office.backend:
            at_backend(rec, office, operator)
        return rec

    @staticmethod
    def ids(
        rec: Record,
        *,
        person: Person | None = None,
        car: Car | None = None,
        owner: str | None = None,
        licence: str | None = None,
    ) -> Record:
        if person is not None:
            subject(rec, person)
        if car is not None:
            vehicle_ids(rec, car, owner or car.owner)
            if not car.plate:
                rec.pop("plate_no")
                rec.pop("plate_type")
        if licence is not None:
            rec.update(license_no=licence, license_holder_id_no=licence)
        return rec


def _stock(staff_id: str, kind: str, run: list[tuple[str, str]]) -> dict[str, Any]:
    """A document-stock row for numbers entered one after the other (number, first use)."""
    first_use = datetime.fromisoformat(run[0][1]).date()
    return {
        "document_kind": kind,
        "number_from": run[0][0],
        "number_to": run[-1][0],
        "staff_id": staff_id,
        "issued_on": (first_use - timedelta(days=3)).isoformat(),
    }


# Plants whose subject is the archiving itself keep their files as they built them.
PAPERWORK_EXEMPT = frozenset({"CP-44", "CP-45"})
_FILED_SERVICES = ("vehicle", "license", "accident")


def archived(records: list[Record], world: World) -> list[Record]:
    """The archive step a real unit takes after a planted item is closed (CP-44: within 30
    days), so that a plant about one abuse does not also leave an unarchived file behind. The
    step comes after the item's last record, on a working day after its completion, by the
    unit's archive post (posts stay separate: CP-32)."""
    offices = {o.unit_code: o for d in world.detachments for o in d.offices}
    by_serial: dict[str, list[Record]] = {}
    for rec in records:
        by_serial.setdefault(rec["serial_no"], []).append(rec)
    out = []
    for steps in by_serial.values():
        if any(r["action"] == "archive" for r in steps):
            continue
        closing = [r for r in steps if _closes_a_file(r)]
        if not closing:
            continue
        last = max(steps, key=lambda r: r["action_time"])
        done = datetime.fromisoformat(last["action_time"])
        day = next_workday(done.date())
        at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=TZ)
        office = offices.get(last["unit_code"])
        archivist = getattr(office, "archivist", None) or "SYS:archive"
        rec = {
            **last,
            "record_id": f"{last['record_id']}:archive",
            "step": max(int(r.get("step") or 0) for r in steps) + 1,
            "action": "archive",
            "action_time": at.isoformat(),
            "operator_id": archivist,
        }
        for name in ("amount", "amount_kind", "document_no", "document_kind", "reason_code"):
            rec.pop(name, None)
        for name in ("window_id", "terminal_id", "operator_cert_serial"):
            rec.pop(name, None)
        staff = world.staff.get(archivist)
        if office is not None and staff is not None and archivist in office.backend:
            at_backend(rec, office, archivist)
            rec["operator_role"] = role_of(staff)
            if staff.cert_serial:
                rec["operator_cert_serial"] = staff.cert_serial
        else:
            rec.update(channel="system", operator_role="system")
        out.append(rec)
    return out


def _closes_a_file(rec: Record) -> bool:
    if rec["service"] in _FILED_SERVICES:
        return bool(rec.get("completed_at")) or bool((rec.get("accident") or {}).get("closed_at"))
    violation = rec.get("violation") or {}
    return violation.get("procedure") == "general" and bool(rec.get("completed_at"))


def invalid_records(ctx: PlantContext) -> list[PlantedCase]:
    """Records a validator must quarantine (§1.7): bad ID checksum, unknown enum, bare modify."""
    from auditcage.demo.plants_violation import decide_record

    office = ctx.office("brigade")
    w = ctx.window(office)
    day = ctx.day(20)
    cases = []
    bad_id = decide_record(
        ctx, office, w, ctx.t(day, "10:05"), ctx.person(), "16250", points=6, fine=200.0
    )
    good = bad_id["subject_id_no"]
    bad_id["subject_id_no"] = good[:17] + ("0" if good[17] != "0" else "1")
    cases.append((bad_id, "subject_id_no fails the GB 11643 MOD 11-2 check"))
    unknown = decide_record(
        ctx, office, w, ctx.t(day, "10:25"), ctx.person(), "10461", points=1, fine=100.0
    )
    unknown["channel"] = "fax"
    cases.append((unknown, "channel 'fax' is not in the enumeration"))
    bare = decide_record(
        ctx, office, w, ctx.t(day, "10:45"), ctx.person(), "10461", points=1, fine=100.0
    )
    bare.update(action="modify", record_id=bare["record_id"] + "M", reason_code="data_correction")
    cases.append((bare, "modify without changed_fields, before and after"))
    out = []
    for rec, note in cases:
        ctx.records.append(rec)
        out.append(PlantedCase("QUARANTINE", rec["serial_no"], [rec["record_id"]], note))
    return out


# Registration happens on import; the modules use `plant` and the context above.
from auditcage.demo import (  # noqa: E402
    plants_accident,  # noqa: F401
    plants_cp_violation,  # noqa: F401
    plants_licence,  # noqa: F401
    plants_staff,  # noqa: F401
    plants_vehicle,  # noqa: F401
    plants_violation,  # noqa: F401
)
