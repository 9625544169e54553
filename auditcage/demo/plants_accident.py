"""Planted accident cases (ACC-xx, CP-20…29)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo import identity
from auditcage.demo.plants import PlantContext, near_miss, plant
from auditcage.demo.population import Car, Person
from auditcage.demo.province import Office, Window
from auditcage.demo.records import Record, online
from auditcage.demo.records_accident import NO_CRIME
from auditcage.demo.timeutil import is_workday


class Case:
    """One accident case of a brigade (default: 南明); `step()` writes the next record with the
    current block."""

    def __init__(
        self,
        ctx: PlantContext,
        day: date,
        *,
        procedure: str = "general",
        officers: int = 2,
        office: Office | None = None,
        officer_ids: list[str] | None = None,
        drivers: list[Person] | None = None,
        cars: list[Car] | None = None,
        **block: Any,
    ) -> None:
        self.ctx = ctx
        self.office: Office = office or ctx.office("brigade")
        pool = officer_ids or self.office.accident_officers
        duty = [s for s in pool if ctx.world.field_on_duty(s, day)]
        while len(duty) < officers:
            day += timedelta(days=1)
            duty = [s for s in pool if ctx.world.field_on_duty(s, day)]
        self.day = day
        self.officers = duty[:officers]
        self.serial = ctx.serial("7", self.office.unit_code, day)
        self.drivers = drivers or [ctx.person(), ctx.person()]
        self.cars = cars or [ctx.car(p.id_no) for p in self.drivers]
        self.subject: Person = self.drivers[0]
        self.subject_car: Car | None = self.cars[0]
        self.reported = ctx.t(day, "10:05")
        parties = [
            {
                "seq": i + 1,
                "role": "driver",
                "id_no": p.id_no,
                "license_no": p.id_no,
                "plate_no": c.plate,
                "phone": p.phone,
                "liability": li,
                "alcohol_test": {
                    "done": True,
                    "tested_at": (self.reported + timedelta(minutes=30)).isoformat(),
                    "result_mg_100ml": 0,
                },
            }
            for i, (p, c, li) in enumerate(
                zip(self.drivers, self.cars, ("main", "secondary"), strict=True)
            )
        ]
        self.block: dict[str, Any] = {
            "accident_no": self.serial,
            "procedure": procedure,
            "report_mode": "on_scene",
            "reported_at": self.reported.isoformat(),
            "deaths": 0,
            "injured_serious": 1,
            "injured_minor": 1,
            "property_damage_only": False,
            "consent_simple": False,
            "crime_flags": dict(NO_CRIME),
            "complex_case": False,
            "officers": self.officers,
            "parties": parties,
            "scene_started_at": (self.reported + timedelta(minutes=15)).isoformat(),
            "scene_ended_at": (self.reported + timedelta(minutes=95)).isoformat(),
            "scene_diagram_ref": f"oss://accident/{self.serial}/diagram.pdf",
            "survey_record_ref": f"oss://accident/{self.serial}/survey.pdf",
        }
        self.block.update(block)
        self.n = 0

    @property
    def scene_day(self) -> date:
        return datetime.fromisoformat(self.block["scene_ended_at"]).date()

    def on_duty(self, t: datetime, officer: str | None = None) -> datetime:
        """The same clock time on the officer's next duty day (R3: backend work only on duty)."""
        officer = officer or self.officers[0]
        while not self.ctx.world.field_on_duty(officer, t.date()) or not is_workday(t.date()):
            t += timedelta(days=1)
        return t

    def step(
        self,
        btype: str,
        action: str,
        t: datetime,
        *,
        field: bool = False,
        operator: str | None = None,
        w: Window | None = None,
        **block: Any,
    ) -> Record:
        self.block.update(block)
        self.n += 1
        op = operator or self.officers[0]
        rec = self.ctx.rec(
            "accident",
            self.serial,
            self.n,
            "accident",
            btype,
            action,
            t,
            self.office,
            op,
            w=w,
            where="field" if field else None,
            accepted=self.reported,
        )
        self.ctx.ids(rec, person=self.subject, car=self.subject_car)
        rec["case_no"] = self.serial
        rec["accident"] = copy.deepcopy(self.block)
        if field and not op.startswith("SYS:"):
            rec["bodycam_refs"] = [self.ctx.run.bodycam(op, t, evidence=True)]
        return rec

    def report_and_scene(self, photos: int = 8) -> list[Record]:
        report = self.step("ACC_REPORT", "accept", self.reported, operator="SYS:122")
        scene = self.step(
            "ACC_SCENE", "inspect", datetime.fromisoformat(self.block["scene_ended_at"]), field=True
        )
        scene["evidence"] = self.photos(photos, self.block["scene_started_at"])
        scene["evidence_count"] = photos
        return [report, scene]

    def photos(self, n: int, taken_at: str) -> list[dict[str, Any]]:
        return [
            {
                "evidence_id": f"{self.serial}-S{i}",
                "kind": "photo_scene",
                "uri": f"oss://accident/{self.serial}/{i}.jpg",
                "sha256": identity.hexstr(self.ctx.rng, 256),
                "phash": identity.hexstr(self.ctx.rng, 64),
                "taken_at": taken_at,
                "model_standard": False,
            }
            for i in range(1, n + 1)
        ]

    def appraise(
        self,
        commissioned: datetime,
        *,
        kinds: tuple[str, ...] = ("vehicle",),
        agency: str | None = None,
        agreed_days: int = 20,
        result_days: int = 4,
        approval: str | None = None,
    ) -> list[Record]:
        """Commission the appraisals, then record their result and confirmation (检验报告确定)."""
        agency = agency or f"JD{self.office.unit_code[:4]}001"
        appraisals = [
            {
                "kind": kind,
                "commissioned_at": commissioned.isoformat(),
                "agency_id": agency,
                "agreed_days": agreed_days,
                "superior_approval_no": approval,
            }
            for kind in kinds
        ]
        out = [self.step("ACC_APPRAISAL", "accept", commissioned, appraisals=appraisals)]
        result = commissioned + timedelta(days=result_days, hours=2)
        confirmed = self.on_duty(result + timedelta(days=1))
        done = {
            "result_at": result.isoformat(),
            "served_at": result.isoformat(),
            "confirmed_at": confirmed.isoformat(),
        }
        confirmed_list = [a | done for a in appraisals]
        out.append(self.step("ACC_APPRAISAL", "review", confirmed, appraisals=confirmed_list))
        return out

    def determine(
        self,
        made: datetime,
        *,
        delivered: datetime | None = None,
        public_evidence: datetime | None = None,
    ) -> list[Record]:
        """The determination (认定书), approved by the brigade head, and its service."""
        det: dict[str, Any] = {
            "type": "determination",
            "made_at": made.isoformat(),
            "rights_notified": True,
        }
        if public_evidence is not None:
            det["public_evidence_at"] = public_evidence.isoformat()
        dec = self.step("ACC_DETERMINATION", "decide", made, determination=det)
        dec.update(
            approver_id=self.office.approvers[0],
            document_kind="determination",
            document_no=f"RD{self.serial}",
        )
        out = [dec]
        if delivered is not None:
            det = det | {"delivered_at": delivered.isoformat()}
            out.append(self.step("ACC_DETERMINATION", "deliver", delivered, determination=det))
        return out


