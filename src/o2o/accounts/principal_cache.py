"""Recently authenticated tokens, so that a burst of requests reads the token once.

Every API request names its caller by a bearer token, and looking the token up (token,
user and memberships) costs a database round trip and a tenth of a cheap request's CPU. A
shopper's page or app sends requests in bursts, so each process keeps the answer for a few
seconds (``Settings.principal_cache_seconds``; 0 turns this off).

What that costs in freshness, and what it does not:
- Expiry is exact: the token's own expiry is kept with the entry and checked on every hit.
- A change to a user, a membership or a token *in this process* (logout, a new role, a
  deactivated account) empties this process's caches when its transaction commits.
- Another API process may go on accepting a revoked token or old roles for at most the TTL.
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, UOWTransaction

from o2o.accounts.models import AccessToken, Membership, TokenKind, User
from o2o.accounts.principal import Principal

Key = tuple[str, TokenKind]  # (the token's digest, its kind)
_CHANGED = "o2o.accounts.principals_changed"  # session.info flag: empty the caches on commit
_USER_FIELDS = ("is_active", "is_courier", "is_platform_admin", "email", "display_name")
_MAPPED = (User, Membership, AccessToken)
_ALL: weakref.WeakSet[PrincipalCache] = weakref.WeakSet()


class PrincipalCache:
    """A bounded least-recently-used map of token → principal, each entry for ``ttl``
    seconds of ``clock`` (monotonic by default) and never past its token's expiry."""

    def __init__(
        self,
        ttl: float,
        *,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[float, datetime, Principal]] = OrderedDict()
        _ALL.add(self)

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key, now: datetime) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        kept_until, token_expires_at, principal = entry
        if self._clock() >= kept_until or now >= token_expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return principal

    def put(self, key: Key, principal: Principal, token_expires_at: datetime) -> None:
        if not self.enabled:
            return
        self._entries[key] = (self._clock() + self.ttl, token_expires_at, principal)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


def clear_all() -> None:
    """Empty every cache of this process (a user, membership or token changed)."""
    for cache in list(_ALL):
        cache.clear()


def _user_changed(user: User) -> bool:
    state = sa_inspect(user)
    return any(state.attrs[name].history.has_changes() for name in _USER_FIELDS)


def _changes_principals(obj: Any, *, new: bool) -> bool:
    """Whether writing ``obj`` (added if ``new``, else modified) may change an answer."""
    if isinstance(obj, Membership):
        return True
    if isinstance(obj, AccessToken):
        return not new  # a new token changes no one's existing answer
    if isinstance(obj, User):
        return not new and _user_changed(obj)
    return False


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    if (
        any(_changes_principals(o, new=True) for o in session.new)
        or any(_changes_principals(o, new=False) for o in session.dirty)
        or any(isinstance(o, _MAPPED) for o in session.deleted)
    ):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state: Any) -> None:
    """``update(AccessToken)…`` and the like bypass the flush."""
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ not in _MAPPED:
        return
    if state.is_update or state.is_delete or (state.is_insert and mapper.class_ is Membership):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _clear_on_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        clear_all()
