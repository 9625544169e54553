"""The common part of a window-business log record (catalogue §1.2) as a marshmallow schema.

The schema checks what one field can check on its own: type, enum membership, length, and the
fields whose "req" is an unconditional yes. Conditions between fields ("required when
channel=window", the extension block matching `service`, …) are checked in `validation`,
which also sees the fields that failed here and can report every problem of a record at once.
"""

from __future__ import annotations

import re
from typing import Final

from auditcage.records import enums as e
from auditcage.records.blocks import (
    AccidentBlockSchema,
    ContractSchema,
    EvidenceSchema,
    GpsSchema,
    LicenseBlockSchema,
    VehicleBlockSchema,
    ViolationBlockSchema,
)
from auditcage.records.fields import (
    Block,
    Choice,
    Integer,
    Number,
    Object,
    Text,
    Timestamp,
    blocks,
    texts,
)

# §1.2 says "1.0"; a minor version only adds optional fields, so any 1.x is read the same way.
SCHEMA_VERSION_PATTERN: Final = re.compile(r"1\.\d+")
RECORD_ID_MAX: Final = 64  # §1.2
SERIAL_NO_MAX: Final = 40  # §1.2
POINTS_MIN, POINTS_MAX = 0, 12  # §1.2 points: int 0..12; §1.7 quarantines outside it


class CommonRecordSchema(ContractSchema):
    record_id = Text(required=True, max_length=RECORD_ID_MAX)
    # Extensible (§1.2): any snake_case name; e.KNOWN_SOURCE_SYSTEMS lists the known ones.
    source_system = Text(required=True, pattern=e.SOURCE_SYSTEM_PATTERN)
    schema_version = Text(required=True, pattern=SCHEMA_VERSION_PATTERN)
    serial_no = Text(required=True, max_length=SERIAL_NO_MAX)
    service = Choice(e.Service, required=True)
    business_type = Choice(e.BUSINESS_TYPES, required=True)
    source_business_code = Text()
    business_type_name = Text()
    action = Choice(e.Action, required=True)
    action_time = Timestamp(required=True)
    accepted_at = Timestamp()  # required unless action=query: validation
    completed_at = Timestamp()
    unit_code = Text(required=True)
    window_id = Text()
    terminal_id = Text()
    client_ip = Text()
    account_id = Text()
    device_fingerprint = Text()
    channel = Choice(e.Channel, required=True)
    operator_id = Text(required=True)
    operator_role = Choice(e.OperatorRole, required=True)
    operator_cert_serial = Text()
    reviewer_id = Text()
    approver_id = Text()
    subject_id_type = Choice(e.SubjectIdType)
    subject_id_no = Text()
    subject_name = Text()
    subject_phone = Text()
    agent_id_no = Text()
    agent_name = Text()
    agent_org_code = Text()
    agent_phone = Text()
    plate_no = Text()
    plate_type = Text()
    vin = Text()  # the 17-character format and the check digit: validation
    vehicle_owner_id_no = Text()
    license_no = Text()
    license_holder_id_no = Text()
    amount = Number()
    amount_kind = Choice(e.AmountKind)
    points = Integer(minimum=POINTS_MIN, maximum=POINTS_MAX, range_code="points_range")
    violation_code = Text()
    case_no = Text()
    document_no = Text()
    document_kind = Choice(e.DocumentKind)
    # "req: yes" but "Defaults to 0" (§1.2): a missing count is 0, not a quarantine.
    evidence_count = Integer(minimum=0, load_default=0)
    evidence = blocks(EvidenceSchema)
    bodycam_refs = texts()
    reason_code = Text()
    reason_text = Text()
    changed_fields = texts()
    before = Object()
    after = Object()
    related_serial_no = Text()
    basis_doc_no = Text()
    approval_no = Text()
    gps = Block(GpsSchema)
    vehicle = Block(VehicleBlockSchema)
    license = Block(LicenseBlockSchema)
    accident = Block(AccidentBlockSchema)
    violation = Block(ViolationBlockSchema)


# One instance for the life of the process: validate_record runs on millions of records.
RECORD_SCHEMA: Final = CommonRecordSchema()
