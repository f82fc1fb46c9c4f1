"""Where uploaded files live: a storage interface, with a local-disk implementation."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    def save(self, data: bytes, *, folder: str, suffix: str) -> str:
        """Store the bytes and return their key (a relative, URL-safe path)."""
        ...

    def url(self, key: str) -> str: ...

    def read(self, key: str) -> bytes: ...


class LocalStorage:
    """Files under a directory, served by the app under ``url_prefix``."""

    def __init__(self, root: Path, url_prefix: str = "/media") -> None:
        self.root = root
        self.url_prefix = url_prefix.rstrip("/")

    def save(self, data: bytes, *, folder: str, suffix: str) -> str:
        digest = hashlib.sha256(data).hexdigest()[:16]
        key = f"{folder}/{digest}-{secrets.token_hex(4)}{suffix}"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return key

    def url(self, key: str) -> str:
        return f"{self.url_prefix}/{key}"

    def read(self, key: str) -> bytes:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise FileNotFoundError(key)
        return path.read_bytes()
