"""What a rule author checks a draft with: one rule's problems as they type, its examples, the
changes from the active version, and publishing (the back-test is draft_backtest's).

Checking one rule reads only what it needs (its pack's pack.yaml, the lists and the example data
beside its own file), so a check answers while the author types; the whole directory is read
once, when publishing, by `publish.publish` itself.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from auditcage.engine.compiled import CompiledRule, compile_ruleset
from auditcage.engine.examples import ExampleResult, run_example
from auditcage.rulepacks import drafts, publish
from auditcage.rulepacks.diff import Change, diff
from auditcage.rulepacks.model import RuleSet, Status
from auditcage.rulepacks.models import RuleDraft, RuleVersion
from auditcage.rulepacks.packs import RulePackError, load_ruleset
from auditcage.rulepacks.schemas import Issue

SHARED_DIRS = ("lists/", "examples/")  # what any one rule may need besides its own pack


@dataclass(frozen=True)
class Problem:
    """An issue of one rule, located in the snippet the author edits where it can be."""

    line: int | None  # 1-based line of the snippet; None when elsewhere or unknown
    field: str
    message: str
    where: str  # file:line in the rules directory

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "where": self.where,
        }


def rule_files(files: Mapping[str, str], path: str) -> dict[str, str]:
    """The smallest rules directory that loads the rule in `path`: its file, its pack.yaml, the
    lists and the example data."""
    pack = path.split("/")[0]
    return {
        p: text
        for p, text in files.items()
        if p == path or p == f"{pack}/pack.yaml" or p.startswith(SHARED_DIRS)
    }


def rule_issues(files: Mapping[str, str]) -> tuple[RuleSet, list[Issue]]:
    ruleset, _, issues = _loaded(files)
    return ruleset, issues


def _loaded(files: Mapping[str, str]) -> tuple[RuleSet, list[CompiledRule], list[Issue]]:
    """Load and compile a (small) set of files. Every status is compiled: a draft rule is
    checked now, not when someone activates it."""
    with drafts.materialised(files) as root:
        ruleset, issues = load_ruleset(root)
        compiled, compile_issues = compile_ruleset(ruleset, statuses=tuple(Status))
        return ruleset, compiled, [_relative(i, root) for i in [*issues, *compile_issues]]


def _relative(issue: Issue, root: Path) -> Issue:
    path = Path(issue.path)
    relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else issue.path
    return Issue(relative, issue.line, issue.rule_id, issue.field, issue.problem, issue.suggestion)


def check_rule(files: Mapping[str, str], path: str, key: str, text: str) -> list[Problem]:
    """Every problem of the draft with rule `key` written as `text`, in snippet lines."""
    current = files[path]
    snippet = drafts.extract(current, key, path)
    candidate = drafts.splice(current, snippet, text)
    placed = drafts.extract(candidate, drafts.declared_key(candidate) or key, path)
    _, issues = rule_issues({**rule_files(files, path), path: candidate})
    lines = placed.text.splitlines()
    problems = [
        Problem(
            _line(lines, placed.snippet_line(i.line), i) if i.path == path else None,
            i.field,
            i.problem + (f" (did you mean {i.suggestion}?)" if i.suggestion else ""),
            f"{i.path}:{i.line}",
        )
        for i in issues
    ]
    return problems + _duplicates(files, path, candidate)


COLUMN = re.compile(r"\(column (\d+)\)")


def _line(lines: list[str], key_line: int | None, issue: Issue) -> int | None:
    """The line of a condition error: the issue names the key's line and a column of the
    condition, which may be written over several lines (a block scalar, `>-` or `|`)."""
    found = COLUMN.search(issue.problem)
    key = issue.field.split(":")[0].split(".")[0]
    if found is None or key_line is None or not key or key_line > len(lines):
        return key_line
    head = lines[key_line - 1]
    if not head.lstrip().startswith(f"{key}:") or head.split(":", 1)[1].strip()[:1] not in (
        ">",
        "|",
    ):
        return key_line
    base = _indent(head)
    body = []
    for n in range(key_line, len(lines)):
        if lines[n].strip() and _indent(lines[n]) <= base:
            break
        body.append(n)
    content = [n for n in body if lines[n].strip()]
    if not content:
        return key_line
    block = _indent(lines[content[0]])
    column, position = int(found.group(1)) - 1, 0
    for n in body:  # folded or literal, each line joins the next with one character
        position += len(lines[n][block:]) + 1
        if column < position:
            return n + 1
    return content[-1] + 1


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _duplicates(files: Mapping[str, str], path: str, candidate: str) -> list[Problem]:
    key = drafts.declared_key(candidate)
    clashes = [
        p
        for p, text in files.items()
        if p != path and drafts.is_rule_file(p) and drafts.declared_key(text) == key
    ]
    return [Problem(1, "id", f"{key} is also defined in {p}", f"{path}:1") for p in clashes]


def rule_examples(files: Mapping[str, str], path: str) -> list[ExampleResult]:
    """Run every example of the rule in `path` (RulePackError when the rule does not load)."""
    ruleset, compiled, issues = _loaded(rule_files(files, path))
    if issues:
        raise RulePackError(issues)
    return [
        run_example(rule, example, ruleset) for rule in compiled for example in rule.rule.examples
    ]


# --- compare and publish ------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    path: str
    status: str  # added | removed | changed
    diff: str  # unified diff of the text


@dataclass(frozen=True)
class Comparison:
    changes: list[Change]  # classified rule changes (rulepacks.diff)
    files: list[FileChange]
    problems: list[Issue]  # of the changed rules in the draft


def compare(files: Mapping[str, str], base: Mapping[str, str]) -> Comparison:
    """The draft against the active version: what the changed files change, rule by rule."""
    changed = drafts.changed_files(files, base)
    old, _ = rule_issues(_changed_part(base, changed))
    new, problems = rule_issues(_changed_part(files, changed))
    return Comparison(
        diff(old, new), [_file_change(p, base.get(p), files.get(p)) for p in changed], problems
    )


def _changed_part(files: Mapping[str, str], changed: list[str]) -> dict[str, str]:
    """The changed rule files with what they need; unchanged rules cannot differ."""
    part: dict[str, str] = {}
    for path in changed:
        if path in files and drafts.is_rule_file(path):
            part.update(rule_files(files, path))
    return part or {p: t for p, t in files.items() if p.startswith(SHARED_DIRS)}


def _file_change(path: str, old: str | None, new: str | None) -> FileChange:
    status = "added" if old is None else "removed" if new is None else "changed"
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        (new or "").splitlines(keepends=True),
        f"a/{path}",
        f"b/{path}",
    )
    return FileChange(path, status, "".join(lines))


class StaleDraft(publish.PublishRefused):
    code = "draft_stale"


def publish_draft(
    session: Session, draft: RuleDraft, *, rules_dir: Path, actor: str, reason: str
) -> RuleVersion:
    """Publish the draft as the new active version; refused with every problem found.

    The changed rules are checked first (their problems and examples, in seconds); then
    `publish.publish` validates the whole directory and runs every example, as from the CLI.
    """
    version, base = drafts.base_files(session, rules_dir)
    if (version.id if version else None) != draft.base_version_id:
        raise StaleDraft(
            f"the active version changed since this draft was started (v{draft.base_version_id} "
            f"→ v{version.id if version else '-'}); discard the draft and start again"
        )
    _precheck(draft.files, base)
    with drafts.materialised(draft.files) as root:
        published = publish.publish(session, root, actor=actor, reason=reason)
    draft.status = drafts.PUBLISHED
    draft.published_version_id = published.id
    return published


def _precheck(files: Mapping[str, str], base: Mapping[str, str]) -> None:
    changed = [
        p for p in drafts.changed_files(files, base) if p in files and drafts.is_rule_file(p)
    ]
    issues: list[Issue] = []
    failed: list[ExampleResult] = []
    for path in changed:
        try:
            failed += [r for r in rule_examples(files, path) if not r.passed]
        except RulePackError as refused:
            issues += refused.issues
    if issues:
        raise RulePackError(issues)
    if failed:
        listed = "; ".join(f"{r.example.label}: {r.problem}" for r in failed[:10])
        raise publish.PublishRefused(f"{len(failed)} example(s) fail: {listed}")
