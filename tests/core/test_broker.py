"""Both brokers deliver what is published on a channel to its subscribers, and only that."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from o2o.core.broker import Broker, InProcessBroker, RedisBroker

REDIS_URL = os.environ.get("O2O_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = bool(os.environ.get("CI")) or bool(os.environ.get("O2O_REQUIRE_SERVICES"))


@pytest.fixture(params=["in-process", "redis"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    if request.param == "in-process":
        b: Broker = InProcessBroker()
    else:
        redis_broker = RedisBroker(REDIS_URL)
        try:
            await redis_broker.ping()
        except OSError as exc:
            await redis_broker.close()
            message = f"Redis is not reachable at {REDIS_URL} ({exc})."
            if REQUIRE_SERVICES:
                pytest.fail(message + " CI requires it.")
            pytest.skip(message)
        b = redis_broker
    yield b
    await b.close()


async def test_subscriber_receives_messages_of_its_channels_only(broker: Broker) -> None:
    channel, other = f"t:{uuid.uuid4().hex}", f"t:{uuid.uuid4().hex}"
    async with broker.subscribe(channel) as messages:
        await asyncio.sleep(0.05)  # Redis confirms the subscription asynchronously
        await broker.publish(other, {"n": 0})
        await broker.publish(channel, {"n": 1})
        await broker.publish(channel, {"n": 2})
        got = [await asyncio.wait_for(anext(messages), 2) for _ in range(2)]
    assert got == [{"n": 1}, {"n": 2}]


async def test_every_subscriber_gets_a_copy(broker: Broker) -> None:
    channel = f"t:{uuid.uuid4().hex}"
    async with broker.subscribe(channel) as a, broker.subscribe(channel) as b:
        await asyncio.sleep(0.05)
        await broker.publish(channel, {"stock": 3})
        assert await asyncio.wait_for(anext(a), 2) == {"stock": 3}
        assert await asyncio.wait_for(anext(b), 2) == {"stock": 3}
