"""The shipped rule packs: every pack loads clean and every example behaves as declared."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditcage.config import DEFAULT_RULES_DIR
from auditcage.engine.compiled import compile_ruleset
from auditcage.engine.examples import run_example
from auditcage.rulepacks.packs import load_ruleset

RULESET, LOAD_ISSUES = load_ruleset(DEFAULT_RULES_DIR)
COMPILED, COMPILE_ISSUES = compile_ruleset(RULESET)
EXAMPLES = [(rule, example) for rule in COMPILED for example in rule.rule.examples]


def test_every_pack_loads_and_checks_without_a_problem() -> None:
    assert [str(i) for i in [*LOAD_ISSUES, *COMPILE_ISSUES]] == []


@pytest.mark.parametrize(("rule", "example"), EXAMPLES, ids=[e.label for _, e in EXAMPLES])
def test_rule_example_behaves_as_declared(rule, example) -> None:
    result = run_example(rule, example, RULESET)
    assert result.passed, f"{example.source}: {example.note or example.label}: {result.problem}"


def test_rule_file_names_say_what_they_detect_and_are_unique() -> None:
    seen: dict[str, Path] = {}
    for rule in RULESET.rules:
        path = Path(rule.source.path)
        assert re.fullmatch(r"[a-z0-9_]{10,60}\.yaml", path.name), path
        prefix = rule.id.split("-")[0].lower()
        assert path.name.startswith(f"{prefix}_"), f"{path.name} should start with {prefix}_"
        assert seen.setdefault(path.name, path) == path


def test_every_exemption_has_a_quiet_example() -> None:
    for rule in RULESET.rules:
        quiet = [e for e in rule.examples if not e.should_fire]
        assert len(quiet) >= len(rule.unless), f"{rule.label}: one quiet example per exemption"
