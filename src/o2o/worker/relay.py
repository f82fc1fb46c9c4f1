"""The relay: hands outbox messages to their handlers after commit, and runs the timers.

Each message is handled in a transaction of its own and marked done in that transaction;
a failing handler's message is retried with back-off. ``run_once`` does one pass (tests call
it); ``run`` loops until stopped (``o2o worker``, or in-process in the demo).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core import outbox
from o2o.core.db import Database

log = logging.getLogger("o2o.worker")

Handler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]
TimerJob = Callable[[], Awaitable[int]]


@dataclass
class Timer:
    name: str
    every_seconds: float
    job: TimerJob
    _due: float = 0.0


@dataclass
class Relay:
    db: Database
    handlers: dict[str, Handler]
    timers: list[Timer] = field(default_factory=list)
    poll_seconds: float = 0.5
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def kick(self) -> None:
        """Look at the outbox now instead of at the next poll (after a commit that emitted)."""
        self._wake.set()

    async def run_once(self, *, limit: int = 50) -> int:
        """Handle the messages due now; how many were handled successfully."""
        async with self.db.session() as session:
            batch = await outbox.claim_due(session, limit=limit)
            claimed = [(m.id, m.topic, dict(m.payload), m.attempts) for m in batch]
            await session.commit()
        done = 0
        for message_id, topic, payload, attempts in claimed:
            handler = self.handlers.get(topic)
            try:
                async with self.db.session() as session:
                    if handler is not None:
                        await handler(session, payload)
                    await outbox.mark_done(session, message_id=message_id)
                    await session.commit()
                done += 1
            except Exception as exc:  # the message is retried; the relay goes on
                log.warning("outbox message %s (%s) failed: %s", message_id, topic, exc)
                async with self.db.session() as session:
                    await outbox.mark_failed(
                        session, message_id=message_id, attempts=attempts, error=repr(exc)
                    )
                    await session.commit()
        return done

    async def run_timers(self, *, now: float | None = None, force: bool = False) -> dict[str, int]:
        """Run the timers that are due (all of them with ``force``); what each one did."""
        clock = asyncio.get_running_loop().time() if now is None else now
        results: dict[str, int] = {}
        for timer in self.timers:
            if force or clock >= timer._due:
                timer._due = clock + timer.every_seconds
                try:
                    results[timer.name] = await timer.job()
                except Exception:
                    log.exception("timer %s failed", timer.name)
        return results

    async def drain(self, *, rounds: int = 10) -> int:
        """Handle messages until none is due (handlers may emit more); for tests and demos."""
        total = 0
        for _ in range(rounds):
            handled = await self.run_once()
            total += handled
            if not handled:
                break
        return total

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_timers()
                while await self.run_once():
                    pass
            except Exception:
                log.exception("relay pass failed; retrying")
            self._wake.clear()
            waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(
                waits, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waits:
                waiter.cancel()
