"""``o2o demo`` runs the simulated fleet with the app unless ``--no-fleet``; ``o2o fleet``
runs it beside a server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from o2o.bootstrap import create_app
from o2o.cli.demo import demo_settings
from o2o.cli.main import app as cli
from o2o.core.settings import Settings

BASE = "http://127.0.0.1:8000"


def test_the_demo_has_the_fleet_options() -> None:
    shown = CliRunner().invoke(cli, ["demo", "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    assert "--no-fleet" in shown.output
    assert "--speedup" in shown.output
    assert CliRunner().invoke(cli, ["fleet", "--help"]).exit_code == 0


def test_the_fleet_is_on_in_the_demo_unless_turned_off(tmp_path: Path) -> None:
    on = demo_settings(tmp_path, base_url=BASE, sandboxes=[])
    assert (on.demo_fleet, on.demo_speedup, on.dispatch_round_seconds) == (True, 3.0, 10)
    off = demo_settings(tmp_path, base_url=BASE, sandboxes=[], fleet=False, speedup=5)
    assert (off.demo_fleet, off.demo_speedup) == (False, 5.0)
    assert Settings().demo_fleet is False  # never on outside the demo


class _Sim:
    def __init__(self) -> None:
        self.running = asyncio.Event()
        self.stopped = False

    async def run(self, stop: asyncio.Event) -> None:
        self.running.set()
        await stop.wait()
        self.stopped = True


@pytest.mark.parametrize("fleet", [True, False])
async def test_the_app_starts_and_stops_the_fleet_with_itself(
    fleet: bool, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    sims: list[_Sim] = []

    async def load(*_args: object, **kwargs: object) -> _Sim:
        assert kwargs["speedup"] == 4.0
        sims.append(_Sim())
        return sims[-1]

    monkeypatch.setattr("o2o.bootstrap.demo_simulation.load", load)
    app = create_app(settings.model_copy(update={"demo_fleet": fleet, "demo_speedup": 4.0}))
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.05)
        if fleet:
            assert sims
            assert sims[0].running.is_set()
        else:
            assert sims == []
    assert all(s.stopped for s in sims)
