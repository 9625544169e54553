"""The reference datasets of catalogue §7.2: file name, catalogue id and how a row is looked up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    name: (
        str  # the file name without extension, and the URL segment of PUT /api/v1/reference/<name>
    )
    ref_id: str  # catalogue §1.9 id (R1…R16)
    key: tuple[str, ...]  # fields that look a row up; several rows may share a key
    versioned: bool = False  # rows carry effective_from / effective_to
    policy: bool = False  # shipped under rules/reference/ (policy, not facts)


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("units", "R1", ("unit_code",)),
        Dataset("staff", "R2", ("staff_id",), versioned=True),
        Dataset("duty_roster", "R3", ("staff_id", "date")),
        Dataset("relations", "R4", ("staff_id",)),
        Dataset("staff_assets", "R4", ("kind", "value")),
        Dataset("terminals", "R5", ("terminal_id",)),
        Dataset("business_types", "R6", ("business_type",), policy=True),
        Dataset("violation_codes", "R7", ("violation_code",), versioned=True, policy=True),
        Dataset("calendar", "R8", ("calendar_id", "date"), policy=True),
        Dataset("agents", "R9", ("org_code",)),
        Dataset("exam_venues", "R10", ("venue_id",)),
        Dataset("school_affiliations", "R10", ("id_no",)),
        Dataset("inspection_sites", "R11", ("site_id",)),
        Dataset("vehicles", "R12", ("vin",), versioned=True),
        Dataset("licences", "R12", ("license_no",), versioned=True),
        # catalogue §0.5 item 10: optional; which vehicle types a licence class covers (VIO-06)
        Dataset("licence_classes", "R12", ("license_class",)),
        Dataset("bank_ledger", "R13", ("decision_no",)),
        Dataset("document_stock", "R13", ("staff_id",)),
        Dataset("parking_ledger", "R13", ("plate_no",)),
        Dataset("inspection_reports", "R13", ("vin",)),
        Dataset("bodycam_index", "R13", ("staff_id",)),
        Dataset("watchlist", "R14", ("kind", "value")),
        Dataset("appraisal_agencies", "R15", ("agency_id",)),
        Dataset("premium_plate_patterns", "R16", ("pattern",), policy=True),
    )
}


def key_of(dataset: Dataset, row: dict) -> str | None:
    """The lookup key of a row as one string ("a|b" if compound); None when a part is empty."""
    parts = []
    for field_name in dataset.key:
        value = row.get(field_name)
        if value is None or value == "":
            return None
        parts.append(str(value))
    return "|".join(parts)
