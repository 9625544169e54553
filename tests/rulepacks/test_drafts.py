"""Drafts: one rule cut out of its file and spliced back untouched around it, checked as the author
types, published as the version the worker loads, rolled back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage.audit import trail
from auditcage.audit.models import AuditEntry
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.engine.runner import active_rules_dir
from auditcage.engine.session import load_rules
from auditcage.rulepacks import draft_checks, drafts, publish
from auditcage.rulepacks.models import RuleVersion
from auditcage.rulepacks.packs import RulePackError

KEY = "STF-05b"  # an event rule with 11 examples; one of them expects severity orange
CHANNELS = '["window", "backend", "station", "mobile_police", "field"]\n  and'
FEWER_CHANNELS = '["window", "backend", "station", "mobile_police"]\n  and'

LISTED = """\
# A file holding several rules in a list: the layout the extractor also reads.
pack: demo
rules:
  # the first rule
  - id: X-01
    kind: event
    when: >-
      a == 1
  # the second rule, with a comment inside
  - id: X-02
    sub: b
    when: b == 2  # inline comment
    message: {zh: 二, en: two}

  # trailing comment of the list
"""


@pytest.fixture(scope="module")
def rules_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped rules: drafts never write into a rules directory, nor does this."""
    target = tmp_path_factory.mktemp("drafts") / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


@pytest.fixture(scope="module")
def files(rules_copy: Path) -> dict[str, str]:
    return publish.directory_files(rules_copy)


def _snippet(files: dict[str, str], key: str = KEY) -> drafts.Snippet:
    path = drafts.find_rule(files, key)
    return drafts.extract(files[path], key, path)


def test_every_rule_spliced_back_unchanged_gives_its_file_byte_for_byte(
    files: dict[str, str],
) -> None:
    rule_paths = [p for p in files if drafts.is_rule_file(p)]
    assert len(rule_paths) > 100
    for path in rule_paths:
        key = drafts.declared_key(files[path])
        assert key is not None, path
        snippet = drafts.extract(files[path], key, path)
        assert snippet.text.startswith("id:"), path
        assert drafts.splice(files[path], snippet, snippet.text) == files[path], path


def test_an_edited_rule_in_a_list_is_spliced_in_place_and_the_rest_stays_byte_identical() -> None:
    snippet = drafts.extract(LISTED, "X-02b")
    assert snippet.text == (
        "id: X-02\nsub: b\nwhen: b == 2  # inline comment\nmessage: {zh: 二, en: two}\n"
    )
    edited = snippet.text.replace("b == 2", "b == 3").replace("message:", "severity: red\nmessage:")
    result = drafts.splice(LISTED, snippet, edited)
    before, after = LISTED.splitlines(keepends=True), result.splitlines(keepends=True)
    assert after[: snippet.start] == before[: snippet.start]
    assert after[snippet.start : snippet.start + 5] == [
        "  - id: X-02\n",
        "    sub: b\n",
        "    when: b == 3  # inline comment\n",
        "    severity: red\n",
        "    message: {zh: 二, en: two}\n",
    ]
    assert after[snippet.start + 5 :] == before[snippet.end :]  # blank line and trailing comment
    assert drafts.extract(result, "X-01").text == "id: X-01\nkind: event\nwhen: >-\n  a == 1\n"


def test_a_rule_file_keeps_its_header_comment_when_its_rule_is_edited(
    files: dict[str, str],
) -> None:
    path = drafts.find_rule(files, KEY)
    text = "# owned by the staff-conduct desk\n\n" + files[path]
    snippet = drafts.extract(text, KEY, path)
    assert snippet.start == 2 and snippet.text == files[path]
    result = drafts.splice(text, snippet, snippet.text.replace(CHANNELS, FEWER_CHANNELS))
    assert result.startswith("# owned by the staff-conduct desk\n\nid: STF-05\n")
    assert result.replace(FEWER_CHANNELS, CHANNELS) == text


def test_a_misspelt_field_is_reported_on_its_snippet_line_with_the_right_spelling(
    files: dict[str, str],
) -> None:
    snippet = _snippet(files)
    broken = snippet.text.replace("operator_is_system == false", "operator_is_sytem == false")
    problems = draft_checks.check_rule(files, snippet.path, KEY, broken)
    assert len(problems) == 1
    [problem] = problems
    typo_line = next(n for n, line in enumerate(broken.splitlines(), 1) if "sytem" in line)
    assert problem.line == typo_line  # in the condition, not on its `when:` key
    assert "operator_is_sytem" in problem.message and "operator_is_system" in problem.message
    assert draft_checks.check_rule(files, snippet.path, KEY, snippet.text) == []


def test_broken_yaml_and_a_duplicate_id_are_reported_where_they_are(
    files: dict[str, str],
) -> None:
    snippet = _snippet(files)
    unclosed = snippet.text.replace("kind: event", "kind: [event")
    [problem] = draft_checks.check_rule(files, snippet.path, KEY, unclosed)
    assert problem.line is not None and problem.line >= 6
    duplicate = snippet.text.replace("sub: b", "sub: a")
    problems = draft_checks.check_rule(files, snippet.path, KEY, duplicate)
    assert any("STF-05a is also defined in staff/stf_05a" in p.message for p in problems)


