"""A minimal HTTP/1.1 client on asyncio streams, for load generators.

A general client (httpx) spends about a millisecond of CPU per request on what a load
generator does not need (URL and header models, cookie jars, content decoding, connection
pools). At hundreds of requests per second that is the load generator, not the server,
setting the pace. Here one keep-alive connection per simulated client, requests written as
bytes, answers read by Content-Length or chunks: tens of microseconds per request. Enough
for JSON APIs and server-sent event streams served by uvicorn; nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


class HttpError(Exception):
    """The connection failed or the answer was not HTTP/1.1 as expected."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def _address(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise HttpError(f"only http:// URLs are supported, not {url!r}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.hostname, parts.port or 80, path


def _head(method: str, host: str, path: str, headers: Mapping[str, str], length: int) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if method != "GET" or length:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise HttpError("the connection closed before an answer") from exc
    status_line, *header_lines = raw[:-4].decode("latin-1").split("\r\n")
    try:
        status = int(status_line.split(" ", 2)[1])
    except (IndexError, ValueError) as exc:
        raise HttpError(f"not an HTTP status line: {status_line!r}") from exc
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """The chunks of a chunked body until its last (empty) one."""
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return
        data = await reader.readexactly(size + 2)
        yield data[:-2]


class Connection:
    """One keep-alive connection to one server; requests one at a time. A connection idle
    for ``idle_s`` is opened afresh before the next request, since servers close idle ones
    (uvicorn after 5 s) and a request sent as they do would fail for nothing."""

    def __init__(self, base_url: str, *, idle_s: float = 4.0) -> None:
        self.host, self.port, _ = _address(base_url)
        self.idle_s = idle_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._used_at = 0.0

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        now = time.monotonic()
        if self._writer is not None and now - self._used_at > self.idle_s:
            await self.close()
        self._used_at = now
        if self._reader is None or self._writer is None or self._writer.is_closing():
            try:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                raise HttpError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        return self._reader, self._writer

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes = b""
    ) -> Answer:
        """Send one request and read its whole answer; a broken connection is reopened on
        the next request (this one raises ``HttpError``)."""
        _, _, path = _address(url)
        reader, writer = await self._open()
        try:
            writer.write(_head(method, self.host, path, headers, len(body)) + body)
            status, answer_headers = await _read_head(reader)
            if answer_headers.get("transfer-encoding", "").lower() == "chunked":
                data = b"".join([chunk async for chunk in _chunks(reader)])
            else:
                data = await reader.readexactly(int(answer_headers.get("content-length", "0")))
            if answer_headers.get("connection", "").lower() == "close":
                await self.close()
            self._used_at = time.monotonic()
            return Answer(status, data)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            await self.close()
            raise HttpError(f"{method} {path}: {exc!r}") from exc

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class Pool:
    """Up to ``size`` keep-alive connections to one server, each lent to one request at a
    time; a borrower waits while all are lent."""

    def __init__(self, base_url: str, size: int) -> None:
        self.base_url = base_url
        self.size = size
        self.opened = 0
        self._idle: list[Connection] = []
        self._free = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        async with self._free:
            while not self._idle and self.opened >= self.size:
                await self._free.wait()
            if self._idle:
                conn = self._idle.pop()
            else:
                self.opened += 1
                conn = Connection(self.base_url)
        try:
            yield conn
        finally:
            async with self._free:
                self._idle.append(conn)
                self._free.notify()

    async def close(self) -> None:
        for conn in self._idle:
            await conn.close()
        self._idle.clear()


async def event_stream(
    url: str, *, headers: Mapping[str, str]
) -> AsyncIterator[tuple[int, str | None]]:
    """Open a server-sent event stream: first ``(status, None)``, then ``(status, data)`` for
    every ``data:`` line, until the server ends the stream or the caller stops."""
    host, port, path = _address(url)
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        raise HttpError(f"cannot connect to {host}:{port}: {exc}") from exc
    try:
        writer.write(_head("GET", host, path, {"Accept": "text/event-stream", **headers}, 0))
        status, answer_headers = await _read_head(reader)
        yield status, None
        if status != 200:
            return
        chunked = answer_headers.get("transfer-encoding", "").lower() == "chunked"
        pending = b""
        source = _chunks(reader) if chunked else _raw(reader)
        async for chunk in source:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.startswith(b"data:"):
                    yield status, line[5:].strip().decode()
    finally:
        writer.close()


async def _raw(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while data := await reader.read(65536):
        yield data
