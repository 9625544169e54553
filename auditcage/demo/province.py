"""The static world of the synthetic province 黔 (52): units, staff, terminals, sites, venues.

Citizens, vehicles and organisations live in `population.py`. Everything is drawn from one
`random.Random(seed)`, so a seed fixes the world.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from auditcage.demo import identity
from auditcage.demo.timeutil import STANDARD_HOURS, is_workday

PROVINCE_CODE = "520000000000"
PROVINCE_NAME = "贵州省公安厅交通管理局"

# (code, name, plate city letter, abbreviation, volume weight, brigade areas, site centre)
DETACHMENTS: tuple[tuple[str, str, str, str, float, tuple[tuple[str, str], ...], tuple], ...] = (
    (
        "520100000000",
        "贵阳市公安局交通管理支队",
        "A",
        "GY",
        0.5,
        (("520102", "南明"), ("520103", "云岩")),
        (26.6470, 106.6302),
    ),
    (
        "520300000000",
        "遵义市公安局交通管理支队",
        "C",
        "ZY",
        0.3,
        (("520302", "红花岗"), ("520303", "汇川")),
        (27.7256, 106.9272),
    ),
    (
        "520400000000",
        "安顺市公安局交通管理支队",
        "G",
        "AS",
        0.2,
        (("520402", "西秀"), ("520422", "普定")),
        (26.2455, 105.9322),
    ),
)

EXTENDED_HOURS: dict[str, list[list[str]]] = {
    **{d: [["08:30", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "sat": [["09:00", "12:00"], ["13:00", "17:00"]],
}
CERT_VALID_TO = "2029-12-31"


@dataclass(slots=True)
class Staff:
    staff_id: str
    id_no: str
    name: str
    kind: str  # police / auxiliary / contractor
    unit_code: str
    position: str
    cert_serial: str
    certificates: list[dict[str, Any]]
    # periods: (effective_from, effective_to, unit_code, status) — one row each in R2
    periods: list[tuple[str, str | None, str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Window:
    window_id: str
    unit_code: str  # the window node of R1
    terminal_id: str
    ip: str
    police_id: str
    aux_id: str


@dataclass
class Office:
    """A brigade-level unit (车管所, 考试中心 or 大队) and the people and devices it works with."""

    unit_code: str
    name: str
    kind: str  # vehicle_office / exam_center / brigade
    det: int
    city: str
    area: str
    service_hours: dict[str, list[list[str]]]
    windows: list[Window] = field(default_factory=list)
    approvers: list[str] = field(default_factory=list)  # police heads who approve
    backend: dict[str, tuple[str, str]] = field(default_factory=dict)  # staff → (terminal, ip)
    supervision: str = ""
    archivist: str = ""
    legal_reviewer: str = ""
    inspectors: list[str] = field(default_factory=list)
    police_inspectors: list[str] = field(default_factory=list)
    pda: dict[str, str] = field(default_factory=dict)  # staff → PDA / 警务通 terminal
    site_id: str = ""
    site_centre: tuple[float, float] = (0.0, 0.0)
    field_officers: list[str] = field(default_factory=list)
    accident_officers: list[str] = field(default_factory=list)
    nonsite_reviewer: str = ""
    nonsite_initial: str = ""
    examiners: list[str] = field(default_factory=list)
    venue_id: str = ""
    seats: list[str] = field(default_factory=list)
    exam_vehicles: list[str] = field(default_factory=list)
    routes: list[tuple[str, float]] = field(default_factory=list)
    spare: list[str] = field(default_factory=list)  # staff who appear in no normal flow

    @property
    def hours(self) -> dict[str, list[list[str]]]:
        return self.service_hours


@dataclass
class Detachment:
    code: str
    name: str
    city: str
    abbr: str
    weight: float
    head: str = ""
    legal_reviewer: str = ""
    offices: list[Office] = field(default_factory=list)

    @property
    def vehicle_office(self) -> Office:
        return self.offices[0]

    @property
    def exam_center(self) -> Office:
        return self.offices[1]

    @property
    def brigades(self) -> list[Office]:
        return self.offices[2:]


class StaffBuilder:
    """Allocates staff ids, identities and certificates."""

    def __init__(self, rng: random.Random, start: date) -> None:
        self.rng = rng
        self.start = start
        self.staff: dict[str, Staff] = {}
        self._police = 521000
        self._aux = 520000

    def add(self, unit_code: str, position: str, *, kind: str = "police", certs: tuple = ()) -> str:
        if kind == "police":
            self._police += 1
            staff_id = f"{self._police:06d}"
        else:
            self._aux += 1
            staff_id = f"F{self._aux:06d}"
        birth = identity.birth_date(self.rng, min_age=24, max_age=55, on=self.start)
        area = unit_code[:6] if unit_code[4:6] != "00" else unit_code[:4] + "02"
        id_no = identity.resident_id(self.rng, area=area, birth=birth)
        certificates = [{"kind": c, "valid_to": CERT_VALID_TO} for c in certs]
        if kind == "police":
            certificates.insert(0, {"kind": "law_enforcement", "valid_to": CERT_VALID_TO})
        since = (self.start - timedelta(days=self.rng.randrange(400, 4000))).isoformat()
        self.staff[staff_id] = Staff(
            staff_id=staff_id,
            id_no=id_no,
            name=identity.name(self.rng),
            kind=kind,
            unit_code=unit_code,
            position=position,
            cert_serial=identity.hexstr(self.rng, 64).upper(),
            certificates=certificates,
            periods=[(since, None, unit_code, "active")],
        )
        return staff_id


@dataclass
class World:
    """Units, staff and devices; the citizens and vehicles are attached by population.py."""

    seed: int
    start: date
    end: date  # exclusive
    scale: int
    detachments: list[Detachment]
    staff: dict[str, Staff]
    units: list[dict[str, Any]]
    terminals: list[dict[str, Any]]
    inspection_sites: list[dict[str, Any]]
    exam_venues: list[dict[str, Any]]
    leave: dict[date, set[str]]
    field_rota: dict[str, int]  # field officer → rota offset (3 days on, 1 off)
    notes: dict[str, str]  # special staff: "transferred", "retired", …

    @property
    def offices(self) -> list[Office]:
        return [o for d in self.detachments for o in d.offices]

    def office(self, unit_code: str) -> Office:
        return next(o for o in self.offices if o.unit_code == unit_code)

    def available(self, staff_id: str, day: date) -> bool:
        return staff_id not in self.leave.get(day, ())

    def field_on_duty(self, staff_id: str, day: date) -> bool:
        return (day.toordinal() + self.field_rota.get(staff_id, 0)) % 4 != 3 and self.available(
            staff_id, day
        )


def build_province(rng: random.Random, *, seed: int, start: date, end: date, scale: int) -> World:
    sb = StaffBuilder(rng, start)
    units: list[dict[str, Any]] = []
    terminals: list[dict[str, Any]] = []
    sites: list[dict[str, Any]] = []
    venues: list[dict[str, Any]] = []
    province_head = sb.add(PROVINCE_CODE, "province_head")
    deputy_head = sb.add(PROVINCE_CODE, "deputy_province_head")
    discipline = [sb.add(PROVINCE_CODE, "inspector_discipline") for _ in range(2)]
    units.append(
        _unit(
            PROVINCE_CODE,
            None,
            "province",
            PROVINCE_NAME,
            STANDARD_HOURS,
            [province_head, deputy_head],
            discipline,
        )
    )
    detachments = []
    ip_block = [0]
    for det_index, (code, name, city, abbr, weight, areas, centre) in enumerate(DETACHMENTS):
        det = Detachment(code=code, name=name, city=city, abbr=abbr, weight=weight)
        det.head = sb.add(code, "detachment_head")
        deputy = sb.add(code, "deputy_detachment_head")
        det_discipline = sb.add(code, "inspector_discipline")
        det.legal_reviewer = sb.add(code, "legal_reviewer")
        units.append(
            _unit(
                code,
                PROVINCE_CODE,
                "detachment",
                name,
                STANDARD_HOURS,
                [det.head, deputy],
                [det_discipline],
            )
        )
        det6 = code[:6]
        offices = [
            Office(
                f"{det6}100000",
                f"{name[:3]}车辆管理所",
                "vehicle_office",
                det_index,
                city,
                areas[0][0],
                EXTENDED_HOURS if det_index == 0 else STANDARD_HOURS,
            ),
            Office(
                f"{det6}200000",
                f"{name[:3]}机动车驾驶人考试中心",
                "exam_center",
                det_index,
                city,
                areas[0][0],
                STANDARD_HOURS,
            ),
        ] + [
            Office(
                f"{area}000000",
                f"{area_name}大队",
                "brigade",
                det_index,
                city,
                area,
                STANDARD_HOURS,
            )
            for area, area_name in areas
        ]
        for office in offices:
            _staff_office(sb, office, det, scale, ip_block, terminals)
            units.append(
                _unit(
                    office.unit_code,
                    code,
                    "brigade",
                    office.name,
                    office.hours,
                    [*office.approvers[:1], det.head],
                    [det_discipline],
                )
            )
            station_name = {"vehicle_office": "登记服务站", "exam_center": "考场"}.get(
                office.kind, "中队"
            )
            units.append(
                _unit(
                    office.unit_code[:8] + "0100",
                    office.unit_code,
                    "station",
                    f"{office.name}{station_name}",
                    office.hours,
                    [],
                    [],
                )
            )
            for window in office.windows:
                units.append(
                    _unit(
                        window.unit_code,
                        office.unit_code,
                        "window",
                        f"{office.name}{window.window_id}窗口",
                        office.hours,
                        [],
                        [],
                    )
                )
        vo = offices[0]
        vo.site_id = f"S{det6}01"
        vo.site_centre = centre
        for staff_id in vo.inspectors:
            vo.pda[staff_id] = f"PDA-{staff_id}"
            terminals.append(
                _terminal(vo.pda[staff_id], None, vo.unit_code, vo.site_id, "pda", [], [staff_id])
            )
        sites.append(
            {
                "site_id": vo.site_id,
                "unit_code": vo.unit_code,
                "kind": "车管所",
                "lat": centre[0],
                "lon": centre[1],
                "radius_m": 300,
                "pda_ids": [vo.pda[s] for s in vo.inspectors],
            }
        )
        venues.append(_venue(offices[1], scale))
        for seat in offices[1].seats:
            terminals.append(
                _terminal(
                    seat,
                    None,
                    offices[1].unit_code,
                    offices[1].venue_id,
                    "exam_seat",
                    [_next_ip(ip_block)],
                    [],
                )
            )
        for car in offices[1].exam_vehicles:
            terminals.append(
                _terminal(
                    car, None, offices[1].unit_code, offices[1].venue_id, "exam_vehicle", [], []
                )
            )
        kiosk = f"K-{vo.unit_code}-01"
        terminals.append(
            _terminal(kiosk, None, vo.unit_code, None, "kiosk", [_next_ip(ip_block)], [])
        )
        det.offices = offices
        detachments.append(det)
    leave, rota = _leave_and_rota(rng, detachments, start, end)
    notes = _special_staff(sb, detachments, start, end)
    _place_units(units)
    return World(
        seed=seed,
        start=start,
        end=end,
        scale=scale,
        detachments=detachments,
        staff=sb.staff,
        units=units,
        terminals=terminals,
        inspection_sites=sites,
        exam_venues=venues,
        leave=leave,
        field_rota=rota,
        notes=notes,
    )


def _place_units(units: list[dict[str, Any]]) -> None:
    """The optional R1 fields of catalogue §0.5 item 10: every unit of a detachment sits at the
    city centre (VIO-06's distance clause compares cities, ~80–120 km apart); a brigade's
    jurisdiction is its own area, a detachment's all of its brigades' areas."""
    cities = {
        code[:4]: (centre, [area for area, _ in areas]) for code, *_, areas, centre in DETACHMENTS
    }
    for unit in units:
        city = cities.get(unit["unit_code"][:4])
        if city is None:
            continue
        (lat, lon), areas = city
        unit["lat"], unit["lon"] = lat, lon
        if unit["level"] == "detachment":
            unit["jurisdiction_area_codes"] = list(areas)
        elif unit["level"] == "brigade" and unit["unit_code"][:6] in areas:
            unit["jurisdiction_area_codes"] = [unit["unit_code"][:6]]


def _unit(code, parent, level, name, hours, heads, discipline) -> dict[str, Any]:
    return {
        "unit_code": code,
        "parent_code": parent,
        "level": level,
        "name": name,
        "province_code": "52",
        "calendar_id": "CN",
        "service_hours": hours,
        "head_staff_ids": list(heads),
        "discipline_contact_ids": list(discipline),
    }


def _terminal(tid, window_id, unit_code, site_id, kind, ips, staff) -> dict[str, Any]:
    return {
        "terminal_id": tid,
        "window_id": window_id,
        "unit_code": unit_code,
        "site_id": site_id,
        "kind": kind,
        "ip_ranges": [f"{ip}/32" for ip in ips],
        "assigned_staff_ids": list(staff),
    }


def _next_ip(block: list[int]) -> str:
    block[0] += 1
    n = block[0]
    return f"10.52.{n // 250}.{n % 250 + 2}"


def _staff_office(sb: StaffBuilder, o: Office, det: Detachment, scale: int, ips, terminals) -> None:
    u = o.unit_code
    head = sb.add(u, "brigade_head")
    deputy = sb.add(u, "deputy_brigade_head")
    o.approvers = [head, deputy]
    o.supervision = sb.add(
        u, "supervision_post", certs=("examiner",) if o.kind == "exam_center" else ()
    )
    o.legal_reviewer = sb.add(u, "legal_reviewer")
    o.spare = [sb.add(u, "other"), sb.add(u, "other")]
    for staff_id in [*o.approvers, o.supervision, o.legal_reviewer]:
        ip = _next_ip(ips)
        tid = f"B-{staff_id}"
        o.backend[staff_id] = (tid, ip)
        terminals.append(_terminal(tid, None, u, None, "backend", [ip], [staff_id]))
    n_windows = {"vehicle_office": 3, "exam_center": 0, "brigade": 2}[o.kind] * scale
    for i in range(1, n_windows + 1):
        police = sb.add(u, "window_officer")
        aux = sb.add(u, "window_officer", kind="auxiliary")
        tag = {"vehicle_office": "CG", "exam_center": "KS"}.get(o.kind, u[4:6])
        window_id = f"{det.abbr}-{tag}-W{i:02d}"
        tid = f"T-{u[:6]}{u[6:8]}{i:02d}"
        ip = _next_ip(ips)
        o.windows.append(Window(window_id, u[:10] + f"{i:02d}", tid, ip, police, aux))
        terminals.append(_terminal(tid, window_id, u, None, "window", [ip], [police, aux]))
    if o.kind == "vehicle_office":
        o.archivist = sb.add(u, "other")
        ip = _next_ip(ips)
        o.backend[o.archivist] = (f"B-{o.archivist}", ip)
        terminals.append(
            _terminal(f"B-{o.archivist}", None, u, None, "backend", [ip], [o.archivist])
        )
        o.police_inspectors = [
            sb.add(u, "vehicle_inspector", certs=("inspector", "police_inspector"))
            for _ in range(scale)
        ]
        o.inspectors = o.police_inspectors + [
            sb.add(u, "vehicle_inspector", kind="auxiliary", certs=("inspector",))
            for _ in range(2 * scale)
        ]
    elif o.kind == "exam_center":
        o.examiners = [sb.add(u, "examiner", certs=("examiner",)) for _ in range(4 * scale)]
        o.venue_id = f"KC{u[:6]}01"
        o.seats = [f"SEAT-{u[:6]}-{i:03d}" for i in range(1, 8 * scale + 1)]
        o.exam_vehicles = [f"EV-{u[:6]}-{i:03d}" for i in range(1, 4 * scale + 1)]
        o.routes = [(f"R{u[2:6]}-{i}", d) for i, d in enumerate((3.4, 4.1, 5.2), start=1)]
    else:
        o.field_officers = [sb.add(u, "other") for _ in range(3 * scale)]
        o.accident_officers = [sb.add(u, "other") for _ in range(2 * scale + 1)]
        o.nonsite_reviewer = sb.add(u, "other")
        o.nonsite_initial = sb.add(u, "other", kind="auxiliary")
        for staff_id in [o.nonsite_reviewer, o.nonsite_initial, *o.accident_officers]:
            ip = _next_ip(ips)
            o.backend[staff_id] = (f"B-{staff_id}", ip)
            terminals.append(_terminal(f"B-{staff_id}", None, u, None, "backend", [ip], [staff_id]))
        for staff_id in [*o.field_officers, *o.accident_officers]:
            o.pda[staff_id] = f"M-{staff_id}"  # 警务通
            terminals.append(_terminal(o.pda[staff_id], None, u, None, "pda", [], [staff_id]))


def _venue(o: Office, scale: int) -> dict[str, Any]:
    capacity = {str(s): 400 * scale for s in (1, 2, 3, 4)}
    sessions = [
        {"weekday": wd, "start": a, "end": b}
        for wd in range(1, 6)
        for a, b in (("08:30", "12:00"), ("13:30", "17:00"))
    ]
    return {
        "venue_id": o.venue_id,
        "unit_code": o.unit_code,
        "judging": "electronic",
        "capacity_per_day": capacity,
        "sessions": sessions,
        "routes": [{"route_id": r, "distance_km": d} for r, d in o.routes],
        "examiner_ids": [*o.examiners, o.supervision],
    }


def _leave_and_rota(rng, detachments, start: date, end: date):
    leave: dict[date, set[str]] = {}
    rota: dict[str, int] = {}
    workdays = [start + timedelta(days=i) for i in range((end - start).days)]
    workdays = [d for d in workdays if is_workday(d)]
    for det in detachments:
        for o in det.offices:
            for i, officer in enumerate(o.field_officers + o.accident_officers):
                rota[officer] = i
            pool = [w.police_id for w in o.windows] + [w.aux_id for w in o.windows]
            pool += o.examiners + o.field_officers
            for staff_id in pool:
                if rng.random() < 0.15 and len(workdays) > 10:
                    first = rng.randrange(len(workdays) - 3)
                    for d in workdays[first : first + 3]:
                        leave.setdefault(d, set()).add(staff_id)
    return leave, rota


def _special_staff(sb: StaffBuilder, detachments: list[Detachment], start: date, end: date):
    """A mid-period transfer and a retirement (two R2 rows each); both keep their accounts."""
    span = (end - start).days
    gy = detachments[0]
    moved = gy.brigades[0].spare[0]
    retired = gy.brigades[1].spare[0]
    t_move = (start + timedelta(days=span // 2)).isoformat()
    t_retire = (start + timedelta(days=span // 3)).isoformat()
    s = sb.staff[moved]
    since = s.periods[0][0]
    s.periods = [
        (since, t_move, s.unit_code, "active"),
        (t_move, None, gy.brigades[1].unit_code, "active"),
    ]
    r = sb.staff[retired]
    r.periods = [
        (r.periods[0][0], t_retire, r.unit_code, "active"),
        (t_retire, None, r.unit_code, "retired"),
    ]
    return {
        "transferred": moved,
        "transferred_on": t_move,
        "retired": retired,
        "retired_on": t_retire,
    }


def staff_scale(records_target: int) -> int:
    """Windows, inspectors and examiners grow with the square root of the volume."""
    return max(1, round(math.sqrt(records_target / 20000)))