def _agency(ctx: PlantContext, det: int, n: int) -> str:
    """A qualified appraisal agency of the detachment's region, added to R15."""
    code = ctx.world.detachments[det].code
    agency_id = f"JDP{code[:6]}{n}"
    ctx.add(
        "appraisal_agencies",
        {
            "agency_id": agency_id,
            "name": f"黔{n}号司法鉴定中心",
            "region_unit_code": code,
            "qualified": True,
        },
    )
    return agency_id


@plant("ACC-02", severity="red")
def acc_02(ctx: PlantContext) -> list[Record]:
    """A general-procedure injury case closed with no determination or accident certificate."""
    case = Case(ctx, ctx.day(18))
    out = case.report_and_scene()
    t = ctx.t(ctx.wd(case.day, 4), "10:30")
    out.append(
        case.step("ACC_CLOSE", "close", t, determination={"type": "none"}, closed_at=t.isoformat())
    )
    out[-1]["completed_at"] = out[-1]["action_time"]
    return out


@plant("ACC-03", severity="red")
def acc_03(ctx: PlantContext) -> list[Record]:
    """A fatal case modified to zero deaths with no basis document and no approver."""
    case = Case(ctx, ctx.day(24), deaths=1, death_at=None)
    case.block["death_at"] = case.block["scene_started_at"]
    out = case.report_and_scene()
    t = ctx.t(ctx.wd(case.day, 2), "16:45")
    mod = case.step("ACC_SCENE", "modify", t, deaths=0)
    mod.update(
        reason_code="data_correction",
        changed_fields=["accident.deaths"],
        before={"accident.deaths": 1},
        after={"accident.deaths": 0},
    )
    return [*out, mod]


@plant("ACC-01", severity="red")
def acc_01(ctx: PlantContext) -> list[Record]:
    """A fatal case determined on the day of the scene investigation with no appraisal at all."""
    case = Case(ctx, ctx.day(31), deaths=1)
    case.block["death_at"] = case.block["scene_started_at"]
    out = case.report_and_scene()
    made = ctx.t(case.day, "17:40")
    out.append(
        case.step(
            "ACC_DETERMINATION",
            "decide",
            made,
            appraisals=[],
            determination={
                "type": "determination",
                "made_at": made.isoformat(),
                "public_evidence_at": ctx.t(case.day, "16:30").isoformat(),
                "rights_notified": True,
            },
        )
    )
    out[-1]["approver_id"] = case.office.approvers[0]
    return out


@plant("ACC-12", severity="orange")
def acc_12(ctx: PlantContext) -> list[Record]:
    """The driver of an injury case replaced by another person two days after intake (顶包)."""
    case = Case(ctx, ctx.day(37))
    out = case.report_and_scene()
    substitute = ctx.person()
    old = case.block["parties"][0]["id_no"]
    parties = copy.deepcopy(case.block["parties"])
    parties[0].update(id_no=substitute.id_no, license_no=substitute.id_no)
    mod = case.step("ACC_SCENE", "modify", ctx.t(ctx.wd(case.day, 2), "15:10"), parties=parties)
    mod.update(
        reason_code="data_correction",
        changed_fields=["accident.parties[0].id_no", "accident.parties[0].license_no"],
        before={"accident.parties[0].id_no": old, "accident.parties[0].license_no": old},
        after={
            "accident.parties[0].id_no": substitute.id_no,
            "accident.parties[0].license_no": substitute.id_no,
        },
    )
    return [*out, mod]


