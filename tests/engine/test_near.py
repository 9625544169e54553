"""key_near: hashes within D bits share one representative; farther ones do not."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from auditcage import clock
from auditcage.engine.near import NearKeys

T0 = datetime(2024, 1, 1, tzinfo=clock.SHANGHAI)


def _flip(value: int, bits: list[int]) -> str:
    for bit in bits:
        value ^= 1 << bit
    return f"{value:016x}"


@given(st.integers(0, 2**64 - 1), st.lists(st.integers(0, 63), unique=True, max_size=6))
def test_a_hash_within_the_distance_gets_the_earlier_representative(
    value: int, bits: list[int]
) -> None:
    near = NearKeys(6, timedelta(days=730))
    first = near.canonical(f"{value:016x}", T0)
    assert near.canonical(_flip(value, bits), T0) == first


@given(st.integers(0, 2**64 - 1), st.lists(st.integers(0, 63), unique=True, min_size=7))
def test_a_hash_farther_than_the_distance_is_its_own_representative(
    value: int, bits: list[int]
) -> None:
    near = NearKeys(6, timedelta(days=730))
    near.canonical(f"{value:016x}", T0)
    other = _flip(value, bits)
    assert near.canonical(other, T0) == other


def test_representatives_not_seen_for_the_keep_period_are_dropped() -> None:
    near = NearKeys(6, timedelta(days=10))
    near.canonical("c3a1f0e2d4b69788", T0)
    rng = random.Random(1)
    for n in range(4096):  # pruning runs every 4096 representatives
        near.canonical(f"{rng.getrandbits(64):016x}", T0 + timedelta(days=30, seconds=n))
    assert near.canonical("c3a1f0e2d4b697b7", T0 + timedelta(days=31)) == "c3a1f0e2d4b697b7"


def test_a_value_that_is_no_hash_keys_by_equality() -> None:
    near = NearKeys(6, timedelta(days=1))
    assert near.canonical("not-a-hash", T0) == "not-a-hash"
