"""Flash-sale buyers: each wants one unit, under its own Idempotency-Key, and misbehaves.

Real clients retry: after a timeout (the first request may still be running on the server),
after a lost response, or because a double tap sent the request twice at once. Each buyer
draws one behaviour from a seeded generator, so a run is reproducible from its seed:

- ``once``: one request.
- ``resend``: the request, then the same request again (the answer must be a replay).
- ``twin``: the same request twice at the same moment.
- ``impatient``: the first attempt gives up after a few milliseconds; then retry.

``409 idempotency_in_flight`` means "the first request with this key is still running": the
buyer waits a little and asks again with the same key, until it has a definitive answer
(``201`` with its order, or ``409 insufficient_stock``).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

API = "/api/v1/orders"
BEHAVIOURS = ("once", "resend", "twin", "impatient")
WEIGHTS = (0.45, 0.2, 0.15, 0.2)
SOLD_OUT = "insufficient_stock"
IN_FLIGHT = "idempotency_in_flight"
PATIENCE_S = 90.0  # longer than the server's 60 s in-flight staleness
FINAL = 30.0


@dataclass(slots=True)
class Answer:
    """One HTTP response (or transport failure) a buyer saw."""

    status: int  # 0: no response (client timeout, connection error)
    code: str = ""  # problem+json code, or "" for a 201
    order_id: int | None = None
    body: bytes = b""
    replayed: bool = False
    seconds: float = 0.0
    done_at: float = 0.0  # time.perf_counter() when it arrived


@dataclass(slots=True)
class Buyer:
    index: int
    token: str
    key: str
    behaviour: str
    answers: list[Answer] = field(default_factory=list)

    @property
    def final(self) -> list[Answer]:
        """The definitive answers: an order, or sold out."""
        return [a for a in self.answers if a.status == 201 or a.code == SOLD_OUT]

    @property
    def order_ids(self) -> set[int]:
        return {a.order_id for a in self.answers if a.order_id is not None}

    @property
    def succeeded(self) -> bool:
        return any(a.status == 201 for a in self.answers)

    @property
    def refused(self) -> bool:
        return any(a.code == SOLD_OUT for a in self.answers)


def make_buyers(tokens: Sequence[str], count: int, rng: random.Random) -> list[Buyer]:
    """``count`` buyers, each with a token (cycled) and a behaviour drawn from ``rng``."""
    return [
        Buyer(i, tokens[i % len(tokens)], uuid.UUID(int=rng.getrandbits(128)).hex,
              rng.choices(BEHAVIOURS, WEIGHTS)[0])
        for i in range(count)
    ]  # fmt: skip


def _answer(response: httpx.Response, seconds: float) -> Answer:
    data: dict[str, Any] = {}
    try:
        parsed = response.json()
        data = parsed if isinstance(parsed, dict) else {}
    except ValueError:
        pass
    order_id = data.get("id") if response.status_code == 201 else None
    return Answer(
        response.status_code,
        "" if response.status_code == 201 else str(data.get("code", "")),
        int(order_id) if order_id is not None else None,
        response.content,
        response.headers.get("Idempotent-Replayed") == "true",
        seconds,
    )


async def _send(
    client: httpx.AsyncClient, buyer: Buyer, body: dict[str, Any], limit_s: float
) -> Answer:
    headers = {"Authorization": f"Bearer {buyer.token}", "Idempotency-Key": buyer.key}
    started = time.perf_counter()
    try:
        response = await client.post(API, json=body, headers=headers, timeout=limit_s)
    except httpx.TransportError:  # a client-side timeout included: the server may go on
        answer = Answer(0, "transport")
    else:
        answer = _answer(response, time.perf_counter() - started)
    answer.done_at = time.perf_counter()
    answer.seconds = answer.done_at - started
    buyer.answers.append(answer)
    return answer


async def _until_final(
    client: httpx.AsyncClient, buyer: Buyer, body: dict[str, Any], rng: random.Random,
    first_timeout: float = FINAL,
) -> Answer:  # fmt: skip
    deadline = time.perf_counter() + PATIENCE_S
    timeout = first_timeout
    while True:
        answer = await _send(client, buyer, body, timeout)
        timeout = FINAL
        if answer.status == 201 or answer.code == SOLD_OUT or answer.status >= 500:
            return answer
        if time.perf_counter() > deadline:
            return answer
        # In flight elsewhere, or our own attempt timed out: same key again, a little later.
        await asyncio.sleep(rng.uniform(0.005, 0.03))


async def buy(
    client: httpx.AsyncClient, buyer: Buyer, body: dict[str, Any], rng: random.Random
) -> None:
    """Play ``buyer``'s behaviour to a definitive answer (or until patience runs out)."""
    await asyncio.sleep(rng.uniform(0, 0.05))  # they do not all press at the same microsecond
    if buyer.behaviour == "twin":
        await asyncio.gather(
            _until_final(client, buyer, body, random.Random(rng.random())),
            _until_final(client, buyer, body, random.Random(rng.random())),
        )
    elif buyer.behaviour == "impatient":
        await _until_final(client, buyer, body, rng, first_timeout=rng.uniform(0.002, 0.04))
    else:
        await _until_final(client, buyer, body, rng)
        if buyer.behaviour == "resend":
            await _send(client, buyer, body, FINAL)


def client_for(base_url: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=FINAL)


async def flash_sale(
    base_url: str, buyers: list[Buyer], body: dict[str, Any], rng: random.Random
) -> float:
    """Every buyer at once (one connection each); seconds from the first request to the last
    definitive answer."""
    async with client_for(base_url, 2 * len(buyers)) as client:
        rngs = [random.Random(rng.random()) for _ in buyers]
        started = time.perf_counter()
        await asyncio.gather(*(buy(client, b, body, r) for b, r in zip(buyers, rngs, strict=True)))
        return time.perf_counter() - started
