"""A rule author's working copy of the rules directory: open it, edit one rule, discard, publish.

A draft holds every file of the rules directory as text (the shape of a RuleVersion), started from
the active version, or from the rules directory when nothing is published. One rule is edited at
a time: its YAML mapping is cut out of its file by the node marks of PyYAML and spliced back in
place, so comments and the rest of the file stay byte for byte as they were. Nothing evaluates
with a draft until it is published through `publish.publish`, like a directory on disk.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.audit import trail
from auditcage.errors import InvalidInput, NotFound
from auditcage.rulepacks import publish
from auditcage.rulepacks.models import RuleDraft, RuleVersion
from auditcage.rulepacks.packs import NOT_PACKS

OPEN, PUBLISHED, DISCARDED = "open", "published", "discarded"

# A rule file declares its id and sub at the top level; enough to find a rule among 250 files
# without parsing them all (parsing every file takes seconds).
_ID = re.compile(r"""^id:[ \t]*["']?([^"'\s#]+)""", re.MULTILINE)
_SUB = re.compile(r"""^sub:[ \t]*["']?([^"'\s#]+)""", re.MULTILINE)


@dataclass(frozen=True)
class Snippet:
    """One rule's mapping as the author edits it, and where it sits in its file."""

    path: str  # relative to the rules directory
    text: str  # dedented to column 0
    start: int  # first line of the mapping in the file, 0-based
    end: int  # the line after its last one
    prefix: str  # what precedes the mapping on its first line: "" or "  - " in a list
    indent: int  # the column of the mapping's keys

    def snippet_line(self, file_line: int) -> int | None:
        """The 1-based line of the snippet for a 1-based line of the file, if it is inside."""
        if self.start < file_line <= self.end:
            return file_line - self.start
        return None


def rule_key(rule_id: str, sub: str | None) -> str:
    """The rule as named in URLs and example labels: VEH-04a for VEH-04 sub a."""
    return f"{rule_id}{sub or ''}"


def declared_key(text: str) -> str | None:
    found = _ID.search(text)
    if found is None:
        return None
    sub = _SUB.search(text)
    return rule_key(found.group(1), sub.group(1) if sub else None)


def is_rule_file(path: str) -> bool:
    parts = path.split("/")
    return (
        len(parts) == 2
        and parts[0] not in NOT_PACKS
        and not parts[0].startswith(".")
        and parts[1].endswith(".yaml")
        and parts[1] != "pack.yaml"
    )


def find_rule(files: Mapping[str, str], key: str) -> str:
    """The file of the rule `key` in a set of files; NotFound if no rule file declares it."""
    for path in sorted(files):
        if is_rule_file(path) and declared_key(files[path]) == key:
            return path
    raise NotFound(f"no rule {key} in the rule packs")


# --- one rule's text: extract and splice --------------------------------------------------------


def extract(text: str, key: str, path: str = "") -> Snippet:
    """The YAML of rule `key` in a file's text: its mapping, from the node marks.

    A rule file is one mapping (the rule); a file whose mapping has a `rules:` list holds several
    and the item whose id (and sub) is `key` is taken. A file that does not parse (a draft saved
    half-edited) is given whole, so it can still be repaired.
    """
    lines = text.splitlines(keepends=True)
    node = _rule_node(text, key)
    if node is None:
        return Snippet(path, text, 0, len(lines), "", 0)
    start, column = node.start_mark.line, node.start_mark.column
    end = node.end_mark.line + (1 if node.end_mark.column > 0 else 0)
    end = min(end, len(lines))
    while end > start + 1 and _outside(lines[end - 1], column):
        end -= 1
    prefix = lines[start][:column]
    body = [lines[start][column:]] + [_dedent(line, column) for line in lines[start + 1 : end]]
    return Snippet(path, "".join(body), start, end, prefix, column)


def splice(text: str, snippet: Snippet, new_text: str) -> str:
    """The file's text with the snippet's lines replaced by `new_text`, re-indented in place."""
    lines = text.splitlines(keepends=True)
    new_lines = new_text.replace("\r\n", "\n").splitlines(keepends=True) or ["\n"]
    if not new_lines[-1].endswith("\n") and snippet.end <= len(lines):
        ends_with_newline = snippet.end > 0 and lines[snippet.end - 1].endswith("\n")
        if ends_with_newline or snippet.end < len(lines):
            new_lines[-1] += "\n"
    placed = [snippet.prefix + new_lines[0]] + [
        (" " * snippet.indent + line) if line.strip() else line for line in new_lines[1:]
    ]
    return "".join([*lines[: snippet.start], *placed, *lines[snippet.end :]])


def _rule_node(text: str, key: str) -> yaml.MappingNode | None:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    if _node_key(root) == key:
        return root
    listed = _value(root, "rules")
    if isinstance(listed, yaml.SequenceNode):
        for item in listed.value:
            if isinstance(item, yaml.MappingNode) and _node_key(item) == key:
                return item
    return None


def _value(node: yaml.MappingNode, name: str) -> yaml.Node | None:
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == name:
            return value_node
    return None


def _node_key(node: yaml.MappingNode) -> str | None:
    rule_id, sub = _value(node, "id"), _value(node, "sub")
    if not isinstance(rule_id, yaml.ScalarNode):
        return None
    return rule_key(rule_id.value, sub.value if isinstance(sub, yaml.ScalarNode) else None)


def _outside(line: str, column: int) -> bool:
    """A trailing line that is not the rule's: blank, a comment no deeper than its keys, or a line
    less indented than its keys (the next item of a list)."""
    stripped = line.lstrip(" ")
    indent = len(line) - len(stripped)
    if not stripped.strip():
        return True
    return indent < column or (stripped.startswith("#") and indent <= column)


def _dedent(line: str, column: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, column) :]


