"""Asynchronous notifications, delivered as Alipay does: a form POST to the trade's
``notify_url``, repeated on a schedule until the answer is exactly ``success``.

Alipay's schedule is 4m, 10m, 10m, 1h, 2h, 6h, 15h (eight tries in about a day); the sandbox
keeps its shape, compressed. With ``auto`` off nothing is sent until ``deliver()`` is called,
so tests decide when each try happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx

log = logging.getLogger("o2o.sandbox.alipay")
FORM = "application/x-www-form-urlencoded; charset=utf-8"
ALIPAY_SCHEDULE = (240.0, 600.0, 600.0, 3600.0, 7200.0, 21600.0, 54000.0)
COMPRESSED_SCHEDULE = (1.0, 2.0, 2.0, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class Delivery:
    """One try: what was sent where, and what came back (status 0: no answer)."""

    url: str
    body: bytes
    status: int
    text: str
    at: datetime

    @property
    def accepted(self) -> bool:
        return self.status == 200 and self.text == "success"


@dataclass
class Owed:
    url: str
    body: bytes
    tries: int = 0
    done: bool = False


class _Borrowed(httpx.AsyncBaseTransport):
    """Closing a client must not close a transport its owner passed in."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)


class Notifier:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        transport: httpx.AsyncBaseTransport | None = None,
        schedule: Sequence[float] = COMPRESSED_SCHEDULE,
        auto: bool = True,
    ) -> None:
        self.transport = transport
        self.schedule = tuple(schedule)
        self.auto = auto
        self.owed: list[Owed] = []
        self.deliveries: list[Delivery] = []
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    def owe(self, url: str, body: bytes) -> Owed:
        owed = Owed(url, body)
        self.owed.append(owed)
        if self.auto:
            task = asyncio.get_running_loop().create_task(self._keep_trying(owed))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return owed

    async def _keep_trying(self, owed: Owed) -> None:
        for pause in (*self.schedule, None):
            if await self.attempt(owed):
                return
            if pause is None:
                log.warning("gave up notifying %s after %d tries", owed.url, owed.tries)
                return
            await asyncio.sleep(pause)

    async def attempt(self, owed: Owed) -> bool:
        delivery = await self.send(owed.url, owed.body)
        owed.tries += 1
        owed.done = owed.done or delivery.accepted
        return owed.done

    async def send(self, url: str, body: bytes, *, content_type: str = FORM) -> Delivery:
        """POST ``body`` to ``url`` once and record the try."""
        transport = _Borrowed(self.transport) if self.transport is not None else None
        try:
            async with httpx.AsyncClient(transport=transport, timeout=15) as client:
                response = await client.post(
                    url, content=body, headers={"Content-Type": content_type}
                )
            status, text = response.status_code, response.text
        except httpx.HTTPError as exc:
            status, text = 0, f"{type(exc).__name__}: {exc}"
        delivery = Delivery(url, body, status, text, self._clock())
        self.deliveries.append(delivery)
        return delivery

    async def deliver(self) -> list[Delivery]:
        """One more try of every notification still owed (whatever the schedule says), for
        tests to step through retries; notifications past the last try are given up."""
        before = len(self.deliveries)
        for owed in list(self.owed):
            if not owed.done and owed.tries <= len(self.schedule):
                await self.attempt(owed)
        return self.deliveries[before:]

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
