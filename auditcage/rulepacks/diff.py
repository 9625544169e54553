"""What changes between two rule versions: major (what fires), minor (how loud), patch (words).

- major: a rule added, removed, activated or retired; its condition, key, window, thresholds,
  exemptions, sequence or deadline changed — the set of hits may change;
- minor: severity, bands' severities, aspect, tags — the same hits, routed differently;
- patch: names, messages, description, examples — nothing a record sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditcage.rulepacks.model import Rule, RuleSet

MAJOR_FIELDS = (
    "kind",
    "when",
    "key",
    "field",
    "window",
    "first",
    "within",
    "same",
    "match",
    "between",
    "deadline_from",
    "look_back",
    "step_key",
    "period",
    "expect",
    "done_at",
    "reset_when",
    "parameters",
)
MINOR_FIELDS = ("severity", "aspect", "tags", "catalogue_kind")
PATCH_FIELDS = ("name", "message", "description")


@dataclass(frozen=True)
class Change:
    level: str  # major | minor | patch
    rule: str  # label, e.g. VIO-04(a)
    what: str

    def __str__(self) -> str:
        return f"{self.level.capitalize():<6} {self.rule}: {self.what}"


def _bands(rule: Rule) -> list[tuple[float, str]]:
    return [(b.at_least, b.severity.value) for b in rule.bands]


def _unless(rule: Rule) -> list[str]:
    return [e.when for e in rule.unless]


def _show(value: Any) -> str:
    text = str(value.value if hasattr(value, "value") else value)
    return text if len(text) <= 60 else text[:57] + "…"


def diff(old: RuleSet, new: RuleSet) -> list[Change]:
    before = {r.uid: r for r in old.rules}
    after = {r.uid: r for r in new.rules}
    changes: list[Change] = []
    for uid in sorted(after.keys() - before.keys()):
        changes.append(Change("major", after[uid].label, f"added ({after[uid].status.value})"))
    for uid in sorted(before.keys() - after.keys()):
        changes.append(Change("major", before[uid].label, "removed"))
    for uid in sorted(before.keys() & after.keys()):
        changes.extend(_rule_changes(before[uid], after[uid]))
    order = {"major": 0, "minor": 1, "patch": 2}
    return sorted(changes, key=lambda c: (order[c.level], c.rule))


def _rule_changes(a: Rule, b: Rule) -> list[Change]:
    out = []
    if a.status != b.status:
        level = "major" if "active" in (a.status.value, b.status.value) else "minor"
        out.append(Change(level, b.label, f"status {a.status.value} → {b.status.value}"))
    for name in MAJOR_FIELDS:
        if getattr(a, name) != getattr(b, name):
            out.append(
                Change(
                    "major",
                    b.label,
                    f"{name} {_show(getattr(a, name))} → {_show(getattr(b, name))}",
                )
            )
    if _bands(a) != _bands(b):
        thresholds = [t for t, _ in _bands(a)] != [t for t, _ in _bands(b)]
        out.append(
            Change("major" if thresholds else "minor", b.label, f"bands {_bands(a)} → {_bands(b)}")
        )
    if _unless(a) != _unless(b):
        out.append(Change("major", b.label, f"exemptions {len(a.unless)} → {len(b.unless)}"))
    if [(s.when, s.severity, s.scope) for s in a.severity_when] != [
        (s.when, s.severity, s.scope) for s in b.severity_when
    ]:
        out.append(Change("minor", b.label, "severity bands changed"))
    for name in MINOR_FIELDS:
        if getattr(a, name) != getattr(b, name):
            out.append(
                Change(
                    "minor",
                    b.label,
                    f"{name} {_show(getattr(a, name))} → {_show(getattr(b, name))}",
                )
            )
    for name in PATCH_FIELDS:
        if getattr(a, name) != getattr(b, name):
            out.append(Change("patch", b.label, f"{name} reworded"))
    if len(a.examples) != len(b.examples):
        out.append(Change("patch", b.label, f"examples {len(a.examples)} → {len(b.examples)}"))
    return out
