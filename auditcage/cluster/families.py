"""Key families: which rules can be evaluated apart, and the (family, key) rows of a record.

Every stateful rule of kind C, D, S, Q and A keeps its state per (rule, key), where the key is
built from the rule's `key` paths (`compiled.key_values`; a sequence appends its `same` paths,
a `key_where` keeps a subset of the values). So all the records that share one value of the
`key` paths carry everything such a rule needs: rules with the same key paths form a family,
and the records of one (family, key) are all such a rule needs.

Groups are (family, key bucket), a stable hash of the key: Spark pays a few milliseconds per
`applyInPandas` group, so one group per key (15 000 groups for 3 000 records) would cost more
than the rules. A bucket holds every record of each of its keys; a record with several values
for a family's paths (a path through a list) is in several buckets, and in each it is evaluated
once. A group keeps only the hits of its own keys (`owner_key`): the evaluator there also sees
part of the records of the record's other keys.

Not partitionable by key, each for a reason:
- event rules (P, J) are stateless: the family EVENT, grouped by a hash of the record_id;
- an absence rule with a `step_key` arms on its `key` paths and is completed by records keyed
  on its `step_key` paths (VIO-15(a): a release names the decided item in related_serial_no):
  its family is keyed on the step paths, and an arming record joins the group of its `key`
  values written with those paths, as the evaluator keys it;
- `key_near` rules merge neighbouring hash values into one key, so the whole rule is one
  group (`near:<rule uid>`);
- rate and ledger rules judge populations and reference rows across every key: they run once
  over the whole data (`cluster.batch`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditcage.engine.compiled import CompiledRule, key_values
from auditcage.rulepacks.model import Kind

EVENT = "event"
# Buckets per family: enough to spread a family over many executors, few enough that the
# per-group cost stays small beside the rules' (bench/scale.py).
KEY_BUCKETS = 32
BATCH_KINDS = frozenset({Kind.RATE, Kind.LEDGER})


@dataclass(frozen=True)
class Family:
    name: str  # the key paths joined by ";", EVENT, or "near:<rule uid>"
    paths: tuple[str, ...]  # the key paths its groups are keyed on (empty for EVENT)
    rules: tuple[CompiledRule, ...]
    # step_key rules: the paths they arm on; a record's values there join it to the group of
    # the same values under `paths`
    arm_paths: tuple[str, ...] = ()

    @property
    def whole(self) -> bool:
        """One group for the family (key_near): it owns every hit its evaluator produces."""
        return self.name.startswith("near:")


@dataclass(frozen=True)
class FamilyPlan:
    families: tuple[Family, ...]
    batch_rules: tuple[CompiledRule, ...]  # rate and ledger rules: over the whole data

    def family(self, name: str) -> Family:
        return self._by_name[name]

    @functools.cached_property
    def _by_name(self) -> dict[str, Family]:
        return {family.name: family for family in self.families}


def plan_families(rules: Sequence[CompiledRule]) -> FamilyPlan:
    """The families of a compiled ruleset, in a stable order (by name)."""
    by_name: dict[str, tuple[tuple[str, ...], tuple[str, ...], list[CompiledRule]]] = {}
    batch: list[CompiledRule] = []
    for rule in rules:
        kind = rule.rule.kind
        if kind in BATCH_KINDS:
            batch.append(rule)
            continue
        paths, arm_paths = tuple(rule.rule.key), ()
        if kind is Kind.EVENT:
            name, paths = EVENT, ()
        elif rule.rule.key_near:
            name = f"near:{rule.uid}"
        elif kind is Kind.ABSENCE and rule.rule.step_key and rule.rule.step_key != rule.rule.key:
            arm_paths, paths = paths, tuple(rule.rule.step_key)
            name = f"{';'.join(arm_paths)}>{';'.join(paths)}"
        else:
            name = ";".join(paths)
        by_name.setdefault(name, (paths, arm_paths, []))[2].append(rule)
    families = tuple(
        Family(name, paths, tuple(members), arm_paths)
        for name, (paths, arm_paths, members) in sorted(by_name.items())
    )
    return FamilyPlan(families, tuple(batch))


def group_keys(
    family: Family,
    record: Mapping[str, Any],
    derived: Callable[[], Mapping[str, Any]],
) -> list[str]:
    """The keys of the groups of `family` that `record` belongs to (none: it is not needed).

    `derived` is called only when a key path is missing from the record itself, since
    enrichment is the expensive part and key_values reads the derived fields only then.
    """
    if family.name == EVENT:  # stateless: one "key" per record, spread by its bucket
        return [str(record["record_id"])]
    keys = _keys(record, derived, family.paths)
    if family.arm_paths:
        armed = _keys(record, derived, family.arm_paths)
        keys += [k for k in _relabel(armed, family.paths) if k not in keys]
    if family.whole:
        return ["*"] if keys else []
    return keys


def _keys(
    record: Mapping[str, Any], derived: Callable[[], Mapping[str, Any]], paths: tuple[str, ...]
) -> list[str]:
    keys = key_values(record, {}, paths)
    return keys or key_values(record, derived(), paths)


def _relabel(keys: list[str], paths: tuple[str, ...]) -> list[str]:
    """`a=1;b=2` as `x=1;y=2` for paths (x, y): an arming key as the step's key."""
    out = []
    for key in keys:
        values = [part.partition("=")[2] for part in key.split(";")]
        out.append(";".join(f"{p}={v}" for p, v in zip(paths, values, strict=True)))
    return out


def bucket_of(family: Family, key: str, buckets: int = KEY_BUCKETS) -> int:
    """A stable bucket (never Python's salted hash: every executor must agree)."""
    if family.whole:
        return 0
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % buckets


def owner_key(family: Family, hit_key: str) -> str | None:
    """The group key a hit belongs to; None when any group of the family may report it.

    Window and absence hits carry the key itself; sequence hits append their `same` parts
    (`key;same`), so the owner is the hit key's first parts, one per key path.
    """
    if family.name == EVENT or family.whole:
        return None
    return ";".join(hit_key.split(";")[: len(family.paths)])
