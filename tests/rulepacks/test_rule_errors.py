"""What a rule author sees for a broken rule: file:line, rule, field, problem, a suggestion."""

from __future__ import annotations

from pathlib import Path

from auditcage.engine.compiled import compile_ruleset
from auditcage.rulepacks.packs import load_ruleset
from tests.engine.ruledir import count_rule, event_rule, make_rules_dir


def _issues(tmp_path: Path, text: str) -> list[str]:
    directory = make_rules_dir(tmp_path, {"violation/vio_95_broken_test_rule.yaml": text})
    ruleset, issues = load_ruleset(directory)
    _, compile_issues = compile_ruleset(ruleset)
    return [str(i) for i in [*issues, *compile_issues]]


def test_a_misspelt_field_names_file_line_rule_and_a_suggestion(tmp_path: Path) -> None:
    (issue,) = _issues(tmp_path, event_rule("VIO-95", 'acton == "decide"'))
    assert "vio_95_broken_test_rule.yaml:7: VIO-95: when" in issue
    assert "did you mean action?" in issue


def test_a_misspelt_key_is_refused_instead_of_never_firing(tmp_path: Path) -> None:
    text = count_rule("VIO-95", key="plate_numbr", window="1h", at_least=2, when="points > 0")
    (issue,) = _issues(tmp_path, text)
    assert ":8: VIO-95: key" in issue and "plate_numbr" in issue and "plate_no?" in issue


def test_a_key_through_a_list_is_accepted_each_element_being_a_key(tmp_path: Path) -> None:
    text = count_rule(
        "VIO-95", key="accident.parties.id_no", window="1h", at_least=2, when="points > 0"
    )
    assert _issues(tmp_path, text) == []


def test_code_in_a_condition_is_refused_not_run(tmp_path: Path) -> None:
    (issue,) = _issues(tmp_path, event_rule("VIO-95", '__import__("os").system("true")'))
    assert "underscore" in issue


def test_an_unknown_rule_key_is_reported_with_its_line(tmp_path: Path) -> None:
    text = event_rule("VIO-95", "points > 0") + "threshold: 3\n"
    (issue,) = _issues(tmp_path, text)
    assert "threshold" in issue and "Unknown field" in issue


RATE_WITH_HITS = """id: STF-95
name: {zh: 测试, en: Test}
kind: rate
catalogue_kind: R
status: active
severity: yellow
when: operator_id is not null
group: [operator_id]
period: day
n_min: 1
compare: n
fires_when: "n >= 5 and with_hits >= 1"
with_hits: {rules: [VEH-11], keys: [%s], within: 30d}
message: {zh: "{operator_id}", en: "{operator_id}"}
examples: {fires: [{}], quiet: [{}]}
"""


def test_a_rate_rule_comparing_with_other_rules_hits_loads_and_names_its_figure(
    tmp_path: Path,
) -> None:
    assert _issues(tmp_path, RATE_WITH_HITS % "agent_id_no") == []


def test_a_misspelt_with_hits_path_is_refused_instead_of_never_matching(tmp_path: Path) -> None:
    (issue,) = _issues(tmp_path, RATE_WITH_HITS % "agent_idno")
    assert "STF-95" in issue and "agent_idno" in issue


def test_with_hits_is_refused_on_a_rule_that_is_not_a_rate(tmp_path: Path) -> None:
    text = count_rule("VIO-95", key="plate_no", window="1h", at_least=2, when="points > 0")
    text += "with_hits: {rules: [VEH-11], keys: [agent_id_no], within: 30d}\n"
    (issue,) = _issues(tmp_path, text)
    assert "with_hits" in issue and "only rate rules have it" in issue


def test_the_with_hits_figure_is_unknown_to_a_rate_rule_without_with_hits(tmp_path: Path) -> None:
    text = (RATE_WITH_HITS % "agent_id_no").replace(
        "with_hits: {rules: [VEH-11], keys: [agent_id_no], within: 30d}\n", ""
    )
    (issue,) = _issues(tmp_path, text)
    assert "with_hits" in issue and "fires_when" in issue
