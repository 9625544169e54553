"""What one evaluation run needs, built once: compiled rules, reference, calendar, enricher."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from auditcage.calendar import WorkCalendar
from auditcage.engine import rates
from auditcage.engine.compiled import CompiledRule, compile_ruleset, record_rules
from auditcage.engine.evaluator import Evaluator
from auditcage.records.enrich import Enricher, Relatedness
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.functions import EvalContext
from auditcage.rulepacks.model import Kind, RuleSet
from auditcage.rulepacks.packs import RulePackError, load_ruleset

# Deadlines are kept armed this long after their start at most (the longest period of §3 is
# 30 days plus working-day slack); used to bound the state a restarted worker rebuilds.
ABSENCE_HORIZON = timedelta(days=90)


@dataclass
class Engine:
    ruleset: RuleSet
    rules: list[CompiledRule]
    ref: ReferenceIndex
    calendar: WorkCalendar
    enricher: Enricher
    ctx: EvalContext

    filters: str = "python"  # or "durable": the rules' filters through durable_rules

    def evaluator(self) -> Evaluator:
        if self.filters == "durable":
            from auditcage.engine.filters import DurableFilters

            return Evaluator(
                self.rules, self.ctx, DurableFilters(record_rules(self.rules), self.ctx)
            )
        return Evaluator(self.rules, self.ctx)

    def horizon(self) -> timedelta:
        """How far back state reaches: what a restarted worker must re-read to rebuild it."""
        spans = [timedelta(days=1)]
        for compiled in self.rules:
            rule = compiled.rule
            if rule.window is not None:
                spans.append(rule.window * 2)
            if rule.within is not None:
                spans.append(rule.within * 2)
            if rule.window is not None and rule.within is not None:  # a counted B and its A
                spans.append(rule.window * 2 + rule.within)
            if rule.kind is Kind.ABSENCE:  # and the steps before the arming it looks back to
                spans.append(max(ABSENCE_HORIZON, rule.look_back or ABSENCE_HORIZON))
            if rule.kind is Kind.RATE:  # the open period, the previous one and its history
                spans.append(rates.horizon(rule))
        return max(spans)


_LOADED: dict[str, tuple[RuleSet, list[CompiledRule]]] = {}


def _fingerprint(rules_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(rules_dir.rglob("*.yaml")):
        digest.update(str(path.relative_to(rules_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_rules(rules_dir: Path) -> tuple[RuleSet, list[CompiledRule]]:
    """The ruleset of a directory, compiled; raises RulePackError listing every problem.

    Compiled rules hold no state, so the same directory content is compiled once per process
    (replay, back-tests and the worker's rebuilds share it).
    """
    fingerprint = _fingerprint(Path(rules_dir))
    cached = _LOADED.get(fingerprint)
    if cached is not None:
        return cached
    if len(_LOADED) > 16:
        _LOADED.clear()
    result = _load_rules(Path(rules_dir))
    _LOADED[fingerprint] = result
    return result


def _load_rules(rules_dir: Path) -> tuple[RuleSet, list[CompiledRule]]:
    ruleset, issues = load_ruleset(rules_dir)
    compiled, compile_issues = compile_ruleset(ruleset)
    issues = [*issues, *compile_issues]
    if issues:
        raise RulePackError(issues)
    return ruleset, compiled


def build_engine(ruleset: RuleSet, rules: list[CompiledRule], ref: ReferenceIndex) -> Engine:
    calendar = WorkCalendar(ref)
    enricher = Enricher(ref, calendar)
    ctx = EvalContext(ref, calendar, Relatedness(ref))
    return Engine(ruleset, rules, ref, calendar, enricher, ctx)
