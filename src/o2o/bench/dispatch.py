"""``o2o bench dispatch`` (D1): MDRP days through our dispatch and the baselines, side by side.

Each policy replays the same day through ``delivery.simulate`` (the MDRP rules; ``live`` adds
our policy in the live system's mode, where a busy courier may be given work queued behind its
route). The scale test times single rounds of our dispatch on a generated city.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from o2o.bench.dispatch_metrics import Summary, summarize
from o2o.bench.mdrp import InstanceError, read_instance
from o2o.delivery.baselines import greedy, matching
from o2o.delivery.dispatch import DispatchConfig, dispatch
from o2o.delivery.simulate import Instance, Policy, simulate

POLICIES = ("ours", "greedy", "matching")
LIVE = "ours (live)"


@dataclass(slots=True)
class Options:
    instances: list[Path]
    policies: tuple[str, ...] = POLICIES
    round_seconds: float = 60.0
    live: bool = False  # also run our policy in live mode


@dataclass(slots=True)
class InstanceResult:
    instance: Instance
    summaries: dict[str, Summary] = field(default_factory=dict)

    @property
    def full_size(self) -> bool:
        """The "o100" days carry every order (the "o50" ones half of them)."""
        return "o100" in self.instance.name


def policy_for(name: str, instance: Instance, round_seconds: float) -> tuple[Policy, bool]:
    """The policy and whether it runs in live mode."""
    if name in ("ours", LIVE):
        live = name == LIVE
        config = DispatchConfig(round_seconds=round_seconds, service=instance.service,
                                instruct_busy=live)  # fmt: skip
        return functools.partial(dispatch, config=config, travel=instance.travel), live
    if name == "greedy":
        return functools.partial(greedy, travel=instance.travel, service=instance.service), False
    if name == "matching":
        return functools.partial(matching, travel=instance.travel,
                                 service=instance.service), False  # fmt: skip
    raise ValueError(f"unknown policy {name!r}; choose from {', '.join(POLICIES)}")


def instance_dirs(root: Path) -> list[Path]:
    """``root`` itself if it is an instance, else the instance directories under it."""
    if (root / "orders.txt").is_file():
        return [root]
    found = sorted(p.parent for p in root.glob("*/orders.txt"))
    if not found:
        raise InstanceError(f"{root}: no MDRP instance (a directory with orders.txt) there")
    return found


def run_one(instance: Instance, name: str, round_seconds: float,
            tick: Callable[[], None] | None = None) -> Summary:  # fmt: skip
    policy, live = policy_for(name, instance, round_seconds)
    last = [instance.orders[0].placed_at if instance.orders else 0.0]
    hour = 3600.0

    def progress(now: float) -> None:  # a tick per simulated hour keeps the bar cheap
        if tick and now - last[0] >= hour:
            last[0] = now
            tick()

    outcome = simulate(instance, policy, round_seconds=round_seconds, live=live,
                       progress=progress)  # fmt: skip
    return summarize(outcome, name)


def day_hours(instance: Instance) -> int:
    if not instance.orders:
        return 1
    first = min(o.placed_at for o in instance.orders)
    last = max(s.off for s in instance.shifts)
    return max(1, int((last - first) // 3600) + 1)


def run(options: Options, phase: Callable[[str, int], Callable[[], None]]) -> list[InstanceResult]:
    """Every instance through every policy; ``phase`` makes a progress bar and returns its tick."""
    results = []
    names = [*options.policies, *([LIVE] if options.live and "ours" in options.policies else [])]
    for path in options.instances:
        instance = read_instance(path)
        result = InstanceResult(instance)
        for name in names:
            tick = phase(f"{instance.name} · {name}", day_hours(instance))
            result.summaries[name] = run_one(instance, name, options.round_seconds, tick)
        results.append(result)
    return results