# --- the draft ----------------------------------------------------------------------------------


def base_files(session: Session, rules_dir: Path) -> tuple[RuleVersion | None, dict[str, str]]:
    """What a draft starts from and is compared with: the active version, or the directory."""
    version = publish.active_version(session)
    if version is not None:
        return version, dict(version.files)
    return None, publish.directory_files(rules_dir)


def current_draft(session: Session, author: str) -> RuleDraft | None:
    return session.scalars(
        select(RuleDraft)
        .where(RuleDraft.author == author, RuleDraft.status == OPEN)
        .order_by(RuleDraft.id.desc())
    ).first()


def open_draft(session: Session, *, author: str, rules_dir: Path) -> RuleDraft:
    """The author's open draft, or a new one from the active version (one open draft each)."""
    draft = current_draft(session, author)
    if draft is not None:
        return draft
    version, files = base_files(session, rules_dir)
    draft = RuleDraft(
        author=author,
        base_version_id=version.id if version else None,
        files=files,
        status=OPEN,
        updated_at=clock.now(),
    )
    session.add(draft)
    session.flush()
    return draft


def save_rule(
    session: Session, draft: RuleDraft, *, path: str, key: str, text: str, actor: str
) -> str:
    """Put the edited YAML of rule `key` back into its file; returns the rule's key afterwards.

    The draft keeps what the author wrote even when it has problems: it is a working copy, and
    publishing refuses a directory with any problem.
    """
    if draft.status != OPEN:
        raise NotFound(f"draft {draft.id} is {draft.status}")
    current = draft.files.get(path)
    if current is None:
        raise NotFound(f"no file {path} in the draft")
    updated = splice(current, extract(current, key, path), text)
    if updated != current:
        draft.files = {**draft.files, path: updated}  # a new dict: JSON columns track assignment
        draft.updated_at = clock.now()
    trail.record(
        session,
        actor=actor,
        action="rules.draft_save",
        subject=("rule_draft", draft.id),
        detail={"path": path, "rule": key, "changed": updated != current},
    )
    return declared_key(updated) or key


def discard(session: Session, draft: RuleDraft, *, actor: str) -> None:
    draft.status = DISCARDED
    draft.updated_at = clock.now()
    trail.record(
        session,
        actor=actor,
        action="rules.draft_discard",
        subject=("rule_draft", draft.id),
        detail={"changed": changed_files(draft.files, _base_of(session, draft))},
    )


def _base_of(session: Session, draft: RuleDraft) -> dict[str, str]:
    if draft.base_version_id is None:
        return {}
    version = session.get(RuleVersion, draft.base_version_id)
    return dict(version.files) if version else {}


def changed_files(files: Mapping[str, str], base: Mapping[str, str]) -> list[str]:
    """Paths added, removed or edited between two sets of files."""
    return sorted(p for p in files.keys() | base.keys() if files.get(p) != base.get(p))


@contextmanager
def materialised(files: Mapping[str, str]) -> Iterator[Path]:
    """Files (relative path → text) as a rules directory in a temporary place, for loading."""
    with tempfile.TemporaryDirectory(prefix="auditcage-draft-") as tmp:
        root = Path(tmp).resolve()
        for relative, text in files.items():
            target = root / relative
            if root not in target.resolve().parents:  # never outside the temporary directory
                raise InvalidInput(f"{relative} is not a path inside the rules directory")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        yield root
