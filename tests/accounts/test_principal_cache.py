"""The cache of recently seen tokens: bounded, short-lived, never past a token's expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from o2o.accounts.models import TokenKind
from o2o.accounts.principal import Principal
from o2o.accounts.principal_cache import PrincipalCache, clear_all

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _who(n: int) -> Principal:
    return Principal(user_id=n, email=f"u{n}@example.test", display_name=f"U{n}")


def _key(n: int) -> tuple[str, TokenKind]:
    return (f"digest-{n}", TokenKind.API)


def test_an_entry_lives_for_the_ttl_only() -> None:
    clock = Clock()
    cache = PrincipalCache(5, clock=clock)
    cache.put(_key(1), _who(1), LATER)
    clock.t += 4.9
    assert cache.get(_key(1), NOW) == _who(1)
    clock.t += 0.2
    assert cache.get(_key(1), NOW) is None
    assert len(cache) == 0


def test_an_entry_never_outlives_its_token() -> None:
    cache = PrincipalCache(60, clock=Clock())
    cache.put(_key(1), _who(1), LATER)
    assert cache.get(_key(1), LATER - timedelta(seconds=1)) == _who(1)
    assert cache.get(_key(1), LATER) is None


def test_the_kind_of_token_is_part_of_the_key() -> None:
    cache = PrincipalCache(60, clock=Clock())
    cache.put(_key(1), _who(1), LATER)
    assert cache.get(("digest-1", TokenKind.SESSION), NOW) is None


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = PrincipalCache(60, size=2, clock=Clock())
    cache.put(_key(1), _who(1), LATER)
    cache.put(_key(2), _who(2), LATER)
    assert cache.get(_key(1), NOW) is not None  # 1 is now the most recent
    cache.put(_key(3), _who(3), LATER)
    assert cache.get(_key(2), NOW) is None
    assert cache.get(_key(1), NOW) == _who(1)
    assert cache.get(_key(3), NOW) == _who(3)


def test_a_zero_ttl_keeps_nothing() -> None:
    cache = PrincipalCache(0)
    cache.put(_key(1), _who(1), LATER)
    assert not cache.enabled
    assert cache.get(_key(1), NOW) is None


def test_clear_all_empties_every_cache_of_the_process() -> None:
    first, second = PrincipalCache(60), PrincipalCache(60)
    first.put(_key(1), _who(1), LATER)
    second.put(_key(2), _who(2), LATER)
    clear_all()
    assert len(first) == len(second) == 0
