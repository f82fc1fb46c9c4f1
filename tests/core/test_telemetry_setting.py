"""FastAPI's built-in OpenTelemetry follows ``O2O_TELEMETRY``: off unless asked for."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from fastapi import FastAPI

from o2o.bootstrap import create_app
from o2o.core.settings import Settings

HAS_TELEMETRY = "telemetry" in inspect.signature(FastAPI.__init__).parameters


@pytest.mark.skipif(not HAS_TELEMETRY, reason="this FastAPI has no built-in telemetry")
@pytest.mark.parametrize("on", [False, True])
def test_fastapi_telemetry_is_on_only_when_the_settings_ask(tmp_path: Path, on: bool) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db", telemetry=on)
    app = create_app(settings)
    config = app._telemetry  # FastAPI's resolved telemetry configuration
    assert (config["tracing"], config["metrics"], config["logs"]) == (on, on, on)
