"""An `httpx.Client` that sends its requests to an ASGI application in-process (no port).

httpx's own `ASGITransport` is asynchronous only; `SyncAsgiTransport` runs it on an event
loop of its own, on a private thread, and hands each answer back to the calling thread.
The answer is read whole before it is returned (as `ASGITransport` does): for watching a
body arrive as the guest writes it, serve the application on a real server. The client takes
response trailers (the ASGI `http.response.trailers` extension), which httpx has no place
for: they are in `response.extensions["trailers"]`, an `httpx.Headers`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpx

DEFAULT_BASE_URL = "http://component"
TRAILERS = "http.response.trailers"


class SyncAsgiTransport(httpx.BaseTransport):
    def __init__(self, app: Any, on_close: Callable[[], None] | None = None) -> None:
        self._on_close = on_close
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="kvredis-asgi-client", daemon=True
        )
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        future = asyncio.run_coroutine_threadsafe(self._send(request), self._loop)
        return future.result()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        forwarded = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            stream=_AsyncBody(request.stream),  # type: ignore[arg-type]
            extensions=request.extensions,
        )
        trailers: list[tuple[bytes, bytes]] = []

        async def taking_trailers(scope: Any, receive: Any, send: Any) -> None:
            extensions = {**(scope.get("extensions") or {}), TRAILERS: {}}

            async def keep_trailers(message: Any) -> None:
                if message["type"] == TRAILERS:
                    trailers.extend(message.get("headers", ()))
                else:
                    await send(message)

            await self._app({**scope, "extensions": extensions}, receive, keep_trailers)

        transport = httpx.ASGITransport(app=taking_trailers)
        try:
            answer = await transport.handle_async_request(forwarded)
        except AssertionError:
            # httpx's ASGITransport asserts the application completed its response; a real
            # server would have cut the connection instead.
            raise httpx.RemoteProtocolError(
                "the application ended without completing the response", request=request
            ) from None
        content = b"".join([chunk async for chunk in answer.stream])  # type: ignore[union-attr]
        return httpx.Response(
            answer.status_code,
            headers=answer.headers,
            content=content,
            request=request,
            extensions={"trailers": httpx.Headers(trailers)},
        )

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        if not self._loop.is_running():
            self._loop.close()
        if self._on_close is not None:
            self._on_close()


class _AsyncBody(httpx.AsyncByteStream):
    """A request body given to the client (bytes or an iterator) read on the loop's thread,
    one chunk at a time, so the application sees it streamed."""

    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._stream:
            yield chunk


def asgi_client(
    app: Any, base_url: str = DEFAULT_BASE_URL, on_close: Callable[[], None] | None = None
) -> httpx.Client:
    """An `httpx.Client` over `app` in-process; close it (or use `with`) when done, which
    calls `on_close` too."""
    return httpx.Client(transport=SyncAsgiTransport(app, on_close), base_url=base_url)
