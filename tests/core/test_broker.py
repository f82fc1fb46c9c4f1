"""Both brokers deliver what is published on a channel to its subscribers, and only that."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis_asyncio

from o2o.core.broker import Broker, InProcessBroker, RedisBroker

REDIS_URL = os.environ.get("O2O_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = bool(os.environ.get("CI")) or bool(os.environ.get("O2O_REQUIRE_SERVICES"))


async def _redis_broker() -> RedisBroker:
    redis_broker = RedisBroker(REDIS_URL)
    try:
        await redis_broker.ping()
    except OSError as exc:
        await redis_broker.close()
        message = f"Redis is not reachable at {REDIS_URL} ({exc})."
        if REQUIRE_SERVICES:
            pytest.fail(message + " CI requires it.")
        pytest.skip(message)
    return redis_broker


@pytest.fixture(params=["in-process", "redis"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    b: Broker = InProcessBroker() if request.param == "in-process" else await _redis_broker()
    yield b
    await b.close()


@pytest.fixture
async def redis_broker() -> AsyncIterator[RedisBroker]:
    b = await _redis_broker()
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


async def test_publish_many_delivers_each_message_to_its_channel_in_order(
    broker: Broker,
) -> None:
    one, two, other = (f"t:{uuid.uuid4().hex}" for _ in range(3))
    async with broker.subscribe(one) as first, broker.subscribe(two) as second:
        await broker.publish_many(
            [(one, {"n": 1}), (other, {"n": 0}), (two, {"n": 2}), (one, {"n": 3})]
        )
        await broker.publish_many([])  # nothing to send is no trip at all
        await broker.publish_many([(two, {"n": 4})])
        got_one = [await asyncio.wait_for(anext(first), 2) for _ in range(2)]
        got_two = [await asyncio.wait_for(anext(second), 2) for _ in range(2)]
    assert got_one == [{"n": 1}, {"n": 3}]
    assert got_two == [{"n": 2}, {"n": 4}]


async def test_hundreds_of_concurrent_publishers_share_one_connection(
    redis_broker: RedisBroker,
) -> None:
    """Under load the publishes of a process go out together on one connection: every
    message arrives, each publisher's in its order, and the client's pool (100 connections
    by default) is not run out of connections."""
    channels = [f"t:{uuid.uuid4().hex}" for _ in range(4)]
    async with contextlib.AsyncExitStack() as stack:
        streams = [await stack.enter_async_context(redis_broker.subscribe(c)) for c in channels]

        async def publisher(n: int) -> None:
            channel = channels[n % len(channels)]
            await redis_broker.publish_many(
                [(channel, {"n": n, "k": 0}), (channel, {"n": n, "k": 1})]
            )

        await asyncio.gather(*(publisher(n) for n in range(300)))
        got = [
            [await asyncio.wait_for(anext(stream), 2) for _ in range(2 * 300 // len(channels))]
            for stream in streams
        ]
    pool = redis_broker._redis.connection_pool
    opened = len(pool._available_connections) + len(pool._in_use_connections)
    assert opened <= 3  # the publisher's, the subscriptions', and at most one more
    for i, messages in enumerate(got):
        assert {m["n"] for m in messages} == set(range(i, 300, len(channels)))
        for n in {m["n"] for m in messages}:
            assert [m["k"] for m in messages if m["n"] == n] == [0, 1]


async def test_a_subscription_is_live_when_subscribe_returns(broker: Broker) -> None:
    channel = f"t:{uuid.uuid4().hex}"
    async with broker.subscribe(channel) as messages:
        await broker.publish(channel, {"n": 1})  # no pause: nothing published now is missed
        assert await asyncio.wait_for(anext(messages), 2) == {"n": 1}


async def test_listeners_come_and_go_without_disturbing_each_other(broker: Broker) -> None:
    channel, other = f"t:{uuid.uuid4().hex}", f"t:{uuid.uuid4().hex}"
    async with broker.subscribe(channel, other) as staying:
        async with broker.subscribe(channel) as leaving:
            await broker.publish(channel, {"n": 1})
            assert await asyncio.wait_for(anext(leaving), 2) == {"n": 1}
        await broker.publish(channel, {"n": 2})
        await broker.publish(other, {"n": 3})
        got = [await asyncio.wait_for(anext(staying), 2) for _ in range(3)]
    assert got == [{"n": 1}, {"n": 2}, {"n": 3}]


async def _subscribers_at_redis(channel: str) -> int:
    client = redis_asyncio.from_url(REDIS_URL, decode_responses=True)
    try:
        ((_name, count),) = await client.pubsub_numsub(channel)
        return int(count)
    finally:
        await client.aclose()


async def test_one_redis_subscription_per_process_whatever_the_listeners(
    redis_broker: RedisBroker,
) -> None:
    broker = redis_broker
    channel = f"t:{uuid.uuid4().hex}"
    async with contextlib.AsyncExitStack() as stack:
        listeners = [await stack.enter_async_context(broker.subscribe(channel)) for _ in range(5)]
        assert await _subscribers_at_redis(channel) == 1
        await broker.publish(channel, {"to": "all"})
        for messages in listeners:
            assert await asyncio.wait_for(anext(messages), 2) == {"to": "all"}
    # The last listener gone, the process stops listening at Redis.
    for _ in range(50):
        if await _subscribers_at_redis(channel) == 0:
            break
        await asyncio.sleep(0.02)
    assert await _subscribers_at_redis(channel) == 0
