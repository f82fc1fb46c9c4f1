"""Reading MDRP instance files: good ones in seconds and metres, bad ones with what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from o2o.bench.mdrp import InstanceError, read_instance
from tests.delivery.scene import write_instance


def test_reads_a_day_in_seconds_and_metres(tmp_path: Path) -> None:
    day = read_instance(write_instance(tmp_path / "day", orders=10, couriers=3))
    assert (len(day.orders), len(day.shifts)) == (10, 3)
    assert day.speed == pytest.approx(320 / 60)
    assert (day.service.pickup, day.service.dropoff, day.target) == (240, 240, 2400)
    first = day.orders[0]
    assert first.due_at == first.placed_at + 2400
    assert first.ready_at >= first.placed_at + 180
    assert day.name == "day"


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new, 1))


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("orders.txt", "ready_time", "ready", "header lacks 'ready_time'"),
        ("restaurants.txt", "\nr0\t", "\nr99\t", "is not in restaurants.txt"),
        ("couriers.txt", "c0\t", "c0\tabc", "expected a number"),
        ("instance_parameters.txt", "320\t", "0\t", "must be positive"),
    ],
)
def test_bad_files_say_what_to_fix(tmp_path: Path, file: str, old: str, new: str,
                                   message: str) -> None:  # fmt: skip
    directory = write_instance(tmp_path / "day", orders=30, couriers=2)
    _edit(directory / file, old, new)
    with pytest.raises(InstanceError, match=message) as caught:
        read_instance(directory)
    assert ".txt" in str(caught.value)


def test_a_number_error_names_the_line_and_column(tmp_path: Path) -> None:
    directory = write_instance(tmp_path / "day", orders=3, couriers=1)
    lines = (directory / "orders.txt").read_text().splitlines()
    cells = lines[2].split("\t")
    cells[3] = "soon"
    lines[2] = "\t".join(cells)
    (directory / "orders.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(InstanceError, match=r"orders.txt line 3: placement_time is 'soon'"):
        read_instance(directory)


def test_a_missing_file_or_directory_is_named(tmp_path: Path) -> None:
    directory = write_instance(tmp_path / "day", orders=3, couriers=1)
    (directory / "couriers.txt").unlink()
    with pytest.raises(InstanceError, match=r"couriers.txt: missing"):
        read_instance(directory)
    with pytest.raises(InstanceError, match="not a directory"):
        read_instance(tmp_path / "nope")
