"""Ledger rules (kind ledger): reference-ledger rows judged in the sweeper (catalogue §0.5 item 5).

Some abuses leave no triggering record: a body-camera clip deleted before its retention ended
(CP-46), bank money that no decision explains (CP-19). A ledger rule names an R13 dataset, the
row field that says when the row can be judged (`at`, plus `grace`), and optionally a link to
records: the records whose `link_record` path carries the row's `link_row` value. The engine
collects those links while records stream past (only the linked values, never the records) and
judges each row once, at the first sweep with as_of ≥ at + grace, over the row's own fields plus
`linked_n` and `alerted_n`.

Links are kept for LINK_DAYS after their record's action_time: a row judged later than that
sees only the links still kept (a clip deleted more than two years after the decision that used
it is past every retention class but `evidence`/`major`, which the row itself says).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from auditcage import clock
from auditcage.engine.compile_python import Env, compile_python
from auditcage.engine.hits import HitDraft, hit_id
from auditcage.engine.messages import render
from auditcage.rulepacks.check import CheckError, check
from auditcage.rulepacks.fields import NUMBER, FieldInfo, reference_fields
from auditcage.rulepacks.functions import EvalContext
from auditcage.rulepacks.model import LedgerSpec, Rule, Severity, Status

LINK_DAYS = 750  # two years and a little: the longest retention class short of "permanent"
LINK_STATISTICS = ("linked_n", "alerted_n")
RANGE_STATISTICS = ("range_n", "used_n", "unused_n", "gap_n")  # link.range rules only
RANGE_MAX = 100_000  # numbers per row a range link looks up; a larger row is not judged


def row_names(dataset: str) -> dict[str, FieldInfo]:
    """The names a ledger rule's conditions may use: the dataset's fields and the link
    statistics."""
    names = dict(reference_fields(dataset))
    for name in (*LINK_STATISTICS, *RANGE_STATISTICS):
        names[name] = FieldInfo(name, NUMBER, source="computed")
    return names


@dataclass(frozen=True)
class LedgerProgram:
    spec: LedgerSpec
    when: Callable[[Env], bool]
    severities: tuple[tuple[Callable[[Env], bool], Severity], ...]
    link_when: Callable[[Env], bool] | None = None


def compile_ledger(rule: Rule, lists: Mapping[str, Sequence[str]]) -> LedgerProgram:
    """Raises CheckError with `.rule_field` naming the field (when, severity_when)."""
    spec = rule.ledger
    assert spec is not None
    names = row_names(spec.dataset)
    named = {name: list(items) for name, items in lists.items()}

    def over_row(text: str, where: str) -> Callable[[Env], bool]:
        try:
            return compile_python(check(text, lists=named, names=names))
        except CheckError as error:
            error.rule_field = where  # type: ignore[attr-defined]
            raise

    link_when = None
    if spec.link_when:
        try:
            link_when = compile_python(check(spec.link_when, lists=named))
        except CheckError as error:
            error.rule_field = "ledger"  # type: ignore[attr-defined]
            raise
    return LedgerProgram(
        spec=spec,
        when=over_row(rule.when, "when"),
        severities=tuple(
            (over_row(s.when, "severity_when"), s.severity) for s in rule.severity_when
        ),
        link_when=link_when,
    )


@dataclass(frozen=True)
class _Link:
    time: datetime
    record_id: str
    serial_no: str
    counts_for: frozenset[str]  # the rules whose link_when the record meets


class LedgerBook:
    """The links every ledger rule needs, and which rows were judged already."""

    def __init__(self, rules: Iterable[Any], ctx: EvalContext) -> None:
        self.rules = [r for r in rules if getattr(r, "ledger", None) is not None]
        self.ctx = ctx
        # link path → value → the records carrying it (oldest first), and their expiry order
        self._links: dict[str, dict[str, list[_Link]]] = defaultdict(lambda: defaultdict(list))
        self._expiry: deque[tuple[datetime, str, str, str]] = deque()
        self._linked: dict[str, int] = defaultdict(int)  # record id → links it holds
        self._alerted: set[str] = set()  # linked record ids that appear in a hit
        self._judged: dict[str, set[str]] = defaultdict(set)  # rule uid → row keys judged
        # link path → (rule uid, its record filter or None) of the rules that link by it
        self._paths: dict[str, list[tuple[str, Callable[[Env], bool] | None]]] = defaultdict(list)
        for rule in self.rules:
            if rule.ledger.spec.link_record:
                self._paths[rule.ledger.spec.link_record].append((rule.uid, rule.ledger.link_when))
        self._root: str | None = None
        # A restarted worker: rows judgeable by this time were judged by its earlier life, with
        # links it no longer has (runner.LEDGER_SWEEP keeps the time of its last sweep).
        self.judged_until: datetime | None = None

    # --- while records stream -------------------------------------------------------------

    def observe(self, env: Env) -> None:
        """Keep the link values a record carries. Every citing record is evidence on the hit;
        `linked_n` counts those that meet the rule's link_when."""
        if not self._paths:
            return
        from auditcage.engine.compiled import key_values

        record, derived = env.record, env.derived
        at = clock.to_shanghai(record["action_time"])
        record_id = str(record["record_id"])
        for path, tests in self._paths.items():
            values = key_values(record, derived, (path,))
            if not values:
                continue
            counts = frozenset(uid for uid, test in tests if test is None or test(env))
            for part in values:
                value = part.partition("=")[2]
                self._links[path][value].append(
                    _Link(at, record_id, str(record.get("serial_no") or ""), counts)
                )
                self._expiry.append((at, path, value, record_id))
                self._linked[record_id] += 1
        self._expire(at - timedelta(days=LINK_DAYS))

    def note_hits(self, hits: Iterable[HitDraft]) -> None:
        """Remember which linked records are in a hit (of any rule, now or later)."""
        if not self._linked:
            return
        for hit in hits:
            self._alerted.update(r for r in hit.record_ids if r in self._linked)

    def _expire(self, before: datetime) -> None:
        while self._expiry and self._expiry[0][0] < before:
            _, path, value, record_id = self._expiry.popleft()
            links = self._links[path].get(value)
            if links:
                links.pop(0)
                if not links:
                    del self._links[path][value]
            self._linked[record_id] -= 1
            if self._linked[record_id] <= 0:
                del self._linked[record_id]
                self._alerted.discard(record_id)

    # --- in the sweeper -----------------------------------------------------------------------

    def sweep(self, as_of: datetime) -> list[HitDraft]:
        hits: list[HitDraft] = []
        for rule in self.rules:
            hits.extend(self._judge(rule, clock.to_shanghai(as_of)))
        return hits

    def _judge(self, rule: Any, as_of: datetime) -> list[HitDraft]:
        program: LedgerProgram = rule.ledger
        spec = program.spec
        judged = self._judged[rule.uid]
        hits = []
        for row in self.ctx.ref.rows(spec.dataset):
            at = _instant(row.get(spec.at))
            key = _row_key(spec, row)
            if at is None or key is None or key[0] in judged or at + spec.grace > as_of:
                continue
            if self.judged_until is not None and at + spec.grace <= self.judged_until:
                judged.add(key[0])
                continue
            judged.add(key[0])
            if spec.link_range is not None:
                judged_links = self._range_links(rule.uid, spec, row, at + spec.grace)
                if judged_links is None:
                    continue  # not a range of numbers (or too large): nothing to judge
                links, counted, extra = judged_links
            else:
                links, counted = self._links_of(rule.uid, spec, row, at)
                extra = {}
            facts = {
                **row,
                "linked_n": float(len(counted)),
                "alerted_n": float(sum(1 for link in counted if link.record_id in self._alerted)),
                **extra,
            }
            unit = self._unit_of(spec, row, at)
            env = Env({"action_time": at, "unit_code": unit}, facts, self.ctx)
            if not program.when(env):
                continue
            severity = rule.rule.severity
            for test, band in program.severities:
                if band.rank < severity.rank and test(env):
                    severity = band
            hits.append(self._hit(rule, spec, key, at, unit, severity.value, links, facts))
        return hits

    def _links_of(
        self, uid: str, spec: LedgerSpec, row: Mapping[str, Any], at: datetime
    ) -> tuple[list[_Link], list[_Link]]:
        """The evidence links of a row and those that count for the rule. With link_within only
        records near `at` count, and the evidence runs from link_since − within."""
        if not spec.link_record or not spec.link_row or row.get(spec.link_row) in (None, ""):
            return [], []
        links = list(self._links[spec.link_record].get(str(row[spec.link_row]), ()))
        if spec.link_within is None:
            return links, [link for link in links if uid in link.counts_for]
        near = spec.link_within
        since = _instant(row.get(spec.link_since)) if spec.link_since else None
        start = min(since or at, at) - near
        evidence = [link for link in links if start <= link.time <= at + near]
        counted = [
            link for link in evidence if uid in link.counts_for and abs(link.time - at) <= near
        ]
        return evidence, counted

    def _range_links(
        self, uid: str, spec: LedgerSpec, row: Mapping[str, Any], until: datetime
    ) -> tuple[list[_Link], list[_Link], dict[str, float]] | None:
        """The records carrying a number of the row's range by `until` (the judging instant,
        so that the worker and a replay of the whole history agree), and the range statistics."""
        assert spec.link_range is not None and spec.link_record
        low, high = (str(row.get(name) or "") for name in spec.link_range)
        if not (low.isdigit() and high.isdigit()) or len(low) != len(high) or high < low:
            return None
        first, last = int(low), int(high)
        if last - first + 1 > RANGE_MAX:
            return None
        by_value = self._links[spec.link_record]
        links: list[_Link] = []
        used: list[int] = []
        width = len(low)
        for number in range(first, last + 1):
            carried = by_value.get(f"{number:0{width}d}", ())
            found = [link for link in carried if link.time <= until]
            links.extend(found)
            if any(uid in link.counts_for for link in found):
                used.append(number)
        counted = [link for link in links if uid in link.counts_for]
        top = max(used, default=first - 1)
        stats = {
            "range_n": float(last - first + 1),
            "used_n": float(len(used)),
            "unused_n": float(last - first + 1 - len(used)),
            "gap_n": float(top - first + 1 - len(used)),
        }
        return links, counted, stats

    def _hit(
        self,
        rule: Any,
        spec: LedgerSpec,
        row_key: tuple[str, str],
        at: datetime,
        unit: str,
        severity: str,
        links: list[_Link],
        facts: dict[str, Any],
    ) -> HitDraft:
        r: Rule = rule.rule
        key_value, key = row_key
        anchor = f"row:{spec.dataset}:{key_value}"
        statistics = (*LINK_STATISTICS, *RANGE_STATISTICS)
        detail = {
            "dataset": spec.dataset,
            "row": {k: _plain(v) for k, v in facts.items() if k not in statistics},
            **{k: int(facts[k]) for k in statistics if k in facts},
        }
        return HitDraft(
            rule_id=r.id,
            sub=r.sub,
            severity=severity,
            kind=r.catalogue_kind,
            aspect=r.aspect.value if r.aspect else None,
            key=key,
            serials=tuple(dict.fromkeys(link.serial_no for link in links if link.serial_no)),
            record_ids=tuple(dict.fromkeys(link.record_id for link in links)),
            unit_code=unit,
            at=at,
            message=render(r.message.zh, {}, {}, {**facts, "key": key}),
            anchor=anchor,
            shadow=r.status is Status.TESTING,
            detail=detail,
        )

    def _unit_of(self, spec: LedgerSpec, row: Mapping[str, Any], at: datetime) -> str:
        """§0.5 item 5: the staff member's R2 unit as of `at`, else the row's, else the root."""
        if spec.staff and row.get(spec.staff):
            staff = self.ctx.ref.get("staff", row[spec.staff], at=at)
            if staff and staff.get("unit_code"):
                return str(staff["unit_code"])
        if row.get("unit_code"):
            return str(row["unit_code"])
        if self._root is None:
            roots = sorted(
                str(u["unit_code"]) for u in self.ctx.ref.rows("units") if not u.get("parent_code")
            )
            self._root = roots[0] if roots else ""
        return self._root


def _row_key(spec: LedgerSpec, row: Mapping[str, Any]) -> tuple[str, str] | None:
    """(the row's identity among the judged rows, the hit key), or None when a part is null."""
    names = (spec.key, *spec.more_keys)
    values = [_plain(row.get(name)) for name in names]
    if any(value in (None, "") for value in values):
        return None
    identity = "|".join(str(v) for v in values)
    key = ";".join(f"{spec.dataset}.{n}={v}" for n, v in zip(names, values, strict=True))
    return identity, key


def ledger_hit_id(rule: Rule, key_value: str, severity: str) -> str:
    """The id of the hit a ledger rule writes for one row (for tests and tools)."""
    spec = rule.ledger
    assert spec is not None
    key = f"{spec.dataset}.{spec.key}={key_value}"
    return hit_id(rule.id, rule.sub, key, f"row:{spec.dataset}:{key_value}", severity)


def _instant(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return clock.to_shanghai(value)
    from auditcage.reference.index import as_instant

    return as_instant(value, default=None)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
