"""An httpx transport that sends each request to the in-process app serving its host."""

from __future__ import annotations

from collections.abc import Mapping

import httpx


class HostRouter(httpx.AsyncBaseTransport):
    """Requests for a host in ``routes`` go to its transport (an ``httpx.ASGITransport`` of a
    simulator); any other host goes to ``fallback``, or fails as unreachable without one."""

    def __init__(
        self,
        routes: Mapping[str, httpx.AsyncBaseTransport],
        fallback: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._routes = dict(routes)
        self._fallback = fallback

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._routes.get(request.url.host, self._fallback)
        if transport is None:
            raise httpx.ConnectError(f"no route to {request.url.host}", request=request)
        return await transport.handle_async_request(request)