@plant("ACC-08", severity="red")
def acc_08(ctx: PlantContext) -> list[Record]:
    """The scene photo of one accident reappears (same sha256) in another accident a month later."""
    first = Case(
        ctx,
        ctx.day(12),
        procedure="simple",
        officers=1,
        injured_serious=0,
        injured_minor=0,
        property_damage_only=True,
        consent_simple=True,
    )
    second = Case(
        ctx,
        ctx.day(44),
        procedure="simple",
        officers=1,
        injured_serious=0,
        injured_minor=0,
        property_damage_only=True,
        consent_simple=True,
    )
    a = first.report_and_scene(3)
    b = second.report_and_scene(3)
    b[1]["evidence"][0].update(
        sha256=a[1]["evidence"][0]["sha256"], phash=a[1]["evidence"][0]["phash"]
    )
    return [*a, *b]


@plant("ACC-11", severity="red")
def acc_11(ctx: PlantContext) -> list[Record]:
    """A driver tested at 45 mg/100 ml (drink-driving) while the case says dui=false."""
    case = Case(ctx, ctx.day(50))
    case.block["parties"][0]["alcohol_test"]["result_mg_100ml"] = 45
    return case.report_and_scene()


@plant("CP-21", severity="red")
def cp_21(ctx: PlantContext) -> list[Record]:
    """A case with a seriously injured person closed under the summary procedure by one officer."""
    case = Case(
        ctx, ctx.day(15), procedure="simple", officers=1, injured_serious=1, consent_simple=True
    )
    out = case.report_and_scene(3)
    made = datetime.fromisoformat(case.block["scene_ended_at"]) + timedelta(minutes=10)
    out.append(
        case.step(
            "ACC_DETERMINATION",
            "decide",
            made,
            field=True,
            determination={
                "type": "simple",
                "made_at": made.isoformat(),
                "delivered_at": made.isoformat(),
                "rights_notified": True,
            },
        )
    )
    return out


@plant("CP-22", severity="orange")
def cp_22(ctx: PlantContext) -> list[Record]:
    """A general-procedure scene investigated by a single officer with two photos and no diagram."""
    case = Case(ctx, ctx.day(58), officers=1, scene_diagram_ref=None)
    return case.report_and_scene(2)


@plant("CP-25", severity="orange")
def cp_25(ctx: PlantContext) -> list[Record]:
    """A general case with no appraisal determined 18 working days after the scene (limit 10)."""
    case = Case(ctx, ctx.day(10))
    out = case.report_and_scene()
    made = ctx.t(ctx.wd(case.day, 18), "10:20")
    while not ctx.world.field_on_duty(case.officers[0], made.date()):
        made += timedelta(days=1)
    det = {"type": "determination", "made_at": made.isoformat(), "rights_notified": True}
    out.append(case.step("ACC_DETERMINATION", "decide", made, determination=det))
    out[-1]["approver_id"] = case.office.approvers[0]
    return out


@plant("CP-27", severity="yellow")
def cp_27(ctx: PlantContext) -> list[Record]:
    """A determination delivered to the parties 8 working days after it was made (limit 3)."""
    case = Case(ctx, ctx.day(20))
    out = case.report_and_scene()
    made = ctx.t(ctx.wd(case.day, 5), "10:00")
    det = {"type": "determination", "made_at": made.isoformat(), "rights_notified": True}
    out.append(case.step("ACC_DETERMINATION", "decide", made, determination=det))
    out[-1]["approver_id"] = case.office.approvers[0]
    delivered = ctx.t(ctx.wd(made.date(), 8), "15:00")
    out.append(
        case.step(
            "ACC_DETERMINATION",
            "deliver",
            delivered,
            determination={**det, "delivered_at": delivered.isoformat()},
        )
    )
    return out


# ---- helpers for the cases below ------------------------------------------------------------
def _minor(ctx: PlantContext, day: date, **kw: Any) -> Case:
    """A property-damage-only collision under the summary procedure (one officer)."""
    return Case(
        ctx,
        day,
        procedure=kw.pop("procedure", "simple"),
        officers=1,
        injured_serious=0,
        injured_minor=0,
        property_damage_only=True,
        consent_simple=True,
        **kw,
    )


def _simple_case(ctx: PlantContext, day: date, **kw: Any) -> list[Record]:
    """Report, scene, determination delivered on the spot, close (简易程序)."""
    case = _minor(ctx, day, **kw)
    out = case.report_and_scene(3)
    made = datetime.fromisoformat(case.block["scene_ended_at"]) + timedelta(minutes=8)
    det = {
        "type": "simple",
        "made_at": made.isoformat(),
        "delivered_at": made.isoformat(),
        "rights_notified": True,
    }
    out.append(case.step("ACC_DETERMINATION", "decide", made, field=True, determination=det))
    closed = made + timedelta(minutes=5)
    out.append(case.step("ACC_CLOSE", "close", closed, field=True, closed_at=closed.isoformat()))
    out[-1]["completed_at"] = out[-1]["action_time"]
    return out


