"""Policy files beside the rule packs (routing, pre-check): YAML read with line numbers and
validated by a marshmallow schema, every problem reported with file:line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError

from auditcage.rulepacks.loader import LocatedDict, LocatedList, YamlError, load_file
from auditcage.rulepacks.schemas import Issue, flatten_errors


def load_validated(
    path: Path, schema: Schema, what: str
) -> tuple[dict[str, Any] | None, list[Issue]]:
    """(the loaded data, []) or (None, every issue)."""
    if not path.is_file():
        return None, [Issue(str(path), 1, None, "", "no such file")]
    try:
        document = load_file(path)
    except YamlError as exc:
        return None, [
            Issue(exc.source.path, exc.source.line, None, "", str(exc).split(": ", 1)[-1])
        ]
    if not isinstance(document, dict):
        return None, [Issue(str(path), 1, None, "", f"the {what} is a mapping of sections")]
    try:
        return schema.load(document), []
    except ValidationError as exc:
        return None, [
            Issue(str(path), line_of(document, dotted), None, _plain_field(dotted), message)
            for dotted, message in flatten_errors(exc.messages)
        ]


def _plain_field(dotted: str) -> str:
    """marshmallow names Dict errors `digests.x.value.at`; the file says `digests.x.at`."""
    return ".".join(p for p in dotted.split(".") if p not in ("value", "key"))


def line_of(document: Any, dotted: str) -> int:
    """The line of the deepest node of `dotted` present in the YAML (marshmallow's `value`/`key`
    segments of Dict fields and list indexes are followed too)."""
    node, line = document, getattr(document, "line", 1)
    for part in dotted.split("."):
        if part in ("value", "key"):
            continue
        if isinstance(node, LocatedDict) and part in node:
            line = node.line_of(part)
            node = node[part]
        elif isinstance(node, LocatedList) and part.isdigit() and int(part) < len(node):
            line = node.item_lines[int(part)]
            node = node[int(part)]
        else:
            break
    return line
