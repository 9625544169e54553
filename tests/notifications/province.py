"""A small province for routing tests: units (R1), staff (R2) and relations (R4). Synthetic.

总队 320000000000
├── 南京支队 320100000000
│   ├── 城东大队 320102000000
│   │   └── 城东窗口1 320102000001 (a window: its alerts route through 城东大队)
│   └── 城西大队 320103000000
└── 无锡支队 320200000000 (only its chief: a second detachment for the briefings)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from auditcage.reference.index import ReferenceIndex

PROVINCE, NANJING, EAST, WEST, EAST_WINDOW, WUXI = (
    "320000000000",
    "320100000000",
    "320102000000",
    "320103000000",
    "320102000001",
    "320200000000",
)

# 总队: the chief, the deputy in charge (listed in R1), a deputy not in charge, 督察, supervision.
PROVINCE_CHIEF, PROVINCE_DEPUTY, OTHER_PROVINCE_DEPUTY = "P01", "P02", "P03"
PROVINCE_INSPECTOR, PROVINCE_SUPERVISION = "P09", "P08"
# 南京支队: 支队长, 分管副支队长, 业务监管室, 支队督察.
DETACHMENT_CHIEF, DETACHMENT_DEPUTY, DETACHMENT_SUPERVISION, DETACHMENT_INSPECTOR = (
    "D01",
    "D02",
    "D08",
    "D09",
)
WUXI_CHIEF = "X01"
# 城东大队: the east chief owns its orange and red alerts; the deputy; the 监管岗 handles yellow.
EAST_CHIEF, EAST_DEPUTY, EAST_SUPERVISION = "E01", "E02", "E08"
# Window staff of 城东: the operator and the reviewer of the alerted business.
OPERATOR, REVIEWER = "E11", "E12"
# 城西大队: its chief is on leave.
WEST_CHIEF, WEST_SUPERVISION, WEST_OFFICER = "W01", "W08", "W11"

# A citizen whose business was handled, and the id numbers of staff who matter in recusal.
CITIZEN = "320102199001011234"
ID_NO = {
    EAST_CHIEF: "320102197001010011",
    OPERATOR: "320102198501010022",
    DETACHMENT_INSPECTOR: "320102197501010033",
}


def _unit(code: str, parent: str | None, level: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "unit_code": code,
        "parent_code": parent,
        "level": level,
        "name": name,
        "province_code": "32",
        **extra,
    }


def _staff(staff_id: str, unit: str, position: str, **extra: Any) -> dict[str, Any]:
    return {
        "staff_id": staff_id,
        "id_no": ID_NO.get(staff_id, f"3201021980010{staff_id}0"),
        "name": f"staff {staff_id}",
        "staff_kind": "police",
        "unit_code": unit,
        "position": position,
        "status": "active",
        "notify": [f"mailto://{staff_id.lower()}@example.com", f"json://push.example/{staff_id}"],
        **extra,
    }


UNITS = [
    _unit(
        PROVINCE,
        None,
        "province",
        "总队",
        head_staff_ids=[PROVINCE_CHIEF, PROVINCE_DEPUTY],
        discipline_contact_ids=[PROVINCE_INSPECTOR],
    ),
    _unit(
        NANJING,
        PROVINCE,
        "detachment",
        "南京支队",
        head_staff_ids=[DETACHMENT_CHIEF],
        discipline_contact_ids=[DETACHMENT_INSPECTOR],
    ),
    _unit(
        EAST,
        NANJING,
        "brigade",
        "城东大队",
        head_staff_ids=[EAST_CHIEF],
        discipline_contact_ids=[DETACHMENT_INSPECTOR],
    ),
    _unit(EAST_WINDOW, EAST, "window", "城东窗口1"),
    _unit(WEST, NANJING, "brigade", "城西大队", head_staff_ids=[WEST_CHIEF]),
    _unit(WUXI, PROVINCE, "detachment", "无锡支队", head_staff_ids=[WUXI_CHIEF]),
]

STAFF = [
    _staff(PROVINCE_CHIEF, PROVINCE, "province_head"),
    _staff(PROVINCE_DEPUTY, PROVINCE, "deputy_province_head"),
    _staff(OTHER_PROVINCE_DEPUTY, PROVINCE, "deputy_province_head"),
    _staff(PROVINCE_INSPECTOR, PROVINCE, "inspector_discipline"),
    _staff(PROVINCE_SUPERVISION, PROVINCE, "supervision_post"),
    _staff(DETACHMENT_CHIEF, NANJING, "detachment_head"),
    _staff(DETACHMENT_DEPUTY, NANJING, "deputy_detachment_head"),
    _staff(DETACHMENT_SUPERVISION, NANJING, "supervision_post"),
    _staff(DETACHMENT_INSPECTOR, NANJING, "inspector_discipline"),
    _staff(WUXI_CHIEF, WUXI, "detachment_head"),
    _staff(EAST_CHIEF, EAST, "brigade_head"),
    _staff(EAST_DEPUTY, EAST, "deputy_brigade_head"),
    _staff(EAST_SUPERVISION, EAST, "supervision_post"),
    _staff(OPERATOR, EAST_WINDOW, "window_officer"),
    _staff(REVIEWER, EAST, "legal_reviewer"),
    _staff(WEST_CHIEF, WEST, "brigade_head", status="leave"),
    _staff(WEST_SUPERVISION, WEST, "supervision_post"),
    _staff(WEST_OFFICER, WEST, "window_officer"),
]


def province(**datasets: Iterable[Mapping[str, Any]]) -> ReferenceIndex:
    """The province as a ReferenceIndex; a keyword replaces that dataset (e.g. relations=[…])."""
    rows: dict[str, Iterable[Mapping[str, Any]]] = {"units": UNITS, "staff": STAFF, "relations": []}
    rows.update(datasets)
    return ReferenceIndex(rows)


def staff_with(staff_id: str, **changes: Any) -> list[dict[str, Any]]:
    """STAFF with one person's row changed (a promotion, a leave, a new position)."""
    return [{**row, **changes} if row["staff_id"] == staff_id else row for row in STAFF]