def _fast_case(ctx: PlantContext, day: date, *, phone: str | None = None) -> list[Record]:
    """快处快赔 through 12123: the parties report online, an officer confirms liability."""
    case = _minor(ctx, day, procedure="fast_online")
    for key in ("scene_started_at", "scene_ended_at", "scene_diagram_ref", "survey_record_ref"):
        case.block.pop(key)
    if phone is not None:
        case.block["parties"][1]["phone"] = phone
    t0 = case.reported
    rec = case.step("ACC_FAST", "accept", t0, operator="SYS:12123")
    rec["evidence"] = case.photos(4, (t0 - timedelta(minutes=5)).isoformat())  # uploaded
    rec["evidence_count"] = 4
    online(rec, case.subject)
    made = t0 + timedelta(minutes=18)
    det = {
        "type": "simple",
        "made_at": made.isoformat(),
        "delivered_at": made.isoformat(),
        "rights_notified": True,
    }
    dec = case.step("ACC_FAST", "decide", made, determination=det, closed_at=made.isoformat())
    close = case.step("ACC_FAST", "close", made + timedelta(minutes=1), operator="SYS:12123")
    close["completed_at"] = close["action_time"]
    return [rec, dec, close]


def _offset(ctx: PlantContext, day: date, days: int) -> date:
    return ctx.day((day - ctx.world.start).days + days)


def _liability_change(case: Case, t: datetime) -> Record:
    """Swap the liabilities of the two drivers (main ⇄ secondary) on the delivered
    determination."""
    parties = copy.deepcopy(case.block["parties"])
    parties[0]["liability"], parties[1]["liability"] = "secondary", "main"
    mod = case.step("ACC_DETERMINATION", "modify", t, parties=parties)
    mod.update(
        reason_code="data_correction",
        changed_fields=["accident.parties[0].liability", "accident.parties[1].liability"],
        before={
            "accident.parties[0].liability": "main",
            "accident.parties[1].liability": "secondary",
        },
        after={
            "accident.parties[0].liability": "secondary",
            "accident.parties[1].liability": "main",
        },
    )
    return mod


# ---- ACC ------------------------------------------------------------------------------------
@near_miss("ACC-01")
def acc_01_near(ctx: PlantContext) -> list[Record]:
    """A fatal case with autopsy, blood-alcohol and vehicle appraisals determined exactly 72 h
    after the scene started."""
    case = Case(ctx, ctx.day(30), deaths=1, injured_serious=0)
    case.block["death_at"] = case.block["scene_started_at"]
    out = case.report_and_scene()
    scene_end = datetime.fromisoformat(case.block["scene_ended_at"])
    out += case.appraise(
        scene_end + timedelta(minutes=40),
        kinds=("autopsy", "blood_alcohol", "vehicle"),
        result_days=0,
    )
    made = datetime.fromisoformat(case.block["scene_started_at"]) + timedelta(hours=72)
    return out + case.determine(made, public_evidence=made - timedelta(hours=2))


@near_miss("ACC-02")
def acc_02_near(ctx: PlantContext) -> list[Record]:
    """A self-negotiated (自行协商) property-damage case closed without a determination."""
    case = _minor(ctx, ctx.day(19), procedure="self_negotiated")
    out = case.report_and_scene(3)[:1]
    t = case.reported + timedelta(hours=3)
    close = case.step(
        "ACC_CLOSE", "close", t, determination={"type": "none"}, closed_at=t.isoformat()
    )
    close["completed_at"] = close["action_time"]
    return [*out, close]


@near_miss("ACC-03")
def acc_03_near(ctx: PlantContext) -> list[Record]:
    """A serious injury re-graded to minor with the injury re-appraisal as basis, approved by the
    brigade head."""
    case = Case(ctx, ctx.day(25))
    out = case.report_and_scene()
    t = ctx.t(ctx.wd(case.day, 3), "15:20")
    mod = case.step("ACC_SCENE", "modify", t, injured_serious=0, injured_minor=2)
    mod.update(
        reason_code="injury_regraded",
        basis_doc_no=f"SJ-{case.serial[-8:]}",  # 伤情鉴定意见书
        approver_id=case.office.approvers[0],
        changed_fields=["accident.injured_serious", "accident.injured_minor"],
        before={"accident.injured_serious": 1, "accident.injured_minor": 1},
        after={"accident.injured_serious": 0, "accident.injured_minor": 2},
    )
    return [*out, mod]


@plant("ACC-04", severity="red")
def acc_04(ctx: PlantContext) -> list[Record]:
    """Liabilities swapped six working days after the determination was delivered, with no
    review conclusion and no basis document."""
    case = Case(ctx, ctx.day(16))
    out = case.report_and_scene()
    made = ctx.t(ctx.wd(case.day, 5), "10:00")
    out += case.determine(made, delivered=made + timedelta(hours=2))
    return [*out, _liability_change(case, ctx.t(ctx.wd(made.date(), 6), "15:30"))]


@near_miss("ACC-04")
def acc_04_near(ctx: PlantContext) -> list[Record]:
    """Liabilities changed after delivery on the basis of a court judgment (判决书), approved by the
    brigade head."""
    case = Case(ctx, ctx.day(17))
    out = case.report_and_scene()
    made = ctx.t(ctx.wd(case.day, 5), "10:00")
    out += case.determine(made, delivered=made + timedelta(hours=2))
    mod = _liability_change(case, ctx.t(ctx.wd(made.date(), 6), "15:30"))
    mod.update(
        reason_code="court_judgment",
        basis_doc_no=f"(2026)黔0102民初{case.serial[-4:]}号",
        approver_id=case.office.approvers[0],
    )
    return [*out, mod]


