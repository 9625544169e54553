"""Citizens, vehicles, licences and organisations of the synthetic province (R4, R9, R12, R14,
R15)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from auditcage.demo import identity
from auditcage.demo.province import DETACHMENTS, World

VEHICLE_TYPES = (
    ("K33", "02", 0.7),
    ("K31", "02", 0.2),
    ("H21", "01", 0.1),
)  # 轿车, 小型客车, 中型货车
PRIVATE_USE = "A"  # 非营运
COMMERCIAL_USES = ("D", "F")  # 出租客运, 货运


@dataclass(slots=True)
class Person:
    id_no: str
    name: str
    phone: str
    birth: date
    det: int
    account: str
    ip: str
    device: str
    lic_class: str | None
    first_issue: date | None
    points: int  # cumulative points at the start of the period


@dataclass(slots=True)
class Car:
    vin: str
    plate: str
    plate_type: str
    vehicle_type: str
    use_nature: str
    first_reg: date
    owner: str
    owner_type: str  # resident_id / uscc
    det: int
    insurance_to: date
    fleet: int = -1  # index into Population.fleets


@dataclass
class Org:
    org_code: str
    kind: str
    name: str
    det: int
    agents: list[str] = field(default_factory=list)  # authorised agent id numbers
    drivers: list[str] = field(default_factory=list)  # registered drivers (licence numbers)
    plates: list[str] = field(default_factory=list)
    blacklisted: bool = False


@dataclass
class Population:
    people: list[Person]
    by_id: dict[str, Person]
    cars: list[Car]
    cars_by_det: list[list[int]]  # road users: violations and accidents
    admin_by_det: list[list[int]]  # window business only
    orgs: list[Org]
    relations: list[dict[str, Any]]
    staff_assets: list[dict[str, Any]]
    staff_cars: list[Car]
    school_affiliations: list[dict[str, Any]]
    watchlist: list[dict[str, Any]]
    agencies: list[dict[str, Any]]
    plates: set[str]

    def orgs_of(self, kind: str, det: int) -> list[Org]:
        return [o for o in self.orgs if o.kind == kind and o.det == det]


def cycle_of(first_issue: date, on: date) -> tuple[date, date]:
    """The 12-month scoring cycle containing `on` (catalogue §1.5.2: from the first issue date)."""
    year = on.year if (on.month, on.day) >= (first_issue.month, first_issue.day) else on.year - 1
    start = _anniversary(first_issue, year)
    return start, _anniversary(first_issue, year + 1) - timedelta(days=1)


def _anniversary(d: date, year: int) -> date:
    try:
        return d.replace(year=year)
    except ValueError:  # 29 February
        return date(year, 3, 1)


def make_person(
    rng: random.Random,
    start: date,
    *,
    det: int,
    licensed: bool = True,
    area: str | None = None,
    min_age: int = 20,
) -> Person:
    home = area or rng.choice([a for a, _ in DETACHMENTS[det][5]])
    if area is None and rng.random() < 0.12:
        home = rng.choice(identity.OTHER_AREAS)  # moved to Guizhou; the licence is local
    birth = identity.birth_date(rng, min_age=min_age, max_age=65, on=start)
    id_no = identity.resident_id(rng, area=home, birth=birth)
    first_issue = None
    if licensed:
        first_issue = start - timedelta(
            days=rng.randrange(400, max(401, (start - birth).days - 18 * 365))
        )
    n = rng.getrandbits(22)
    return Person(
        id_no=id_no,
        name=identity.name(rng),
        phone=identity.phone(rng),
        birth=birth,
        det=det,
        account=f"U{rng.getrandbits(40):012d}",
        ip=f"100.{64 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}",
        device=identity.hexstr(rng, 64),
        lic_class=("C1" if rng.random() < 0.85 else "C2") if licensed else None,
        first_issue=first_issue,
        points=rng.choice((0, 0, 0, 0, 0, 1, 2, 3)) if licensed else 0,
    )


def car_row(car: Car, registering_unit: str, **extra: Any) -> dict[str, Any]:
    row = {
        "vin": car.vin,
        "plate_no": car.plate,
        "plate_type": car.plate_type,
        "owner_id_no": car.owner,
        "vehicle_type": car.vehicle_type,
        "use_nature": car.use_nature,
        "status": "A",
        "mortgage_active": False,
        "seizure_active": False,
        "stolen_flag": False,
        "first_reg_date": car.first_reg.isoformat(),
        "registering_unit": registering_unit,
        "effective_from": car.first_reg.isoformat(),
        "effective_to": None,
    }
    row.update(extra)
    return row


def licence_row(
    id_no: str,
    birth: date,
    lic_class: str,
    first_issue: date,
    points: int,
    on: date,
    province: str = "52",
    **extra: Any,
) -> dict[str, Any]:
    cycle_start, cycle_end = cycle_of(first_issue, on)
    row = {
        "license_no": id_no,
        "holder_id_no": id_no,
        "holder_birth_date": birth.isoformat(),
        "license_class": lic_class,
        "status": "A",
        "first_issue_date": first_issue.isoformat(),
        "cycle_start": cycle_start.isoformat(),
        "cycle_end": cycle_end.isoformat(),
        "points": points,
        "issuing_province": province,
        "detained": False,
        "effective_from": first_issue.isoformat(),
        "effective_to": None,
    }
    row.update(extra)
    return row


def person_licence_row(p: Person, on: date) -> dict[str, Any]:
    assert p.first_issue is not None
    return licence_row(p.id_no, p.birth, p.lic_class or "C1", p.first_issue, p.points, on)


def build_population(rng: random.Random, province: World, *, records_target: int) -> Population:
    start = province.start
    n_people = max(2500, min(40000, records_target // 12))
    people = []
    for i in range(n_people):
        det = _weighted_det(rng) if i >= 3 else i
        people.append(make_person(rng, start, det=det))
    by_id = {p.id_no: p for p in people}
    plates: set[str] = set()
    cars: list[Car] = []
    for p in people:
        if rng.random() < 0.9:
            cars.append(make_car(rng, start, p.id_no, "resident_id", p.det, plates))
    orgs = _orgs(rng, province, people, cars, plates)
    # Every fifth private car is kept for window business (transfer, mortgage, …) and never gets a
    # violation or an accident, so a record's owner always matches R12 at its action time.
    cars_by_det: list[list[int]] = [[] for _ in DETACHMENTS]
    admin_by_det: list[list[int]] = [[] for _ in DETACHMENTS]
    for i, car in enumerate(cars):
        (admin_by_det if i % 5 == 0 and car.fleet < 0 else cars_by_det)[car.det].append(i)
    relations, assets, staff_cars = _staff_family(rng, province, plates)
    return Population(
        people=people,
        by_id=by_id,
        cars=cars,
        cars_by_det=cars_by_det,
        admin_by_det=admin_by_det,
        orgs=orgs,
        relations=relations,
        staff_assets=assets,
        staff_cars=staff_cars,
        school_affiliations=_affiliations(rng, orgs, start),
        watchlist=_watchlist(rng, province, start),
        agencies=[
            {
                "agency_id": f"JD{code[:6]}{i}",
                "name": f"{name[:2]}{label}司法鉴定所",
                "region_unit_code": code,
                "qualified": i < 4,
            }
            for code, name, *_ in DETACHMENTS
            for i, label in enumerate(("交通", "华信", "公正", "明鉴", "速达"), start=1)
        ],
        plates=plates,
    )


def _weighted_det(rng: random.Random) -> int:
    x = rng.random()
    acc = 0.0
    for i, det in enumerate(DETACHMENTS):
        acc += det[4]
        if x < acc:
            return i
    return len(DETACHMENTS) - 1


def new_plate(rng: random.Random, det: int, plates: set[str]) -> str:
    while True:
        value = identity.plate(rng, city=DETACHMENTS[det][2], new_energy=rng.random() < 0.15)
        if value not in plates:
            plates.add(value)
            return value


def make_car(
    rng,
    start: date,
    owner: str,
    owner_type: str,
    det: int,
    plates: set[str],
    *,
    use: str | None = None,
) -> Car:
    x = rng.random()
    vtype, ptype = "K33", "02"
    acc = 0.0
    for t, pt, w in VEHICLE_TYPES:
        acc += w
        if x < acc:
            vtype, ptype = t, pt
            break
    first_reg = start - timedelta(days=rng.randrange(60, 3650))
    return Car(
        vin=identity.vin(rng, model_year=min(2026, max(2010, first_reg.year))),
        plate=new_plate(rng, det, plates),
        plate_type=ptype,
        vehicle_type=vtype,
        use_nature=use or PRIVATE_USE,
        first_reg=first_reg,
        owner=owner,
        owner_type=owner_type,
        det=det,
        insurance_to=start + timedelta(days=rng.randrange(200, 365)),
    )


def _orgs(rng, province: World, people: list[Person], cars: list[Car], plates) -> list[Org]:
    orgs: list[Org] = []
    start = province.start
    for det, (code, name, *_rest) in enumerate(DETACHMENTS):
        area = code[:6]
        city = name[:2]
        locals_ = [p for p in people if p.det == det and p.first_issue is not None]
        for i, brand in enumerate(("吉利", "长安", "比亚迪")):
            agents = [make_person(rng, start, det=det).id_no for _ in range(2 + province.scale)]
            orgs.append(
                Org(
                    identity.uscc(rng, area=area),
                    "dealer",
                    f"{city}{brand}汽车4S店",
                    det,
                    agents=agents,
                )
            )
            del i
        for label in ("顺达运输", "黔通物流"):
            fleet = Org(identity.uscc(rng, area=area), "fleet", f"{city}{label}有限公司", det)
            fleet.drivers = [p.id_no for p in rng.sample(locals_, 6)]
            for _ in range(12):
                car = make_car(
                    rng, start, fleet.org_code, "uscc", det, plates, use=rng.choice(COMMERCIAL_USES)
                )
                car.fleet = len(orgs)
                fleet.plates.append(car.plate)
                cars.append(car)
            orgs.append(fleet)
        for label in ("安通", "金盾", "顺风", "平安"):
            school = Org(identity.uscc(rng, area=area), "driving_school", f"{city}{label}驾校", det)
            school.drivers = [make_person(rng, start, det=det).id_no for _ in range(4)]
            orgs.append(school)
        orgs.append(
            Org(
                identity.uscc(rng, area=area),
                "registration_station",
                f"{city}二手车交易市场登记服务站",
                det,
                agents=[make_person(rng, start, det=det).id_no],
            )
        )
    orgs.append(Org(identity.uscc(rng), "agency", "黔快办代办服务部", 0, blacklisted=True))
    return orgs


def _affiliations(rng, orgs: list[Org], start: date) -> list[dict[str, Any]]:
    rows = []
    for org in orgs:
        if org.kind == "driving_school":
            rows += [
                {"id_no": d, "driving_school_code": org.org_code, "role": "instructor"}
                for d in org.drivers
            ]
            owner = identity.resident_id(rng, area=org.org_code[2:8], birth=date(1975, 5, 5))
            rows.append({"id_no": owner, "driving_school_code": org.org_code, "role": "owner"})
    return rows


def _staff_family(rng, province: World, plates: set[str]):
    relations: list[dict[str, Any]] = []
    assets: list[dict[str, Any]] = []
    cars: list[Car] = []
    for staff in province.staff.values():
        if rng.random() < 0.35:
            for relation in rng.sample(
                ("spouse", "parent", "child", "sibling", "parent_in_law"), 2
            ):
                birth = identity.birth_date(rng, min_age=20, max_age=75, on=province.start)
                relative = identity.resident_id(rng, area=staff.id_no[:6], birth=birth)
                relations.append(
                    {"staff_id": staff.staff_id, "related_id_no": relative, "relation": relation}
                )
        if rng.random() < 0.3:
            det = int(staff.unit_code[2:4] == "03") + 2 * int(staff.unit_code[2:4] == "04")
            car = make_car(rng, province.start, staff.id_no, "resident_id", det, plates)
            cars.append(car)
            assets += [
                {"staff_id": staff.staff_id, "kind": "plate", "value": car.plate},
                {"staff_id": staff.staff_id, "kind": "vin", "value": car.vin},
                {"staff_id": staff.staff_id, "kind": "license", "value": staff.id_no},
            ]
    return relations, assets, cars


def _watchlist(rng, province: World, start: date) -> list[dict[str, Any]]:
    rows = []
    for i in range(4):
        birth = identity.birth_date(rng, min_age=35, max_age=70, on=start)
        rows.append(
            {
                "kind": "protected_person",
                "value": identity.resident_id(rng, area="520102", birth=birth),
                "note": f"重点保护对象{i + 1}",
            }
        )
    head = province.staff[province.detachments[0].head]
    rows.append({"kind": "protected_person", "value": head.id_no, "note": "本单位领导"})
    rows += [
        {"kind": "broker_phone", "value": identity.phone(rng), "note": "疑似分贩子"}
        for _ in range(2)
    ]
    rows.append({"kind": "broker_ip", "value": "100.99.12.34", "note": "疑似代办IP"})
    rows.append(
        {"kind": "broker_account", "value": f"U{rng.getrandbits(40):012d}", "note": "疑似代办账号"}
    )
    return rows
