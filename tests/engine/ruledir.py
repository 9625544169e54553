"""A rules directory of a test's own: chosen rule files beside the shipped example data."""

from __future__ import annotations

import shutil
from pathlib import Path

from auditcage.config import DEFAULT_RULES_DIR

PACK = """name: {name}
title: {{zh: 测试, en: Test}}
example_base: {base}
"""


def make_rules_dir(root: Path, rules: dict[str, str], *, base: str = "violation") -> Path:
    """`rules` maps "pack/file.yaml" to its text; packs get a minimal pack.yaml."""
    directory = root / "rules"
    shutil.copytree(DEFAULT_RULES_DIR / "examples", directory / "examples")
    for relative, text in rules.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.parent / "pack.yaml").exists():
            (path.parent / "pack.yaml").write_text(PACK.format(name=path.parent.name, base=base))
        path.write_text(text, encoding="utf-8")
    return directory


def event_rule(rule_id: str, when: str, *, severity: str = "orange", status: str = "active") -> str:
    return f"""id: {rule_id}
name: {{zh: 测试规则, en: Test rule}}
kind: event
catalogue_kind: P
status: {status}
severity: {severity}
when: '{when}'
message: {{zh: "命中 {{serial_no}}", en: "hit {{serial_no}}"}}
examples:
  fires: [{{}}]
  quiet: [{{action: notify, violation.decision: ~delete}}]
"""


def count_rule(rule_id: str, *, key: str, window: str, at_least: int, when: str) -> str:
    return f"""id: {rule_id}
name: {{zh: 测试窗口, en: Test window}}
kind: count
catalogue_kind: C
status: active
severity: yellow
when: '{when}'
key: {key}
window: {window}
bands: [{{at_least: {at_least}, severity: yellow}}]
message: {{zh: "{{key}} 达到 {{count}}", en: "{{key}} reached {{count}}"}}
examples:
  fires: [{{}}]
  quiet: [{{}}]
"""
