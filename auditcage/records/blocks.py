"""Schemas of the service extension blocks (catalogue §1.5), Evidence (§1.6) and GPS.

No field inside a block is required: the catalogue states no condition for any of them, and
their absence is what many rules look for (§0.5 item 2). Unknown fields are kept (§7: the
project may accept extra optional fields).
"""

from __future__ import annotations

from typing import ClassVar

from marshmallow import INCLUDE, Schema

from auditcage.records import enums as e
from auditcage.records.fields import (
    Block,
    Choice,
    Day,
    Flag,
    IntChoice,
    Integer,
    Items,
    Letters,
    Number,
    Raw,
    Reason,
    Text,
    Timestamp,
    blocks,
    choices,
    texts,
)


class ContractSchema(Schema):
    """Base of every record-contract schema: extra fields are kept, errors carry codes."""

    error_messages: ClassVar[dict[str, str]] = {
        "type": Reason("bad_type", "expected an object"),
    }

    class Meta:
        unknown = INCLUDE


class GpsSchema(ContractSchema):
    lat = Number()
    lon = Number()
    accuracy_m = Number()
    datum = Choice(e.GpsDatum)


class EvidenceSchema(ContractSchema):
    evidence_id = Text()
    kind = Choice(e.EvidenceKind)
    uri = Text()
    sha256 = Text()
    phash = Text()
    taken_at = Timestamp()
    gps = Block(GpsSchema)
    device_id = Text()
    model_standard = Flag()


# --- vehicle 车管 (§1.5.1) ---


class InspectionSchema(ContractSchema):
    inspector_id = Text()
    site_id = Text()
    started_at = Timestamp()
    ended_at = Timestamp()
    gps = Block(GpsSchema)
    result = Choice(e.InspectionResult)
    photos = blocks(EvidenceSchema)
    vin_rubbing_ref = Text()
    video_ref = Text()
    is_pre_inspection = Flag()


class PlateSelectionSchema(ContractSchema):
    method = Choice(e.PlateSelectionMethod)
    # The catalogue gives no type: a count of numbers offered or the list of them.
    candidates_offered = Raw()
    selected_plate = Text()
    previous_holder_released_at = Timestamp()


class TempPlateSchema(ContractSchema):
    reason = Choice(e.TempPlateReason)
    valid_from = Day()
    valid_to = Day()
    issue_seq = Integer()


class TransferSchema(ContractSchema):
    from_owner_id_no = Text()
    to_owner_id_no = Text()


class VehicleBlockSchema(ContractSchema):
    vehicle_type = Text()
    use_nature = Text()
    vehicle_status = Text()  # GA/T 16.17 letters; the source's own code, not closed here
    first_reg_date = Day()
    mortgage_active = Flag()
    mortgagee_consent_ref = Text()
    seizure_active = Flag()
    stolen_flag = Flag()
    insurance_valid_to = Day()
    safety_inspection_no = Text()
    safety_inspected_at = Timestamp()
    inspection = Block(InspectionSchema)
    plate_selection = Block(PlateSelectionSchema)
    temp_plate = Block(TempPlateSchema)
    transfer = Block(TransferSchema)
    deregistration_reason = Text()
    inspection_mark_valid_to = Day()


# --- licence 驾管 (§1.5.2) ---


class ExamSchema(ContractSchema):
    subject = IntChoice(e.ExamSubject)
    booking_seq = Integer()  # 1..5 in practice; not a quarantine reason (§1.7 lists no range)
    attempt = IntChoice(e.ExamAttempt)
    venue_id = Text()
    seat_id = Text()
    exam_vehicle_id = Text()
    route_id = Text()
    route_distance_km = Number()
    examiner_ids = texts()
    assignment = Choice(e.ExamAssignment)
    started_at = Timestamp()
    ended_at = Timestamp()
    score = Number()
    result = Choice(e.ExamResult)
    judging = Choice(e.ExamJudging)
    manual_items = Items(Raw())
    manual_override = Flag()
    face_scores = Items(Number())
    face_captures = Integer()
    identity_override = Flag()
    driving_school_code = Text()
    candidate_province = Text()


