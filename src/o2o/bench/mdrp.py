"""Read an instance of the Meal Delivery Routing Problem (Grubhub's public set).

A directory with four tab-separated files with a header line: ``orders.txt`` (order, x, y,
placement_time, restaurant, ready_time), ``couriers.txt`` (courier, x, y, on_time, off_time),
``restaurants.txt`` (restaurant, x, y) and ``instance_parameters.txt`` (meters_per_minute,
pickup service minutes, dropoff service minutes, target click-to-door, …). Positions are metres,
times minutes; travel is ceil(distance / speed) minutes. Columns are found by name, so their
order does not matter. Anything malformed raises ``InstanceError`` saying which file, line and
column, and what is expected there.
"""

from __future__ import annotations

import csv
from pathlib import Path

from o2o.delivery.model import OpenOrder, Point
from o2o.delivery.routes import Service
from o2o.delivery.simulate import Instance, Shift

ORDERS = ("order", "x", "y", "placement_time", "restaurant", "ready_time")
COURIERS = ("courier", "x", "y", "on_time", "off_time")
RESTAURANTS = ("restaurant", "x", "y")
PARAMETERS = ("meters_per_minute", "pickup service minutes", "dropoff service minutes",
              "target click-to-door")  # fmt: skip


class InstanceError(ValueError):
    """The instance directory is not in the MDRP format; the message says what to fix."""


def _rows(directory: Path, name: str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    path = directory / name
    if not path.is_file():
        raise InstanceError(f"{path}: missing; an MDRP instance directory holds "
                            "orders.txt, couriers.txt, restaurants.txt and "
                            "instance_parameters.txt")  # fmt: skip
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in columns if c not in header]
        if missing:
            raise InstanceError(f"{path}: the header lacks {', '.join(map(repr, missing))}; "
                                f"expected tab-separated columns {', '.join(columns)}")  # fmt: skip
        rows = []
        for line, row in enumerate(reader, start=2):
            cleaned = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            rows.append((line, cleaned))
    if not rows:
        raise InstanceError(f"{path}: no rows after the header")
    return rows


def _number(directory: Path, name: str, line: int, row: dict[str, str], column: str) -> float:
    text = row.get(column, "")
    try:
        return float(text)
    except ValueError:
        raise InstanceError(f"{directory / name} line {line}: {column} is {text!r}, "
                            "expected a number") from None  # fmt: skip


def read_instance(directory: Path) -> Instance:
    """The instance in ``directory``, in seconds and metres per second."""
    if not directory.is_dir():
        raise InstanceError(f"{directory}: not a directory (give an MDRP instance directory)")
    (pline, params), *_ = _rows(directory, "instance_parameters.txt", PARAMETERS)
    p = {c: _number(directory, "instance_parameters.txt", pline, params, c) for c in PARAMETERS}
    if p["meters_per_minute"] <= 0:
        raise InstanceError(f"{directory / 'instance_parameters.txt'}: meters_per_minute must "
                            "be positive")  # fmt: skip
    stores: dict[str, Point] = {}
    for line, row in _rows(directory, "restaurants.txt", RESTAURANTS):
        x, y = (_number(directory, "restaurants.txt", line, row, c) for c in ("x", "y"))
        stores[row["restaurant"]] = Point(x, y)
    target = p["target click-to-door"] * 60
    orders = []
    for line, row in _rows(directory, "orders.txt", ORDERS):
        x, y, placed, ready = (_number(directory, "orders.txt", line, row, c)
                               for c in ("x", "y", "placement_time", "ready_time"))  # fmt: skip
        if row["restaurant"] not in stores:
            raise InstanceError(f"{directory / 'orders.txt'} line {line}: restaurant "
                                f"{row['restaurant']!r} is not in restaurants.txt")  # fmt: skip
        if ready < placed:
            raise InstanceError(f"{directory / 'orders.txt'} line {line}: ready_time {ready:g} "
                                f"is before placement_time {placed:g}")  # fmt: skip
        store = row["restaurant"]
        orders.append(OpenOrder(row["order"], store, stores[store], Point(x, y), placed * 60,
                                ready * 60, placed * 60 + target))  # fmt: skip
    shifts = []
    for line, row in _rows(directory, "couriers.txt", COURIERS):
        x, y, on, off = (_number(directory, "couriers.txt", line, row, c)
                         for c in ("x", "y", "on_time", "off_time"))  # fmt: skip
        if off <= on:
            raise InstanceError(f"{directory / 'couriers.txt'} line {line}: off_time {off:g} "
                                f"is not after on_time {on:g}")  # fmt: skip
        shifts.append(Shift(row["courier"], Point(x, y), on * 60, off * 60))
    service = Service(p["pickup service minutes"] * 60, p["dropoff service minutes"] * 60)
    return Instance(directory.name, tuple(orders), tuple(shifts), p["meters_per_minute"] / 60,
                    service, target)  # fmt: skip
