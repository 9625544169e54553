"""The catalogue's 118 ids (72 anomaly types, 46 checkpoints) and the rules implementing them."""

from __future__ import annotations

from dataclasses import dataclass

from auditcage.rulepacks.model import Rule, RuleSet, Status

FAMILIES = {"VEH": 14, "LIC": 15, "ACC": 12, "VIO": 17, "STF": 14, "CP": 46}  # catalogue §2, §3
CATALOGUE_IDS: tuple[str, ...] = tuple(
    f"{family}-{n:02d}" for family, count in FAMILIES.items() for n in range(1, count + 1)
)


@dataclass(frozen=True)
class Coverage:
    catalogue_id: str
    rules: tuple[Rule, ...]  # every rule (sub-clause, aspect) carrying the id
    examples: int
    failing: tuple[str, ...]  # labels of examples that do not behave as declared

    @property
    def active(self) -> bool:
        return any(r.status is Status.ACTIVE for r in self.rules)

    @property
    def ok(self) -> bool:
        return self.active and not self.failing and self.examples > 0


def coverage(ruleset: RuleSet, failing_examples: set[str]) -> list[Coverage]:
    by_id: dict[str, list[Rule]] = {}
    for rule in ruleset.rules:
        by_id.setdefault(rule.id, []).append(rule)
    rows = []
    for catalogue_id in CATALOGUE_IDS:
        rules = tuple(sorted(by_id.get(catalogue_id, []), key=lambda r: r.sub or ""))
        labels = [e.label for r in rules for e in r.examples]
        rows.append(
            Coverage(
                catalogue_id,
                rules,
                len(labels),
                tuple(lb for lb in labels if lb in failing_examples),
            )
        )
    return rows
