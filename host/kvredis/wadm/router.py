"""Several HTTP components in one server: each request goes to the application of the port
it arrived on, so one uvicorn (one event loop, one signal handler) serves them all."""

from __future__ import annotations

from collections.abc import Mapping

from kvredis.serve.asgi import AsgiApp, Receive, Scope, Send


class PortRouter:
    """An ASGI 3 application over `apps`, one per listening port."""

    def __init__(self, apps: Mapping[int, AsgiApp]) -> None:
        self.apps = dict(apps)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # The applications are closed by their deployment, not by the server's shutdown.
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        port = (scope.get("server") or ("", None))[1]
        app = self.apps.get(port) if isinstance(port, int) else None
        if app is None:
            # Only a port nobody registered (a bug of the caller): say so, not hang.
            await _respond(send, 404, b"no component is served on this port\n")
            return
        await app(scope, receive, send)


async def _respond(send: Send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": text})
