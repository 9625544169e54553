"""A rule compiled for evaluation: its conditions as closures, its key and value extractors.

Compilation checks every condition against the record contract (rulepacks.check) and turns it into
a Python closure (engine.compile_python). The engine never sees the author's text again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

from auditcage.engine.compile_python import Env, PyCompiler, compile_python
from auditcage.rulepacks.check import CheckedCondition, CheckError, check
from auditcage.rulepacks.fields import REGISTRY, suggest
from auditcage.rulepacks.model import Kind, Rule, RuleSet, Severity, Status
from auditcage.rulepacks.schemas import Issue

Predicate = Callable[[Env], bool]
ValueFn = Callable[[Env], Any]

# What runs in the engine: active rules push; testing rules run in shadow (hits kept, not pushed).
EVALUATED = frozenset({Status.ACTIVE, Status.TESTING})


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    when: Predicate
    unless: tuple[Predicate, ...]
    severity_when: tuple[tuple[Predicate, Severity], ...]
    first: Predicate | None  # sequence: the A filter
    expect: Predicate | None  # absence: a later record of the key that meets the step
    done_at: ValueFn | None  # absence: when the step happened (on the arming or a later record)
    deadline_from: ValueFn | None  # absence: the start of the period (default action_time)
    value: ValueFn | None  # distinct/sum: the counted or summed field
    checked_when: CheckedCondition | None = None  # kept for the durable_rules filter backend
    checked_first: CheckedCondition | None = None
    rate: Any = None  # kind rate: its engine.rates.RateProgram
    key_filter: Predicate | None = None  # key_where: which elements of the key's list count
    key_split: tuple[str, str] | None = None  # the key path as (its list, the rest)
    ledger: Any = None  # kind ledger: its engine.ledgers.LedgerProgram
    reset: Predicate | None = None  # windowed: a counted record meeting reset_when empties it
    match: Predicate | None = None  # sequence: B (the record) and A (first.) must meet it
    between: Predicate | None = None  # sequence: a record between A and B that cancels them

    @functools.cached_property
    def uid(self) -> str:
        return self.rule.uid

    def keys(self, env: Env) -> list[str]:
        """The record's keys; with key_where only the key list's elements that match."""
        if self.key_filter is None or self.key_split is None:
            return key_values(env.record, env.derived, self.rule.key)
        list_path, rest = self.key_split
        values: set[str] = set()
        saved = env.item
        try:
            for element in _elements(env.record, list_path.split(".")):
                env.item = element
                if not self.key_filter(env):
                    continue
                for value in _values(element, rest.split(".")) if rest else [element]:
                    if value not in (None, ""):
                        values.add(str(value))
        finally:
            env.item = saved
        return [f"{self.rule.key[0]}={v}" for v in sorted(values)]

    def raised_severity(self, env: Env) -> Severity | None:
        """The highest severity_when band whose condition holds on this record, else None
        (windowed rules: each record's, carried into every window it is counted in)."""
        best: Severity | None = None
        for test, severity in self.severity_when:
            if (best is None or severity.rank < best.rank) and test(env):
                best = severity
        return best

    def severity_for(self, env: Env) -> Severity:
        """The highest band whose condition holds, else the default severity."""
        best = self.rule.severity
        for test, severity in self.severity_when:
            if severity.rank < best.rank and test(env):
                best = severity
        return best


def compile_rule(rule: Rule, lists: Mapping[str, Sequence[str]]) -> CompiledRule:
    """Raises CheckError (with `.field_name` set to the rule field) on the first bad condition."""
    named = {name: list(items) for name, items in lists.items()}
    sequence_like = rule.kind in (Kind.SEQUENCE, Kind.ABSENCE)

    def checked(
        text: str, where: str, *, first: bool = False, condition: bool = True
    ) -> CheckedCondition:
        try:
            return check(text, lists=named, allow_first=first, condition=condition)
        except CheckError as error:
            error.rule_field = where  # type: ignore[attr-defined]
            raise

    def predicate(text: str, where: str, *, first: bool = False) -> Predicate:
        return compile_python(checked(text, where, first=first))

    if rule.kind is Kind.LEDGER:
        return _compile_ledger_rule(rule, named)
    when = checked(rule.when, "when")
    rate = None
    if rule.kind is Kind.RATE:
        from auditcage.engine.rates import compile_rate

        rate = compile_rate(rule, named)
    first_filter = checked(rule.first, "first") if rule.first else None
    key_paths = [("key", rule.key), ("same", rule.same), ("step_key", rule.step_key)]
    if rule.rate is not None:
        key_paths += [("group", rule.rate.group), ("peers", rule.rate.peers)]
        key_paths += [("mode_of", (rule.rate.mode_of,))] if rule.rate.mode_of else []
        key_paths += [("with_hits", rule.rate.with_hits.keys)] if rule.rate.with_hits else []
    for where, paths in key_paths:
        for path in paths:  # a misspelt key would never fire: refuse it like a condition
            _check_key_path(path, where)
    key_filter, key_split = _key_filter(rule, named)
    if rule.field and checked(rule.field, "field", condition=False).type == "list":
        error = CheckError(f"{rule.field} is a list; count one of its fields", 0, field=rule.field)
        error.rule_field = "field"  # type: ignore[attr-defined]
        raise error

    def value(text: str, where: str, *, first: bool = False) -> ValueFn:
        try:
            checked = check(text, lists=named, allow_first=first, condition=False)
        except CheckError as error:
            error.rule_field = where  # type: ignore[attr-defined]
            raise
        return PyCompiler(checked).value(checked.node)

    return CompiledRule(
        rule=rule,
        when=compile_python(when),
        unless=tuple(predicate(e.when, "unless") for e in rule.unless),
        severity_when=()
        if rate is not None  # a rate rule's bands are over its statistics (RateProgram)
        else tuple(
            (predicate(s.when, "severity_when", first=sequence_like), s.severity)
            for s in rule.severity_when
        ),
        first=compile_python(first_filter) if first_filter else None,
        expect=predicate(rule.expect, "expect", first=True) if rule.expect else None,
        done_at=value(rule.done_at, "done_at", first=sequence_like) if rule.done_at else None,
        deadline_from=value(rule.deadline_from, "deadline_from") if rule.deadline_from else None,
        value=value(rule.field, "field") if rule.field else None,
        checked_when=when,
        checked_first=first_filter,
        rate=rate,
        key_filter=key_filter,
        key_split=key_split,
        reset=predicate(rule.reset_when, "reset_when") if rule.reset_when else None,
        match=predicate(rule.match, "match", first=True) if rule.match else None,
        between=predicate(rule.between, "between") if rule.between else None,
    )


def _compile_ledger_rule(rule: Rule, lists: Mapping[str, Sequence[str]]) -> CompiledRule:
    """A ledger rule judges reference rows, never records: its conditions are over the row."""
    from auditcage.engine.ledgers import compile_ledger

    program = compile_ledger(rule, lists)
    if rule.ledger is not None and rule.ledger.link_record:
        _check_key_path(rule.ledger.link_record, "ledger")
    return CompiledRule(
        rule=rule,
        when=program.when,
        unless=(),
        severity_when=(),
        first=None,
        expect=None,
        done_at=None,
        deadline_from=None,
        value=None,
        ledger=program,
    )


def _key_filter(
    rule: Rule, lists: Mapping[str, Sequence[str]]
) -> tuple[Predicate | None, tuple[str, str] | None]:
    """key_where: a condition over the elements of the list the (single) key path runs through."""
    if not rule.key_where:
        return None, None
    if len(rule.key) != 1:
        error = CheckError("key_where needs exactly one key path", 0)
        error.rule_field = "key_where"  # type: ignore[attr-defined]
        raise error
    path = rule.key[0]
    head, *rest = path.split(".")
    info = REGISTRY.top(head)
    walked = [head]
    while info is not None and info.type != "list" and rest:
        walked.append(rest[0])
        info = info.member(rest.pop(0))
    if info is None or info.type != "list":
        error = CheckError(f"key_where: the key {path} runs through no list", 0, field=path)
        error.rule_field = "key_where"  # type: ignore[attr-defined]
        raise error
    try:
        checked = check(
            rule.key_where, lists={k: list(v) for k, v in lists.items()}, item=info.item
        )
    except CheckError as error:
        error.rule_field = "key_where"  # type: ignore[attr-defined]
        raise
    return compile_python(checked), (".".join(walked), ".".join(rest))


def _check_key_path(path: str, where: str) -> None:
    """A key path names a scalar field; it may pass through lists (each element is a key)."""
    head, *rest = path.split(".")
    info = REGISTRY.top(head)
    walked = head
    for part in rest:
        while info is not None and info.type == "list":
            info = info.item
        info = info.member(part) if info is not None else None
        walked = f"{walked}.{part}"
        if info is None:
            break
    while info is not None and info.type == "list":
        info = info.item
    if info is None or info.type in ("object", "list"):
        hint = suggest(path) if info is None else None
        problem = (
            f"{path} is not a field a key can take"
            if info is None
            else (f"{path} is an object; key on one of its fields")
        )
        error = CheckError(problem, 0, field=walked, suggestion=hint)
        error.rule_field = where  # type: ignore[attr-defined]
        raise error


def record_rules(rules: Iterable[CompiledRule]) -> list[CompiledRule]:
    """The rules records are matched against (ledger rules judge reference rows instead)."""
    return [rule for rule in rules if rule.rule.kind is not Kind.LEDGER]


def compile_ruleset(
    ruleset: RuleSet, *, statuses: Iterable[Status] = EVALUATED
) -> tuple[list[CompiledRule], list[Issue]]:
    """Every rule of the wanted statuses, compiled; problems returned as located issues."""
    wanted = frozenset(statuses)
    compiled: list[CompiledRule] = []
    issues: list[Issue] = []
    for rule in ruleset.rules:
        if rule.status not in wanted:
            continue
        try:
            compiled.append(compile_rule(rule, ruleset.lists))
        except CheckError as error:
            issues.append(issue_of(rule, error))
    return compiled, issues


def issue_of(rule: Rule, error: CheckError) -> Issue:
    where = getattr(error, "rule_field", "when")
    column = getattr(error, "column", None)
    at = f" (column {column + 1})" if isinstance(column, int) else ""
    return Issue(
        rule.source.path,
        rule.lines.get(where, rule.source.line),
        rule.label,
        where if not getattr(error, "field", None) else f"{where}: {error.field}",
        f"{getattr(error, 'problem', str(error))}{at}",
        getattr(error, "suggestion", None),
    )


# --- keys -----------------------------------------------------------------------------------------


def key_values(
    record: Mapping[str, Any], derived: Mapping[str, Any], paths: Sequence[str]
) -> list[str]:
    """Every key of a record for these field paths, as "path=value;path=value".

    A path through a list (`accident.parties.id_no`) gives one value per element: each value is a
    key of its own (catalogue §2.6). A null or empty part means no key at all (§0.2 item 5).
    """
    choices: list[list[str]] = []
    for path in paths:
        values = [v for v in _values(record, path.split(".")) if v not in (None, "")]
        if not values and path in derived:
            values = [derived[path]] if derived[path] not in (None, "") else []
        if not values:
            return []
        choices.append(sorted({str(v) for v in values}))
    return [
        ";".join(f"{p}={v}" for p, v in zip(paths, combo, strict=True))
        for combo in product(*choices)
    ]


def _elements(value: Any, parts: list[str]) -> list[Any]:
    """The elements of the list at `parts` (lists on the way are walked through)."""
    if not parts:
        return list(value) if isinstance(value, list) else []
    if isinstance(value, list):
        return [e for item in value for e in _elements(item, parts)]
    if not isinstance(value, Mapping):
        return []
    return _elements(value.get(parts[0]), parts[1:])


def _values(value: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return (
            [v for v in value if not isinstance(v, dict | list)]
            if isinstance(value, list)
            else [value]
        )
    if isinstance(value, list):
        return [v for item in value for v in _values(item, parts)]
    if not isinstance(value, Mapping):
        return []
    return _values(value.get(parts[0]), parts[1:])
