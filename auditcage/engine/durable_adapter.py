"""The one adapter between auditcage and durable_rules 2.0.28: single-message predicates.

Everything here was read in jruizgit/rules (libpy/durable/engine.py, src/rules/*.c, src/rulespy)
and measured on this 2-core machine (Python 3.11). `bench/durable_probe.py` prints the figures
again; `tests/engine/test_durable_adapter.py` pins every workaround.

Scheme: facts, asserted then retracted, drained synchronously
-------------------------------------------------------------
120 predicates over 6 services, 20 000 records, 52 336 expected hits (`bench/durable_probe.py`,
two runs):

==========================================  =================  ======================
scheme                                      records/s          hits
==========================================  =================  ======================
``post`` events, one ruleset                29 600 - 38 800    18 573 (wrong)
one ruleset per rule, ``post`` to each      670 - 770          exact
  the same with pre-dispatch by service     2 800 - 4 000      exact
facts via ``Host.assert_fact`` + actions    16 500 - 21 500    exact, but see ``$nex``
facts, agenda drained here, no partitions   47 600 - 48 000    exact
facts, agenda drained here, pre-dispatch    59 700 - 67 600    exact (chosen)
==========================================  =================  ======================

200 000 records through the chosen scheme: 3.0-3.3 s, RSS 75.0 MiB before and after, 0 facts
left in the engine. 20 rebuilds with one rule changed each time: +2.2 MiB; 20 rebuilds of the
same rules: +0.1 MiB.

* An event is consumed by the first rule that fires, so one record matching 3 rules gives 1 hit.
  A fact stays until retracted, so every matching rule is put on the agenda.
* The agenda is drained here, on the calling thread, with ``start_action_for_state`` /
  ``complete_and_start_action``: each entry names the rule. ``Host.assert_fact`` does the same
  but also builds a ``Closure``, runs a Python action and re-asserts the state fact
  (``update_state``) per hit, which makes it 2 to 3.5 times slower. Rules still name their
  action through `AuditHost.get_action` and the fixed `ACTIONS` registry (never through a
  pack), and a test proves both paths give identical hits.
* After the drain the fact is retracted by id: nothing of the message stays in the engine.
  Every message gets its own id (FNV-1 32-bit content ids collide and duplicates are refused).
* Pre-dispatch: specs are grouped by `PredicateSpec.partition`; a message is asserted only into
  its partition's rulesets and the ``"*"`` rulesets.

Hazards neutralised (beyond /work/shared/durable-rules-notes.md, found while building this)
------------------------------------------------------------------------------------------
* **Alpha stack of 64** (``MAX_STACK_SIZE`` in events.c): a message that matches more than 64
  alpha nodes of one ruleset raises error 303 *at assert time*. 64 rules ``$gt p k`` all
  matching pass, 65 fail; this is what issue #312 meets at "about 483 rules". Rulesets are
  therefore cut by a conservative count of alpha pushes (`condition_cost`, budget 64) and at
  most 100 rules, so 303 cannot happen whatever the data.
* **Duplicate firings**: an ``$or`` whose k branches hold fires its rule k times. Hits are
  de-duplicated per rule.
* **The state fact**: creating a state asserts ``{"sid": "0", "id": "sid-0", "$s": 1}``, and a
  rule that only tests absence (``$nex``) matches it. Through ``Host.assert_fact`` such a rule
  loops forever (each action's ``update_state`` re-asserts the state fact, which fires the rule
  again); the drain here skips agenda entries that are not about the message it asserted.
* **Interrupted drain**: a state whose agenda was started and not completed is locked for
  about 60 s (``STATE_LEASE_TIME`` 30, tested as ``now - expiry > 30``): later messages
  silently fire nothing (measured). Retracting
  after ``abandon_action`` segfaults. So the drain always runs to its end, never abandons, and
  any engine error poisons the evaluator (rebuild it) instead of carrying on.
* **Timer threads**: ``Host.__init__`` starts two ``threading.Timer`` loops, and the dispatch
  loop calls ``start_action`` from its own thread, so it could take an agenda entry between an
  assert and its drain (read in engine.py). `AuditHost` starts none (auditcage owns time).
* **Python actions with two parameters** (even ``def act(c, name=name)``) are treated as async
  and receive a callback instead: registry actions take exactly one parameter.
* **Memory per ruleset**: a ruleset and its state cost about 25 KB per rule (measured: 3 MB
  per 120-rule build; the state's frame indexes alone are 8 KB per rule), and nothing frees
  them (``delete_ruleset`` frees the network, not the state; ``delete_state`` segfaults).
  Rulesets hold nothing between calls, so identical ruleset definitions are shared through a
  per-thread pool: rebuilding an evaluator reuses them, and memory grows only with definitions
  never seen before in this process.
* **Strings** must be sent as UTF-8 (``ensure_ascii=False``): with ``\\uXXXX`` escapes,
  ``"城东大队" == "城东大队"`` is false. Comparisons are bytewise (code-point order).
* **Loose types**: ``{"a": 1}`` matches ``1``, ``1.0``, ``"1"`` and ``true``; ``{"a": false}``
  matches ``0``; ``$lt 5`` matches ``"4"``; a number is ``$lt`` any string. The compiler must
  compare like with like; the record contract types the values.
* **Regex** (``$mt``/``$imt``) matches the whole value and supports ``. * + ? | ( ) [ ] [^ ]
  {n}``; backslash escapes (``\\d``, ``\\.``) silently never match, so they are refused here
  (write ``[0-9]``, ``[.]``).
* **Arithmetic** ``$div`` on two integers divides as integers (5 / 2 == 2): not offered.
* **Property names are 32-bit FNV-1a hashes** in the engine: two names with the same hash read
  each other's value. Names are checked for hash collisions against the conditions' names.
* **Width**: 252 properties plus the id pass; 253 raise error 302 (``MAX_OBJECT_PROPERTIES``
  255 counts ``id`` and ``sid``).
* ``id`` and ``sid`` in a message are the engine's message id and state key: refused as fields.
  Every message uses the one state ``"0"``, far from the 1 024-sid limit.
* ``MAX_SEQUENCE_EXPRESSIONS`` (32) was not reached by a 64-leaf ``$and`` or ``$or`` or by 33
  arithmetic terms in one condition (measured); the 64-push budget keeps conditions below both.

Operators (`supported_operators`, each pinned by a test)
--------------------------------------------------------
=================  ===========================================================================
equality           ``{"f": v}`` or ``{"$eq": {"f": v}}`` (str, int, float, bool)
``$neq``           ``{"$neq": {"f": v}}``: false when ``f`` is absent
``$lt $lte``       ``{"$lt": {"f": v}}``: numbers numerically, strings bytewise (ISO times sort)
``$gt $gte``       same
``$and $or``       ``{"$and": [c, …]}``, nested freely (``$or`` hits de-duplicated)
``$ex $nex``       ``{"$ex": {"f": 1}}`` / ``{"$nex": {"f": 1}}``: present / absent (or None)
``$mt $imt``       ``{"$mt": {"f": "[粤京]B[0-9]+"}}``: whole value; ``$imt`` ignores ASCII case
``$iany $iall``    ``{"$iany": {"f": {"$i": v}}}``, ``{"$iall": {"f": {"$gt": {"$i": 3}}}}``
``$m``             ``{"$lt": {"done_at": {"$m": "due_at"}}}``: another property, same message
``$add $sub $mul`` ``{"$lt": {"a": {"$sub": {"$l": {"$m": "b"}, "$r": 120}}}}`` (the DSL's
                   ``m.a < m.b - 120``); ``$l``/``$r`` are literals, ``$m`` or arithmetic
=================  ===========================================================================

Null: `flatten_message` and `DurableEvaluator.matches` drop ``None``, so a null field is an absent
one (``$nex`` holds, every comparison including ``$neq`` fails, as with SQL NULL). The engine
itself would treat ``{"a": null}`` as present (``$ex`` holds) and equal to a ``null`` literal, so
null literals are refused in conditions.

Not thread-safe (the C engine keeps global handles and never releases the GIL): an evaluator
refuses use from any thread but its creator's.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import durable.engine
import durable_rules_engine

from auditcage.errors import AuditcageError

# 252 user properties + our "id" pass, 253 raise error 302 (measured; state.h
# MAX_OBJECT_PROPERTIES 255 also counts the "sid" the engine adds).
MAX_MESSAGE_FIELDS: Final = 252
# events.c MAX_STACK_SIZE: alpha nodes pending at once while one message is matched.
ALPHA_STACK_BUDGET: Final = 64
# Keeps rulesets small enough to register fast and to name in errors; not an engine limit.
MAX_RULES_PER_RULESET: Final = 100
WILDCARD: Final = "*"
MATCH_ACTION: Final = "auditcage.match"
RESERVED_FIELDS: Final = frozenset({"id", "sid"})

_SEGMENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_COMPARISONS: Final = frozenset({"$eq", "$neq", "$lt", "$lte", "$gt", "$gte"})
_REGEX: Final = frozenset({"$mt", "$imt"})
_ARITHMETIC: Final = frozenset({"$add", "$sub", "$mul"})
_INT64 = 2**63
# The fact the engine asserts when a state (sid "0") is created; absence-only rules match it.
_STATE_FACT: Final = '"id":"sid-0", "$s":1}'


class DurableAdapterError(AuditcageError):
    code = "engine_error"


class UnsupportedCondition(DurableAdapterError):
    code = "unsupported_condition"

    def __init__(self, rule_id: str, reason: str) -> None:
        super().__init__(f"rule {rule_id}: {reason}")
        self.rule_id = rule_id


class InvalidMessage(DurableAdapterError):
    code = "invalid_message"


class WrongThread(DurableAdapterError):
    code = "wrong_thread"


class EvaluatorUnusable(DurableAdapterError):
    """Closed, or poisoned by an engine error: build a new evaluator."""

    code = "evaluator_unusable"


def supported_operators() -> frozenset[str]:
    """The condition keys the rule compiler may emit (each one pinned by a test).

    ``{"f": v}`` is equality (as is ``{"$eq": {"f": v}}``); ``$m`` names another property of the
    same message and ``$i`` the list item inside ``$iany``/``$iall``.
    """
    return frozenset(
        {"$eq", "$neq", "$lt", "$lte", "$gt", "$gte", "$and", "$or", "$ex", "$nex"}
        | {"$mt", "$imt", "$iany", "$iall", "$add", "$sub", "$mul", "$m", "$i"}
    )


# ---------------------------------------------------------------------------------------------
# Actions: a fixed registry; a pack never names one.


def _match_collector(local_rule: str) -> Callable[[Any], None]:
    # One parameter exactly: engine.Promise treats a two-parameter function as async.
    def collect(c: Any) -> None:
        c.host.fired.append(local_rule)

    return collect


ACTIONS: Final[Mapping[str, Callable[[str], Callable[[Any], None]]]] = {
    MATCH_ACTION: _match_collector,
}


class AuditHost(durable.engine.Host):
    """A durable_rules host whose actions come from `ACTIONS`, and which starts no threads."""

    def __init__(self) -> None:
        self.fired: list[str] = []
        super().__init__()

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        kind, _, argument = action_name.partition(":")
        try:
            factory = ACTIONS[kind]
        except KeyError:
            raise DurableAdapterError(f"unknown action {action_name!r}") from None
        return factory(argument)

    def _run(self) -> None:
        # Host._run starts timer and dispatch threads; the dispatch thread would call into the
        # engine concurrently and could run our agenda entries itself. Time is auditcage's.
        return None


# ---------------------------------------------------------------------------------------------
# Messages


def fnv1a_32(name: str) -> int:
    """The engine's property-name hash (state.c fnv1Hash32, which is FNV-1a), for ASCII names."""
    value = 2166136261
    for byte in name.encode("ascii"):
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def flat_key(path: str) -> str:
    """``"vehicle.inspection.result"`` → ``"vehicle__inspection__result"``, or InvalidMessage."""
    segments = path.split(".")
    for segment in segments:
        if not _SEGMENT.match(segment) or "__" in segment:
            raise InvalidMessage(
                f"field path {path!r}: segment {segment!r} must be a letter then letters, "
                "digits or single underscores"
            )
    key = "__".join(segments)
    if key in RESERVED_FIELDS:
        raise InvalidMessage(f"field {path!r}: {key!r} is the engine's message id or state key")
    return key


