"""Assemble the reference directory of catalogue §7.2 from the world, the population and the
ledgers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from auditcage.demo.population import Population, car_row, licence_row
from auditcage.demo.province import World
from auditcage.demo.records import Ledgers
from auditcage.demo.records_violation import violation_code_rows
from auditcage.demo.timeutil import hours_on, is_workday

# The datasets of §7.2 that describe facts (policy datasets ship under rules/reference/).
DATASETS = (
    "units",
    "staff",
    "duty_roster",
    "relations",
    "staff_assets",
    "terminals",
    "agents",
    "exam_venues",
    "school_affiliations",
    "inspection_sites",
    "vehicles",
    "licences",
    "bank_ledger",
    "document_stock",
    "parking_ledger",
    "inspection_reports",
    "bodycam_index",
    "watchlist",
    "appraisal_agencies",
    "violation_codes",
)


def staff_rows(world: World) -> list[dict[str, Any]]:
    rows = []
    for s in world.staff.values():
        notify = [f"mailto://{s.position.replace('_', '-')}.{s.staff_id.lower()}@example.test"]
        for since, until, unit_code, status in s.periods:
            rows.append(
                {
                    "staff_id": s.staff_id,
                    "id_no": s.id_no,
                    "name": s.name,
                    "staff_kind": s.kind,
                    "unit_code": unit_code,
                    "position": s.position,
                    "status": status,
                    "certificates": s.certificates,
                    "cert_serials": [s.cert_serial],
                    "notify": notify,
                    "effective_from": since,
                    "effective_to": until,
                }
            )
    return rows


def roster_rows(world: World) -> list[dict[str, Any]]:
    """A shift for every staff member on every working day of their unit, leave and night shifts."""
    rows: list[dict[str, Any]] = []
    hours_by_unit = {u["unit_code"]: u["service_hours"] for u in world.units}
    night = {o.field_officers[0] for o in world.offices if o.field_officers}
    day = world.start
    while day < world.end:
        iso = day.isoformat()
        on_leave = world.leave.get(day, set())
        for s in world.staff.values():
            unit_code = _unit_on(s.periods, iso)
            if unit_code is None:
                continue
            if s.staff_id in on_leave:
                rows.append(_shift(s.staff_id, iso, None, None, unit_code, "annual"))
            elif s.staff_id in world.field_rota:
                if world.field_on_duty(s.staff_id, day):
                    rows.append(_shift(s.staff_id, iso, "07:30", "19:30", unit_code, None))
                elif s.staff_id in night:
                    rows.append(_shift(s.staff_id, iso, "19:30", "07:30", unit_code, None))
            else:
                intervals = hours_on(hours_by_unit.get(unit_code, {}), day)
                if intervals and (
                    is_workday(day)
                    or s.position
                    in (
                        "window_officer",
                        "brigade_head",
                        "deputy_brigade_head",
                        "vehicle_inspector",
                    )
                ):
                    start = min(a for a, _ in intervals)
                    end = max(b for _, b in intervals)
                    rows.append(_shift(s.staff_id, iso, _hhmm(start), _hhmm(end), unit_code, None))
        day += timedelta(days=1)
    return rows


def _unit_on(periods: list[tuple[str, str | None, str, str]], iso: str) -> str | None:
    for since, until, unit_code, status in periods:
        if since[:10] <= iso and (until is None or iso < until[:10]):
            return unit_code if status == "active" else None
    return None


def _shift(staff_id, iso, start, end, unit_code, leave) -> dict[str, Any]:
    return {
        "staff_id": staff_id,
        "date": iso,
        "shift_start": start,
        "shift_end": end,
        "unit_code": unit_code,
        "leave_type": leave,
    }


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def vehicle_rows(world: World, pop: Population, ledgers: Iterable[Ledgers]) -> list[dict[str, Any]]:
    offices = [d.vehicle_office.unit_code for d in world.detachments]
    rows = [car_row(c, offices[c.det]) for c in [*pop.cars, *pop.staff_cars]]
    current = {r["vin"]: r for r in rows}
    changes = sorted((c for led in ledgers for c in led.vehicle_changes), key=lambda c: c[1])
    for led in ledgers:
        for row in led.new_vehicles:
            rows.append(row)
            current[row["vin"]] = row
    for vin, when, fields in changes:
        old = current.get(vin)
        if old is None:
            continue
        old["effective_to"] = when
        new = {**old, **fields, "effective_from": when, "effective_to": None}
        rows.append(new)
        current[vin] = new
    return rows


def licence_rows(world: World, pop: Population, ledgers: Iterable[Ledgers]) -> list[dict[str, Any]]:
    on = world.start
    rows = [
        licence_row(p.id_no, p.birth, p.lic_class or "C1", p.first_issue, p.points, on)
        for p in pop.people
        if p.first_issue is not None
    ]
    owners = {a["staff_id"] for a in pop.staff_assets if a["kind"] == "license"}
    for s in world.staff.values():
        if s.staff_id in owners:
            birth = date(int(s.id_no[6:10]), int(s.id_no[10:12]), 1)
            rows.append(licence_row(s.id_no, birth, "C1", date(birth.year + 20, 6, 1), 0, on))
    for led in ledgers:
        rows += led.new_licences
    return rows


def assemble(
    world: World, pop: Population, ledgers: list[Ledgers], extra: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    clips: dict[str, dict[str, Any]] = {}
    for led in ledgers:
        for row in led.bodycam.values():
            kept = clips.setdefault(row["clip_id"], row)
            if row["retention_class"] == "evidence":
                kept["retention_class"] = "evidence"
    ref: dict[str, list[dict[str, Any]]] = {
        "units": world.units,
        "violation_codes": violation_code_rows(),
        "staff": staff_rows(world),
        "duty_roster": roster_rows(world),
        "relations": pop.relations,
        "staff_assets": pop.staff_assets,
        "terminals": world.terminals,
        "agents": [
            {
                "org_code": o.org_code,
                "kind": o.kind,
                "name": o.name,
                "authorised_agent_id_nos": o.agents,
                "registered_drivers": o.drivers,
                "registered_plates": o.plates,
                "blacklisted": o.blacklisted,
            }
            for o in pop.orgs
        ],
        "exam_venues": world.exam_venues,
        "school_affiliations": pop.school_affiliations,
        "inspection_sites": world.inspection_sites,
        "vehicles": vehicle_rows(world, pop, ledgers),
        "licences": licence_rows(world, pop, ledgers),
        "bank_ledger": [r for led in ledgers for r in led.bank_ledger],
        "document_stock": [r for led in ledgers for r in led.stock_rows],
        "parking_ledger": [r for led in ledgers for r in led.parking_ledger],
        "inspection_reports": [r for led in ledgers for r in led.inspection_reports],
        "bodycam_index": list(clips.values()),
        "watchlist": pop.watchlist,
        "appraisal_agencies": pop.agencies,
    }
    for name, rows in extra.items():
        ref[name] = ref[name] + rows
    return ref
