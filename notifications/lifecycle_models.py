"""Tables of the acknowledgement loop (catalogue §4.4): who owns an alert, its deadlines, its own
history, the reports and the review decisions. They reference `alert.id` and leave the alert row
to its owner (auditcage/alerts); only `alert.status` moves with the loop.

Everything the sweeper needs lives here, so a restarted notifier continues where it stopped.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from auditcage.storage.base import Base, JSONType, TZDateTime


class Step(StrEnum):
    """The deadlines of §4.4, in the order an alert meets them."""

    ACKNOWLEDGE = "acknowledge"  # 签收
    INITIAL_FEEDBACK = "initial_feedback"  # 初步回告
    FINAL_REPORT = "final_report"  # 核查报告
    REVIEW = "review"  # 审核


class ReportKind(StrEnum):
    INITIAL = "initial"
    FINAL = "final"


class VerificationMethod(StrEnum):
    VIDEO_REVIEWED = "video_reviewed"  # 调阅视频
    FILE_RETRIEVED = "file_retrieved"  # 调取档案
    INTERVIEW = "interview"  # 谈话询问
    SYSTEM_LOGS = "system_logs"  # 系统日志


class Finding(StrEnum):
    CONFIRMED = "confirmed"  # 属实
    PARTLY = "partly"  # 部分属实
    UNFOUNDED = "unfounded"  # 不属实（误报）


class FalsePositiveReason(StrEnum):
    """Why an alert was wrong; counted per rule for tuning (§4.4, §4.3 monthly precision)."""

    SOURCE_DATA_ERROR = "source_data_error"  # the source system logged wrong or partial data
    REFERENCE_OUTDATED = "reference_outdated"  # staff registry, roster or ledger out of date
    AUTHORISED_EXCEPTION = "authorised_exception"  # a documented approval covers the case
    RULE_TOO_BROAD = "rule_too_broad"  # the condition or threshold catches lawful practice
    DUPLICATE = "duplicate"  # another alert already covers the same facts
    SYSTEM_FAULT = "system_fault"  # terminal, clock or interface fault
    OTHER = "other"  # needs a comment


class Disposal(StrEnum):
    CRITICISM = "criticism_education"
    REMINDER_TALK = "reminder_talk"
    ADMONISHMENT = "admonishment"
    REASSIGNMENT = "reassignment"
    DISMISS_AUXILIARY = "dismiss_auxiliary"
    PARTY_GOVERNMENT_SANCTION = "party_government_sanction"
    REFER_DISCIPLINE = "refer_discipline_commission"
    REFER_JUDICIAL = "refer_judicial"


DISPOSAL_LABELS: dict[Disposal, str] = {
    Disposal.CRITICISM: "批评教育",
    Disposal.REMINDER_TALK: "约谈提醒",
    Disposal.ADMONISHMENT: "诫勉",
    Disposal.REASSIGNMENT: "调岗",
    Disposal.DISMISS_AUXILIARY: "辞退协勤",
    Disposal.PARTY_GOVERNMENT_SANCTION: "党纪政务处分",
    Disposal.REFER_DISCIPLINE: "移送纪检监察机关",
    Disposal.REFER_JUDICIAL: "移送司法机关",
}


class BusinessRemedy(StrEnum):
    REVOKE_BUSINESS = "revoke_business"  # 撤销违规业务
    RESTORE_POINTS = "restore_points"  # 恢复记分
    RECOVER_MONEY = "recover_money"  # 追缴款项


class AlertAssignment(Base):
    """Whom the alert was pushed to (one row per alert) and, when delegated, to whom it went."""

    __tablename__ = "alert_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), unique=True)
    # The unit whose working hours count (§0.5 item 8): the alert's, or the one an inspector
    # assigned a blue alert to.
    unit_code: Mapped[str] = mapped_column(String(32))
    owner_ids: Mapped[list[str]] = mapped_column(JSONType)  # staff ids: 处置责任人
    copy_ids: Mapped[list[str]] = mapped_column(JSONType)  # staff ids: 知悉
    routed_at: Mapped[datetime] = mapped_column(TZDateTime())
    severity: Mapped[str] = mapped_column(String(8))  # the alert's severity when routed
    # The deadline table used: the severity, except blue alerts assigned by an inspector (yellow).
    tracked_as: Mapped[str] = mapped_column(String(8))
    assigned_by: Mapped[str | None] = mapped_column(String(64))  # the inspector, for blue alerts
    delegated_to: Mapped[str | None] = mapped_column(String(64))
    delegated_by: Mapped[str | None] = mapped_column(String(64))
    delegation_reason: Mapped[str | None] = mapped_column(Text)


class AlertDeadline(Base):
    """One deadline of one step. A returned report gets a new row; the old one stays as history.

    `escalation_level` counts the ladder steps already taken (0 = none yet), and `next_check_at`
    is when the next one is due (None = nothing left to do): the sweeper raises both with a
    guarded UPDATE, so a restart neither loses nor repeats a step.
    """

    __tablename__ = "alert_deadline"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    step: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(TZDateTime())
    due_at: Mapped[datetime] = mapped_column(TZDateTime())
    # The policy's full period for the step (a return grants half of it, in the same unit) ...
    original_amount: Mapped[float] = mapped_column(Float)
    original_unit: Mapped[str] = mapped_column(String(16))
    # ... and what this row actually granted (the original, or half of it after a return).
    granted_amount: Mapped[float] = mapped_column(Float)
    met_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    escalation_level: Mapped[int] = mapped_column(default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    active: Mapped[bool] = mapped_column(default=True)

    # Serves the sweeper's query: active rows whose next check has come.
    __table_args__ = (Index("ix_alert_deadline_due", "active", "next_check_at"),)


class AlertEvent(Base):
    """The alert's own history, next to the (hash-chained) audit trail."""

    __tablename__ = "alert_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    at: Mapped[datetime] = mapped_column(TZDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    # A false-positive reason (dismissal, or an accepted 不属实 report): rule statistics count it.
    reason_code: Mapped[str | None] = mapped_column(String(40), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class FeedbackReport(Base):
    """An initial feedback (初步回告) or a final verification report (核查报告), as submitted."""

    __tablename__ = "feedback_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(TZDateTime())
    verification_methods: Mapped[list[str]] = mapped_column(JSONType)
    facts: Mapped[str] = mapped_column(Text)
    persons_responsible: Mapped[list[str]] = mapped_column(JSONType)
    finding: Mapped[str | None] = mapped_column(String(12))  # None on an initial feedback
    reason_code: Mapped[str | None] = mapped_column(String(40))
    disposal: Mapped[list[str]] = mapped_column(JSONType)
    business_remedy: Mapped[list[str]] = mapped_column(JSONType)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # {name, sha256, size}


class ReviewDecision(Base):
    """审核 of a final report by discipline inspection: accepted, or returned with a new due."""

    __tablename__ = "review_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("feedback_report.id"))
    reviewer: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(TZDateTime())
    outcome: Mapped[str] = mapped_column(String(8))  # accept | return
    comment: Mapped[str] = mapped_column(Text, default="")
    new_due_at: Mapped[datetime | None] = mapped_column(TZDateTime())
