"""Run a rule's examples: each must fire (or stay quiet) exactly as its file declares.

An example is evaluated alone, by an engine holding only its rule, over the shipped policy tables
plus the shared example reference (`rules/examples/reference.yaml`) plus its own rows, with the
records in the order written and the sweeper run at its `as_of` (default: the latest record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

import orjson

from auditcage import clock
from auditcage.engine.compiled import CompiledRule, compile_rule
from auditcage.engine.hits import HitDraft
from auditcage.engine.replay import evaluate
from auditcage.engine.session import build_engine
from auditcage.records.validation import validate_record
from auditcage.reference import service
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.model import Example, RuleSet, Status


@dataclass(frozen=True)
class ExampleResult:
    example: Example
    passed: bool
    hits: tuple[HitDraft, ...]
    problem: str = ""


@cache
def _shipped_rows() -> dict[str, tuple[dict[str, Any], ...]]:
    index = service.index_from_directory(service.shipped_dir(), include_shipped=True)
    return {
        name: tuple(index.rows(name))
        for name in ("business_types", "violation_codes", "premium_plate_patterns", "calendar")
    }


def example_reference(example: Example) -> ReferenceIndex:
    """Shipped policy tables (validated once) plus the example's rows (validated), as one index.

    Indexes are cached by the example's rows: most examples share the example province's rows,
    and typing and indexing the policy tables anew for each of ~1 900 examples was three
    quarters of a publish. The engine only reads an index, so sharing one is safe."""
    key = orjson.dumps(example.reference, option=orjson.OPT_SORT_KEYS, default=str)
    index = _INDEXES.get(key)
    if index is None:
        rows: dict[str, list[dict[str, Any]]] = {k: list(v) for k, v in _shipped_rows().items()}
        for dataset, extra in example.reference.items():
            rows[dataset] = [*rows.get(dataset, []), *_validated(dataset, extra)]
        if len(_INDEXES) > 256:
            _INDEXES.clear()
        index = _INDEXES[key] = ReferenceIndex(rows)
    return index


_INDEXES: dict[bytes, ReferenceIndex] = {}

_VALIDATED: dict[tuple[str, bytes], tuple[dict[str, Any], ...]] = {}


def _validated(dataset: str, rows: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    key = (dataset, orjson.dumps(rows, option=orjson.OPT_SORT_KEYS))
    found = _VALIDATED.get(key)
    if found is None:
        if len(_VALIDATED) > 4096:
            _VALIDATED.clear()
        found = _VALIDATED[key] = tuple(service.validate_rows(dataset, list(enumerate(rows, 1))))
    return found


def run_example(rule: CompiledRule, example: Example, ruleset: RuleSet) -> ExampleResult:
    records = []
    for n, raw in enumerate(example.records, start=1):
        result = validate_record(raw, now=clock.now())
        if result.record is None or result.rejections:
            reasons = "; ".join(f"{p.field}: {p.reason}" for p in result.rejections)
            return ExampleResult(example, False, (), f"record {n} is not a valid record: {reasons}")
        records.append(result.record)
    engine = build_engine(ruleset, [rule, *companions(rule, ruleset)], example_reference(example))
    as_of = _as_of(example.as_of)
    hits = tuple(
        h
        for h in evaluate(engine, records, as_of=as_of)
        if h.rule_id == rule.rule.id and h.sub == rule.rule.sub
    )
    if example.should_fire and not hits:
        return ExampleResult(example, False, hits, "should fire but stayed quiet")
    if not example.should_fire and hits:
        return ExampleResult(
            example, False, hits, f"should stay quiet but fired: {hits[0].message}"
        )
    for wanted in example.expect:
        if not any(_matches(hit, wanted) for hit in hits):
            return ExampleResult(example, False, hits, f"no hit matches {wanted}")
    return ExampleResult(example, True, hits)


def companions(rule: CompiledRule, ruleset: RuleSet) -> list[CompiledRule]:
    """The rules whose hits a rate rule compares with (`with_hits`): an example of it runs
    them too, over the same records, and is judged on its own rule's hits."""
    program = getattr(rule, "rate", None)
    wanted = program.spec.with_hits if program is not None else None
    if wanted is None:
        return []
    named = set(wanted.rules)
    return [
        compile_rule(other, ruleset.lists)
        for other in ruleset.rules
        if other.status is Status.ACTIVE
        and other.label != rule.rule.label
        and ({other.id, other.uid} & named)
    ]


def _matches(hit: HitDraft, wanted: dict[str, Any]) -> bool:
    """An expected hit names fields of the §7.3 shape; `key` may be written raw or masked."""
    shape = hit.as_json()
    for name, value in wanted.items():
        if name == "key" and str(value) == hit.key:
            continue
        if str(shape.get(name)) != str(value):
            return False
    return True


def _as_of(text: str | None) -> datetime | None:
    if not text:
        return None
    return clock.to_shanghai(datetime.fromisoformat(str(text)))


def run_all(rules: list[CompiledRule], ruleset: RuleSet) -> list[ExampleResult]:
    return [run_example(rule, example, ruleset) for rule in rules for example in rule.rule.examples]


_FAILING: dict[tuple[str, date], tuple[ExampleResult, ...]] = {}


def failing(rules: list[CompiledRule], ruleset: RuleSet) -> tuple[ExampleResult, ...]:
    """The examples that do not behave as declared, remembered per ruleset digest and day.

    The same files give the same results (records are validated against today's date, hence
    the day in the key): publishing a version, rolling back and publishing it again does not
    re-run ~1 900 examples."""
    key = (ruleset.digest, clock.now().date())
    found = _FAILING.get(key)
    if found is None:
        if len(_FAILING) > 32:
            _FAILING.clear()
        found = _FAILING[key] = tuple(r for r in run_all(rules, ruleset) if not r.passed)
    return found
