"""The idempotency-key protocol: claim, replay, reuse, in flight, takeover, release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core import idempotency
from o2o.core.idempotency import (
    Claim,
    IdempotencyClaimLost,
    IdempotencyInFlight,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    Replay,
)
from o2o.payments.exceptions import ProviderUnavailable

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
SCOPE = idempotency.scope_for(user_id=7, route="POST /api/v1/things")
H1 = idempotency.request_hash("POST", "/api/v1/things", {"a": 1, "b": [1, 2]})
H2 = idempotency.request_hash("POST", "/api/v1/things", {"a": 2})


def test_the_request_hash_ignores_key_order_but_not_method_path_or_values() -> None:
    same = idempotency.request_hash("post", "/api/v1/things", {"b": [1, 2], "a": 1})
    assert same == H1
    assert idempotency.request_hash("PUT", "/api/v1/things", {"a": 1, "b": [1, 2]}) != H1
    assert idempotency.request_hash("POST", "/api/v1/other", {"a": 1, "b": [1, 2]}) != H1
    assert idempotency.request_hash("POST", "/api/v1/things", {"a": 1, "b": [2, 1]}) != H1


@pytest.mark.parametrize("key", [None, "", "   "])
def test_a_key_is_required(key: str | None) -> None:
    with pytest.raises(IdempotencyKeyRequired):
        idempotency.check_key(key)


@pytest.mark.parametrize("key", ["x" * 256, "bad\nkey"])
def test_keys_are_short_and_printable(key: str) -> None:
    with pytest.raises(InvalidIdempotencyKey):
        idempotency.check_key(key)


async def test_first_claims_then_in_flight_then_replay(session: AsyncSession) -> None:
    first = await idempotency.claim(session, scope=SCOPE, key="k1", request_hash=H1, now=T0)
    await session.commit()
    assert isinstance(first, Claim)
    with pytest.raises(IdempotencyInFlight):
        await idempotency.claim(
            session, scope=SCOPE, key="k1", request_hash=H1, now=T0 + timedelta(seconds=5)
        )
    with pytest.raises(IdempotencyKeyReused):
        await idempotency.claim(session, scope=SCOPE, key="k1", request_hash=H2, now=T0)

    await idempotency.complete(session, first, status=201, body={"id": 5, "ok": True})
    await session.commit()

    replay = await idempotency.claim(
        session, scope=SCOPE, key="k1", request_hash=H1, now=T0 + timedelta(hours=23)
    )
    assert replay == Replay(201, {"id": 5, "ok": True})
    with pytest.raises(IdempotencyKeyReused):
        await idempotency.claim(session, scope=SCOPE, key="k1", request_hash=H2, now=T0)
    other_caller = idempotency.scope_for(user_id=8, route="POST /api/v1/things")
    assert isinstance(
        await idempotency.claim(session, scope=other_caller, key="k1", request_hash=H2, now=T0),
        Claim,
    )


async def test_a_stale_claim_is_taken_over_and_the_slow_original_cannot_complete(
    session: AsyncSession,
) -> None:
    original = await idempotency.claim(session, scope=SCOPE, key="k2", request_hash=H1, now=T0)
    await session.commit()
    assert isinstance(original, Claim)
    later = T0 + idempotency.STALE_AFTER + timedelta(seconds=1)
    retry = await idempotency.claim(session, scope=SCOPE, key="k2", request_hash=H1, now=later)
    await session.commit()
    assert isinstance(retry, Claim)
    assert retry.record_id == original.record_id
    assert retry.locked_at == later

    with pytest.raises(IdempotencyClaimLost):
        await idempotency.complete(session, original, status=201, body={"from": "original"})
    await idempotency.complete(session, retry, status=201, body={"from": "retry"})
    await session.commit()
    replay = await idempotency.claim(session, scope=SCOPE, key="k2", request_hash=H1, now=later)
    assert replay == Replay(201, {"from": "retry"})


async def test_an_expired_record_frees_its_key_even_for_another_request(
    session: AsyncSession,
) -> None:
    first = await idempotency.claim(session, scope=SCOPE, key="k3", request_hash=H1, now=T0)
    assert isinstance(first, Claim)
    await idempotency.complete(session, first, status=200, body=[1])
    await session.commit()
    later = T0 + idempotency.TTL + timedelta(seconds=1)
    again = await idempotency.claim(session, scope=SCOPE, key="k3", request_hash=H2, now=later)
    assert isinstance(again, Claim)


async def test_release_lets_a_retry_execute_afresh(session: AsyncSession) -> None:
    first = await idempotency.claim(session, scope=SCOPE, key="k4", request_hash=H1, now=T0)
    assert isinstance(first, Claim)
    await idempotency.release(session, first)
    await session.commit()
    # A different body under the same key would be refused had the record survived.
    again = await idempotency.claim(session, scope=SCOPE, key="k4", request_hash=H2, now=T0)
    assert isinstance(again, Claim)


async def test_purge_removes_only_expired_records(session: AsyncSession) -> None:
    old = await idempotency.claim(session, scope=SCOPE, key="k5", request_hash=H1, now=T0)
    new = await idempotency.claim(
        session, scope=SCOPE, key="k6", request_hash=H1, now=T0 + timedelta(hours=2)
    )
    assert isinstance(old, Claim)
    assert isinstance(new, Claim)
    purged = await idempotency.purge_expired(session, now=T0 + idempotency.TTL + timedelta(hours=1))
    assert purged == 1


async def test_a_provider_failure_frees_the_key_for_an_immediate_retry(
    session: AsyncSession,
) -> None:
    # given a use case that fails with a 5xx (the provider cannot be reached)
    calls: list[str] = []

    async def unavailable() -> tuple[int, object]:
        calls.append("down")
        raise ProviderUnavailable("The payment provider cannot be reached.")

    async def works() -> tuple[int, object]:
        calls.append("up")
        return 201, {"ok": True}

    with pytest.raises(ProviderUnavailable):
        await idempotency.run_once(
            session, scope=SCOPE, key="k-5xx", request_hash=H1, action=unavailable
        )

    # when the client retries at once with the same key, it runs afresh (not "in flight")
    done = await idempotency.run_once(
        session, scope=SCOPE, key="k-5xx", request_hash=H1, action=works
    )
    assert (done.status, done.body, done.replayed) == (201, {"ok": True}, False)
    assert calls == ["down", "up"]
