"""Shipping routing: one source with everything, else the fewest sources."""

from __future__ import annotations

from o2o.orders.routing import Source, route


def test_nearest_source_with_everything_wins() -> None:
    sources = [
        Source(1, 5_000, {10: 5, 11: 5}),
        Source(2, 1_000, {10: 5}),
        Source(3, 9_000, {10: 5, 11: 5}),
    ]
    assert route({10: 2, 11: 1}, sources) == [(1, {10: 2, 11: 1})]


def test_split_uses_fewest_sources() -> None:
    sources = [
        Source(1, 100, {10: 1}),
        Source(2, 200, {11: 1}),
        Source(3, 900, {10: 1, 11: 1, 12: 0}),
        Source(4, 950, {12: 2}),
    ]
    plan = route({10: 1, 11: 1, 12: 2}, sources)
    assert plan is not None
    assert len(plan) == 2
    assert sorted(s for s, _ in plan) == [3, 4]
    assert sum(sum(take.values()) for _, take in plan) == 4


def test_quantities_can_be_split_across_sources() -> None:
    plan = route({10: 5}, [Source(1, 10, {10: 3}), Source(2, 20, {10: 4})])
    assert plan == [(2, {10: 4}), (1, {10: 1})]


def test_impossible_returns_none() -> None:
    assert route({10: 5}, [Source(1, 10, {10: 3})]) is None
    assert route({10: 1}, []) is None


def test_custom_score_changes_the_choice() -> None:
    sources = [Source(1, 10, {10: 1}), Source(2, 20, {10: 1})]
    assert route({10: 1}, sources, score=lambda s: -s.distance_m) == [(2, {10: 1})]