class StudySchema(ContractSchema):
    kind = Choice(e.StudyKind)
    started_at = Timestamp()
    ended_at = Timestamp()
    minutes = Integer()
    device_id = Text()
    ip = Text()
    passed = Flag()
    points_reduced = Integer()


class LicenseBlockSchema(ContractSchema):
    license_class = Text()
    license_status = Letters(e.LICENSE_STATUS_LETTERS)
    first_issue_date = Day()
    cycle_start = Day()
    cycle_end = Day()
    points_before = Integer()
    points_after = Integer()
    full_score_count_cycle = Integer()
    full_score_count_prev = Integer()
    probation = Flag()
    detention_active = Flag()
    learning_permit_at = Day()
    learning_permit_valid_to = Day()
    exam = Block(ExamSchema)
    study = Block(StudySchema)
    safety_education_minutes = Integer()


# --- accident 事故 (§1.5.3) ---


class CrimeFlagsSchema(ContractSchema):
    dui = Flag()
    drugs = Flag()
    unlicensed = Flag()
    hit_and_run = Flag()
    hazmat = Flag()
    other = Flag()


class AlcoholTestSchema(ContractSchema):
    done = Flag()
    tested_at = Timestamp()
    result_mg_100ml = Number()


class PartySchema(ContractSchema):
    seq = Integer()
    role = Choice(e.PartyRole)
    id_no = Text()
    license_no = Text()
    plate_no = Text()
    phone = Text()
    alcohol_test = Block(AlcoholTestSchema)
    liability = Choice(e.Liability)


class AppraisalSchema(ContractSchema):
    kind = Choice(e.AppraisalKind)
    commissioned_at = Timestamp()
    agency_id = Text()
    agreed_days = Integer()
    superior_approval_no = Text()
    result_at = Timestamp()
    served_at = Timestamp()
    confirmed_at = Timestamp()


class DeterminationSchema(ContractSchema):
    type = Choice(e.DeterminationType)
    made_at = Timestamp()
    public_evidence_at = Timestamp()
    delivered_at = Timestamp()
    rights_notified = Flag()


class SeizedVehicleSchema(ContractSchema):
    plate_no = Text()
    seized_at = Timestamp()
    voucher_no = Text()
    cargo_seized = Flag()
    notified_at = Timestamp()
    released_at = Timestamp()


class AccidentReviewSchema(ContractSchema):
    requested_at = Timestamp()
    received_by_unit_at = Timestamp()
    forwarded_at = Timestamp()
    accepted_at = Timestamp()
    concluded_at = Timestamp()
    conclusion = Choice(e.ReviewConclusion)


class MediationSchema(ContractSchema):
    requested_at = Timestamp()
    notified_at = Timestamp()
    concluded_at = Timestamp()
    outcome = Text()


class AccidentBlockSchema(ContractSchema):
    accident_no = Text()
    procedure = Choice(e.AccidentProcedure)
    report_mode = Choice(e.ReportMode)
    reported_at = Timestamp()
    scene_started_at = Timestamp()
    scene_ended_at = Timestamp()
    deaths = Integer()
    death_at = Timestamp()
    injured_serious = Integer()
    injured_minor = Integer()
    property_damage_only = Flag()
    consent_simple = Flag()
    crime_flags = Block(CrimeFlagsSchema)
    complex_case = Flag()
    officers = texts()
    parties = blocks(PartySchema)
    scene_diagram_ref = Text()
    survey_record_ref = Text()
    scene_video_ref = Text()
    appraisals = blocks(AppraisalSchema)
    determination = Block(DeterminationSchema)
    suspect_caught_at = Timestamp()
    seized_vehicles = blocks(SeizedVehicleSchema)
    review = Block(AccidentReviewSchema)
    mediation = Block(MediationSchema)
    criminal_case_no = Text()
    closed_at = Timestamp()
    archived_at = Timestamp()