def test_the_examples_of_one_rule_run_from_the_draft(files: dict[str, str]) -> None:
    snippet = _snippet(files)
    red = {
        **files,
        snippet.path: drafts.splice(
            files[snippet.path],
            snippet,
            snippet.text.replace("severity: orange", "severity: red", 1),
        ),
    }
    results = draft_checks.rule_examples(red, snippet.path)
    assert len(results) == 11
    failed = [r for r in results if not r.passed]
    assert [r.example.label for r in failed] == ["STF-05b-fires-1"]
    assert "no hit matches" in failed[0].problem


@pytest.mark.db
def test_an_author_has_one_open_draft_started_from_the_rules_directory(
    session: Session, rules_copy: Path
) -> None:
    draft = drafts.open_draft(session, author="author", rules_dir=rules_copy)
    assert draft.base_version_id is None
    assert draft.files == publish.directory_files(rules_copy)
    assert drafts.open_draft(session, author="author", rules_dir=rules_copy).id == draft.id
    assert drafts.open_draft(session, author="other", rules_dir=rules_copy).id != draft.id
    drafts.discard(session, draft, actor="author")
    assert drafts.current_draft(session, "author") is None


@pytest.mark.db
def test_saving_a_rule_changes_only_its_file_and_is_recorded(
    session: Session, rules_copy: Path
) -> None:
    draft = drafts.open_draft(session, author="author", rules_dir=rules_copy)
    before = dict(draft.files)
    snippet = _snippet(before)
    drafts.save_rule(
        session,
        draft,
        path=snippet.path,
        key=KEY,
        text=snippet.text.replace(CHANNELS, FEWER_CHANNELS),
        actor="author",
    )
    session.flush()
    session.expire(draft)
    assert drafts.changed_files(draft.files, before) == [snippet.path]
    assert FEWER_CHANNELS in draft.files[snippet.path]
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "rules.draft_save" and entry.detail["rule"] == KEY


@pytest.mark.db
def test_publish_is_refused_when_an_edited_rule_fails_an_example(
    session: Session, rules_copy: Path
) -> None:
    draft = drafts.open_draft(session, author="author", rules_dir=rules_copy)
    snippet = _snippet(draft.files)
    red = snippet.text.replace("severity: orange", "severity: red", 1)
    drafts.save_rule(session, draft, path=snippet.path, key=KEY, text=red, actor="author")
    with pytest.raises(publish.PublishRefused, match="STF-05b-fires-1"):
        draft_checks.publish_draft(
            session, draft, rules_dir=rules_copy, actor="author", reason="louder"
        )
    assert publish.active_version(session) is None


@pytest.mark.db
def test_publish_is_refused_when_an_edited_rule_has_a_problem(
    session: Session, rules_copy: Path
) -> None:
    draft = drafts.open_draft(session, author="author", rules_dir=rules_copy)
    snippet = _snippet(draft.files)
    typo = snippet.text.replace("operator_is_system", "operator_is_sytem")
    drafts.save_rule(session, draft, path=snippet.path, key=KEY, text=typo, actor="author")
    with pytest.raises(RulePackError, match="operator_is_sytem"):
        draft_checks.publish_draft(session, draft, rules_dir=rules_copy, actor="author", reason="x")


@pytest.mark.db
def test_a_draft_started_before_another_publication_is_refused(
    session: Session, rules_copy: Path
) -> None:
    draft = drafts.open_draft(session, author="author", rules_dir=rules_copy)
    session.add(RuleVersion(digest="0" * 64, files={}, actor="other", reason="r", active=True))
    session.flush()
    with pytest.raises(draft_checks.StaleDraft, match="changed since this draft"):
        draft_checks.publish_draft(session, draft, rules_dir=rules_copy, actor="author", reason="x")


@pytest.mark.db
def test_a_published_draft_is_the_version_the_worker_loads_and_rollback_restores_the_previous(
    session: Session, rules_copy: Path
) -> None:
    # The version in force before: the shipped rules, stored as publish stores them.
    ruleset, _ = load_rules(rules_copy)
    first = RuleVersion(
        digest=ruleset.digest,
        files=publish.directory_files(rules_copy),
        actor="author",
        reason="initial",
        active=True,
        rules=len(ruleset.rules),
    )
    session.add(first)
    session.flush()
    draft = drafts.open_draft(session, author="author", rules_dir=rules_copy)
    assert draft.base_version_id == first.id
    snippet = _snippet(draft.files)
    fewer = snippet.text.replace(CHANNELS, FEWER_CHANNELS)
    drafts.save_rule(session, draft, path=snippet.path, key=KEY, text=fewer, actor="author")

    version = draft_checks.publish_draft(
        session, draft, rules_dir=rules_copy, actor="author", reason="field work is STF-01's"
    )

    assert draft.status == drafts.PUBLISHED and draft.published_version_id == version.id
    assert publish.active_version(session).id == version.id and version.previous_id == first.id
    with active_rules_dir(session, rules_copy) as (root, label):
        assert label == f"v{version.id}"
        loaded, compiled = load_rules(root)
    rule = next(r for r in loaded.rules if r.id == "STF-05" and r.sub == "b")
    assert '"field"' not in rule.when and any(c.rule is rule for c in compiled)

    back = publish.rollback(session, actor="author", reason="undo")
    assert back.id == first.id and publish.active_version(session).id == first.id
    actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-3:] == ["rules.draft_save", "rules.publish", "rules.rollback"]
    assert trail.verify(session).ok
