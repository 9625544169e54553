"""The enumerations of the record contract (catalogue §1.2 to §1.6).

StrEnums are the closed lists a record is quarantined for breaking (§1.7: "an enum value is
unknown"). Plain frozensets are lists the contract names but does not close: the source system
(§1.2 "extensible") and the elimination reasons of CP-09, which a rule grades rather than the
validator rejecting them.
"""

from __future__ import annotations

import re
from enum import IntEnum, StrEnum
from typing import Final


class Service(StrEnum):
    VEHICLE = "vehicle"
    LICENSE = "license"
    ACCIDENT = "accident"
    VIOLATION = "violation"


# §1.2 lists these and calls the list extensible, so any snake_case name is accepted.
KNOWN_SOURCE_SYSTEMS: Final = frozenset(
    {
        "vehicle_reg",
        "license_mgmt",
        "exam",
        "inspection_pda",
        "accident",
        "violation",
        "nonsite_review",
        "kiosk",
        "internet_12123",
        "payment",
        "parking",
    }
)
SOURCE_SYSTEM_PATTERN: Final = re.compile(r"[a-z0-9_]+")


class Action(StrEnum):
    ACCEPT = "accept"
    INSPECT = "inspect"
    EXAMINE = "examine"
    REVIEW = "review"
    APPROVE = "approve"
    DECIDE = "decide"
    ISSUE = "issue"
    PRINT = "print"
    REPRINT = "reprint"
    NOTIFY = "notify"
    DELIVER = "deliver"
    REJECT = "reject"
    CANCEL = "cancel"
    COLLECT = "collect"
    REMIT = "remit"
    SEIZE = "seize"
    RELEASE = "release"
    ELIMINATE = "eliminate"
    REVOKE = "revoke"
    MODIFY = "modify"
    DELETE = "delete"
    QUERY = "query"
    TRANSFER = "transfer"
    CLOSE = "close"
    ARCHIVE = "archive"
    REOPEN = "reopen"


# §1.2 reason_code: "Required for modify, revoke, delete, eliminate, reject, cancel, release."
ACTIONS_NEEDING_REASON: Final = frozenset(
    {
        Action.MODIFY,
        Action.REVOKE,
        Action.DELETE,
        Action.ELIMINATE,
        Action.REJECT,
        Action.CANCEL,
        Action.RELEASE,
    }
)
REASON_OTHER: Final = "other"  # §1.2 reason_text: "Required with reason_code=other."


class Channel(StrEnum):
    WINDOW = "window"
    BACKEND = "backend"
    KIOSK = "kiosk"
    INTERNET = "internet"
    MOBILE_POLICE = "mobile_police"
    FIELD = "field"
    STATION = "station"
    SYSTEM = "system"


# §1.2 notes on window_id, terminal_id, client_ip and account_id.
CHANNELS_NEEDING_WINDOW: Final = frozenset({Channel.WINDOW})
CHANNELS_NEEDING_TERMINAL: Final = frozenset(
    {Channel.WINDOW, Channel.KIOSK, Channel.FIELD, Channel.STATION}
)
CHANNELS_NEEDING_CLIENT_IP: Final = frozenset({Channel.WINDOW, Channel.BACKEND, Channel.INTERNET})
CHANNELS_NEEDING_ACCOUNT: Final = frozenset({Channel.INTERNET})


class OperatorRole(StrEnum):
    POLICE = "police"
    AUXILIARY = "auxiliary"
    EXAMINER = "examiner"
    INSPECTOR = "inspector"
    AGENCY_STAFF = "agency_staff"
    SYSTEM = "system"


class SubjectIdType(StrEnum):
    RESIDENT_ID = "resident_id"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    FOREIGN_PERMANENT_ID = "foreign_permanent_id"
    MILITARY_ID = "military_id"
    USCC = "uscc"


class AmountKind(StrEnum):
    FEE = "fee"
    FINE = "fine"
    LATE_FEE = "late_fee"
    REFUND = "refund"


class DocumentKind(StrEnum):
    PENALTY_DECISION = "penalty_decision"
    MEASURE_VOUCHER = "measure_voucher"
    FINE_RECEIPT = "fine_receipt"
    DETERMINATION = "determination"
    ACCIDENT_CERTIFICATE = "accident_certificate"
    DRIVING_PERMIT = "driving_permit"
    REG_CERTIFICATE = "reg_certificate"
    LICENSE_CARD = "license_card"
    PLATE = "plate"
    INSPECTION_MARK = "inspection_mark"
    TEMP_PLATE = "temp_plate"
    NOTICE = "notice"
    OTHER = "other"