@plant("ACC-05", severity="yellow")
def acc_05(ctx: PlantContext) -> list[Record]:
    """One driver party to three reported collisions within two months (碰瓷 pattern)."""
    driver = ctx.person()
    out: list[Record] = []
    for offset in (6, 27, 48):
        out += _simple_case(ctx, ctx.day(offset), drivers=[driver, ctx.person()])
    return out


@plant("ACC-05", severity="orange")
def acc_05_orange(ctx: PlantContext) -> list[Record]:
    """One person party to five reported collisions within three months, as the other party."""
    repeat = ctx.person()
    out: list[Record] = []
    for offset in (3, 20, 36, 55, 74):
        out += _simple_case(ctx, ctx.day(offset), drivers=[ctx.person(), repeat])
    return out


@plant("ACC-05", severity="yellow")
def acc_05_vehicle(ctx: PlantContext) -> list[Record]:
    """One private car party to three reported collisions within two months, each time with
    another driver at the wheel (staged crashes with one vehicle)."""
    owner = ctx.person()
    car = ctx.car(owner.id_no)
    out: list[Record] = []
    for offset in (8, 30, 52):
        drivers = [ctx.person(), ctx.person()]
        cars = [car, ctx.car(drivers[1].id_no)]
        out += _simple_case(ctx, ctx.day(offset), drivers=drivers, cars=cars)
    return out


def _taxi_cases(ctx: PlantContext, offsets: tuple[int, ...]) -> list[Record]:
    """A company taxi (use nature D, commercial in R6) party to one collision per offset, with
    another driver each time."""
    company = identity.uscc(ctx.rng)
    taxi = ctx.car(company, owner_type="uscc", use_nature="D")
    out: list[Record] = []
    for offset in offsets:
        drivers = [ctx.person(), ctx.person()]
        cars = [taxi, ctx.car(drivers[1].id_no)]
        out += _simple_case(ctx, ctx.day(offset), drivers=drivers, cars=cars)
    return out


@plant("ACC-05", severity="yellow")
def acc_05_commercial(ctx: PlantContext) -> list[Record]:
    """A taxi party to six reported collisions within three months: the doubled threshold for
    commercial vehicles (2 × 3) is reached."""
    return _taxi_cases(ctx, (2, 15, 28, 41, 54, 67))


@near_miss("ACC-05")
def acc_05_commercial_near(ctx: PlantContext) -> list[Record]:
    """A taxi party to five reported collisions within three months: above 3, but below the
    doubled threshold (6) of a commercial vehicle."""
    return _taxi_cases(ctx, (4, 18, 32, 46, 60))


@near_miss("ACC-05")
def acc_05_near(ctx: PlantContext) -> list[Record]:
    """One driver party to two reported collisions within two months (threshold 3)."""
    driver = ctx.person()
    out: list[Record] = []
    for offset in (9, 45):
        out += _simple_case(ctx, ctx.day(offset), drivers=[driver, ctx.person()])
    return out


@plant("ACC-06", severity="yellow")
def acc_06(ctx: PlantContext) -> list[Record]:
    """The same officer handles two collisions of the same party within two months."""
    officer = ctx.office("brigade").accident_officers[0]
    party = ctx.person()
    out: list[Record] = []
    for offset in (11, 53):
        out += _simple_case(
            ctx, ctx.day(offset), officer_ids=[officer], drivers=[party, ctx.person()]
        )
    return out


@near_miss("ACC-06")
def acc_06_near(ctx: PlantContext) -> list[Record]:
    """A party in two collisions, each handled by a different officer."""
    officers = ctx.office("brigade").accident_officers
    party = ctx.person()
    out: list[Record] = []
    for offset, officer in ((13, officers[1]), (57, officers[2])):
        out += _simple_case(
            ctx, ctx.day(offset), officer_ids=[officer], drivers=[ctx.person(), party]
        )
    return out


@plant("ACC-07", severity="yellow")
def acc_07(ctx: PlantContext) -> list[Record]:
    """Three 快处快赔 cases within two weeks give the same contact phone for the other party."""
    phone = identity.phone(ctx.rng)
    out: list[Record] = []
    for offset in (5, 12, 19):
        out += _fast_case(ctx, ctx.day(offset), phone=phone)
    return out


@near_miss("ACC-07")
def acc_07_near(ctx: PlantContext) -> list[Record]:
    """Three 快处快赔 cases share a contact phone, but the third comes 32 days after the first."""
    phone = identity.phone(ctx.rng)
    first = _fast_case(ctx, ctx.day(40), phone=phone)
    day0 = datetime.fromisoformat(first[0]["action_time"]).date()
    out = first + _fast_case(ctx, _offset(ctx, day0, 14), phone=phone)
    return out + _fast_case(ctx, _offset(ctx, day0, 32), phone=phone)


@near_miss("ACC-08")
def acc_08_near(ctx: PlantContext) -> list[Record]:
    """A scene photo of another accident whose perceptual hash differs in 7 bits (limit 6)."""
    a = _minor(ctx, ctx.day(13)).report_and_scene(3)
    b = _minor(ctx, ctx.day(46)).report_and_scene(3)
    phash = int(a[1]["evidence"][0]["phash"], 16) ^ 0b1010101010101  # 7 bits flipped
    b[1]["evidence"][0]["phash"] = f"{phash:016x}"
    return [*a, *b]


