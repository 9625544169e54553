"""Peers: the catalogue's single-record predicates outside auditcage, over one NDJSON file.

The predicates are those `engine.filters` evaluates: the `when` filter of every rule the engine
runs on records (the active ones, and testing ones in shadow) and the `first` filter of every
sequence-like rule. Prints `name: value unit` lines, all measured in one run over one file:

    records, predicates       what was measured
    limit                     the file read line by line, `orjson.loads` of each line and
                              nothing else: the floor no engine can beat
    prepare                   validation and enrichment, as `replay` does them (not a peer)
    python_filters            `engine.filters.PythonFilters`: the engine's own filter stage,
                              and the cross-check of every match count (`…_matches`)
    peer_durable              durable_rules used plainly: every predicate one rule of ONE
                              ruleset, each record asserted as facts (below) and retracted
    peer_durable_engine       the same run over the seconds spent inside durable_rules only
    peer_durable_post         the same messages `post`ed as events to a twin ruleset, the
                              literal naive use; its matches show events being consumed
    peer_duckdb               the predicates SQL can say, as DuckDB SQL over the raw file;
                              `peer_duckdb_load` is the loading alone, and
                              `python_filters_matches_translated` what PythonFilters counts
                              for the same predicates

What is timed (records/s = records / those seconds):

* limit: reading and parsing the file.
* prepare: `replay.valid_records` (read, validate, sort) and `Enricher.enrich` of each record,
  done once; python_filters and peer_durable run on these prepared records and time only
  their own work. The prepared records are then frozen out of the cyclic garbage collector
  (`gc.freeze`): a streaming engine holds one record at a time.
* python_filters: `PythonFilters.matching` of each prepared record (an `Env` each).
* peer_durable: building each record's messages in Python (the record and derived fields the
  rules read, and the "lifted" sub-conditions durable_rules cannot express, computed by
  `engine.compile_durable` as boolean properties) plus `Host.assert_fact` and
  `Host.retract_fact` of each message, a registry action collecting each firing. Facts, not
  events: a posted event fires at most one rule per ruleset (the maintainer in
  jruizgit/rules #190, measured again by peer_durable_post), so only facts give every match,
  and `peer_durable_matches` must equal `python_filters_matches`.
* peer_durable_post: the same message building plus one `Host.post` of each message.
* peer_duckdb: `CREATE TABLE … AS SELECT * FROM read_ndjson(file, columns = …)` with the
  record contract's columns, then one query counting every translated predicate.

durable_rules' limits, met on the way (measured; see `engine/durable_adapter.py`): a message
holds at most 252 properties, and the catalogue's predicates read about 490 (about 160 record
and derived fields and 330 lifted sub-conditions). Each record is therefore sent as two
messages, each with the properties of its share of the rules; every rule also requires
`lift__part` to be its share's number, so that one ruleset holds all the rules. A condition
costing more than 64 alpha nodes is refused when the ruleset is created (error 113), so such
a condition is lifted whole into one property, as `DurableFilters` does. The lifted properties
of a predicate are computed only for records its pre-dispatch guards let through (the
`service`, `action`, `business_type` … equalities of its top-level `and`, `engine.filters`):
elsewhere the predicate is false whatever they hold, and a property left out is false to
durable_rules. Computing every lifted property of every record ran at about 155 records/s
here, message building alone.

The DuckDB translation is exact or absent. It covers comparisons, `and`/`or`/`not`, `in` (a
list, a named list, a list or text field), `is null`, arithmetic on numbers, datetimes, dates
and durations, `any`/`all`/`count`/`max_of`/`min_of`/`sum_of` as list lambdas, the functions
date, weekday, hhmm, days_between, len, coalesce, startswith, matches (Python regexes with
the same meaning in RE2), contains, min, max, abs, lower and upper, and the derived fields
that follow from the record alone (hour, minute, weekday, date, month, operator_is_system),
all with §0.2 item 5's nulls (None, "" and [] are null; a comparison with a null is false).
Left out, counted in `peer_duckdb_left_out_<why>`: `reference`, predicates that need
reference data or the calendar (lookup, related, rows, count_rows, loaded, matches_any,
deadline, working days, member, and the derived fields enrichment reads from reference data);
`untyped`, predicates comparing untyped values (`before.*`, `after.*`), which Python compares
by run-time type. A predicate is counted under the first reason met.

    python bench/peers.py [--records 30000] [--file PATH [--reference DIR]] [--no-post]

Without `--file`, a scenario of about `--records` records is generated (bench.ingest); with it,
`--reference` defaults to the `reference/` directory beside the file, if there is one, else the
shipped policy tables only.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from durable.engine import MessageNotHandledException  # noqa: E402

from auditcage import clock  # noqa: E402
from auditcage.engine.compile_durable import (  # noqa: E402
    SEEN,
    DurableCondition,
    Lifted,
    NativeField,
    compile_durable,
    to_message_value,
)
from auditcage.engine.compile_python import Env, compile_python, constant_items  # noqa: E402
from auditcage.engine.compiled import CompiledRule, record_rules  # noqa: E402
from auditcage.engine.durable_adapter import (  # noqa: E402
    ALPHA_STACK_BUDGET,
    MATCH_ACTION,
    MAX_MESSAGE_FIELDS,
    AuditHost,
    condition_cost,
    fnv1a_32,
)
from auditcage.engine.filters import FIRST, PythonFilters, necessary_guards  # noqa: E402
from auditcage.engine.replay import ReplaySummary, valid_records  # noqa: E402
from auditcage.engine.session import Engine, build_engine, load_rules  # noqa: E402
from auditcage.reference.index import ReferenceIndex  # noqa: E402
from auditcage.reference.service import index_from_directory  # noqa: E402
from auditcage.rulepacks.check import COMPARISONS, CheckedCondition  # noqa: E402
from auditcage.rulepacks.expr import (  # noqa: E402
    Binary,
    Call,
    Field,
    IsNull,
    ListLiteral,
    Literal,
    Node,
    Unary,
)
from auditcage.rulepacks.fields import (  # noqa: E402
    ANY,
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    LIST,
    NUMBER,
    OBJECT,
    REGISTRY,
    STRING,
    FieldInfo,
)
from auditcage.rulepacks.functions import is_null  # noqa: E402

RULES_DIR: Final = ROOT / "rules"

Prepared = list[tuple[dict[str, Any], dict[str, Any]]]  # (validated record, derived fields)
Guards = tuple[tuple[str, frozenset[Any]], ...]  # engine.filters: (field, allowed values) pairs


@dataclass(frozen=True)
class Predicate:
    uid: str  # the rule's uid, `<uid>:first` for a sequence's A filter (engine.filters)
    checked: CheckedCondition


def catalogue_predicates(rules: Iterable[CompiledRule]) -> list[Predicate]:
    """Every single-record predicate the engine's filter stage evaluates, in its order."""
    predicates = []
    for rule in record_rules(rules):
        if rule.checked_when is None:
            raise ValueError(f"{rule.uid}: compiled without its checked condition")
        predicates.append(Predicate(rule.uid, rule.checked_when))
        if rule.checked_first is not None:
            predicates.append(Predicate(rule.uid + FIRST, rule.checked_first))
    return predicates


