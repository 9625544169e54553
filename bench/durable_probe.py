"""durable_rules 2.0.28 probe: matching schemes, pre-dispatch and memory, as `name: value unit`.

Workload: 120 predicates (6 services × 20, each an equality on the service, an action and a
threshold or an hour/workday `$or`), random records over the 6 services; the expected hits come
from a plain-Python evaluation of the same conditions.

    python bench/durable_probe.py [--records 20000] [--memory-records 200000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from durable.engine import MessageNotHandledException  # noqa: E402

from auditcage.engine.durable_adapter import (  # noqa: E402
    MATCH_ACTION,
    AuditHost,
    DurableEvaluator,
    PredicateSpec,
)

SERVICES = ("vehicle", "licence", "accident", "violation", "staff", "checkpoint")
ACTIONS = ("register", "transfer", "revoke", "decide", "inspect")


def make_specs(partitioned: bool) -> list[PredicateSpec]:
    specs = []
    for s, service in enumerate(SERVICES):
        for k in range(20):
            action = ACTIONS[k % 5]
            if k % 4 == 0:
                late = {"$or": [{"$lt": {"hour": 8}}, {"workday": False}]}
                condition = {"$and": [{"service": service}, late, {"action": action}]}
            else:
                threshold = {"$gt": {"points": k % 7}}
                condition = {"$and": [{"service": service}, {"action": action}, threshold]}
            specs.append(PredicateSpec(f"R{s}-{k}", condition, service if partitioned else "*"))
    return specs


def holds(condition: dict[str, Any], record: dict[str, Any]) -> bool:
    ((operator, operand),) = condition.items()
    if operator == "$and":
        return all(holds(part, record) for part in operand)
    if operator == "$or":
        return any(holds(part, record) for part in operand)
    if operator in ("$gt", "$lt"):
        ((name, value),) = operand.items()
        if name not in record:
            return False
        return record[name] > value if operator == "$gt" else record[name] < value
    return record.get(operator) == operand


def records(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rnd = random.Random(seed)
    for serial in range(count):
        yield {
            "service": rnd.choice(SERVICES),
            "action": rnd.choice(ACTIONS),
            "points": rnd.randint(0, 12),
            "hour": rnd.randint(0, 23),
            "workday": rnd.random() < 0.7,
            "serial": serial,
        }


def rss_mib() -> float:
    # resource/tracemalloc miss the C engine's malloc: read the resident set from the kernel.
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(run: Callable[[], int], count: int) -> tuple[int, float]:
    start = time.perf_counter()
    hits = run()
    return hits, count / (time.perf_counter() - start)


def rule_definitions(specs: list[PredicateSpec]) -> dict[str, Any]:
    return {
        f"r{k}": {"all": [{"m": spec.condition}], "run": f"{MATCH_ACTION}:r{k}"}
        for k, spec in enumerate(specs)
    }


def events_one_ruleset(specs: list[PredicateSpec], data: list[dict[str, Any]]) -> int:
    host = AuditHost()
    host.register_rulesets({"events": rule_definitions(specs)})
    for serial, record in enumerate(data):
        with contextlib.suppress(MessageNotHandledException):
            host.post("events", {**record, "id": str(serial)})
    return len(host.fired)


def events_per_rule(specs: list[PredicateSpec], data: list[dict[str, Any]]) -> int:
    host = AuditHost()
    names = []
    for k, spec in enumerate(specs):
        names.append((f"rule{k}", spec))
        host.register_rulesets({f"rule{k}": rule_definitions([spec])})
    for serial, record in enumerate(data):
        for name, spec in names:
            if spec.partition not in ("*", record["service"]):
                continue
            with contextlib.suppress(MessageNotHandledException):
                host.post(name, {**record, "id": str(serial)})
    return len(host.fired)


def host_facts(specs: list[PredicateSpec], data: list[dict[str, Any]]) -> int:
    """Facts through Host.assert_fact: the registry actions run (Closure, update_state per hit)."""
    host = AuditHost()
    host.register_rulesets({"facts": rule_definitions(specs)})
    hits = 0
    for serial, record in enumerate(data):
        host.fired.clear()
        try:
            host.assert_fact("facts", {**record, "id": str(serial)})
        except MessageNotHandledException:
            continue
        hits += len(set(host.fired))
        host.retract_fact("facts", {"id": str(serial)})
    return hits


def adapter(specs: list[PredicateSpec], data: list[dict[str, Any]]) -> int:
    evaluator = DurableEvaluator(specs, name_prefix="probe")
    hits = sum(len(evaluator.matches(r, partition=r["service"])) for r in data)
    evaluator.close()
    return hits


def expected_hits(specs: list[PredicateSpec], data: list[dict[str, Any]]) -> int:
    return sum(sum(holds(spec.condition, r) for spec in specs) for r in data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--memory-records", type=int, default=200_000)
    args = parser.parse_args()

    data = list(records(args.records))
    flat, partitioned = make_specs(False), make_specs(True)
    print(f"expected_hits: {expected_hits(flat, data)} hits")
    schemes: list[tuple[str, Callable[..., int], list[PredicateSpec], list[dict[str, Any]]]] = [
        ("events_one_ruleset", events_one_ruleset, flat, data),
        ("events_ruleset_per_rule", events_per_rule, flat, data[: len(data) // 20]),
        ("events_ruleset_per_rule_partitioned", events_per_rule, partitioned, data[:2000]),
        ("facts_host_actions", host_facts, flat, data),
        ("facts_drained_one_partition", adapter, flat, data),
        ("facts_drained_partitioned", adapter, partitioned, data),
    ]
    for name, run, specs, sample in schemes:
        hits, rate = timed(
            lambda run=run, specs=specs, sample=sample: run(specs, sample), len(sample)
        )
        print(f"{name}_hits: {hits} hits of {expected_hits(specs, sample)} expected")
        print(f"{name}_rate: {rate:.0f} records/s")

    evaluator = DurableEvaluator(partitioned, name_prefix="memory")
    before = rss_mib()
    start = time.perf_counter()
    for record in records(args.memory_records, seed=11):
        evaluator.matches(record, partition=record["service"])
    elapsed = time.perf_counter() - start
    print(f"memory_records: {args.memory_records} records in {elapsed:.1f} s")
    print(f"rss_before_memory_run: {before:.1f} MiB")
    print(f"rss_after_memory_run: {rss_mib():.1f} MiB")
    print(f"resident_facts_after_memory_run: {evaluator.resident_facts()} facts")
    evaluator.close()

    before = rss_mib()
    for generation in range(20):
        changed = [*partitioned[:-1], PredicateSpec("R5-19", {"points": generation}, "checkpoint")]
        DurableEvaluator(changed, name_prefix=f"reload{generation}").close()
    print(f"rss_growth_20_rebuilds_one_rule_changed: {rss_mib() - before:.1f} MiB")
    before = rss_mib()
    for generation in range(20):
        DurableEvaluator(partitioned, name_prefix=f"same{generation}").close()
    print(f"rss_growth_20_rebuilds_unchanged: {rss_mib() - before:.1f} MiB")


if __name__ == "__main__":
    main()
