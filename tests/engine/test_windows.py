"""Window semantics of catalogue §0.2 items 3–6, against a brute-force reading of the text."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from auditcage import clock
from auditcage.engine.windows import Band, Event, Measure, firings, measure_window

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=clock.SHANGHAI)
W = timedelta(hours=1)
BANDS = [Band(3, "yellow"), Band(5, "orange")]


def ev(minutes: float, serial: str, record: str | None = None, value: object = None) -> Event:
    return Event(T0 + timedelta(minutes=minutes), record or f"r-{serial}-{minutes}", serial, value)


def test_the_window_includes_t_minus_w_plus_one_second_but_not_t_minus_w() -> None:
    inside = [ev(0, "a"), ev(30, "b"), ev(59 + 59 / 60, "c")]
    assert [
        f.band.severity for f in firings(inside, window=W, bands=BANDS, measure=Measure.COUNT)
    ] == ["yellow"]
    edge = [ev(0, "a"), ev(30, "b"), ev(60, "c")]
    assert firings(edge, window=W, bands=BANDS, measure=Measure.COUNT) == []


def test_steps_of_one_business_item_count_once() -> None:
    steps = [ev(0, "a", "r1"), ev(1, "a", "r2"), ev(2, "a", "r3"), ev(3, "b")]
    assert firings(steps, window=W, bands=BANDS, measure=Measure.COUNT) == []


def test_nulls_never_count_as_distinct_values() -> None:
    events = [
        ev(0, "a", value=None),
        ev(1, "b", value=""),
        ev(2, "c", value="x"),
        ev(3, "d", value="y"),
    ]
    assert measure_window(events, Measure.DISTINCT) == 2


def test_a_sum_counts_each_serial_once_with_its_latest_value() -> None:
    events = [ev(0, "a", "r1", 6), ev(5, "a", "r2", 3), ev(6, "b", "r3", 12)]
    assert measure_window(events, Measure.SUM) == 15


def test_after_firing_the_key_is_silent_for_one_window_then_fires_again() -> None:
    events = [ev(m, f"s{m}") for m in (0, 10, 20, 30, 40, 79, 85, 90)]
    result = firings(events, window=W, bands=[Band(3, "yellow")], measure=Measure.COUNT)
    # fires at 20 (3 serials); silent until 80; at 85 the window (25, 85] holds 30, 40, 79, 85.
    assert [f.anchor.time - T0 for f in result] == [timedelta(minutes=20), timedelta(minutes=85)]


def test_a_higher_band_inside_the_cooldown_is_an_upgrade_not_a_second_alert() -> None:
    events = [ev(m, f"s{m}") for m in (0, 5, 10, 15, 20)]
    result = firings(events, window=W, bands=BANDS, measure=Measure.COUNT)
    assert [(f.band.severity, f.upgrade) for f in result] == [("yellow", False), ("orange", True)]


def _brute_force(events: list[Event], window: timedelta, threshold: int) -> list[str]:
    """§0.2 read literally: walk events in time order; the window of e is (t−W, t]."""
    fired: list[str] = []
    cooldown_until = None
    for e in sorted(events):
        if cooldown_until is not None and e.time >= cooldown_until:
            cooldown_until = None
        in_window = [x for x in events if e.time - window < x.time <= e.time]
        if len({x.serial_no for x in in_window}) >= threshold and cooldown_until is None:
            fired.append(e.record_id)
            cooldown_until = e.time + window
    return fired


@given(
    st.lists(st.tuples(st.integers(0, 300), st.sampled_from("abcdefgh")), min_size=0, max_size=40),
    st.randoms(use_true_random=False),
)
def test_firings_equal_a_brute_force_reading_for_any_order_of_arrival(pairs, rnd) -> None:
    events = [ev(m, s, f"r{i:03d}") for i, (m, s) in enumerate(pairs)]
    shuffled = list(events)
    rnd.shuffle(shuffled)
    got = [
        f.anchor.record_id
        for f in firings(shuffled, window=W, bands=[Band(3, "yellow")], measure=Measure.COUNT)
    ]
    assert got == _brute_force(events, W, 3)