# §1.4, code → service. The R6 catalogue holds the per-type defaults; this is only membership.
BUSINESS_TYPES: Final[dict[str, Service]] = {
    **dict.fromkeys(
        (
            "VEH_REG_NEW",
            "VEH_TRANSFER",
            "VEH_TRANSFER_OUT",
            "VEH_TRANSFER_IN",
            "VEH_CHANGE",
            "VEH_CHANGE_FILING",
            "VEH_MORTGAGE",
            "VEH_MORTGAGE_RELEASE",
            "VEH_DEREGISTER",
            "VEH_DEREG_RESTORE",
            "VEH_CORRECTION",
            "VEH_REPLACE_PLATE",
            "VEH_REPLACE_PERMIT",
            "VEH_REPLACE_REG_CERT",
            "VEH_TEMP_PLATE",
            "VEH_INSPECTION_MARK",
            "VEH_PLATE_SELECT",
            "VEH_PLATE_RETAIN",
            "VEH_SCRAP_SUPERVISION",
            "VEH_STATUS_LOCK",
        ),
        Service.VEHICLE,
    ),
    **dict.fromkeys(
        (
            "LIC_APPLY",
            "LIC_EXAM_BOOK",
            "LIC_EXAM",
            "LIC_ISSUE",
            "LIC_RENEW",
            "LIC_REPLACE",
            "LIC_EXCHANGE",
            "LIC_AUDIT",
            "LIC_STUDY_REDUCE",
            "LIC_FULL_SCORE",
            "LIC_POINTS_ADJUST",
            "LIC_CANCEL",
            "LIC_RESTORE",
            "LIC_DOWNGRADE",
            "LIC_DETENTION",
        ),
        Service.LICENSE,
    ),
    **dict.fromkeys(
        (
            "ACC_REPORT",
            "ACC_SCENE",
            "ACC_APPRAISAL",
            "ACC_DETERMINATION",
            "ACC_REVIEW",
            "ACC_MEDIATION",
            "ACC_VEHICLE_SEIZURE",
            "ACC_CRIMINAL",
            "ACC_FAST",
            "ACC_CLOSE",
        ),
        Service.ACCIDENT,
    ),
    **dict.fromkeys(
        (
            "VIO_NONSITE_REVIEW",
            "VIO_NOTICE",
            "VIO_PROCESS",
            "VIO_ELIMINATION",
            "VIO_CORRECTION",
            "VIO_PAYMENT",
            "VIO_MEASURE",
            "VIO_RELEASE",
            "VIO_HEARING",
            "VIO_LICENSE_FORWARD",
            "VIO_ENFORCEMENT",
        ),
        Service.VIOLATION,
    ),
}


class EvidenceKind(StrEnum):
    PHOTO_FRONT_LEFT_45 = "photo_front_left_45"
    PHOTO_REAR_RIGHT_45 = "photo_rear_right_45"
    PHOTO_VIN = "photo_vin"
    VIN_RUBBING = "vin_rubbing"
    PHOTO_NAMEPLATE = "photo_nameplate"
    PHOTO_PLATE = "photo_plate"
    PHOTO_SCENE = "photo_scene"
    PHOTO_DAMAGE = "photo_damage"
    VIDEO = "video"
    BODYCAM = "bodycam"
    DOCUMENT_SCAN = "document_scan"
    FACE_CAPTURE = "face_capture"
    OTHER = "other"


class GpsDatum(StrEnum):
    WGS84 = "WGS84"
    GCJ02 = "GCJ02"


# --- vehicle block (§1.5.1) ---


class InspectionResult(StrEnum):
    PASS = "pass"
    FAIL = "fail"


class PlateSelectionMethod(StrEnum):
    RANDOM_POOL = "random_pool"
    SELF_COMPOSE = "self_compose"
    INTERNET = "internet"
    RETAINED = "retained"
    MANUAL_ASSIGN = "manual_assign"
    RESERVED_RELEASE = "reserved_release"


class TempPlateReason(StrEnum):
    UNSOLD = "unsold"
    PURCHASED_UNREGISTERED = "purchased_unregistered"
    EXPORT = "export"
    TESTING = "testing"
    OVERSIZE = "oversize"
    PLATE_PRODUCTION = "plate_production"
    SMART_VEHICLE_TEST = "smart_vehicle_test"


# --- license block (§1.5.2) ---