def _hit_and_run(ctx: PlantContext, day: date) -> Case:
    """A pedestrian seriously injured by a driver who fled; no suspect identified."""
    case = Case(ctx, day, crime_flags=NO_CRIME | {"hit_and_run": True})
    victim = case.drivers[0]
    case.subject_car = None
    case.block["parties"] = [
        {
            "seq": 1,
            "role": "driver",
            "id_no": None,
            "license_no": None,
            "plate_no": None,
            "phone": None,
            "liability": "full",
            "alcohol_test": {"done": False},
        },
        {
            "seq": 2,
            "role": "pedestrian",
            "id_no": victim.id_no,
            "phone": victim.phone,
            "liability": "none",
        },
    ]
    return case


def _close_unsolved(case: Case, closed: datetime, approver: str) -> list[Record]:
    made = closed - timedelta(hours=3)
    cert = {
        "type": "certificate",  # 道路交通事故证明
        "made_at": made.isoformat(),
        "delivered_at": (made + timedelta(hours=1)).isoformat(),
        "rights_notified": True,
    }
    dec = case.step("ACC_DETERMINATION", "decide", made, determination=cert)
    dec.update(approver_id=approver, document_kind="accident_certificate")
    close = case.step("ACC_CLOSE", "close", closed, closed_at=closed.isoformat())
    close.update(approver_id=approver, completed_at=closed.isoformat())
    return [dec, close]


@plant("ACC-09", severity="orange")
def acc_09(ctx: PlantContext) -> list[Record]:
    """A hit-and-run closed 40 days after the report without a suspect, approved by the brigade."""
    case = _hit_and_run(ctx, ctx.day(14))
    out = case.report_and_scene()
    closed = case.on_duty(ctx.t(_offset(ctx, case.day, 40), "15:00"))
    return out + _close_unsolved(case, closed, case.office.approvers[0])


@near_miss("ACC-09")
def acc_09_near(ctx: PlantContext) -> list[Record]:
    """An unsolved hit-and-run closed just over 60 days after the report with the detachment
    head's approval."""
    case = _hit_and_run(ctx, ctx.day(12))
    out = case.report_and_scene()
    closed = case.on_duty(ctx.t(case.day + timedelta(days=60), "15:00"))
    return out + _close_unsolved(case, closed, ctx.world.detachments[0].head)


def _appraisals_by(
    ctx: PlantContext, det: int, agencies: list[str], first_day: int
) -> list[Record]:
    """One accident officer commissions the appraisals of len(agencies) cases in Q3."""
    office = ctx.office("brigade", det=det)
    officer = office.accident_officers[0]
    out: list[Record] = []
    for i, agency in enumerate(agencies):
        case = Case(
            ctx, ctx.day(first_day + 3 * i), office=office, officer_ids=[officer, *office.spare]
        )
        out += case.report_and_scene()
        out += case.appraise(ctx.t(ctx.wd(case.scene_day, 1), "10:00"), agency=agency)
    return out  # determinations left out to keep the volume down: ACC-10 counts commissions


@plant("ACC-10", severity="yellow")
def acc_10(ctx: PlantContext) -> list[Record]:
    """An officer sends 11 of his 12 appraisals of the quarter to one agency (two qualified)."""
    a, b = _agency(ctx, 0, 1), _agency(ctx, 0, 2)
    return _appraisals_by(ctx, 0, [a] * 11 + [b], 1)


@near_miss("ACC-10")
def acc_10_near(ctx: PlantContext) -> list[Record]:
    """An officer sends 9 of his 13 appraisals of the quarter to one agency (69 %, limit 70)."""
    a, b = _agency(ctx, 1, 1), _agency(ctx, 1, 2)
    return _appraisals_by(ctx, 1, [a] * 9 + [b] * 4, 2)


@near_miss("ACC-11")
def acc_11_near(ctx: PlantContext) -> list[Record]:
    """A driver tested at 19 mg/100 ml (below the 20 mg drink-driving line), dui=false."""
    case = Case(ctx, ctx.day(51))
    case.block["parties"][0]["alcohol_test"]["result_mg_100ml"] = 19
    return case.report_and_scene()


@near_miss("ACC-12")
def acc_12_near(ctx: PlantContext) -> list[Record]:
    """The driver's contact phone corrected two days after intake (identity unchanged)."""
    case = Case(ctx, ctx.day(38))
    out = case.report_and_scene()
    new_phone = identity.phone(ctx.rng)
    old = case.block["parties"][0]["phone"]
    parties = copy.deepcopy(case.block["parties"])
    parties[0]["phone"] = new_phone
    mod = case.step("ACC_SCENE", "modify", ctx.t(ctx.wd(case.day, 2), "15:10"), parties=parties)
    mod.update(
        reason_code="data_correction",
        changed_fields=["accident.parties[0].phone"],
        before={"accident.parties[0].phone": old},
        after={"accident.parties[0].phone": new_phone},
    )
    return [*out, mod]


# ---- CP-20 … CP-29 --------------------------------------------------------------------------
def _post_event(ctx: PlantContext, day: date, accept_after: int, hhmm: str) -> list[Record]:
    case = Case(ctx, day, report_mode="post_event", injured_serious=0)
    for key in ("scene_started_at", "scene_ended_at", "scene_diagram_ref", "survey_record_ref"):
        case.block.pop(key)
    w = ctx.window(case.office)
    report = case.step("ACC_REPORT", "notify", case.reported, operator=w.police_id, w=w)
    accepted = ctx.t(ctx.wd(case.day, accept_after), hhmm)
    return [report, case.step("ACC_REPORT", "accept", accepted)]


