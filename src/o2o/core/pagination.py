"""Opaque keyset cursors: the client hands back what we gave it, and cannot forge a page."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from o2o.core.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, arity: int) -> list[Any] | None:
    """The values a cursor carries, or ``None`` for the first page."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("The cursor is not one this API produced.", field="cursor") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise InvalidCursor("The cursor is not one this API produced.", field="cursor")
    if not all(_plain(v) for v in values):
        raise InvalidCursor("The cursor is not one this API produced.", field="cursor")
    return values


def decode_id_cursor(cursor: str | None) -> int | None:
    """The row id a one-value keyset cursor carries, or ``None`` for the first page."""
    values = decode_cursor(cursor, arity=1)
    if values is None:
        return None
    (value,) = values
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidCursor("The cursor is not one this API produced.", field="cursor")
    return value


def _plain(value: Any) -> bool:
    """A cursor value the database can take: bounded integers, finite floats, short strings."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) < value < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and len(value) <= 200


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
