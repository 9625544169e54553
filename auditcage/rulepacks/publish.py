"""Publish and roll back rule-pack versions; the worker follows the active one without a restart.

A version is the whole rules directory (packs, lists, example data, routing) stored as text, so
what ran can always be shown again. Publishing refuses a directory with any problem or any failing
example. Both actions are written to the audit trail with who and why.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from auditcage.audit import trail
from auditcage.errors import AuditcageError, NotFound
from auditcage.rulepacks.models import RuleVersion

SKIPPED_DIRS = frozenset({"reference"})  # policy tables are reference data, loaded as such


class PublishRefused(AuditcageError):
    code = "publish_refused"


def directory_files(rules_dir: Path) -> dict[str, str]:
    files = {}
    for path in sorted(rules_dir.rglob("*")):
        relative = path.relative_to(rules_dir)
        if not path.is_file() or relative.parts[0] in SKIPPED_DIRS:
            continue
        if path.suffix in (".yaml", ".yml", ".md"):
            files[relative.as_posix()] = path.read_text(encoding="utf-8")
    return files


def active_version(session: Session) -> RuleVersion | None:
    return session.scalars(select(RuleVersion).where(RuleVersion.active.is_(True))).first()


def versions(session: Session) -> list[RuleVersion]:
    return list(session.scalars(select(RuleVersion).order_by(RuleVersion.id.desc())))


def publish(session: Session, rules_dir: Path, *, actor: str, reason: str) -> RuleVersion:
    """Validate, run every example, store an immutable version and make it the active one."""
    from auditcage.engine.examples import failing
    from auditcage.engine.session import load_rules

    ruleset, compiled = load_rules(rules_dir)  # raises RulePackError listing every problem
    failed = failing(compiled, ruleset)
    if failed:
        listed = "; ".join(f"{r.example.label}: {r.problem}" for r in failed[:10])
        raise PublishRefused(f"{len(failed)} example(s) fail: {listed}")
    current = active_version(session)
    if current is not None and current.digest == ruleset.digest:
        raise PublishRefused(f"version {current.id} already has exactly these rules")
    session.execute(update(RuleVersion).values(active=False))
    version = RuleVersion(
        digest=ruleset.digest,
        files=directory_files(rules_dir),
        actor=actor,
        reason=reason,
        active=True,
        previous_id=current.id if current else None,
        rules=len(ruleset.rules),
    )
    session.add(version)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="rules.publish",
        subject=("rule_version", version.id),
        detail={"digest": version.digest, "reason": reason, "rules": version.rules},
    )
    return version


def rollback(session: Session, *, actor: str, reason: str) -> RuleVersion:
    """Make the version before the active one active again."""
    current = active_version(session)
    if current is None or current.previous_id is None:
        raise NotFound("there is no earlier version to roll back to")
    previous = session.get(RuleVersion, current.previous_id)
    if previous is None:
        raise NotFound(f"version {current.previous_id} is missing")
    session.execute(update(RuleVersion).values(active=False))
    previous.active = True
    trail.record(
        session,
        actor=actor,
        action="rules.rollback",
        subject=("rule_version", previous.id),
        detail={"from": current.id, "to": previous.id, "reason": reason},
    )
    return previous


@contextmanager
def materialised(version: RuleVersion) -> Iterator[Path]:
    """The files of a stored version as a rules directory, for loading."""
    with tempfile.TemporaryDirectory(prefix=f"auditcage-rules-v{version.id}-") as tmp:
        root = Path(tmp)
        for relative, text in version.files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        yield root
