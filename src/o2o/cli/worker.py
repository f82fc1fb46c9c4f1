"""``o2o worker``: the outbox relay and timers, as a process of its own."""

from __future__ import annotations

import asyncio
import signal

import typer

from o2o.bootstrap import create_relay
from o2o.cli.common import console
from o2o.core.broker import create_broker
from o2o.core.db import Database
from o2o.core.settings import Settings


def worker(
    once: bool = typer.Option(False, help="Handle what is due now and the timers once, then exit."),
) -> None:
    """Deliver outbox events (notifications, live updates, provider callbacks) and run the
    timers: unpaid orders expire, holds are released, pending payments are reconciled."""
    settings = Settings()

    async def main() -> None:
        db = Database.from_url(settings.database_url)
        broker = create_broker(settings.redis_url)
        relay = create_relay(settings, db=db, broker=broker)
        stop = asyncio.Event()
        try:
            if once:
                timers = await relay.run_timers(force=True)
                handled = await relay.drain()
                console.print(f"handled {handled} message(s); timers: {timers}")
                return
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            console.print("[green]worker running[/] (Ctrl+C to stop)")
            await relay.run(stop)
        finally:
            await broker.close()
            await db.dispose()

    asyncio.run(main())
