"""Small hand-made dispatch scenes and MDRP instance files, written by the tests themselves."""

from __future__ import annotations

import random
from pathlib import Path

from o2o.delivery.model import Courier, OpenOrder, Point

SPEED = 320 / 60  # metres per second: the MDRP default of 320 m/min
MIN = 60.0


def order(
    oid: str, *, store: str = "r1", at: Point = Point(0, 0), to: Point = Point(0, 960),
    placed: float = 0.0, ready: float = 5 * MIN, due: float | None = None,
) -> OpenOrder:  # fmt: skip
    return OpenOrder(oid, store, at, to, placed, ready, placed + 40 * MIN if due is None else due)


def courier(
    cid: str, *, at: Point = Point(640, 0), free_at: float = 0.0, shift_end: float = 600 * MIN,
    capacity: int = 3, held: tuple[OpenOrder, ...] = (),
) -> Courier:  # fmt: skip
    return Courier(cid, at, free_at, shift_end, SPEED, capacity, held)


def write_instance(
    directory: Path, *, orders: int = 40, couriers: int = 6, seed: int = 1, side: int = 6000,
) -> Path:  # fmt: skip
    """A random small day in the MDRP format (tab-separated, header first)."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    stores = [(f"r{i}", rng.randrange(side), rng.randrange(side)) for i in range(8)]
    (directory / "restaurants.txt").write_text(
        "restaurant\tx\ty\n" + "".join(f"{r}\t{x}\t{y}\n" for r, x, y in stores)
    )
    lines = ["order\tx\ty\tplacement_time\trestaurant\tready_time"]
    for i in range(orders):
        placed = rng.randrange(0, 120)
        lines.append(f"o{i}\t{rng.randrange(side)}\t{rng.randrange(side)}\t{placed}\t"
                     f"{rng.choice(stores)[0]}\t{placed + rng.randrange(3, 25)}")  # fmt: skip
    (directory / "orders.txt").write_text("\n".join(lines) + "\n")
    lines = ["courier\tx\ty\ton_time\toff_time"]
    for i in range(couriers):
        on = rng.randrange(0, 30)
        lines.append(f"c{i}\t{rng.randrange(side)}\t{rng.randrange(side)}\t{on}\t{on + 180}")
    (directory / "couriers.txt").write_text("\n".join(lines) + "\n")
    (directory / "instance_parameters.txt").write_text(
        "meters_per_minute\tpickup service minutes\tdropoff service minutes\t"
        "target click-to-door\tmaximum click-to-door\tpay per order\tguaranteed pay per hour\n"
        "320\t4\t4\t40\t90\t10\t15\n"
    )
    return directory