def _check_value(path: str, value: Any) -> Any:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise InvalidMessage(f"field {path!r}: {value} does not fit in 64 bits")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidMessage(f"field {path!r}: {value} is not a finite number")
        return value
    if isinstance(value, list | tuple):
        return [_check_value(path, item) for item in value if item is not None]
    raise InvalidMessage(
        f"field {path!r}: {type(value).__name__} values are not supported "
        "(give str, int, float, bool or a list of them)"
    )


def flatten_message(record: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """Only the fields rules need, under flat engine-safe keys; missing and None are left out.

    ``fields`` are dotted paths into nested mappings. Raises InvalidMessage when a value is not a
    scalar or list of scalars, or when more than MAX_MESSAGE_FIELDS fields are asked for.
    """
    paths = list(dict.fromkeys(fields))
    if len(paths) > MAX_MESSAGE_FIELDS:
        raise InvalidMessage(
            f"{len(paths)} fields requested: durable_rules holds at most {MAX_MESSAGE_FIELDS} "
            "per message (MAX_OBJECT_PROPERTIES 255 includes id and sid); flatten fewer fields"
        )
    flat: dict[str, Any] = {}
    for path in paths:
        key = flat_key(path)
        value: Any = record
        for segment in path.split("."):
            value = value.get(segment) if isinstance(value, Mapping) else None
            if value is None:
                break
        if value is None:
            continue
        if isinstance(value, Mapping):
            raise InvalidMessage(f"field {path!r} is an object: name one of its leaves")
        flat[key] = _check_value(path, value)
    return flat


# ---------------------------------------------------------------------------------------------
# Conditions: validation and the alpha-stack cost


@dataclass(frozen=True)
class PredicateSpec:
    rule_id: str  # e.g. "VIO-01#a" (unique within a DurableEvaluator)
    condition: dict[str, Any]  # durable_rules condition JSON for ONE message ("m" pattern)
    partition: str  # pre-dispatch bucket, e.g. the record's service, or "*" for all


@dataclass
class _Shape:
    """Upper bounds for one condition: alpha-node pushes, and pushes of its tail node."""

    pushes: int
    tail: int
    properties: set[str] = field(default_factory=set)


def condition_cost(condition: Mapping[str, Any]) -> int:
    """An upper bound on the alpha nodes one message can push for this condition (≤ 64 per ruleset).

    Counted on the network rete.c builds: a comparison is one node, ``$and`` chains its parts
    (each part hangs under the previous part's tail), ``$or`` links every branch to one forward
    node.
    """
    return _shape("?", condition, item=False).pushes


def _shape(rule_id: str, condition: Any, *, item: bool) -> _Shape:
    if not isinstance(condition, Mapping) or len(condition) != 1:
        raise UnsupportedCondition(rule_id, f"expected one operator per object, got {condition!r}")
    ((operator, operand),) = condition.items()
    if operator in ("$and", "$or"):
        if not isinstance(operand, list) or not operand:
            raise UnsupportedCondition(rule_id, f"{operator} needs a non-empty list")
        parts = [_shape(rule_id, part, item=item) for part in operand]
        names = set().union(*(part.properties for part in parts))
        if operator == "$or":
            tails = sum(part.tail for part in parts)
            return _Shape(sum(part.pushes for part in parts) + tails, tails, names)
        pushes, multiplier = 0, 1
        for part in parts:
            pushes += multiplier * part.pushes
            multiplier *= part.tail
        return _Shape(pushes, multiplier, names)
    if operator in ("$iany", "$iall"):
        if item:
            raise UnsupportedCondition(rule_id, f"{operator} cannot be nested in a list test")
        name, inner = _single_property(rule_id, operator, operand)
        inner_shape = _shape(rule_id, inner, item=True)
        return _Shape(1 + inner_shape.pushes, 1, {name} | inner_shape.properties)
    if operator in ("$ex", "$nex"):
        name, _ = _single_property(rule_id, operator, operand, item=item)
        return _Shape(1, 1, {name})
    if operator in _REGEX:
        name, pattern = _single_property(rule_id, operator, operand, item=item)
        if not isinstance(pattern, str) or "\\" in pattern:
            raise UnsupportedCondition(
                rule_id,
                f"{operator} needs a pattern string without backslash escapes "
                "(they never match in durable_rules: write [0-9] for \\d, [.] for \\.)",
            )
        return _Shape(1, 1, {name})
    if operator in _COMPARISONS:
        name, value = _single_property(rule_id, operator, operand, item=item)
    elif operator.startswith("$") and not (item and operator == "$i"):
        raise UnsupportedCondition(rule_id, f"operator {operator!r} is not supported")
    else:
        name, value = _checked_name(rule_id, operator, item=item), operand
    return _Shape(1, 1, {name} | _value_properties(rule_id, value))


def _single_property(
    rule_id: str, operator: str, operand: Any, *, item: bool = False
) -> tuple[str, Any]:
    if not isinstance(operand, Mapping) or len(operand) != 1:
        raise UnsupportedCondition(rule_id, f"{operator} needs exactly one property")
    ((name, value),) = operand.items()
    return _checked_name(rule_id, name, item=item), value


def _checked_name(rule_id: str, name: str, *, item: bool) -> str:
    if item and name == "$i":
        return name
    if not _SEGMENT.match(name) or name in RESERVED_FIELDS:
        raise UnsupportedCondition(
            rule_id, f"property {name!r} is not a flat engine-safe name (see flatten_message)"
        )
    return name


def _value_properties(rule_id: str, value: Any) -> set[str]:
    """Validate a comparison's right-hand side; return the properties it reads through $m."""
    if value is None:
        raise UnsupportedCondition(
            rule_id, "null literals never match (None is dropped): test absence with $nex"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise UnsupportedCondition(rule_id, f"{value} is not a finite number")
    if isinstance(value, bool | int | float | str):
        return set()
    if isinstance(value, Mapping) and len(value) == 1:
        ((operator, operand),) = value.items()
        if operator == "$m":
            return {_checked_name(rule_id, operand, item=False)}
        if (
            operator in _ARITHMETIC
            and isinstance(operand, Mapping)
            and set(operand) == {"$l", "$r"}
        ):
            return _value_properties(rule_id, operand["$l"]) | _value_properties(
                rule_id, operand["$r"]
            )
    raise UnsupportedCondition(
        rule_id,
        f"unsupported value {value!r}: use a literal, {{'$m': name}} or "
        "{'$add'|'$sub'|'$mul': {'$l': …, '$r': …}}",
    )


# ---------------------------------------------------------------------------------------------
# Rulesets, pooled per thread


@dataclass
class _PooledRuleset:
    name: str
    handle: int
    usable: bool = True


class _RulesetPool:
    """One AuditHost per thread, and its rulesets by definition digest (see module docstring)."""

    def __init__(self) -> None:
        self.host = AuditHost()
        self.by_digest: dict[str, _PooledRuleset] = {}
        self.created = 0

    def ruleset(self, label: str, definition: dict[str, Any], rule_ids: Sequence[str]) -> Any:
        text = json.dumps(definition, sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(text.encode()).hexdigest()
        pooled = self.by_digest.get(digest)
        if pooled is not None and pooled.usable:
            return pooled
        self.created += 1
        name = f"{label}#{self.created}"
        try:
            # Ruleset.__init__ pops "run" from each rule: give it a copy.
            self.host.register_rulesets({name: json.loads(text)})
        except durable_rules_engine.error as exc:
            raise self._culprit(definition, rule_ids, exc) from exc
        pooled = _PooledRuleset(name, self.host.get_ruleset(name)._handle)
        self.by_digest[digest] = pooled
        return pooled

    def _culprit(
        self, definition: dict[str, Any], rule_ids: Sequence[str], exc: Exception
    ) -> DurableAdapterError:
        for (local, rule), rule_id in zip(definition.items(), rule_ids, strict=True):
            self.created += 1
            try:
                self.host.register_rulesets({f"probe#{self.created}": {local: dict(rule)}})
            except durable_rules_engine.error as single:
                return UnsupportedCondition(rule_id, f"durable_rules refused it: {single}")
        return DurableAdapterError(f"durable_rules refused rules {', '.join(rule_ids)}: {exc}")


_local = threading.local()


def _pool() -> _RulesetPool:
    pool: _RulesetPool | None = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = _RulesetPool()
    return pool


@dataclass(frozen=True)
class _Chunk:
    ruleset: _PooledRuleset
    spec_indexes: tuple[int, ...]  # local rule "r<k>" → index into the evaluator's specs


@dataclass
class EvaluatorStats:
    messages: int = 0
    unmatched: int = 0  # no rule matched (MessageNotHandledException in Host terms)
    ruleset_asserts: int = 0


class DurableEvaluator:
    """Evaluates single-message predicates in durable_rules; every matching rule is reported."""

    def __init__(self, specs: Sequence[PredicateSpec], *, name_prefix: str) -> None:
        self._thread = threading.get_ident()
        self._specs = tuple(specs)
        self._rule_ids = tuple(spec.rule_id for spec in self._specs)
        duplicates = sorted({r for r in self._rule_ids if self._rule_ids.count(r) > 1})
        if duplicates:
            raise DurableAdapterError(f"rule ids must be unique: {', '.join(duplicates)}")
        self.stats = EvaluatorStats()
        self._sequence = 0
        self._closed = False
        self._poisoned: str | None = None
        self._safe_keys: set[str] = set()
        shapes = [_shape(spec.rule_id, spec.condition, item=False) for spec in self._specs]
        self._hashes = self._property_hashes(shapes)
        self._chunks: dict[str, tuple[_Chunk, ...]] = {}
        for partition, members in self._partitions().items():
            self._chunks[partition] = tuple(self._build(name_prefix, partition, members, shapes))
        self._wildcard = self._chunks.pop(WILDCARD, ())

    def matches(self, message: Mapping[str, Any], *, partition: str) -> list[str]:
        """Ids of the rules whose condition holds for ``message`` (flat), in spec order."""
        self._check_usable()
        payload = self._payload(message)
        fired: set[int] = set()
        try:
            for chunk in (*self._chunks.get(partition, ()), *self._wildcard):
                self._evaluate(chunk, payload, fired)
        except BaseException as exc:
            # A half-drained agenda locks the state and a retract after abandon segfaults:
            # never reuse what this message touched.
            self._poisoned = f"{type(exc).__name__}: {exc}"
            for chunk in (*self._chunks.get(partition, ()), *self._wildcard):
                chunk.ruleset.usable = False
            if isinstance(exc, durable_rules_engine.error):
                raise DurableAdapterError(f"durable_rules failed on a message: {exc}") from exc
            raise
        self.stats.messages += 1
        if not fired:
            self.stats.unmatched += 1
        return [self._rule_ids[index] for index in sorted(fired)]

    def close(self) -> None:
        """Stop answering. The pooled rulesets stay for the next evaluator of the same rules."""
        self._check_thread()
        self._closed = True
        self._chunks = {}
        self._wildcard = ()

    def resident_facts(self) -> int:
        """Facts the engine holds for this evaluator's rulesets: 0 between calls (for tests)."""
        self._check_usable()
        pool = _pool()
        return sum(
            len(pool.host.get_facts(chunk.ruleset.name))
            for chunk in (*self._wildcard, *(c for cs in self._chunks.values() for c in cs))
        )

    def ruleset_names(self) -> list[str]:
        return [c.ruleset.name for cs in (*self._chunks.values(), self._wildcard) for c in cs]

    # -- internals ---------------------------------------------------------------------------

    def _partitions(self) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        for index, spec in enumerate(self._specs):
            groups.setdefault(spec.partition, []).append(index)
        return groups

    def _build(
        self, prefix: str, partition: str, members: list[int], shapes: list[_Shape]
    ) -> Iterator[_Chunk]:
        current: list[int] = []
        cost = 0
        for index in members:
            pushes = shapes[index].pushes
            if pushes > ALPHA_STACK_BUDGET:
                raise UnsupportedCondition(
                    self._rule_ids[index],
                    f"condition may push {pushes} alpha nodes; durable_rules allows "
                    f"{ALPHA_STACK_BUDGET} per message: split it into several rules",
                )
            if current and (
                cost + pushes > ALPHA_STACK_BUDGET or len(current) == MAX_RULES_PER_RULESET
            ):
                yield self._chunk(prefix, partition, current)
                current, cost = [], 0
            current.append(index)
            cost += pushes
        if current:
            yield self._chunk(prefix, partition, current)

    def _chunk(self, prefix: str, partition: str, indexes: list[int]) -> _Chunk:
        definition = {
            f"r{k}": {"all": [{"m": self._specs[index].condition}], "run": f"{MATCH_ACTION}:r{k}"}
            for k, index in enumerate(indexes)
        }
        rule_ids = [self._rule_ids[index] for index in indexes]
        ruleset = _pool().ruleset(f"{prefix}/{partition}", definition, rule_ids)
        return _Chunk(ruleset, tuple(indexes))

    @staticmethod
    def _property_hashes(shapes: list[_Shape]) -> dict[int, str]:
        hashes: dict[int, str] = {}
        for name in sorted(set().union(*(shape.properties for shape in shapes)) - {"$i"}):
            other = hashes.setdefault(fnv1a_32(name), name)
            if other != name:
                raise DurableAdapterError(
                    f"properties {other!r} and {name!r} share the engine's 32-bit name hash"
                )
        return hashes

    def _payload(self, message: Mapping[str, Any]) -> tuple[str, str]:
        body = {key: value for key, value in message.items() if value is not None}
        if len(body) > MAX_MESSAGE_FIELDS:
            raise InvalidMessage(
                f"message has {len(body)} fields; durable_rules holds at most "
                f"{MAX_MESSAGE_FIELDS}: flatten only what rules need"
            )
        for key in body.keys() - self._safe_keys:
            self._check_key(key)
        self._sequence += 1
        message_id = str(self._sequence)
        body["id"] = message_id
        return json.dumps(body, ensure_ascii=False), message_id

    def _check_key(self, key: Any) -> None:
        if not isinstance(key, str) or not _SEGMENT.match(key) or key in RESERVED_FIELDS:
            raise InvalidMessage(f"field {key!r} is not a flat engine-safe name (flatten_message)")
        owner = self._hashes.get(fnv1a_32(key), key)
        if owner != key:
            raise InvalidMessage(f"field {key!r} shares the engine's name hash with {owner!r}")
        self._safe_keys.add(key)

    def _evaluate(self, chunk: _Chunk, payload: tuple[str, str], fired: set[int]) -> None:
        text, message_id = payload
        handle = chunk.ruleset.handle
        self.stats.ruleset_asserts += 1
        code, state = durable_rules_engine.assert_fact(handle, text)
        if code == 1:  # ERR_EVENT_NOT_HANDLED: no rule matched, nothing was stored
            return
        if code != 0:
            raise DurableAdapterError(f"assert_fact returned {code} for message {message_id}")
        marker = f'"id": "{message_id}"'
        entry = durable_rules_engine.start_action_for_state(handle, state)
        while entry is not None:
            hit = entry if isinstance(entry, str) else entry[1]
            # '{"r12":{"m":{…, "id": "42"}}}': the rule, and proof it is about this message.
            if hit.startswith('{"r') and marker in hit:
                fired.add(chunk.spec_indexes[int(hit[3 : hit.index('"', 3)])])
            elif _STATE_FACT not in hit:
                raise DurableAdapterError(f"unexpected agenda entry {hit[:120]!r}")
            entry = durable_rules_engine.complete_and_start_action(handle, state)
        durable_rules_engine.retract_fact(handle, f'{{"id": "{message_id}"}}')

    def _check_thread(self) -> None:
        if threading.get_ident() != self._thread:
            raise WrongThread(
                "durable_rules is not thread-safe: use a DurableEvaluator only from the thread "
                "that built it (one engine per process, fed from one thread)"
            )

    def _check_usable(self) -> None:
        self._check_thread()
        if self._closed:
            raise EvaluatorUnusable("this evaluator is closed: build a new one")
        if self._poisoned is not None:
            raise EvaluatorUnusable(
                f"an engine error left this evaluator unusable ({self._poisoned}): build a new one"
            )