def load_engine(reference_dir: Path | None) -> Engine:
    """The shipped rules with the reference data of `reference_dir` (None: policy tables only)."""
    ruleset, rules = load_rules(RULES_DIR)
    reference = index_from_directory(reference_dir) if reference_dir else _no_reference()
    return build_engine(ruleset, rules, reference)


def _no_reference() -> ReferenceIndex:
    with tempfile.TemporaryDirectory() as empty:
        return index_from_directory(empty)  # the shipped policy tables only


# --- the floor, preparation and the engine's own filters --------------------------------------


def parse_only(path: Path) -> tuple[int, float]:
    """(records, seconds) of reading the file and `orjson.loads` of each line."""
    count = 0
    loads = orjson.loads
    started = time.perf_counter()
    with path.open("rb") as lines:
        for line in lines:
            loads(line)
            count += 1
    return count, time.perf_counter() - started


def prepare(path: Path, engine: Engine) -> tuple[Prepared, float]:
    """Valid records (as `replay` reads them, in action_time order) with their derived fields."""
    started = time.perf_counter()
    records = valid_records([path], ReplaySummary(), now=clock.now())
    prepared = [(record, engine.enricher.enrich(record).derived) for _, _, record in records]
    return prepared, time.perf_counter() - started


def python_filter_counts(prepared: Prepared, engine: Engine) -> tuple[Counter[str], float]:
    """Matches per predicate uid through `PythonFilters`, and the seconds it took."""
    filters = PythonFilters(record_rules(engine.rules))
    counts: Counter[str] = Counter()
    ctx = engine.ctx
    started = time.perf_counter()
    for record, derived in prepared:
        counts.update(filters.matching(record, derived, Env(record, derived, ctx)))
    return counts, time.perf_counter() - started


