"""What a pushed warning, an escalation and a digest say: Chinese text, personal data masked.

Messages are rendered once, when they are queued, and stored in the outbox as text: what was
sent is what the audit trail and the delivery attempts refer to. Every text passes through
`mask_text`, the last net for ID and phone numbers a rule message might carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auditcage import clock
from auditcage.records.masking import mask_text

SEVERITY_ZH = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
ROLE_ZH = {"owner": "请处置", "copy": "抄送知悉"}
ESCALATION_ZH = {
    "re_push": "再次提醒",
    "escalate": "逐级上报",
    "supervision_notice": "督办通知",
    "flag_formal_talk": "约谈提示",
}
STEP_ZH = {
    "acknowledge": "签收",
    "initial_feedback": "初步回告",
    "final_report": "核查报告",
    "review": "审核",
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


@dataclass(frozen=True)
class AlertSummary:
    """What a message says about one alert (already in words; masked on rendering)."""

    alert_id: int
    severity: str
    rules: Sequence[str]  # "VIO-03 一车多证短时密集处理"
    unit_name: str
    first_at: datetime
    lines: Sequence[str]  # the hits' messages
    late_data: bool = False


def _when(at: datetime) -> str:
    return clock.to_shanghai(at).strftime("%Y-%m-%d %H:%M")


def _head(alert: AlertSummary) -> list[str]:
    lines = [
        f"【{SEVERITY_ZH.get(alert.severity, alert.severity)}预警】编号 {alert.alert_id}",
        f"规则：{'；'.join(alert.rules)}",
        f"单位：{alert.unit_name}",
        f"发现时间：{_when(alert.first_at)}" + ("（历史数据补录发现）" if alert.late_data else ""),
    ]
    lines += [f"情况：{line}" for line in alert.lines[:5]]
    if len(alert.lines) > 5:
        lines.append(f"（另有{len(alert.lines) - 5}条命中，详见预警详情）")
    return lines


def alert_pushed(
    alert: AlertSummary,
    *,
    role: str,
    deadlines: Sequence[tuple[str, datetime]],
    link: str,
    personal: bool,
) -> Message:
    """The push to one owner or copy."""
    lines = _head(alert)
    if role == "owner":
        for step, due in deadlines:
            lines.append(f"{STEP_ZH.get(step, step)}时限：{_when(due)}前")
        if personal:
            lines.append("红色预警须由本人签收，不得委托。")
        lines.append(f"签收并查看：{link}")
    else:
        lines.append(f"查看：{link}")
    subject = (
        f"【{SEVERITY_ZH.get(alert.severity, alert.severity)}预警·{ROLE_ZH.get(role, role)}】"
        f"{alert.rules[0] if alert.rules else ''} — {alert.unit_name}"
    )
    return Message(mask_text(subject), mask_text("\n".join(lines)))


def escalation(
    alert: AlertSummary, *, kind: str, step: str, level: int, due: datetime, link: str
) -> Message:
    """A re-push, an escalation one level up, a supervision notice (督办) or a 约谈 flag."""
    what = ESCALATION_ZH.get(kind, kind)
    lines = [
        f"【{what}】{STEP_ZH.get(step, step)}已超时（时限 {_when(due)}），第{level}级",
        *_head(alert),
        f"查看：{link}",
    ]
    severity = SEVERITY_ZH.get(alert.severity, "")
    subject = f"【{what}】{severity}预警 {alert.alert_id} {STEP_ZH.get(step, step)}超时"
    return Message(mask_text(subject), mask_text("\n".join(lines)))


def digest(title: str, day: datetime, alerts: Sequence[AlertSummary], console_url: str) -> Message:
    """One message, many alerts: the 08:00 red briefing, the yellow digest, the weekly report."""
    lines = [f"{title}（{clock.to_shanghai(day):%Y-%m-%d}）", f"共{len(alerts)}条预警："]
    for alert in alerts:
        lines.append(
            f"- {SEVERITY_ZH.get(alert.severity, alert.severity)} {alert.alert_id} "
            f"{alert.unit_name} {'；'.join(alert.rules)} {_when(alert.first_at)}"
        )
    if not alerts:
        lines.append("（无）")
    lines.append(f"详见控制台：{console_url}")
    return Message(
        mask_text(f"{title} {clock.to_shanghai(day):%Y-%m-%d}"), mask_text("\n".join(lines))
    )


def weekly_report(title: str, day: datetime, figures: Any, console_url: str) -> Message:
    """The weekly report: figures, not a list (notifications.reports.WeeklyFigures)."""

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f}%"

    def counts(mapping: dict[str, int]) -> str:
        return "，".join(f"{k} {v}" for k, v in mapping.items()) or "—"

    lines = [
        f"{title}（截至 {clock.to_shanghai(day):%Y-%m-%d}，近7日）",
        f"预警总数：{figures.alerts}",
        f"按等级：{counts({SEVERITY_ZH.get(k, k): v for k, v in figures.by_severity.items()})}",
        f"按规则类别：{counts(figures.by_family)}",
        f"按单位（前10）：{counts(figures.by_unit)}",
        f"按时签收率：{pct(figures.acknowledged_on_time)}",
        f"按时回告率：{pct(figures.reported_on_time)}",
        f"属实率：{pct(figures.confirmed_rate)}",
        f"预警最多的经办人：{counts(dict(figures.top_operators))}",
        f"详见控制台：{console_url}",
    ]
    return Message(
        mask_text(f"{title} {clock.to_shanghai(day):%Y-%m-%d}"), mask_text("\n".join(lines))
    )


def confirmed(alert: AlertSummary, link: str) -> Message:
    """An orange alert closed as 属实: discipline inspection is told (§4.3)."""
    lines = [
        "【核查属实】以下预警经核查属实并已结案，请纪检督察知悉。",
        *_head(alert),
        f"查看：{link}",
    ]
    subject = f"【核查属实】{SEVERITY_ZH.get(alert.severity, '')}预警 {alert.alert_id}"
    return Message(mask_text(subject), mask_text("\n".join(lines)))
