"""The simulated couriers' motion: they arrive, never overshoot, and keep to their speed."""

from __future__ import annotations

import random

import pytest

from o2o.demo.fleet import plan_for
from o2o.demo.motion import Point, advance, home_near, metres, near, offset, path

START = Point(31.2304, 121.4737)
END = offset(START, north_m=1200, east_m=-900)


def test_a_rider_arrives_exactly_and_never_overshoots() -> None:
    here, route, ticks = START, path(START, END), 0
    total = sum(metres(a, b) for a, b in zip([START, *route], route, strict=False))
    travelled = 0.0
    while route:
        before = metres(here, END)
        step = advance(here, route, speed_m_per_s=5.0, seconds=2.0)
        assert metres(step.at, END) <= before + 1e-6  # always closer along the L
        assert step.moved_m <= 10.0 + 1e-9
        travelled += step.moved_m
        here, route, ticks = step.at, step.rest, ticks + 1
    assert here == END
    assert travelled == pytest.approx(total)
    assert ticks == pytest.approx(total / 10.0, abs=1)
    # Once there it stays there.
    assert advance(here, [], speed_m_per_s=5.0, seconds=2.0).at == END


@pytest.mark.parametrize(("speed", "seconds"), [(3.5, 2.0), (5.5, 2.0), (4.2 * 3, 2.0), (1.0, 0.5)])
def test_each_tick_covers_speed_times_time_while_the_goal_is_further(
    speed: float, seconds: float
) -> None:
    step = advance(START, path(START, END), speed_m_per_s=speed, seconds=seconds)
    assert step.moved_m == pytest.approx(speed * seconds)
    assert metres(START, step.at) == pytest.approx(speed * seconds, rel=1e-3)
    assert not step.arrived


def test_a_goal_within_reach_is_reached_in_one_tick_without_passing_it() -> None:
    close = offset(START, north_m=30, east_m=0)
    step = advance(START, path(START, close), speed_m_per_s=20.0, seconds=2.0)
    assert (step.at, step.arrived) == (close, True)
    assert step.moved_m == pytest.approx(30.0, rel=1e-3)


def test_no_time_no_motion() -> None:
    step = advance(START, [END], speed_m_per_s=5.0, seconds=0.0)
    assert (step.at, step.moved_m, step.arrived) == (START, 0.0, False)


def test_the_path_follows_the_street_grid_with_a_light_jog() -> None:
    assert path(START, END) == [Point(END.lat, START.lng), END]
    jogged = path(START, END, rnd=random.Random(3))
    assert jogged[-1] == END
    assert len(jogged) == 2
    assert (
        metres(jogged[0], Point(END.lat, START.lng)) < 90
        or metres(jogged[0], Point(START.lat, END.lng)) < 90
    )


def test_homes_and_wandering_are_deterministic_and_near() -> None:
    stores = [START, END]
    home = home_near(stores, "rider01@demo.o2o")
    assert home == home_near(stores, "rider01@demo.o2o")
    assert min(metres(home, s) for s in stores) <= 601
    spot = near(home, random.Random(1), within_m=400)
    assert metres(home, spot) <= 400.5


def test_shift_plans_are_staggered_and_some_riders_take_breaks() -> None:
    plans = [plan_for(i, random.Random(i)) for i in range(20)]
    assert len({round(p.start_s) for p in plans}) > 5
    assert all(0 <= p.start_s <= 66 for p in plans)
    assert sum(p.work_s is not None for p in plans) == 5