# --- durable_rules, used plainly --------------------------------------------------------------

PART: Final = "lift__part"  # which share of the rules a message is for (never a record path)
# Properties a share's rules may read, PART and SEEN included; the message's id is one more.
# durable_rules holds 252 and the id (measured, durable_adapter); 248 keeps room and makes
# two shares of the catalogue where engine.filters' 240 makes three.
SHARE_BUDGET: Final = MAX_MESSAGE_FIELDS - 4
RULESET: Final = "peers"
POST_RULESET: Final = "peers_post"


@dataclass
class _Share:
    """The rules one message serves: the properties it must carry."""

    number: int
    keys: set[str] = field(default_factory=set)
    members: list[int] = field(default_factory=list)  # indexes into DurablePeer.conditions
    natives: dict[str, NativeField] = field(default_factory=dict)
    lifted: list[tuple[Guards, tuple[Lifted, ...]]] = field(default_factory=list)
    _by_service: dict[Any, list[tuple[Guards, tuple[Lifted, ...]]]] = field(default_factory=dict)

    def lifted_for(self, service: Any) -> list[tuple[Guards, tuple[Lifted, ...]]]:
        """The lifted properties of the predicates a record of `service` can meet, by their
        other guards: a predicate whose guards name another service is skipped unseen, and
        predicates with the same guards are tested together."""
        found = self._by_service.get(service)
        if found is None:
            grouped: dict[Guards, list[Lifted]] = {}
            for guards, lifted in self.lifted:
                if all(service in allowed for name, allowed in guards if name == "service"):
                    rest = tuple(sorted((g for g in guards if g[0] != "service"), key=repr))
                    grouped.setdefault(rest, []).extend(lifted)
            found = self._by_service[service] = [(g, tuple(ls)) for g, ls in grouped.items()]
        return found


@dataclass
class DurableRun:
    counts: Counter[str]  # matches per predicate uid, through facts
    post_counts: Counter[str]  # firings per predicate uid, through posted events
    messages: int
    message_seconds: float  # building messages in Python
    fact_seconds: float  # inside assert_fact and retract_fact
    post_seconds: float  # inside post