# GA/T 16 licence status letters [R:S27]; a status is one or more of them.
LICENSE_STATUS_LETTERS: Final = frozenset("ABCDEFGHIJKLMNPRS")


class ExamSubject(IntEnum):
    SUBJECT_1 = 1
    SUBJECT_2 = 2
    SUBJECT_3 = 3
    SUBJECT_3_SAFETY = 4  # 科目三安全文明驾驶常识


class ExamAttempt(IntEnum):
    FIRST = 1
    RETAKE = 2  # 补考


class ExamAssignment(StrEnum):
    RANDOM = "random"
    MANUAL = "manual"


class ExamResult(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ABSENT = "absent"
    CANCELLED = "cancelled"


class ExamJudging(StrEnum):
    ELECTRONIC = "electronic"
    MANUAL = "manual"
    MIXED = "mixed"


class StudyKind(StrEnum):
    ONLINE = "online"
    ONSITE = "onsite"
    PUBLIC_SERVICE = "public_service"
    FULL_SCORE = "full_score"


# --- accident block (§1.5.3) ---


class AccidentProcedure(StrEnum):
    SIMPLE = "simple"
    GENERAL = "general"
    FAST_ONLINE = "fast_online"
    SELF_NEGOTIATED = "self_negotiated"


class ReportMode(StrEnum):
    ON_SCENE = "on_scene"
    POST_EVENT = "post_event"


class PartyRole(StrEnum):
    DRIVER = "driver"
    PEDESTRIAN = "pedestrian"
    PASSENGER = "passenger"
    OWNER = "owner"
    OTHER = "other"


class Liability(StrEnum):
    FULL = "full"
    MAIN = "main"
    EQUAL = "equal"
    SECONDARY = "secondary"
    NONE = "none"
    UNDETERMINED = "undetermined"


class AppraisalKind(StrEnum):
    VEHICLE = "vehicle"
    SPEED = "speed"
    TRACE = "trace"
    BODY = "body"
    AUTOPSY = "autopsy"
    BLOOD_ALCOHOL = "blood_alcohol"
    MENTAL = "mental"
    OTHER = "other"


class DeterminationType(StrEnum):
    DETERMINATION = "determination"
    CERTIFICATE = "certificate"
    SIMPLE = "simple"
    NONE = "none"


class ReviewConclusion(StrEnum):
    UPHOLD = "uphold"
    REDO = "redo"


# --- violation block (§1.5.4) ---


class ViolationSource(StrEnum):
    CAMERA = "camera"
    ON_SITE = "on_site"
    REPORT = "report"
    OTHER_AGENCY = "other_agency"


class ViolationProcedure(StrEnum):
    SIMPLE = "simple"
    GENERAL = "general"
    ONLINE_SELF_SERVICE = "online_self_service"


class PenaltyKind(StrEnum):
    WARNING = "warning"
    FINE = "fine"
    SUSPEND = "suspend"
    REVOKE = "revoke"
    DETENTION = "detention"


class DeliveryMethod(StrEnum):
    ON_SPOT = "on_spot"
    POST = "post"
    ELECTRONIC = "electronic"
    ANNOUNCEMENT = "announcement"


class DriverVerifyMethod(StrEnum):
    FACE = "face"
    ID_CARD = "id_card"
    REALNAME_APP = "realname_app"
    NONE = "none"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    OVERDUE = "overdue"
    ENFORCED = "enforced"
    WAIVED = "waived"


class PaymentChannel(StrEnum):
    BANK = "bank"
    ONLINE = "online"
    ON_SPOT = "on_spot"


class MeasureType(StrEnum):
    SEIZE_VEHICLE = "seize_vehicle"
    SEIZE_LICENSE = "seize_license"
    TOW = "tow"
    CONFISCATE = "confiscate"
    ALCOHOL_TEST = "alcohol_test"
    OTHER = "other"


class SignedByParty(StrEnum):
    YES = "yes"
    REFUSED = "refused"
    ABSENT = "absent"


class RevocationBasis(StrEnum):
    RECONSIDERATION = "reconsideration"
    LITIGATION = "litigation"
    STATEMENT_REVIEW = "statement_review"
    SELF_CORRECTION = "self_correction"


# CP-09's list [F:S14 第20条, 2008]. Not enforced by the validator: CP-09 raises red when the
# reason is outside it, so such a record must be accepted to be seen.
ELIMINATION_REASONS: Final = frozenset(
    {
        "emergency_vehicle_on_duty",
        "stolen_period",
        "rescue_or_avoidance",
        "handled_on_scene",
        "conflicting_signals",
        "record_defective",
    }
)
