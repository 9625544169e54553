"""A missed deadline whose step happens later stays a hit, annotated with the delay (§2/§3)."""

from __future__ import annotations

from auditcage.config import DEFAULT_RULES_DIR
from auditcage.engine.examples import run_example
from auditcage.engine.session import load_rules


def test_a_service_done_after_its_deadline_is_a_hit_that_carries_the_delay() -> None:
    ruleset, compiled = load_rules(DEFAULT_RULES_DIR)
    rule = next(r for r in compiled if r.rule.id == "CP-08" and r.rule.sub == "a")
    example = next(e for e in rule.rule.examples if "annotated late" in (e.note or ""))
    result = run_example(rule, example, ruleset)
    assert result.passed, result.problem
    (hit,) = result.hits
    # due 24:00 of Thu 2024-06-20, delivered Fri 06-21 09:00: nine hours late
    assert hit.detail["delay_s"] == 9 * 3600
    assert hit.detail["done_at"].startswith("2024-06-21T09:00")
    assert "due" in hit.detail