class DurablePeer:
    """Every predicate as one rule of one durable_rules ruleset (and a twin for `post`)."""

    def __init__(self, predicates: Sequence[Predicate], engine: Engine) -> None:
        self.predicates = list(predicates)
        self.ctx = engine.ctx
        self.conditions: list[DurableCondition] = []
        for k, predicate in enumerate(self.predicates):
            condition = compile_durable(predicate.checked, tag=f"p{k}")
            if condition_cost(condition.condition_json) > ALPHA_STACK_BUDGET:
                # durable_rules refuses such a rule when the ruleset is created (error 113,
                # ERR_EXPRESSION_LIMIT_EXCEEDED, measured): the whole predicate is lifted.
                name = f"lift__p{k}whole"
                test = compile_python(predicate.checked)
                json = {"$and": [{"$eq": {SEEN: True}}, {"$eq": {name: True}}]}
                condition = DurableCondition(json, (Lifted(name, test),), ())
            self.conditions.append(condition)
        self.shares = self._shares()
        self._check_hashes()
        definition = {}
        for share in self.shares:
            for index in share.members:
                json = self.conditions[index].condition_json
                guarded = {"$and": [{"$eq": {PART: share.number}}, *json["$and"]]}
                definition[f"r{index}"] = {
                    "all": [{"m": guarded}],
                    "run": f"{MATCH_ACTION}:r{index}",
                }
        self.host = AuditHost()
        # Ruleset() pops "run" from each rule: give each registration its own copy.
        self.host.register_rulesets({RULESET: orjson.loads(orjson.dumps(definition))})
        self.host.register_rulesets({POST_RULESET: orjson.loads(orjson.dumps(definition))})
        self._sequence = 0

    def _shares(self) -> list[_Share]:
        """First fit of the conditions into messages of at most SHARE_BUDGET properties."""
        shares: list[_Share] = []
        for index, (predicate, condition) in enumerate(
            zip(self.predicates, self.conditions, strict=True)
        ):
            needed = {SEEN, PART, *(n.key for n in condition.native)}
            needed |= {lifted.name for lifted in condition.lifted}
            share = next((s for s in shares if len(s.keys | needed) <= SHARE_BUDGET), None)
            if share is None:
                share = _Share(len(shares))
                shares.append(share)
            share.keys |= needed
            share.members.append(index)
            for native in condition.native:
                share.natives.setdefault(native.key, native)
            if condition.lifted:
                share.lifted.append((necessary_guards(predicate.checked), condition.lifted))
        return shares

    def _check_hashes(self) -> None:
        """durable_rules names properties by a 32-bit FNV-1a hash: two names must not share one."""
        seen: dict[int, str] = {}
        for share in self.shares:
            for key in share.keys:
                other = seen.setdefault(fnv1a_32(key), key)
                if other != key:
                    raise RuntimeError(f"properties {key!r} and {other!r} share a name hash")

    def messages(self, record: Mapping[str, Any], derived: Mapping[str, Any]) -> list[dict]:
        """One flat message per share: the fields its rules read, and their lifted tests."""
        env = Env(record, derived, self.ctx)
        get = record.get
        service = get("service")
        out = []
        for share in self.shares:
            message: dict[str, Any] = {PART: share.number, SEEN: True}
            for native in share.natives.values():
                value = native.get(env)
                if not is_null(value):
                    message[native.key] = to_message_value(value, native.type)
            for guards, lifted in share.lifted_for(service):
                if all(get(name) in allowed for name, allowed in guards):
                    for part in lifted:
                        message[part.name] = part.test(env)
            self._sequence += 1
            message["id"] = str(self._sequence)
            out.append(message)
        return out

    def run(self, prepared: Prepared, *, post: bool = True) -> DurableRun:
        host, predicates = self.host, self.predicates
        counts: Counter[str] = Counter()
        post_counts: Counter[str] = Counter()
        built = in_facts = in_posts = 0.0
        sent = 0
        clock_ = time.perf_counter
        for record, derived in prepared:
            started = clock_()
            messages = self.messages(record, derived)
            built += clock_() - started
            fired: set[str] = set()
            for message in messages:
                sent += 1
                host.fired.clear()
                started = clock_()
                try:
                    host.assert_fact(RULESET, message)
                except MessageNotHandledException:
                    pass  # no rule matched: nothing was stored
                else:
                    # An `$or` with k true branches fires its rule k times: a set per record.
                    fired.update(host.fired)
                    host.retract_fact(RULESET, {"id": message["id"]})
                in_facts += clock_() - started
                if post:
                    host.fired.clear()
                    started = clock_()
                    with contextlib.suppress(MessageNotHandledException):
                        host.post(POST_RULESET, message)
                    in_posts += clock_() - started
                    post_counts.update(predicates[int(name[1:])].uid for name in host.fired)
            counts.update(predicates[int(name[1:])].uid for name in fired)
        return DurableRun(counts, post_counts, sent, built, in_facts, in_posts)


# --- DuckDB -----------------------------------------------------------------------------------


REFERENCE: Final = "reference"  # needs reference data or the calendar
UNTYPED: Final = "untyped"  # an untyped value, compared by Python's run-time types
OTHER: Final = "other"


class Untranslatable(Exception):
    """The predicate (or a part it cannot do without) has no simple exact SQL."""

    def __init__(self, reason: str, kind: str = OTHER) -> None:
        super().__init__(reason)
        self.kind = kind


_SQL_TYPES: Final = {STRING: "VARCHAR", NUMBER: "DOUBLE", BOOL: "BOOLEAN"}
# Datetimes and dates are read as text and cast in SQL: read_ndjson takes a timestamp without
# an offset as UTC, the record contract as Asia/Shanghai (the session time zone below).
_TEXT_READ: Final = frozenset({DATETIME, DATE})
_DAY_US: Final = 86_400_000_000
_FUNCTIONS_NEEDING_REFERENCE: Final = frozenset(
    {
        "lookup",
        "related",
        "rows",
        "count_rows",
        "loaded",
        "matches_any",
        "deadline",
        "add_working_days",
        "working_days_between",
        "member",
    }
)
_RECORD_DERIVED: Final = frozenset({"hour", "minute", "weekday", "date", "month"})
# What validation fills in when a record leaves a field out or null (records/validation.py).
_VALIDATED_DEFAULTS: Final = {("evidence_count",): "0"}


def sql_type(info: FieldInfo) -> str:
    """The column type read_ndjson gives a field of the record contract."""
    if info.type in _SQL_TYPES:
        return _SQL_TYPES[info.type]
    if info.type in _TEXT_READ:
        return "VARCHAR"
    if info.type == OBJECT and info.members:
        members = ", ".join(f'"{name}" {sql_type(m)}' for name, m in info.members.items())
        return f"STRUCT({members})"
    if info.type == LIST and info.item is not None:
        return f"{sql_type(info.item)}[]"
    return "JSON"  # untyped: before/after, Raw fields


