"""Serving HTTP components: the ASGI application over an `HttpHandler` (`asgi`) and an
in-process `httpx` client for it (`client`)."""
