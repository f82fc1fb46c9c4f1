"""Timing and grading of one system on one workload: warm pass, then timed repetitions."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from o2o.bench.geo_oracle import Grade, Oracle

Query = Callable[[int], Awaitable[list[int]]]
Tick = Callable[[], None]


@dataclass(frozen=True, slots=True)
class Workload:
    """A list of queries: points, the variant asked for (G2) and the oracle's answers."""

    name: str  # "G1", "G2 common", ...
    lat: list[float]
    lng: list[float]
    variants: list[int] | None
    radius_m: float
    k: int
    truth: list[Any] = field(repr=False)

    def __len__(self) -> int:
        return len(self.lat)

    def variant(self, i: int) -> int | None:
        return None if self.variants is None else self.variants[i]


def workload(
    oracle: Oracle,
    name: str,
    lat: list[float],
    lng: list[float],
    variants: list[int] | None,
    *,
    radius_m: float,
    k: int,
) -> Workload:
    truth = [
        oracle.nearest(la, ln, radius_m, k, None if variants is None else variants[i])
        for i, (la, ln) in enumerate(zip(lat, lng, strict=True))
    ]
    return Workload(name, lat, lng, variants, radius_m, k, truth)


@dataclass(slots=True)
class Result:
    workload: str
    system: str
    recall: float
    exact: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    reps: int
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentiles_ms(samples_ns: list[int]) -> tuple[float, float, float]:
    p = np.percentile(np.asarray(samples_ns, dtype=np.float64), [50, 95, 99]) / 1e6
    return float(p[0]), float(p[1]), float(p[2])


async def measure(
    oracle: Oracle,
    work: Workload,
    system: str,
    query: Query,
    *,
    reps: int,
    tick: Tick | None = None,
    note: str = "",
) -> Result:
    """Grade a warm-up pass against the oracle, then time ``reps`` passes over all points.

    Each percentile reported is the median over the repetitions, which damps the noise of
    a shared machine without hiding a slow tail (every pass has its own p99).
    """
    grade = Grade()
    for i in range(len(work)):
        got = await query(i)
        grade.add(
            oracle.grade(work.lat[i], work.lng[i], work.radius_m, work.variant(i), got,
                         work.truth[i])
        )  # fmt: skip
    runs: list[tuple[float, float, float]] = []
    clock = time.perf_counter_ns
    for _ in range(reps):
        samples: list[int] = []
        for i in range(len(work)):
            t0 = clock()
            await query(i)
            samples.append(clock() - t0)
        runs.append(percentiles_ms(samples))
        if tick:
            tick()
    return Result(
        workload=work.name,
        system=system,
        recall=grade.recall,
        exact=grade.exact_share,
        p50_ms=statistics.median(r[0] for r in runs),
        p95_ms=statistics.median(r[1] for r in runs),
        p99_ms=statistics.median(r[2] for r in runs),
        reps=reps,
        note=note,
    )