def duckdb_columns() -> dict[str, str]:
    assert REGISTRY.record.members is not None
    return {name: sql_type(info) for name, info in REGISTRY.record.members.items()}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, timedelta):
        return str(value // timedelta(microseconds=1))
    raise Untranslatable(f"literal {value!r}")


_REGEX_ESCAPES: Final = frozenset(".[](){}*+?|^$\\-/")


def _re2(pattern: str) -> str:
    """Python `re` syntax → RE2, only where both mean the same (else Untranslatable)."""
    if "(?" in pattern:
        raise Untranslatable(f"regex group flags/lookarounds in {pattern!r}")
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            escaped = pattern[index + 1 : index + 2]
            if escaped == "d":
                out.append(r"\p{Nd}")  # Python's \d on text: any Unicode decimal digit
            elif escaped in _REGEX_ESCAPES and escaped:
                out.append("\\" + escaped)
            else:
                raise Untranslatable(f"regex escape \\{escaped} in {pattern!r}")
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


class SqlTranslator:
    """A checked condition as one DuckDB boolean expression over the table alias `r`.

    `value` gives an SQL value that is NULL where the condition language's value is null (None,
    "" and [] alike); `test` gives an expression that is never NULL (a null comparison is false).
    Durations are BIGINT microseconds, datetimes TIMESTAMPTZ, dates DATE.
    """

    def __init__(self, checked: CheckedCondition) -> None:
        self.checked = checked
        self.items: list[str] = []  # lambda variables of the quantifiers we are inside

    def type_of(self, node: Node) -> str:
        return self.checked.type_of(node).type

    # --- values -------------------------------------------------------------------------

    def value(self, node: Node) -> str:
        if isinstance(node, Literal):
            return _literal(node.value)
        if isinstance(node, Field):
            return self.field(node)
        if isinstance(node, ListLiteral):
            return "[" + ", ".join(self.value(item) for item in node.items) + "]"
        if isinstance(node, Unary) and node.op == "-":
            return f"(-{self.value(node.operand)})"
        if isinstance(node, Binary) and node.op in "+-*/":
            return self.arithmetic(node)
        if isinstance(node, Call) and node.name not in ("any", "all"):
            return self.call(node)
        return self.test(node)

    def field(self, node: Field) -> str:
        resolved = self.checked.resolution(node)
        info = self.checked.type_of(node)
        if resolved.scope == "derived":
            return self.derived(resolved.parts)
        if info.type == ANY:
            raise Untranslatable(f"untyped field {node.path}", UNTYPED)
        if resolved.scope == "list":
            return "[" + ", ".join(_quote(v) for v in resolved.value or ()) + "]"
        if resolved.scope == "record":
            column = "r." + ".".join(f'"{part}"' for part in resolved.parts)
            if resolved.parts in _VALIDATED_DEFAULTS:
                column = f"coalesce({column}, {_VALIDATED_DEFAULTS[resolved.parts]})"
        elif resolved.scope == "item":
            column = ".".join([self.items[-1], *(f'"{part}"' for part in resolved.parts)])
        else:
            raise Untranslatable(f"{resolved.scope} field {node.path}")
        return self.normalised(column, info)

    @staticmethod
    def normalised(column: str, info: FieldInfo) -> str:
        if info.type == STRING:
            return f"NULLIF({column}, '')"
        if info.type == LIST:
            return f"(CASE WHEN len({column}) = 0 THEN NULL ELSE {column} END)"
        if info.type == DATETIME:
            return f"CAST({column} AS TIMESTAMPTZ)"
        if info.type == DATE:  # a full timestamp is accepted too, as its Shanghai day
            return (
                f"(CASE WHEN length({column}) <= 10 THEN CAST({column} AS DATE) "
                f"ELSE CAST(CAST({column} AS TIMESTAMPTZ) AS DATE) END)"
            )
        if info.type in (NUMBER, BOOL) or (info.type == OBJECT and info.members):
            return column
        raise Untranslatable(f"a field of type {info.type}")

    def derived(self, parts: tuple[str, ...]) -> str:
        """The derived fields enrichment computes from the record alone; the others read
        reference data (the unit tree, staff registry, R6, R7, R12 …)."""
        name = parts[0]
        if len(parts) > 1 or name not in (*_RECORD_DERIVED, "operator_is_system"):
            raise Untranslatable(f"derived field {'.'.join(parts)}", REFERENCE)
        if name == "operator_is_system":
            return "coalesce(starts_with(r.\"operator_id\", 'SYS:'), FALSE)"
        at = 'CAST(r."action_time" AS TIMESTAMPTZ)'  # the session time zone is Shanghai
        return {
            "hour": f"CAST(hour({at}) AS DOUBLE)",
            "minute": f"CAST(minute({at}) AS DOUBLE)",
            "weekday": f"CAST(isodow({at}) AS DOUBLE)",
            "date": f"strftime({at}, '%Y-%m-%d')",
            "month": f"strftime({at}, '%Y-%m')",
        }[name]

    def arithmetic(self, node: Binary) -> str:
        left, right = self.type_of(node.left), self.type_of(node.right)
        a, b, op = self.value(node.left), self.value(node.right), node.op
        if (left, right) == (NUMBER, NUMBER):
            return f"({a} / NULLIF({b}, 0))" if op == "/" else f"({a} {op} {b})"
        if (left, op, right) == (DATETIME, "-", DATETIME):
            return f"(epoch_us({a}) - epoch_us({b}))"
        if (left, right) == (DATETIME, DURATION) and op in "+-":
            return f"({a} {op} to_microseconds({b}))"
        if (left, op, right) == (DURATION, "+", DATETIME):
            return f"({b} + to_microseconds({a}))"
        if (left, op, right) == (DATE, "-", DATE):
            return f"(({a} - {b}) * {_DAY_US})"
        if (left, right) == (DATE, DURATION) and op in "+-":
            # Python adds or subtracts the duration's whole days (timedelta.days, rounded down)
            return f"({a} {op} CAST(floor({b} / {_DAY_US}) AS INTEGER))"
        if (left, op, right) == (DURATION, "+", DATE):
            return f"({b} + CAST(floor({a} / {_DAY_US}) AS INTEGER))"
        if (left, right) == (DURATION, DURATION) and op in "+-":
            return f"({a} {op} {b})"
        raise Untranslatable(f"arithmetic {left} {op} {right}")

    def call(self, node: Call) -> str:
        name, args = node.name, node.args
        if name in _FUNCTIONS_NEEDING_REFERENCE:
            raise Untranslatable(f"{name}()", REFERENCE)
        if name in ("count", "max_of", "min_of", "sum_of"):
            return self.quantifier(node)
        values = [self.value(arg) for arg in args]
        kinds = [self.type_of(arg) for arg in args]
        if name == "date":
            return values[0] if kinds[0] == DATE else f"CAST({values[0]} AS DATE)"
        if name == "weekday":
            day = values[0] if kinds[0] == DATE else f"CAST({values[0]} AS DATE)"
            return f"CAST(isodow({day}) AS DOUBLE)"
        if name == "hhmm":
            return f"strftime({values[0]}, '%H:%M')"
        if name == "days_between":
            first, last = (
                v if k == DATE else f"CAST({v} AS DATE)" for v, k in zip(values, kinds, strict=True)
            )
            return f"CAST(({last} - {first}) AS DOUBLE)"
        if name == "len":
            length = "length" if kinds[0] == STRING else "len"
            return f"CAST(coalesce({length}({values[0]}), 0) AS DOUBLE)"
        if name == "coalesce":
            return f"coalesce({', '.join(values)})"
        if name in ("min", "max"):
            if len(values) == 1 and kinds[0] == LIST:
                return f"list_{name}({values[0]})"
            return f"{'least' if name == 'min' else 'greatest'}({', '.join(values)})"
        if name in ("abs", "lower", "upper"):
            return f"{name}({values[0]})"
        if name == "startswith":
            return f"coalesce(starts_with({values[0]}, {values[1]}), FALSE)"
        if name == "matches":
            pattern = args[1].value  # type: ignore[attr-defined]
            return f"coalesce(regexp_full_match({values[0]}, {_quote(_re2(pattern))}), FALSE)"
        if name == "contains":
            if kinds[0] not in (LIST, STRING):
                raise Untranslatable("contains() in an untyped value", UNTYPED)
            return self.contained(values[1], values[0], kinds[0], negated=False)
        raise Untranslatable(f"{name}()")

    def quantifier(self, node: Call) -> str:
        source_node, inner = node.args
        source = self.value(source_node)
        if self.type_of(source_node) != LIST:
            raise Untranslatable(f"{node.name}() over an untyped value", UNTYPED)
        var = f"x{len(self.items) + 1}"
        self.items.append(var)
        try:
            body = self.value(inner) if node.name in ("max_of", "min_of", "sum_of") else None
            condition = self.test(inner) if body is None else None
        finally:
            self.items.pop()
        if node.name == "any":
            return f"coalesce(len(list_filter({source}, lambda {var}: {condition})) > 0, FALSE)"
        if node.name == "all":
            kept = f"len(list_filter({source}, lambda {var}: {condition}))"
            return f"coalesce(len({source}) > 0 AND {kept} = len({source}), FALSE)"
        if node.name == "count":
            kept = f"len(list_filter({source}, lambda {var}: {condition}))"
            return f"CAST(coalesce({kept}, 0) AS DOUBLE)"
        pick = {"max_of": "list_max", "min_of": "list_min", "sum_of": "list_sum"}[node.name]
        return f"{pick}(list_transform({source}, lambda {var}: {body}))"

    # --- tests (never NULL) ----------------------------------------------------------------

    def test(self, node: Node) -> str:
        if isinstance(node, Literal):
            return "TRUE" if node.value is True else "FALSE"
        if isinstance(node, Unary) and node.op == "not":
            return f"(NOT {self.test(node.operand)})"
        if isinstance(node, IsNull):
            operand = self.value(node.operand)
            if self.type_of(node.operand) == ANY:
                raise Untranslatable("`is null` of an untyped value", UNTYPED)
            return f"({operand} IS {'NOT ' if node.negated else ''}NULL)"
        if isinstance(node, Binary) and node.op in ("and", "or"):
            return f"({self.test(node.left)} {node.op.upper()} {self.test(node.right)})"
        if isinstance(node, Binary) and node.op in COMPARISONS:
            left, right = self.value(node.left), self.value(node.right)
            if ANY in (self.type_of(node.left), self.type_of(node.right)):
                raise Untranslatable("a comparison with an untyped value", UNTYPED)
            op = "<>" if node.op == "!=" else "=" if node.op == "==" else node.op
            return f"coalesce({left} {op} {right}, FALSE)"
        if isinstance(node, Binary) and node.op in ("in", "notin"):
            return self.membership(node)
        if isinstance(node, Call) and node.name in ("any", "all"):
            return self.quantifier(node)
        if self.type_of(node) == BOOL:
            return f"coalesce({self.value(node)} = TRUE, FALSE)"
        raise Untranslatable(f"{type(node).__name__} as a condition")

    def membership(self, node: Binary) -> str:
        negated = node.op == "notin"
        left = self.value(node.left)
        if self.type_of(node.left) == ANY:
            raise Untranslatable("`in` with an untyped value", UNTYPED)
        constants = constant_items(self.checked, node.right)
        if constants is not None:
            if not constants:
                return f"({left} IS NOT NULL)" if negated else "FALSE"
            pool = ", ".join(_literal(c) for c in constants)
            return f"coalesce({left} {'NOT IN' if negated else 'IN'} ({pool}), FALSE)"
        right = self.value(node.right)
        right_kind = self.type_of(node.right)
        if right_kind not in (LIST, STRING):
            kind = UNTYPED if right_kind == ANY else OTHER
            raise Untranslatable(f"`in` a {right_kind} value", kind)
        return self.contained(left, right, right_kind, negated=negated)

    @staticmethod
    def contained(needle: str, haystack: str, kind: str, *, negated: bool) -> str:
        function = "list_contains" if kind == LIST else "contains"
        found = f"{function}({haystack}, {needle})"
        if negated:
            present = f"{needle} IS NOT NULL AND {haystack} IS NOT NULL"
            return f"coalesce({present} AND NOT {found}, FALSE)"
        return f"coalesce({found}, FALSE)"


def translate(checked: CheckedCondition) -> str:
    """The predicate as a never-NULL DuckDB boolean over alias `r`, or Untranslatable."""
    return SqlTranslator(checked).test(checked.node)


@dataclass
class DuckRun:
    counts: dict[str, int]  # matches per translated predicate uid
    left_out: dict[str, Untranslatable]  # uid → the first reason met while translating it
    records: int
    load_seconds: float
    query_seconds: float


def duckdb_counts(path: Path, predicates: Sequence[Predicate]) -> DuckRun:
    import duckdb

    translated: list[tuple[str, str]] = []
    left_out: dict[str, Untranslatable] = {}
    for predicate in predicates:
        try:
            translated.append((predicate.uid, translate(predicate.checked)))
        except Untranslatable as reason:
            left_out[predicate.uid] = reason
    columns = ", ".join(f"{_quote(name)}: {_quote(sql)}" for name, sql in duckdb_columns().items())
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'Asia/Shanghai'")
        started = time.perf_counter()
        connection.execute(
            "CREATE TEMP TABLE records AS SELECT * FROM "
            f"read_ndjson({_quote(str(path))}, columns = {{{columns}}})"
        )
        loaded = time.perf_counter()
        selects = [f"count_if({sql}) AS p{k}" for k, (_, sql) in enumerate(translated)]
        row = connection.execute(
            f"SELECT count(*), {', '.join(selects)} FROM records AS r"
        ).fetchone()
        finished = time.perf_counter()
    finally:
        connection.close()
    assert row is not None
    counts = {uid: int(n) for (uid, _), n in zip(translated, row[1:], strict=True)}
    return DuckRun(counts, left_out, int(row[0]), loaded - started, finished - loaded)


# --- the run ----------------------------------------------------------------------------------


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:.0f} records/s" if seconds > 0 else "0 records/s"