@plant("CP-20", severity="yellow")
def cp_20(ctx: PlantContext) -> list[Record]:
    """An after-the-fact report at the window registered 5 working days later (limit 3)."""
    return _post_event(ctx, ctx.day(22), 5, "10:30")


@near_miss("CP-20")
def cp_20_near(ctx: PlantContext) -> list[Record]:
    """An after-the-fact report registered on the afternoon of the 3rd working day."""
    return _post_event(ctx, ctx.day(23), 3, "16:30")


@near_miss("CP-21")
def cp_21_near(ctx: PlantContext) -> list[Record]:
    """A minor-injury case under the summary procedure with every party's consent."""
    case = Case(
        ctx,
        ctx.day(16),
        procedure="simple",
        officers=1,
        injured_serious=0,
        injured_minor=1,
        consent_simple=True,
    )
    out = case.report_and_scene(3)
    made = datetime.fromisoformat(case.block["scene_ended_at"]) + timedelta(minutes=10)
    det = {
        "type": "simple",
        "made_at": made.isoformat(),
        "delivered_at": made.isoformat(),
        "rights_notified": True,
    }
    out.append(case.step("ACC_DETERMINATION", "decide", made, field=True, determination=det))
    return out


@near_miss("CP-22")
def cp_22_near(ctx: PlantContext) -> list[Record]:
    """A general case investigated by two officers with exactly six scene photos, diagram and
    survey record."""
    case = Case(ctx, ctx.day(59))
    out = case.report_and_scene(6)
    made = ctx.t(ctx.wd(case.day, 4), "10:00")
    return out + case.determine(made, delivered=made + timedelta(hours=2))


@plant("CP-23", severity="yellow")
def cp_23(ctx: PlantContext) -> list[Record]:
    """A vehicle appraisal commissioned on the 5th working day after the scene without the
    superior's approval (limit 3)."""
    case = Case(ctx, ctx.day(26))
    out = case.report_and_scene()
    return out + case.appraise(ctx.t(ctx.wd(case.scene_day, 5), "10:00"))


@near_miss("CP-23")
def cp_23_near(ctx: PlantContext) -> list[Record]:
    """A vehicle appraisal commissioned on the afternoon of the 3rd working day after the scene."""
    case = Case(ctx, ctx.day(27))
    out = case.report_and_scene()
    return out + case.appraise(ctx.t(ctx.wd(case.scene_day, 3), "16:00"))


@plant("CP-24", severity="yellow")
def cp_24(ctx: PlantContext) -> list[Record]:
    """An appraisal agreed for 45 days without the superior's approval (limit 30)."""
    case = Case(ctx, ctx.day(8))
    out = case.report_and_scene()
    commissioned = ctx.t(ctx.wd(case.scene_day, 1), "10:00")
    return out + case.appraise(commissioned, agreed_days=45, result_days=40)


@near_miss("CP-24")
def cp_24_near(ctx: PlantContext) -> list[Record]:
    """An appraisal agreed for 45 days with the superior's approval, result on day 40."""
    case = Case(ctx, ctx.day(9))
    out = case.report_and_scene()
    commissioned = ctx.t(ctx.wd(case.scene_day, 1), "10:00")
    approval = f"SP{case.serial[-6:]}"
    return out + case.appraise(commissioned, agreed_days=45, result_days=40, approval=approval)


@near_miss("CP-25")
def cp_25_near(ctx: PlantContext) -> list[Record]:
    """A general case with no appraisal determined on the 10th working day after the scene."""
    case = Case(ctx, ctx.day(11))
    out = case.report_and_scene()
    made = ctx.t(ctx.wd(case.scene_day, 10), "16:00")
    return out + case.determine(made, delivered=made + timedelta(hours=1))


def _fatal_appraised(ctx: PlantContext, day: date) -> tuple[Case, list[Record], datetime]:
    case = Case(ctx, day, deaths=1, injured_serious=0)
    case.block["death_at"] = case.block["scene_started_at"]
    out = case.report_and_scene()
    out += case.appraise(
        ctx.t(ctx.wd(case.scene_day, 1), "10:00"),
        kinds=("autopsy", "blood_alcohol", "vehicle"),
        result_days=6,
    )
    confirmed = datetime.fromisoformat(out[-1]["action_time"])
    return case, out, case.on_duty(ctx.t(ctx.wd(confirmed.date(), 2), "10:00"))


@plant("CP-26", severity="orange")
def cp_26(ctx: PlantContext) -> list[Record]:
    """A fatal case determined without calling the parties to disclose the evidence."""
    case, out, made = _fatal_appraised(ctx, ctx.day(33))
    return out + case.determine(made, delivered=made + timedelta(hours=3))


@near_miss("CP-26")
def cp_26_near(ctx: PlantContext) -> list[Record]:
    """A fatal case whose evidence was disclosed to the parties the afternoon before the
    determination."""
    case, out, made = _fatal_appraised(ctx, ctx.day(34))
    disclosed = made - timedelta(hours=19)
    return out + case.determine(
        made, delivered=made + timedelta(hours=3), public_evidence=disclosed
    )


