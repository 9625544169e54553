"""The durable_rules adapter: each test pins a hazard of durable_rules 2.0.28 or its workaround."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from typing import Any

import durable_rules_engine
import pytest
from durable.engine import MessageNotHandledException, MessageObservedException

from auditcage.engine import durable_adapter
from auditcage.engine.durable_adapter import (
    ALPHA_STACK_BUDGET,
    MATCH_ACTION,
    MAX_MESSAGE_FIELDS,
    AuditHost,
    DurableAdapterError,
    DurableEvaluator,
    EvaluatorUnusable,
    InvalidMessage,
    PredicateSpec,
    UnsupportedCondition,
    WrongThread,
    condition_cost,
    flatten_message,
    fnv1a_32,
    supported_operators,
)

# Two ASCII names with the same 32-bit FNV-1a hash (found by search; checked below).
COLLIDING_NAMES = ("field706648", "field1148122")


def rss_mib() -> float:
    # The engine allocates with malloc: resource/tracemalloc do not see it, the kernel does.
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def one(condition: dict[str, Any], partition: str = "*") -> DurableEvaluator:
    return DurableEvaluator([PredicateSpec("RULE", condition, partition)], name_prefix="one")


def fires(condition: dict[str, Any], message: dict[str, Any]) -> bool:
    built = one(condition)
    try:
        return built.matches(message, partition="any") == ["RULE"]
    finally:
        built.close()


def raw_ruleset(host: AuditHost, name: str, conditions: list[dict[str, Any]]) -> int:
    host.register_rulesets(
        {
            name: {
                f"r{k}": {"all": [{"m": condition}], "run": f"{MATCH_ACTION}:r{k}"}
                for k, condition in enumerate(conditions)
            }
        }
    )
    return host.get_ruleset(name)._handle


# -- one record, several rules ---------------------------------------------------------------------

THREE_RULES = (
    PredicateSpec(
        "VIO-01#a", {"$and": [{"action": "decide"}, {"$gt": {"points": 0}}]}, "violation"
    ),
    PredicateSpec("VIO-02", {"$gte": {"points": 6}}, "violation"),
    PredicateSpec("ALL-01", {"$lt": {"hour": 8}}, "*"),
)


def test_one_record_matching_three_rules_yields_three_matches() -> None:
    built = DurableEvaluator(THREE_RULES, name_prefix="three")
    record = {"action": "decide", "points": 6, "hour": 7}
    assert built.matches(record, partition="violation") == ["VIO-01#a", "VIO-02", "ALL-01"]
    assert built.matches(record, partition="violation") == ["VIO-01#a", "VIO-02", "ALL-01"]
    built.close()


def test_posted_events_would_fire_only_one_of_three_rules() -> None:
    # The hazard the fact scheme avoids: an event is consumed by the first rule that fires.
    host = AuditHost()
    raw_ruleset(host, "events", [spec.condition for spec in THREE_RULES])
    host.post("events", {"id": "1", "action": "decide", "points": 6, "hour": 7})
    assert len(host.fired) == 1


def test_rules_of_another_partition_are_not_evaluated() -> None:
    built = DurableEvaluator(THREE_RULES, name_prefix="partition")
    record = {"action": "decide", "points": 6, "hour": 7}
    assert built.matches(record, partition="vehicle") == ["ALL-01"]
    built.close()


def test_a_record_no_rule_matches_is_counted_and_raises_nothing() -> None:
    built = DurableEvaluator(THREE_RULES, name_prefix="quiet")
    assert built.matches({"action": "revoke", "points": 0, "hour": 12}, partition="violation") == []
    built.matches({"hour": 1}, partition="violation")
    assert (built.stats.messages, built.stats.unmatched) == (2, 1)
    built.close()


def test_the_host_action_path_gives_the_same_hits_as_the_drained_agenda() -> None:
    specs = [
        PredicateSpec(
            f"R{k}",
            {"$and": [{"$gt": {"points": k % 5}}, {"$or": [{"a": k % 3}, {"$lt": {"h": k}}]}]},
            "*",
        )
        for k in range(40)
    ]
    built = DurableEvaluator(specs, name_prefix="paths")
    host = durable_adapter._pool().host
    for serial in range(300):
        record = {"points": serial % 7, "a": serial % 4, "h": serial % 50}
        drained = built.matches(record, partition="x")
        via_host: set[str] = set()
        for chunk in built._wildcard:
            host.fired.clear()
            try:
                host.assert_fact(chunk.ruleset.name, {**record, "id": f"h{serial}"})
            except MessageNotHandledException:
                continue
            host.retract_fact(chunk.ruleset.name, {"id": f"h{serial}"})
            via_host |= {specs[chunk.spec_indexes[int(name[1:])]].rule_id for name in host.fired}
        assert sorted(drained, key=lambda r: int(r[1:])) == sorted(
            via_host, key=lambda r: int(r[1:])
        )
    built.close()


# -- ids, and nothing left in the engine -----------------------------------------------------------


def test_identical_messages_without_an_id_are_refused_by_the_engine() -> None:
    host = AuditHost()
    raw_ruleset(host, "noid", [{"$gt": {"points": 0}}])
    host.assert_fact("noid", {"points": 3})
    with pytest.raises(MessageObservedException):
        host.assert_fact("noid", {"points": 3})


def test_two_hundred_thousand_distinct_records_are_all_evaluated() -> None:
    specs = [
        PredicateSpec("VIO-PTS", {"$gt": {"points": 0}}, "violation"),
        PredicateSpec("VIO-DEC", {"action": "decide"}, "violation"),
        PredicateSpec("ANY-PLATE", {"$mt": {"plate": "粤B[0-9]+"}}, "*"),
    ]
    built = DurableEvaluator(specs, name_prefix="bulk")
    # Records repeat the same few contents and differ only by serial: without explicit ids the
    # engine's 32-bit content hash refuses collisions, and repeated contents outright.
    for serial in range(2_000):
        built.matches(bulk_record(serial), partition="violation")
    before = rss_mib()
    counts: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    for serial in range(200_000):
        record = bulk_record(serial)
        counts.update(built.matches(record, partition="violation"))
        expected.update(
            rule
            for rule, holds in (
                ("VIO-PTS", record["points"] > 0),
                ("VIO-DEC", record["action"] == "decide"),
                ("ANY-PLATE", serial % 7 != 0),
            )
            if holds
        )
    growth = rss_mib() - before
    assert counts == expected
    assert built.resident_facts() == 0
    assert growth < 8, f"RSS grew {growth:.1f} MiB over 200 000 records"
    built.close()


def bulk_record(serial: int) -> dict[str, Any]:
    return {
        "serial": serial,
        "action": ("decide", "revoke", "register")[serial % 3],
        "points": serial % 4,
        "plate": f"粤B{serial % 10}" if serial % 7 else "京A1",
    }


def test_nothing_of_a_message_stays_in_the_engine() -> None:
    built = DurableEvaluator(THREE_RULES, name_prefix="resident")
    built.matches({"action": "decide", "points": 6, "hour": 7}, partition="violation")
    built.matches({"action": "revoke"}, partition="violation")
    assert built.resident_facts() == 0
    built.close()


# -- limits of the C engine -----------------------------------------------------------------------


def test_sixty_five_matching_rules_in_one_ruleset_overflow_the_engine_stack() -> None:
    host = AuditHost()
    handle = raw_ruleset(host, "stack", [{"$gt": {"points": k}} for k in range(65)])
    with pytest.raises(durable_rules_engine.error, match="303"):
        durable_rules_engine.assert_fact(handle, json.dumps({"id": "1", "points": 1000}))


def test_two_hundred_rules_matching_one_record_are_all_reported() -> None:
    specs = [PredicateSpec(f"GT-{k}", {"$gt": {"points": k}}, "*") for k in range(200)]
    built = DurableEvaluator(specs, name_prefix="wide")
    assert built.matches({"points": 1000}, partition="x") == [s.rule_id for s in specs]
    assert built.matches({"points": 100}, partition="x") == [f"GT-{k}" for k in range(100)]
    assert len(built.ruleset_names()) == 200 // ALPHA_STACK_BUDGET + 1
    built.close()


def test_six_hundred_rules_load_at_once() -> None:
    services = ("vehicle", "licence", "violation", "*")
    specs = []
    for k in range(600):
        condition = {
            "$and": [
                {"action": ("decide", "revoke", "register")[k % 3]},
                {"$or": [{"$gt": {"points": k % 12}}, {"$lt": {"hour": k % 24}}]},
            ]
        }
        specs.append(PredicateSpec(f"R{k:03}", condition, services[k % 4]))
    built = DurableEvaluator(specs, name_prefix="catalogue")
    for serial in range(400):
        record = {"action": ("decide", "revoke", "register")[serial % 3]}
        record |= {"points": serial % 13, "hour": serial % 24}
        service = services[serial % 3]
        expected = [
            spec.rule_id
            for k, spec in enumerate(specs)
            if spec.partition in (service, "*")
            and record["action"] == ("decide", "revoke", "register")[k % 3]
            and (record["points"] > k % 12 or record["hour"] < k % 24)
        ]
        assert built.matches(record, partition=service) == expected
    built.close()


def test_a_condition_too_large_for_the_engine_stack_is_refused_by_rule_id() -> None:
    wide = {"$or": [{"$gt": {"points": k}} for k in range(40)]}
    assert condition_cost(wide) > ALPHA_STACK_BUDGET
    with pytest.raises(UnsupportedCondition, match="WIDE-1"):
        DurableEvaluator([PredicateSpec("WIDE-1", wide, "*")], name_prefix="too-wide")


def test_the_engine_refuses_more_than_252_fields_and_so_does_the_evaluator() -> None:
    host = AuditHost()
    handle = raw_ruleset(host, "width", [{"$gt": {"k0": -1}}])
    fields = {f"k{i}": i for i in range(MAX_MESSAGE_FIELDS)}
    assert durable_rules_engine.assert_fact(handle, json.dumps({**fields, "id": "1"}))[0] == 0
    durable_rules_engine.retract_fact(handle, '{"id": "1"}')
    with pytest.raises(durable_rules_engine.error, match="302"):
        durable_rules_engine.assert_fact(handle, json.dumps({**fields, "k999": 1, "id": "2"}))
    built = one({"$gt": {"k0": -1}})
    assert built.matches(fields, partition="x") == ["RULE"]
    with pytest.raises(InvalidMessage, match="252"):
        built.matches({**fields, "k999": 1}, partition="x")
    built.close()


def test_names_sharing_the_engine_hash_read_each_other_and_are_refused() -> None:
    first, second = COLLIDING_NAMES
    assert fnv1a_32(first) == fnv1a_32(second)
    host = AuditHost()
    handle = raw_ruleset(host, "hash", [{first: "yes"}])
    code, _ = durable_rules_engine.assert_fact(handle, json.dumps({"id": "1", second: "yes"}))
    assert code == 0  # the condition on `first` held on a message that has only `second`
    built = one({first: "yes"})
    with pytest.raises(InvalidMessage, match=second):
        built.matches({second: "yes"}, partition="x")
    built.close()
    with pytest.raises(DurableAdapterError, match="hash"):
        DurableEvaluator(
            [PredicateSpec("A", {first: 1}, "*"), PredicateSpec("B", {second: 1}, "*")],
            name_prefix="hash",
        )


# -- hot reload, memory, threads -------------------------------------------------------------------


def test_a_rebuilt_evaluator_applies_a_changed_condition() -> None:
    old = DurableEvaluator([PredicateSpec("VIO-01", {"$gt": {"points": 6}}, "*")], name_prefix="v1")
    new = DurableEvaluator([PredicateSpec("VIO-01", {"$gt": {"points": 3}}, "*")], name_prefix="v2")
    assert new.matches({"points": 4}, partition="x") == ["VIO-01"]
    assert old.matches({"points": 4}, partition="x") == []
    assert old.matches({"points": 7}, partition="x") == ["VIO-01"]
    old.close()
    assert new.matches({"points": 4}, partition="x") == ["VIO-01"]
    with pytest.raises(EvaluatorUnusable):
        old.matches({"points": 7}, partition="x")
    new.close()


def test_building_and_closing_twenty_evaluators_neither_crashes_nor_grows_memory() -> None:
    specs = [
        PredicateSpec(f"R{k}", {"$and": [{"service": s}, {"$gt": {"points": k}}]}, s)
        for k, s in enumerate(["vehicle", "licence", "violation"] * 40)
    ]
    DurableEvaluator(specs, name_prefix="warm").close()
    before = rss_mib()
    for generation in range(20):
        changed = [*specs[:-1], PredicateSpec("R119", {"points": generation}, "violation")]
        built = DurableEvaluator(changed, name_prefix=f"gen{generation}")
        for serial in range(200):
            built.matches({"service": "violation", "points": serial}, partition="violation")
        built.close()
    growth = rss_mib() - before
    assert growth < 10, f"RSS grew {growth:.1f} MiB over 20 rebuilds"


def test_evaluator_refuses_use_from_another_thread() -> None:
    built = DurableEvaluator(THREE_RULES, name_prefix="thread")
    errors: list[BaseException] = []

    def use() -> None:
        for call in (lambda: built.matches({"hour": 1}, partition="x"), built.close):
            try:
                call()
            except WrongThread as exc:
                errors.append(exc)

    worker = threading.Thread(target=use)
    worker.start()
    worker.join()
    assert len(errors) == 2
    assert built.matches({"hour": 1}, partition="x") == ["ALL-01"]
    built.close()


def test_the_host_starts_no_threads() -> None:
    before = threading.active_count()
    AuditHost()
    assert threading.active_count() == before


def test_an_action_outside_the_registry_is_refused() -> None:
    with pytest.raises(DurableAdapterError, match="unknown action"):
        AuditHost().register_rulesets({"pack": {"r": {"all": [{"m": {"a": 1}}], "run": "rm -rf"}}})


def test_an_engine_error_mid_drain_makes_the_evaluator_refuse_further_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    specs = [PredicateSpec(f"R{k}", {"$gt": {"points": k}}, "*") for k in range(3)]
    built = DurableEvaluator(specs, name_prefix="poison")

    def fail(handle: int, state: int) -> str:
        raise durable_rules_engine.error("simulated")

    with monkeypatch.context() as patch:
        patch.setattr(durable_rules_engine, "complete_and_start_action", fail)
        with pytest.raises(DurableAdapterError, match="simulated"):
            built.matches({"points": 10}, partition="x")
    with pytest.raises(EvaluatorUnusable, match="simulated"):
        built.matches({"points": 10}, partition="x")
    # The half-drained ruleset is locked: a rebuilt evaluator must not be handed it again.
    rebuilt = DurableEvaluator(specs, name_prefix="poison")
    assert rebuilt.matches({"points": 10}, partition="x") == ["R0", "R1", "R2"]
    rebuilt.close()


# -- operators -------------------------------------------------------------------------------------

# (operator, condition, fires on, stays quiet on)
OPERATORS: list[tuple[str, dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]] = [
    ("$eq", {"unit": "城东大队"}, [{"unit": "城东大队"}], [{"unit": "城西大队"}, {}]),
    ("$eq", {"$eq": {"points": 3}}, [{"points": 3}, {"points": 3.0}], [{"points": 4}]),
    ("$eq", {"workday": False}, [{"workday": False}], [{"workday": True}, {}]),
    ("$neq", {"$neq": {"action": "decide"}}, [{"action": "revoke"}], [{"action": "decide"}, {}]),
    ("$lt", {"$lt": {"hour": 8}}, [{"hour": 7}, {"hour": 7.5}], [{"hour": 8}, {}]),
    ("$lte", {"$lte": {"hour": 8}}, [{"hour": 8}], [{"hour": 9}]),
    ("$gt", {"$gt": {"points": 2.5}}, [{"points": 3}], [{"points": 2}]),
    ("$gte", {"$gte": {"points": 6}}, [{"points": 6}], [{"points": 5}]),
    (
        "$lt",
        {"$lt": {"at": "2026-05-01T08:00"}},
        [{"at": "2026-04-30T23:59"}],
        [{"at": "2026-05-01T08:00"}],
    ),
    (
        "$gte",
        {"$gte": {"at": "2026-05-01"}},
        [{"at": "2026-05-01"}, {"at": "2026-05-02"}],
        [{"at": "2026-04"}],
    ),
    ("$gt", {"$gt": {"unit": "城东"}}, [{"unit": "城西"}], [{"unit": "城"}]),
    (
        "$and",
        {"$and": [{"action": "decide"}, {"$gt": {"points": 0}}]},
        [{"action": "decide", "points": 1}],
        [{"action": "decide", "points": 0}, {"points": 1}],
    ),
    (
        "$or",
        {"$or": [{"$lt": {"hour": 8}}, {"workday": False}]},
        [{"hour": 7, "workday": True}, {"hour": 9, "workday": False}],
        [{"hour": 9, "workday": True}],
    ),
    (
        "$or",
        {
            "$and": [
                {"s": "v"},
                {"$or": [{"a": 1}, {"$and": [{"b": 1}, {"$or": [{"c": 1}, {"c": 2}]}]}]},
            ]
        },
        [{"s": "v", "a": 1}, {"s": "v", "b": 1, "c": 2}],
        [{"s": "v", "b": 1, "c": 3}, {"a": 1}],
    ),
    (
        "$ex",
        {"$ex": {"evidence": 1}},
        [{"evidence": ""}, {"evidence": 0}],
        [{}, {"evidence": None}],
    ),
    ("$nex", {"$nex": {"evidence": 1}}, [{}, {"evidence": None}], [{"evidence": "x"}]),
    (
        "$mt",
        {"$mt": {"plate": "[粤京]B[0-9]+"}},
        [{"plate": "粤B12345"}],
        [{"plate": "沪B1"}, {"plate": "x粤B1"}],
    ),
    (
        "$mt",
        {"$mt": {"plate": "A[.]B{2}C?"}},
        [{"plate": "A.BB"}, {"plate": "A.BBC"}],
        [{"plate": "AxBB"}],
    ),
    ("$imt", {"$imt": {"code": "abc"}}, [{"code": "ABC"}], [{"code": "abd"}]),
    (
        "$iany",
        {"$iany": {"roles": {"$i": "auxiliary"}}},
        [{"roles": ["clerk", "auxiliary"]}],
        [{"roles": ["clerk"]}, {"roles": []}, {}],
    ),
    (
        "$iall",
        {"$iall": {"scores": {"$gt": {"$i": 3}}}},
        [{"scores": [4, 5]}],
        [{"scores": [4, 2]}],
    ),
    (
        "$i",
        {"$iany": {"tags": {"$mt": {"$i": "a.*"}}}},
        [{"tags": ["abc", "x"]}],
        [{"tags": ["x"]}],
    ),
    (
        "$m",
        {"$lt": {"done_at": {"$m": "due_at"}}},
        [{"done_at": 1, "due_at": 2}],
        [{"done_at": 2, "due_at": 2}],
    ),
    (
        "$sub",
        {"$lt": {"a": {"$sub": {"$l": {"$m": "b"}, "$r": 120}}}},
        [{"a": 0, "b": 121}],
        [{"a": 1, "b": 121}, {"a": 0}],
    ),
    (
        "$add",
        {"$gt": {"a": {"$add": {"$l": {"$m": "b"}, "$r": {"$m": "c"}}}}},
        [{"a": 10, "b": 4, "c": 5}],
        [{"a": 9, "b": 4, "c": 5}],
    ),
    (
        "$mul",
        {"$gte": {"a": {"$mul": {"$l": {"$m": "b"}, "$r": 2}}}},
        [{"a": 10, "b": 5}],
        [{"a": 9, "b": 5}],
    ),
]


@pytest.mark.parametrize(
    ("operator", "condition", "firing", "quiet"),
    OPERATORS,
    ids=[f"{case[0]}-{n}" for n, case in enumerate(OPERATORS)],
)
def test_operator_fires_and_stays_quiet_as_documented(
    operator: str,
    condition: dict[str, Any],
    firing: list[dict[str, Any]],
    quiet: list[dict[str, Any]],
) -> None:
    assert operator in supported_operators()
    for message in firing:
        assert fires(condition, message), message
    for message in quiet:
        assert not fires(condition, message), message


def test_every_supported_operator_has_a_pinned_case() -> None:
    assert {case[0] for case in OPERATORS} == supported_operators()


def test_the_python_dsl_writes_property_arithmetic_as_the_adapter_expects() -> None:
    from durable import lang

    with lang.ruleset("dsl_arithmetic"):

        @lang.when_all(lang.m.a < lang.m.b - 120)
        def late(c: Any) -> None: ...

    definition = lang.get_host().get_ruleset("dsl_arithmetic").get_definition()
    ((rule,),) = [r["all"] for r in definition.values()]
    assert rule == {"m": {"$lt": {"a": {"$sub": {"$l": {"$m": "b"}, "$r": 120}}}}}


def test_an_or_with_both_branches_true_is_reported_once() -> None:
    built = one({"$or": [{"a": 1}, {"b": 2}]})
    assert built.matches({"a": 1, "b": 2}, partition="x") == ["RULE"]
    built.close()


def test_an_absence_rule_is_not_reported_for_the_engines_own_state_fact() -> None:
    # A property no other test uses, so the pooled ruleset is fresh and its state is created by
    # this message: the engine then asserts its state fact, which has no such property either.
    built = one({"$nex": {"fresh_absence_probe": 1}})
    assert built.matches({"fresh_absence_probe": "here"}, partition="x") == []
    assert built.matches({"other": 1}, partition="x") == ["RULE"]
    assert built.matches({"fresh_absence_probe": "here"}, partition="x") == []
    built.close()


def test_a_null_field_is_treated_as_absent() -> None:
    assert fires({"$nex": {"unit": 1}}, {"unit": None})
    assert not fires({"$ex": {"unit": 1}}, {"unit": None})
    assert not fires({"$neq": {"unit": "x"}}, {"unit": None})
    assert flatten_message({"unit": None}, ["unit"]) == {}


def test_the_engine_compares_loosely_across_types() -> None:
    # Pinned so the compiler keeps comparing like with like: the engine coerces.
    assert fires({"points": 1}, {"points": "1"})
    assert fires({"points": 1}, {"points": True})
    assert fires({"$lt": {"points": 5}}, {"points": "4"})
    assert fires({"$lt": {"unit": "a"}}, {"unit": 1})


@pytest.mark.parametrize(
    "condition",
    [
        {"$mt": {"plate": "[A-Z]\\d+"}},
        {"unit": None},
        {"$gt": {"a": {"$div": {"$l": {"$m": "b"}, "$r": 2}}}},
        {"$regex": {"a": "x"}},
        {"id": "1"},
        {"vehicle.result": "pass"},
        {"$and": []},
        {"a": 1, "b": 2},
    ],
    ids=[
        "backslash-regex",
        "null-literal",
        "div",
        "unknown-op",
        "reserved-id",
        "dotted",
        "empty-and",
        "two-keys",
    ],
)
def test_an_unsupported_condition_is_refused_with_its_rule_id(condition: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedCondition, match="BAD-1"):
        DurableEvaluator([PredicateSpec("BAD-1", condition, "*")], name_prefix="bad")


def test_integer_division_is_why_div_is_not_offered() -> None:
    host = AuditHost()
    handle = raw_ruleset(host, "div", [{"a": {"$div": {"$l": {"$m": "b"}, "$r": 2}}}])
    code, _ = durable_rules_engine.assert_fact(handle, json.dumps({"id": "1", "a": 2, "b": 5}))
    assert code == 0  # 5 / 2 == 2
    assert "$div" not in supported_operators()


# -- messages --------------------------------------------------------------------------------------


def test_flatten_message_takes_dotted_paths_to_flat_keys() -> None:
    record = {
        "vehicle": {"inspection": {"result": "pass", "at": None}},
        "points": 3,
        "tags": ["a", None],
    }
    fields = ["vehicle.inspection.result", "vehicle.inspection.at", "points", "tags", "missing.x"]
    assert flatten_message(record, fields) == {
        "vehicle__inspection__result": "pass",
        "points": 3,
        "tags": ["a"],
    }


def test_flatten_message_refuses_more_fields_than_the_engine_holds() -> None:
    with pytest.raises(InvalidMessage, match="at most 252"):
        flatten_message({}, [f"f{i}" for i in range(MAX_MESSAGE_FIELDS + 1)])


@pytest.mark.parametrize(
    ("record", "path"),
    [
        ({"id": "x"}, "id"),
        ({"sid": "x"}, "sid"),
        ({"a__b": 1}, "a__b"),
        ({"a": {"b": 1}}, "a"),
        ({"a": float("nan")}, "a"),
        ({"a": object()}, "a"),
    ],
    ids=["id", "sid", "double-underscore", "object", "nan", "object-value"],
)
def test_flatten_message_refuses_what_the_engine_would_misread(
    record: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidMessage, match=path.split("__")[0]):
        flatten_message(record, [path])


def test_a_message_with_an_engine_reserved_key_is_refused() -> None:
    built = DurableEvaluator(THREE_RULES, name_prefix="reserved")
    with pytest.raises(InvalidMessage, match="'id'"):
        built.matches({"id": "1", "hour": 1}, partition="x")
    assert built.matches({"hour": 1}, partition="x") == ["ALL-01"]
    built.close()


def test_duplicate_rule_ids_are_refused() -> None:
    with pytest.raises(DurableAdapterError, match="VIO-01"):
        DurableEvaluator(
            [PredicateSpec("VIO-01", {"a": 1}, "*"), PredicateSpec("VIO-01", {"a": 2}, "*")],
            name_prefix="dup",
        )