def run(path: Path, reference_dir: Path | None, *, post: bool = True) -> Iterator[str]:
    """The figures, one `name: value unit` line at a time."""
    records, seconds = parse_only(path)
    yield f"records: {records} records"
    engine = load_engine(reference_dir)
    predicates = catalogue_predicates(engine.rules)
    yield f"predicates: {len(predicates)} predicates"
    yield f"limit: {_rate(records, seconds)}"

    prepared, seconds = prepare(path, engine)
    yield f"prepare: {_rate(len(prepared), seconds)}"
    if len(prepared) != records:
        yield f"prepare_quarantined: {records - len(prepared)} records"
    with _frozen_heap():
        yield from _peers(path, engine, predicates, prepared, post=post)


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep the prepared records out of the cyclic collector while the peers run: a streaming
    engine holds one record at a time, and scanning all of them on every collection would be
    charged to whichever peer allocates at the time (the demo stream does the same)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _peers(
    path: Path, engine: Engine, predicates: list[Predicate], prepared: Prepared, *, post: bool
) -> Iterator[str]:
    python, seconds = python_filter_counts(prepared, engine)
    yield f"python_filters: {_rate(len(prepared), seconds)}"
    yield f"python_filters_matches: {sum(python.values())} matches"

    peer = DurablePeer(predicates, engine)
    durable = peer.run(prepared, post=post)
    yield f"peer_durable: {_rate(len(prepared), durable.message_seconds + durable.fact_seconds)}"
    yield f"peer_durable_engine: {_rate(len(prepared), durable.fact_seconds)}"
    yield f"peer_durable_matches: {sum(durable.counts.values())} matches"
    yield f"peer_durable_messages: {durable.messages} messages"
    if post:
        seconds = durable.message_seconds + durable.post_seconds
        yield f"peer_durable_post: {_rate(len(prepared), seconds)}"
        yield f"peer_durable_post_matches: {sum(durable.post_counts.values())} matches"

    duck = duckdb_counts(path, predicates)
    yield f"peer_duckdb: {_rate(duck.records, duck.load_seconds + duck.query_seconds)}"
    yield f"peer_duckdb_load: {_rate(duck.records, duck.load_seconds)}"
    yield f"peer_duckdb_matches: {sum(duck.counts.values())} matches"
    same = sum(python[uid] for uid in duck.counts)
    yield f"python_filters_matches_translated: {same} matches"
    yield f"peer_duckdb_predicates: {len(duck.counts)} of {len(predicates)} predicates"
    kinds = Counter(reason.kind for reason in duck.left_out.values())
    for kind in (REFERENCE, UNTYPED, OTHER):
        if kinds[kind]:
            yield f"peer_duckdb_left_out_{kind}: {kinds[kind]} predicates"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=30_000, help="scenario size to generate")
    parser.add_argument("--file", type=Path, help="an NDJSON record file instead of a scenario")
    parser.add_argument("--reference", type=Path, help="reference data directory for --file")
    parser.add_argument("--no-post", action="store_true", help="skip peer_durable_post")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.file is not None:
            path = args.file
            reference = args.reference
            if reference is None and (path.parent / "reference").is_dir():
                reference = path.parent / "reference"
        else:
            from bench.ingest import make_scenario

            reference, path = make_scenario(args.records, Path(tmp) / "scenario")
        for line in run(path, reference, post=not args.no_post):
            print(line, flush=True)


if __name__ == "__main__":
    main()
