"""The rules of one dispatch round, on hand-made snapshots."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from o2o.delivery.bundles import BundleRules, build_bundles
from o2o.delivery.dispatch import DispatchConfig, dispatch
from o2o.delivery.model import OpenOrder, Plan, Point, Snapshot, reassign
from o2o.delivery.routes import Service
from o2o.delivery.travel import StraightLine
from tests.delivery.scene import MIN, SPEED, courier, order

MDRP = StraightLine(step=60.0)


def _check(snapshot: Snapshot, plan: Plan) -> None:
    """Each open order exactly once: in one assignment or postponed; no courier twice."""
    sent = [o for a in plan.assignments for o in a.orders]
    assert len(sent) == len(set(sent))
    assert set(sent).isdisjoint(plan.postponed)
    assert set(sent) | set(plan.postponed) == {o.id for o in snapshot.orders}
    couriers = [a.courier_id for a in plan.assignments]
    assert len(couriers) == len(set(couriers))


def test_bundles_never_exceed_the_limit_or_the_couriers_capacity() -> None:
    # given twelve orders ready now at one store and few couriers (one carries only two)
    orders = tuple(order(f"o{i}", to=Point(10 * i, 960), ready=0.0) for i in range(12))
    fleet = (courier("small", capacity=2), courier("c1"), courier("c2"))
    snapshot = Snapshot(60.0, orders, fleet)
    # when a round runs
    plan = dispatch(snapshot, travel=MDRP)
    # then bundles exist, none above 3, none above the courier's capacity
    _check(snapshot, plan)
    sizes = {a.courier_id: len(a.orders) for a in plan.assignments}
    assert max(sizes.values()) == 3
    assert sizes.get("small", 0) <= 2


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 25), st.integers(1, 8))
def test_an_order_goes_to_at_most_one_courier(seed: int, n_orders: int, n_couriers: int) -> None:
    rng = random.Random(seed)
    now = 30 * MIN

    def spot() -> Point:
        return Point(rng.uniform(0, 5000), rng.uniform(0, 5000))

    stores = [(f"r{i}", spot()) for i in range(4)]
    orders = []
    for i in range(n_orders):
        name, at = rng.choice(stores)
        placed = now - rng.uniform(0, 20 * MIN)
        orders.append(order(f"o{i}", store=name, at=at, to=spot(), placed=placed,
                            ready=placed + rng.uniform(0, 30 * MIN)))  # fmt: skip
    fleet = tuple(courier(f"c{k}", at=spot(), free_at=now + rng.choice([0, 0, 300, 900]),
                          capacity=rng.randint(1, 3)) for k in range(n_couriers))  # fmt: skip
    snapshot = Snapshot(now, tuple(orders), fleet)
    plan = dispatch(snapshot, travel=MDRP)
    _check(snapshot, plan)
    capacity = {c.id: c.capacity for c in fleet}
    idle = {c.id for c in fleet if c.free_at <= now}
    by_id = {o.id: o for o in orders}
    for a in plan.assignments:
        assert len(a.orders) <= min(3, capacity[a.courier_id])
        assert a.courier_id in idle  # MDRP mode: never an instruction to a busy courier
        assert {by_id[o].store for o in a.orders} == {a.store}


def test_food_far_from_ready_waits_and_a_courier_is_sent_when_it_is_time() -> None:
    # a courier 2 minutes from the store; food ready in 10 minutes
    late_food = order("o1", ready=10 * MIN)
    fleet = (courier("c1", at=Point(640, 0)),)
    # then: not yet (it would stand 8 minutes at the store)
    plan = dispatch(Snapshot(0.0, (late_food,), fleet), travel=MDRP)
    assert plan.assignments == []
    assert plan.postponed == ["o1"]
    # and 5 minutes later (arrival at 7, pickup service to 9, ready at 10): sent
    plan = dispatch(Snapshot(5 * MIN, (late_food,), fleet), travel=MDRP)
    assert [a.orders for a in plan.assignments] == [("o1",)]
    # a courier 10 minutes away is sent at once for the same order
    far = (courier("c2", at=Point(3200, 0)),)
    plan = dispatch(Snapshot(0.0, (late_food,), far), travel=MDRP)
    assert [a.courier_id for a in plan.assignments] == ["c2"]


def test_food_beyond_the_lookahead_is_not_planned() -> None:
    plan = dispatch(Snapshot(0.0, (order("o1", ready=45 * MIN),), (courier("c1"),)),
                    travel=MDRP)  # fmt: skip
    assert plan.assignments == []
    assert plan.postponed == ["o1"]


def test_the_oldest_order_wins_a_contested_courier() -> None:
    # one courier; a fresh order at a store next to it and an old one across town
    now = 60 * MIN
    fresh = order("fresh", store="near", at=Point(700, 0), to=Point(700, 900), placed=now - MIN,
                  ready=now)  # fmt: skip
    old = order("old", store="far", at=Point(3500, 0), to=Point(3500, 900), placed=now - 70 * MIN,
                ready=now - 60 * MIN)  # fmt: skip
    config = DispatchConfig(horizon=0.0)
    plan = dispatch(Snapshot(now, (fresh, old), (courier("c1"),)), config, MDRP)
    assert [a.orders for a in plan.assignments] == [("old",)]
    # without the age bonus the same round serves the near, fresh order first
    plan = dispatch(Snapshot(now, (fresh, old), (courier("c1"),)),
                    DispatchConfig(horizon=0.0, age_weight=0.0), MDRP)  # fmt: skip
    assert [a.orders for a in plan.assignments] == [("fresh",)]


def test_a_declining_courier_returns_its_orders_to_the_pool() -> None:
    held = order("o1", ready=0.0)
    fleet = (courier("quitter", held=(held,)), courier("other", at=Point(1280, 0)))
    snapshot = Snapshot(MIN, (), fleet)
    # when the courier declines
    after = reassign(snapshot, "quitter")
    # then it is gone and its order is open again, and the next round sends someone else
    assert [c.id for c in after.couriers] == ["other"]
    assert [o.id for o in after.orders] == ["o1"]
    plan = dispatch(after, travel=MDRP)
    assert [(a.courier_id, a.orders) for a in plan.assignments] == [("other", ("o1",))]
    assert reassign(snapshot, "nobody") is snapshot


def test_a_courier_who_declined_an_order_is_never_matched_to_it() -> None:
    # given an order ready now, the courier beside the store declined it, another is far off
    food = order("o1", ready=0.0)
    near, far = courier("near", at=Point(100, 0)), courier("far", at=Point(2600, 0))
    declined = frozenset({("o1", "near")})
    # when a round runs, the far courier gets it though the near one is cheaper
    plan = dispatch(Snapshot(MIN, (food,), (near, far), declined), travel=MDRP)
    assert [(a.courier_id, a.orders) for a in plan.assignments] == [("far", ("o1",))]
    assert dispatch(Snapshot(MIN, (food,), (near, far)), travel=MDRP).assignments[0].courier_id \
        == "near"  # fmt: skip
    # with no one else the order waits, and the next round still ages it (nothing is lost)
    alone = Snapshot(MIN, (food,), (near,), declined)
    plan = dispatch(alone, travel=MDRP)
    assert (plan.assignments, plan.postponed) == ([], ["o1"])
    # and the exclusion survives a reassignment of the snapshot
    assert reassign(Snapshot(MIN, (food,), (near, far), declined), "far").forbidden == declined


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.integers(1, 6))
def test_a_forbidden_pair_is_never_assigned(seed: int, n_orders: int, n_couriers: int) -> None:
    rng = random.Random(seed)
    now = 30 * MIN
    orders = tuple(
        order(
            f"o{i}",
            to=Point(rng.uniform(0, 3000), rng.uniform(0, 3000)),
            ready=now - rng.uniform(0, 10 * MIN),
        )
        for i in range(n_orders)
    )
    fleet = tuple(courier(f"c{k}", at=Point(rng.uniform(0, 3000), 0)) for k in range(n_couriers))
    forbidden = frozenset((o.id, c.id) for o in orders for c in fleet if rng.random() < 0.5)
    snapshot = Snapshot(now, orders, fleet, forbidden)
    plan = dispatch(snapshot, travel=MDRP)
    _check(snapshot, plan)
    for a in plan.assignments:
        assert all((o, a.courier_id) not in forbidden for o in a.orders)


def test_no_pickup_after_the_shift_and_no_instruction_to_a_busy_courier() -> None:
    food = order("o1", ready=0.0)
    ending = (courier("c1", shift_end=MIN),)  # arrives at 2, picks up at 4: after its shift
    assert dispatch(Snapshot(0.0, (food,), ending), travel=MDRP).assignments == []
    busy = (courier("c1", free_at=3 * MIN),)
    assert dispatch(Snapshot(0.0, (food,), busy), travel=MDRP).assignments == []
    live = DispatchConfig(instruct_busy=True)
    plan = dispatch(Snapshot(0.0, (food,), busy), live, MDRP)
    assert [a.courier_id for a in plan.assignments] == ["c1"]


def test_an_order_that_can_still_be_on_time_wins_over_one_that_is_lost() -> None:
    # one courier; both foods ready now. "lost" (placed 45 minutes ago) can no longer be
    # delivered within the 40-minute promise; "savable" (placed 10 minutes ago) still can,
    # but its store is 10 minutes away against 2 for the lost one
    now = 60 * MIN
    lost = order("lost", store="near", at=Point(0, 0), to=Point(0, 960), placed=now - 45 * MIN,
                 ready=now)  # fmt: skip
    savable = order("savable", store="far", at=Point(3840, 0), to=Point(3840, 960),
                    placed=now - 10 * MIN, ready=now)  # fmt: skip
    fleet = (courier("c1", at=Point(640, 0)),)
    config = DispatchConfig(horizon=0.0, scarcity_gain=0.0)
    plan = dispatch(Snapshot(now, (lost, savable), fleet), config, MDRP)
    assert [a.orders for a in plan.assignments] == [("savable",)]
    assert plan.postponed == ["lost"]
    # without the on-time reward the round takes the near order (less excess over its bound)
    plain = replace(config, weights=replace(config.weights, on_time=0.0))
    plan = dispatch(Snapshot(now, (lost, savable), fleet), plain, MDRP)
    assert [a.orders for a in plan.assignments] == [("lost",)]


def test_orders_go_alone_while_couriers_cover_the_demand_and_ride_together_when_short() -> None:
    # two orders of one store, food ready now, customers 100 m apart: a merge would cost the
    # second customer only the first drop-off
    now = 30 * MIN
    pair = (order("o1", to=Point(0, 960), placed=now - 10 * MIN, ready=now),
            order("o2", to=Point(100, 960), placed=now - 10 * MIN, ready=now))  # fmt: skip
    at_ease = tuple(courier(f"c{k}", at=Point(640, 10 * k)) for k in range(6))
    plan = dispatch(Snapshot(now, pair, at_ease), travel=MDRP)
    assert sorted(a.orders for a in plan.assignments) == [("o1",), ("o2",)]
    # one courier for both: demand over supply is past the knee, and they ride together
    plan = dispatch(Snapshot(now, pair, (courier("c0"),)), travel=MDRP)
    assert [len(a.orders) for a in plan.assignments] == [2]
    # below the knee a courier second is worth nothing; the former linear value (0.2 at
    # ease) bundled the same pair with six couriers idle
    linear = DispatchConfig(courier_value=0.2, scarcity_gain=1.5, scarcity_knee=0.0)
    plan = dispatch(Snapshot(now, pair, at_ease), linear, MDRP)
    assert [len(a.orders) for a in plan.assignments] == [2]


def test_a_merge_that_makes_a_savable_order_late_does_not_happen() -> None:
    # two orders of one store, food ready now, the second customer straight past the first:
    # riding together costs it only the first drop-off (4 min) and saves a courier a trip,
    # but its promise leaves 3 minutes of slack, so together it would be a minute late
    now = 30 * MIN
    first = order("o1", to=Point(0, 960), placed=now - 10 * MIN, ready=now)
    second = order("o2", to=Point(0, 1920), placed=now - 10 * MIN, ready=now, due=now + 13 * MIN)

    def sizes(pair: list[OpenOrder], rules: BundleRules) -> list[int]:
        bundles = build_bundles(pair, starts={"r1": now}, courier_value=1.0, speed=SPEED,
                                travel=MDRP, service=Service(), rules=rules)  # fmt: skip
        return sorted(b.size for b in bundles)

    assert sizes([first, second], BundleRules()) == [1, 1]
    # priced only by the minute of lateness (as before the on-time reward), the merge pays
    assert sizes([first, second], BundleRules(on_time=0.0)) == [2]
    # with room in its promise the same pair rides together
    relaxed = replace(second, due_at=now + 40 * MIN)
    assert sizes([first, relaxed], BundleRules()) == [2]


def test_an_idle_courier_is_sent_rather_than_a_busy_one_planned_for_a_minute_sooner() -> None:
    # food ready now; the idle courier is 6 minutes away, the busy one 1 minute away but free
    # in 4: it would hand over a minute sooner, yet a match to it is only a plan (it may be
    # matched elsewhere when it comes free), so the idle courier goes now
    now = 30 * MIN
    food = order("o1", to=Point(0, 960), placed=now - 10 * MIN, ready=now)
    fleet = (courier("idle", at=Point(1920, 0)),
             courier("busy", at=Point(320, 0), free_at=now + 4 * MIN))  # fmt: skip
    plan = dispatch(Snapshot(now, (food,), fleet), travel=MDRP)
    assert [(a.courier_id, a.orders) for a in plan.assignments] == [("idle", ("o1",))]
    # priced by the hand-over alone, the round waits for the busy courier
    config = DispatchConfig()
    plain = replace(config, weights=replace(config.weights, reserve=0.0))
    plan = dispatch(Snapshot(now, (food,), fleet), plain, MDRP)
    assert plan.assignments == []
    assert plan.postponed == ["o1"]