# --- violation 违法处理 (§1.5.4) ---


class NoticeSchema(ContractSchema):
    notified_at = Timestamp()
    proposed_fine = Number()
    proposed_points = Integer()
    statement_recorded = Flag()
    statement_at = Timestamp()
    statement_accepted = Flag()
    hearing_notified_at = Timestamp()
    hearing_requested = Flag()
    hearing_waived = Flag()


class DecisionSchema(ContractSchema):
    decision_no = Text()
    decided_at = Timestamp()
    decided_by = Text()
    approved_by = Text()
    penalty_kinds = choices(e.PenaltyKind)
    suspend_months = Integer()
    filed_at = Timestamp()
    delivered_at = Timestamp()
    delivery_method = Choice(e.DeliveryMethod)


class DriverVerifySchema(ContractSchema):
    method = Choice(e.DriverVerifyMethod)
    score = Number()


class PaymentSchema(ContractSchema):
    status = Choice(e.PaymentStatus)
    channel = Choice(e.PaymentChannel)
    receipt_no = Text()
    paid_at = Timestamp()
    remitted_at = Timestamp()
    deposited_at = Timestamp()
    bank_txn_id = Text()
    due_date = Day()
    late_fee_amount = Number()
    late_fee_waived = Flag()
    waiver_approval_no = Text()


class MeasureSchema(ContractSchema):
    type = Choice(e.MeasureType)
    voucher_no = Text()
    measured_at = Timestamp()
    reported_at = Timestamp()
    approved_by = Text()
    approved_at = Timestamp()
    signed_by_party = Choice(e.SignedByParty)
    docs_submitted_at = Timestamp()
    extension_approval_no = Text()
    parking_lot_id = Text()
    lot_in_at = Timestamp()
    lot_out_at = Timestamp()


class ReleaseSchema(ContractSchema):
    released_at = Timestamp()
    released_by = Text()
    approval_no = Text()
    docs = texts()


class EliminationSchema(ContractSchema):
    # Free text on purpose: CP-09 grades a reason outside enums.ELIMINATION_REASONS.
    reason_code = Text()
    verified_at = Timestamp()
    evidence_refs = texts()


class RevocationSchema(ContractSchema):
    basis_type = Choice(e.RevocationBasis)
    basis_doc_no = Text()


class LicenseForwardSchema(ContractSchema):
    forwarded_at = Timestamp()
    target_unit = Text()


class ViolationBlockSchema(ContractSchema):
    violation_id = Text()
    source = Choice(e.ViolationSource)
    device_id = Text()
    location_code = Text()
    location_text = Text()
    violation_time = Timestamp()
    captured_at = Timestamp()
    entered_at = Timestamp()
    initial_reviewer_id = Text()
    confirmed_by = Text()
    published_at = Timestamp()
    notified_at = Timestamp()
    procedure = Choice(e.ViolationProcedure)
    notice = Block(NoticeSchema)
    decision = Block(DecisionSchema)
    license_used = Text()
    driver_verify = Block(DriverVerifySchema)
    payment = Block(PaymentSchema)
    measure = Block(MeasureSchema)
    release = Block(ReleaseSchema)
    elimination = Block(EliminationSchema)
    revocation = Block(RevocationSchema)
    license_forward = Block(LicenseForwardSchema)
    archived_at = Timestamp()


BLOCK_SCHEMAS: dict[e.Service, type[ContractSchema]] = {
    e.Service.VEHICLE: VehicleBlockSchema,
    e.Service.LICENSE: LicenseBlockSchema,
    e.Service.ACCIDENT: AccidentBlockSchema,
    e.Service.VIOLATION: ViolationBlockSchema,
}
