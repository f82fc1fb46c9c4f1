"""The MDRP timing rules, executed by the simulator on tiny days computed by hand.

Speed 320 m/min, travel ceil(distance / speed) minutes, 4-minute pickup and drop-off service:
the store is at the origin, customers 960 m (3 min) and 1,920 m (6 min) north of it.
"""

from __future__ import annotations

from o2o.delivery.model import Assignment, Plan, Point, Snapshot
from o2o.delivery.routes import Service
from o2o.delivery.simulate import Instance, Outcome, Shift, simulate
from o2o.delivery.travel import StraightLine
from tests.delivery.scene import MIN, SPEED, order

A, B = Point(0, 960), Point(0, 1920)


def _day(orders: tuple, shifts: tuple[Shift, ...]) -> Instance:  # type: ignore[type-arg]
    return Instance("tiny", orders, shifts, SPEED, Service(), 40 * MIN, StraightLine(step=60.0))


def _send(at_minute: float, courier: str, *orders: str) -> object:
    """A scripted policy: one instruction at one minute, nothing else."""

    def policy(snapshot: Snapshot) -> Plan:
        if snapshot.now == at_minute * MIN:
            return Plan([Assignment(courier, "r1", orders)])
        return Plan()

    return policy


def _run(day: Instance, policy: object) -> Outcome:
    return simulate(day, policy)  # type: ignore[arg-type]


def test_pickup_waits_for_the_food_and_drop_off_is_half_a_service_after_arrival() -> None:
    # courier 640 m (2 min) from the store at minute 0; food ready at 5
    day = _day((order("o1", to=A, ready=5 * MIN),), (Shift("c1", Point(640, 0), 0, 100 * MIN),))
    out = _run(day, _send(0, "c1", "o1"))
    d = out.deliveries["o1"]
    # arrives at 2, could pick up at 4, food ready at 5; leaves at 7, at the door 10, hands over 12
    assert (d.pickup, d.dropoff) == (5 * MIN, 12 * MIN)
    assert d.bound == 12 * MIN  # (5 − 0) + 2 + 3 + 2: this courier lost nothing
    assert out.busy["c1"] == 14 * MIN  # free half a service after the hand-over


def test_a_late_courier_sets_the_pickup() -> None:
    # 3,200 m (10 min) away: arrives at 10, picks up at 12, leaves 14, door 17, hands over 19
    day = _day((order("o1", to=A, ready=5 * MIN),), (Shift("c1", Point(3200, 0), 0, 100 * MIN),))
    d = _run(day, _send(0, "c1", "o1")).deliveries["o1"]
    assert (d.pickup, d.dropoff) == (12 * MIN, 19 * MIN)
    assert d.dropoff - d.bound == 7 * MIN


def test_a_bundle_waits_for_its_last_food_and_drops_off_in_the_given_order() -> None:
    orders = (order("o1", to=A, ready=5 * MIN), order("o2", to=B, ready=6 * MIN))
    day = _day(orders, (Shift("c1", Point(640, 0), 0, 100 * MIN),))
    out = _run(day, _send(0, "c1", "o1", "o2"))
    one, two = out.deliveries["o1"], out.deliveries["o2"]
    # pickup at 6 (last food), leave 8; A at 11, hands over 13, leaves 15; B at 18, hands over 20
    assert (one.pickup, one.dropoff) == (6 * MIN, 13 * MIN)
    assert (two.pickup, two.dropoff) == (6 * MIN, 20 * MIN)
    assert out.bundles == [2]
    assert one.bundle == two.bundle == 2


def test_no_pickup_after_the_off_time_but_drop_offs_may_finish_after_it() -> None:
    food = (order("o1", to=A, ready=5 * MIN),)
    # off at 4: the pickup would be at 5, so the instruction is refused and the order stays open
    out = _run(_day(food, (Shift("c1", Point(640, 0), 0, 4 * MIN),)), _send(0, "c1", "o1"))
    assert out.deliveries == {}
    assert len(out.refused) == 1
    assert "pickup after shift" in out.refused[0]
    # off at 5: picked up at 5, handed over at 12, after the shift ended
    out = _run(_day(food, (Shift("c1", Point(640, 0), 0, 5 * MIN),)), _send(0, "c1", "o1"))
    assert out.deliveries["o1"].dropoff == 12 * MIN


def test_mdrp_mode_refuses_an_instruction_to_a_busy_courier_and_live_mode_queues_it() -> None:
    orders = (order("o1", to=A, ready=0.0), order("o2", to=A, ready=0.0, placed=MIN))
    day = _day(orders, (Shift("c1", Point(0, 0), 0, 100 * MIN),))

    def policy(snapshot: Snapshot) -> Plan:
        if snapshot.now == 0:
            return Plan([Assignment("c1", "r1", ("o1",))])
        if snapshot.now == MIN:
            return Plan([Assignment("c1", "r1", ("o2",))])
        return Plan()

    out = simulate(day, policy)
    # o1: pickup at 2, leave 4, door 7, hands over 9, free at 11 at A
    assert out.deliveries["o1"].dropoff == 9 * MIN
    assert "o2" not in out.deliveries
    assert "busy" in out.refused[0]
    out = simulate(day, policy, live=True)
    # queued: leaves A at 11, store at 14, pickup 16, leave 18, A at 21, hands over 23
    assert out.deliveries["o2"].pickup == 16 * MIN
    assert out.deliveries["o2"].dropoff == 23 * MIN


def test_two_stores_in_one_bundle_and_unknown_orders_are_refused() -> None:
    orders = (order("o1", to=A), order("o2", store="r2", at=Point(50, 0), to=B))
    day = _day(orders, (Shift("c1", Point(0, 0), 0, 100 * MIN),))
    out = _run(day, _send(0, "c1", "o1", "o2"))
    assert "more than one store" in out.refused[0]
    out = _run(day, _send(0, "c1", "o1", "nope"))
    assert "not open" in out.refused[0]
