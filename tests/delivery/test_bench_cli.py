"""``o2o bench dispatch`` end to end on small generated days."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from o2o.cli.main import app
from tests.delivery.scene import write_instance

KEYS = {"orders", "delivered", "on_time_share", "click_to_door_mean", "click_to_door_p90",
        "orders_per_courier_hour", "round_p99_ms", "attainable_share", "excess_mean",
        "excess_p90"}  # fmt: skip


def test_json_for_our_policy_has_consistent_values(tmp_path: Path) -> None:
    day = write_instance(tmp_path / "day", orders=40, couriers=6)
    result = CliRunner().invoke(app, ["bench", "dispatch", "--instance", str(day), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data.keys() >= KEYS
    assert data["policy"] == "ours"
    assert data["orders"] == 40
    assert 0 <= data["delivered"] <= data["orders"]
    for share in ("on_time_share", "attainable_share", "on_time_of_attainable"):
        assert 0.0 <= data[share] <= 1.0
    assert data["on_time_share"] <= data["attainable_share"]
    assert data["excess_mean"] >= 0
    assert data["click_to_door_p90"] <= data["click_to_door_max"]
    assert data["refused"] == 0


def test_each_policy_by_name(tmp_path: Path) -> None:
    day = write_instance(tmp_path / "day", orders=20, couriers=4, seed=3)
    for policy in ("greedy", "matching"):
        result = CliRunner().invoke(
            app, ["bench", "dispatch", "--instance", str(day), "--policy", policy, "--json"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["policy"] == policy
    bad = CliRunner().invoke(app, ["bench", "dispatch", "--instance", str(day), "--policy", "x"])
    assert bad.exit_code == 2


def test_a_directory_of_days_side_by_side_writes_the_section_and_plot(tmp_path: Path) -> None:
    write_instance(tmp_path / "days" / "a", orders=15, couriers=3, seed=4)
    write_instance(tmp_path / "days" / "b", orders=15, couriers=3, seed=5)
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nkept\n")
    result = CliRunner().invoke(app, [
        "bench", "dispatch", "--instance", str(tmp_path / "days"), "--docs", str(docs),
        "--write-docs", "--live", "--scale", "--scale-orders", "60", "--scale-couriers", "20",
        "--scale-rounds", "2",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    text = docs.read_text()
    assert "kept" in text
    assert text.count("<!-- o2o bench dispatch: start -->") == 1
    for name in ("| a | ours |", "| a | greedy |", "| b | matching |", "| b | ours (live) |"):
        assert name in text
    assert "60 open orders × 20 couriers" in text
    assert (tmp_path / "benchmarks-dispatch.svg").read_text().startswith("<svg")


def test_a_bad_instance_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "dispatch", "--instance", str(tmp_path)])
    assert result.exit_code == 1
    assert "no MDRP instance" in result.output
