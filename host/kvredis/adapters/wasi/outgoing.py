"""wasi:http/outgoing-handler: a guest's request goes out through the core's httpx client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kvredis.adapters.wasi.handles import ours
from kvredis.adapters.wasi.http import (
    FutureIncomingResponseAdapter,
    OutgoingRequestAdapter,
    RequestOptionsAdapter,
    http_errors,
)
from kvredis.bindings import wasi_http as wit
from kvredis.wasi.io.poll import Waker

if TYPE_CHECKING:  # httpx takes ~150 ms to import: only a served request needs it
    from kvredis.wasi.http.client import HttpClient


class OutgoingHandlerHost:
    def __init__(self, client: HttpClient, waker: Waker) -> None:
        self._client = client
        self._waker = waker

    @http_errors
    def handle(
        self, request: wit.OutgoingRequest, options: wit.RequestOptions | None
    ) -> wit.FutureIncomingResponse:
        outgoing = ours(request, OutgoingRequestAdapter)
        outgoing.family.check_childless("sent")
        core_options = None if options is None else ours(options, RequestOptionsAdapter).core
        call = self._client.send(outgoing.core, core_options, self._waker)
        return FutureIncomingResponseAdapter(call.future, self._waker, call.cancel)
