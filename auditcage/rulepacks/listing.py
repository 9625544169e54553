"""The rules as the console lists them: those of the active version (or of the rules directory when
nothing is published), loaded through the engine's per-content cache, so a version is read once
per process however many pages show it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from auditcage.engine.session import load_rules
from auditcage.errors import NotFound
from auditcage.rulepacks import publish
from auditcage.rulepacks.drafts import rule_key
from auditcage.rulepacks.model import Rule, RuleSet
from auditcage.rulepacks.models import RuleVersion
from auditcage.rulepacks.packs import RulePackError, load_ruleset


@dataclass(frozen=True)
class Listing:
    version: RuleVersion | None  # None: the rules directory, nothing published yet
    ruleset: RuleSet

    def rule(self, key: str) -> Rule:
        for rule in self.ruleset.rules:
            if rule_key(rule.id, rule.sub) == key:
                return rule
        raise NotFound(f"no rule {key} in the active rule packs")


def path_of(rule: Rule) -> str:
    """The rule's file relative to the rules directory (rules live at <pack>/<file>.yaml)."""
    return "/".join(Path(rule.source.path).parts[-2:])


def active_listing(session: Session, rules_dir: Path) -> Listing:
    version = publish.active_version(session)
    if version is None:
        return Listing(None, _ruleset(rules_dir))
    with publish.materialised(version) as root:
        return Listing(version, _ruleset(root))


def _ruleset(directory: Path) -> RuleSet:
    try:
        ruleset, _ = load_rules(directory)  # cached by content, shared with the worker
    except RulePackError:  # an unpublished directory may have problems; list what loads
        ruleset, _ = load_ruleset(directory)
    return ruleset


def family_of(rule: Rule) -> str:
    """The catalogue family: the id's prefix (VEH, LIC, ACC, VIO, STF, CP)."""
    return rule.id.split("-")[0]


def matching(
    rules: Iterable[Rule],
    *,
    family: str = "",
    pack: str = "",
    kind: str = "",
    text: str = "",
) -> list[Rule]:
    """Rules passing every filter given; `text` is searched in the id, names and description."""
    needle = text.strip().casefold()
    found = [
        r
        for r in rules
        if (not family or family_of(r) == family)
        and (not pack or r.pack == pack)
        and (not kind or r.kind.value == kind)
        and (
            not needle
            or needle
            in " ".join((r.label, r.name.zh, r.name.en, r.description, *r.tags)).casefold()
        )
    ]
    return sorted(found, key=lambda r: (family_of(r), r.id, r.sub or ""))