@near_miss("CP-27")
def cp_27_near(ctx: PlantContext) -> list[Record]:
    """A determination served on the afternoon of the 3rd working day after it was made."""
    case = Case(ctx, ctx.day(21))
    out = case.report_and_scene()
    made = ctx.t(ctx.wd(case.day, 5), "10:00")
    return out + case.determine(made, delivered=ctx.t(ctx.wd(made.date(), 3), "16:00"))


def _determined(ctx: PlantContext, day: date) -> tuple[Case, list[Record], datetime]:
    case = Case(ctx, day)
    out = case.report_and_scene()
    made = ctx.t(ctx.wd(case.day, 4), "10:00")
    out += case.determine(made, delivered=made + timedelta(hours=2))
    return case, out, made


def _thirtieth_day(day: date) -> date:
    """The last day of a 30-day period from `day` (moved past days off, 民法典 第203条)."""
    end = day + timedelta(days=30)
    while not is_workday(end):
        end += timedelta(days=1)
    return end


@plant("CP-28", severity="yellow")
def cp_28(ctx: PlantContext) -> list[Record]:
    """A review (复核) filed with the detachment, accepted, and concluded 38 days later (limit
    30)."""
    case, out, made = _determined(ctx, ctx.day(4))
    det = ctx.world.detachments[0]
    requested = ctx.t(ctx.wd(made.date(), 2), "10:00")
    accepted = ctx.t(ctx.wd(requested.date(), 2), "10:00")
    review = {"requested_at": requested.isoformat(), "accepted_at": accepted.isoformat()}
    out.append(
        case.step("ACC_REVIEW", "accept", accepted, operator=det.legal_reviewer, review=review)
    )
    concluded = accepted + timedelta(days=38, hours=5)
    while not is_workday(concluded.date()):
        concluded += timedelta(days=1)
    review = review | {"concluded_at": concluded.isoformat(), "conclusion": "uphold"}
    out.append(case.step("ACC_REVIEW", "decide", concluded, operator=det.head, review=review))
    return out


@near_miss("CP-28")
def cp_28_near(ctx: PlantContext) -> list[Record]:
    """A review filed through the brigade, forwarded on the 2nd working day, accepted on the 5th
    and concluded by the detachment on the 30th day."""
    case, out, made = _determined(ctx, ctx.day(5))
    det = ctx.world.detachments[0]
    received = ctx.t(ctx.wd(made.date(), 2), "10:00")
    forwarded = ctx.t(ctx.wd(received.date(), 2), "15:00")
    review: dict[str, Any] = {
        "requested_at": received.isoformat(),
        "received_by_unit_at": received.isoformat(),
        "forwarded_at": forwarded.isoformat(),
    }
    out.append(case.step("ACC_REVIEW", "transfer", forwarded, review=review))
    accepted = ctx.t(ctx.wd(forwarded.date(), 5), "10:00")
    review = review | {"accepted_at": accepted.isoformat()}
    out.append(
        case.step("ACC_REVIEW", "accept", accepted, operator=det.legal_reviewer, review=review)
    )
    concluded = ctx.t(_thirtieth_day(accepted.date()), "15:00")
    review = review | {"concluded_at": concluded.isoformat(), "conclusion": "uphold"}
    out.append(case.step("ACC_REVIEW", "decide", concluded, operator=det.head, review=review))
    return out


def _seized_for_appraisal(
    ctx: PlantContext, day: date, notify_after: int, hhmm: str
) -> list[Record]:
    """A vehicle held for a vehicle appraisal; the owner is notified to collect it after the
    appraisal is confirmed."""
    case = Case(ctx, day)
    out = case.report_and_scene()
    scene_end = datetime.fromisoformat(case.block["scene_ended_at"])
    seized = {
        "plate_no": case.cars[0].plate,
        "seized_at": (scene_end + timedelta(minutes=10)).isoformat(),
        "voucher_no": f"KL{case.serial[-8:]}",
        "cargo_seized": False,
    }
    out.append(
        case.step(
            "ACC_VEHICLE_SEIZURE",
            "seize",
            scene_end + timedelta(minutes=10),
            field=True,
            seized_vehicles=[seized],
        )
    )
    out += case.appraise(ctx.t(ctx.wd(case.scene_day, 1), "10:00"))
    confirmed = datetime.fromisoformat(out[-1]["action_time"])
    notified = ctx.t(ctx.wd(confirmed.date(), notify_after), hhmm)
    seized = seized | {"notified_at": notified.isoformat()}
    out.append(case.step("ACC_VEHICLE_SEIZURE", "notify", notified, seized_vehicles=[seized]))
    released = case.on_duty(notified + timedelta(days=1))
    seized = seized | {"released_at": released.isoformat()}
    out.append(case.step("ACC_VEHICLE_SEIZURE", "release", released, seized_vehicles=[seized]))
    out[-1]["reason_code"] = "appraisal_done"
    return out


@plant("CP-29", severity="yellow")
def cp_29(ctx: PlantContext) -> list[Record]:
    """A vehicle held for appraisal released 9 working days after the appraisal was confirmed
    (limit 5)."""
    return _seized_for_appraisal(ctx, ctx.day(28), 9, "10:00")


@near_miss("CP-29")
def cp_29_near(ctx: PlantContext) -> list[Record]:
    """A vehicle held for appraisal, its owner notified on the 5th working day after
    confirmation."""
    return _seized_for_appraisal(ctx, ctx.day(29), 5, "16:00")
