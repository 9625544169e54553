"""Planted accident cases (ACC-xx, CP-20…29)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any

from auditcage.demo import identity
from auditcage.demo.plants import PlantContext, plant
from auditcage.demo.province import Office
from auditcage.demo.records import Record
from auditcage.demo.records_accident import NO_CRIME


class Case:
    """One accident case of the 南明 brigade; `step()` writes the next record with the current
    block."""

    def __init__(
        self,
        ctx: PlantContext,
        day: date,
        *,
        procedure: str = "general",
        officers: int = 2,
        **block: Any,
    ) -> None:
        self.ctx = ctx
        self.office: Office = ctx.office("brigade")
        duty = [s for s in self.office.accident_officers if ctx.world.field_on_duty(s, day)]
        while len(duty) < officers:
            day += timedelta(days=1)
            duty = [s for s in self.office.accident_officers if ctx.world.field_on_duty(s, day)]
        self.day = day
        self.officers = duty[:officers]
        self.serial = ctx.serial("7", self.office.unit_code, day)
        self.drivers = [ctx.person(), ctx.person()]
        self.cars = [ctx.car(p.id_no) for p in self.drivers]
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

    def step(
        self,
        btype: str,
        action: str,
        t: datetime,
        *,
        field: bool = False,
        operator: str | None = None,
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
            where="field" if field else None,
            accepted=self.reported,
        )
        self.ctx.ids(rec, person=self.drivers[0], car=self.cars[0])
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
        scene["evidence"] = [
            {
                "evidence_id": f"{self.serial}-S{i}",
                "kind": "photo_scene",
                "uri": f"oss://accident/{self.serial}/{i}.jpg",
                "sha256": identity.hexstr(self.ctx.rng, 256),
                "phash": identity.hexstr(self.ctx.rng, 64),
                "taken_at": self.block["scene_started_at"],
                "model_standard": False,
            }
            for i in range(1, photos + 1)
        ]
        scene["evidence_count"] = photos
        return [report, scene]


@plant("ACC-02")
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


@plant("ACC-03")
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


@plant("ACC-01")
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


@plant("ACC-12")
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


@plant("ACC-08")
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


@plant("ACC-11")
def acc_11(ctx: PlantContext) -> list[Record]:
    """A driver tested at 45 mg/100 ml (drink-driving) while the case says dui=false."""
    case = Case(ctx, ctx.day(50))
    case.block["parties"][0]["alcohol_test"]["result_mg_100ml"] = 45
    return case.report_and_scene()


@plant("CP-21")
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


@plant("CP-22")
def cp_22(ctx: PlantContext) -> list[Record]:
    """A general-procedure scene investigated by a single officer with two photos and no diagram."""
    case = Case(ctx, ctx.day(58), officers=1, scene_diagram_ref=None)
    return case.report_and_scene(2)


@plant("CP-25")
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


@plant("CP-27")
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
