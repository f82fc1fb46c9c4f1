"""Publish/subscribe for live updates: Redis pub/sub across processes, or in-process.

Messages are small JSON objects on named channels (``stock:store:12``). Delivery is
best-effort and live-only: a subscriber gets what is published while it listens. Durable
work goes through the outbox, not through here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

import redis.asyncio as redis_asyncio
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

log = logging.getLogger("o2o.broker")


class Broker(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    async def publish_many(self, messages: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Publish each ``(channel, message)`` in order, in as few trips as the broker can."""
        ...

    def subscribe(
        self, *channels: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...

    async def close(self) -> None: ...


class _Fanout:
    """Local subscribers' queues per channel. A slow reader loses its oldest message; a
    publisher never waits for it."""

    def __init__(self, queue_size: int) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._queue_size = queue_size

    def join(self, channels: tuple[str, ...]) -> tuple[asyncio.Queue[dict[str, Any]], list[str]]:
        """A new queue on these channels, and the channels nobody here listened to before."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        fresh = [c for c in dict.fromkeys(channels) if not self._queues.get(c)]
        for channel in channels:
            self._queues[channel].add(queue)
        return queue, fresh

    def leave(self, queue: asyncio.Queue[dict[str, Any]], channels: tuple[str, ...]) -> list[str]:
        """Drop the queue; returns the channels nobody here listens to any more."""
        gone = []
        for channel in dict.fromkeys(channels):
            queues = self._queues.get(channel)
            if queues is None:
                continue
            queues.discard(queue)
            if not queues:
                del self._queues[channel]
                gone.append(channel)
        return gone

    def deliver(self, channel: str, message: dict[str, Any]) -> None:
        for queue in list(self._queues.get(channel, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    def clear(self) -> None:
        self._queues.clear()


async def _drain(queue: asyncio.Queue[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    while True:
        yield await queue.get()


class InProcessBroker:
    """One process, no server: the demo's broker."""

    def __init__(self, queue_size: int = 256) -> None:
        self._fanout = _Fanout(queue_size)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self._fanout.deliver(channel, message)

    async def publish_many(self, messages: Iterable[tuple[str, dict[str, Any]]]) -> None:
        for channel, message in messages:
            self._fanout.deliver(channel, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue, _fresh = self._fanout.join(channels)
        try:
            yield _drain(queue)
        finally:
            self._fanout.leave(queue, channels)

    async def close(self) -> None:
        self._fanout.clear()


class _Publisher:
    """Every PUBLISH of the process through one pipeline at a time, on one connection.

    Whatever is published while a pipeline is on its way goes in the next one, sent as soon
    as the first is answered: nothing waits to fill a batch, and under load a round trip
    carries many messages instead of a connection (and a trip) per message, which would
    also run the client's pool out of connections. Each caller returns once Redis has
    answered for its messages (or gets the error), in the order it published."""

    def __init__(self, redis: redis_asyncio.Redis) -> None:
        self._redis = redis
        self._queued: list[tuple[list[tuple[str, str]], asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def send(self, messages: list[tuple[str, str]]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.append((messages, done))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_queued(), name="broker-publisher")
        await done

    async def _send_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for messages, _done in batch:
                        for channel, data in messages:
                            pipe.publish(channel, data)
                    await pipe.execute()
            except Exception as exc:  # each caller decides what a lost message means
                for _messages, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            except BaseException:  # cancelled (shutting down): nobody waits forever
                for _messages, done in [*batch, *self._queued]:
                    done.cancel()
                self._queued = []
                raise
            else:
                for _messages, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def close(self) -> None:
        if self._sender is not None and not self._sender.done():
            with contextlib.suppress(Exception):
                await self._sender


class RedisBroker:
    """Redis pub/sub, so every API process sees what any of them publishes.

    A process holds one subscribing connection whatever the number of listeners: a reader
    task takes every message off it and hands a copy to each local listener of the channel.
    (A connection per listener would cost Redis a client per open page.) A channel is
    subscribed at Redis while somebody here listens to it, and ``subscribe`` returns once
    Redis has confirmed it, so nothing published after that is missed.
    """

    CONFIRM_TIMEOUT_S = 5.0

    def __init__(self, url: str, queue_size: int = 256) -> None:
        self._redis = redis_asyncio.from_url(url, decode_responses=True)
        self._publisher = _Publisher(self._redis)
        self._fanout = _Fanout(queue_size)
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._confirmed: dict[str, asyncio.Event] = {}

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self._publisher.send([(channel, _encode(message))])

    async def publish_many(self, messages: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """In order, in one round trip shared with whatever else is being published."""
        encoded = [(channel, _encode(message)) for channel, message in messages]
        if encoded:
            await self._publisher.send(encoded)

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        async with self._lock:
            queue, fresh = self._fanout.join(channels)
            try:
                if fresh:
                    for channel in fresh:
                        self._confirmed[channel] = asyncio.Event()
                    await self._listening().subscribe(*fresh)
            except BaseException:
                await self._leave(queue, channels)
                raise
        try:
            waits = [self._confirmed[c].wait() for c in channels if c in self._confirmed]
            try:
                await asyncio.wait_for(asyncio.gather(*waits), self.CONFIRM_TIMEOUT_S)
            except TimeoutError:  # listen anyway: messages flow once Redis catches up
                log.warning("broker: Redis has not confirmed %s yet", ", ".join(channels))
            yield _drain(queue)
        finally:
            async with self._lock:
                await self._leave(queue, channels)

    async def _leave(self, queue: asyncio.Queue[dict[str, Any]], channels: tuple[str, ...]) -> None:
        gone = self._fanout.leave(queue, channels)
        for channel in gone:
            self._confirmed.pop(channel, None)
        if gone and self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(*gone)

    def _listening(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(self._pubsub), name="broker-reader")
        return self._pubsub

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            try:
                if pubsub.connection is None:  # before the first subscription reaches Redis
                    await asyncio.sleep(0.01)
                    continue
                item = await pubsub.get_message(timeout=1.0)
            except (RedisError, OSError) as exc:  # redis-py reconnects and resubscribes
                log.warning("broker: reading from Redis failed (%s); retrying", exc)
                await asyncio.sleep(0.5)
                continue
            if item is None:
                continue
            kind, channel = item.get("type"), item.get("channel")
            if kind == "subscribe" and channel in self._confirmed:
                self._confirmed[channel].set()
            elif kind == "message" and isinstance(channel, str):
                try:
                    message = json.loads(item["data"])
                except (TypeError, ValueError):
                    log.warning("broker: a message on %s is not JSON; dropped", channel)
                    continue
                if isinstance(message, dict):
                    self._fanout.deliver(channel, message)

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def close(self) -> None:
        await self._publisher.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
        self._fanout.clear()
        await self._redis.aclose()


def _encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def create_broker(redis_url: str | None) -> Broker:
    return RedisBroker(redis_url) if redis_url else InProcessBroker()
