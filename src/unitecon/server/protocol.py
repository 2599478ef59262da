"""uvicorn's HTTP protocol with a deadline for each request's head (slow clients).

uvicorn times out an idle keep-alive connection, but not a client that connects and never
sends a request, or sends its headers a byte at a time: each such connection holds a slot
until the connection cap (`Settings.max_connections`) is reached and the service refuses
everyone (a slow-loris attack). This protocol closes a connection whose request line and
headers have not arrived whole within `Settings.header_timeout_s` of the connection opening
or of the request starting. The body has its own deadline (`body.read_body`, 408).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: Seconds a client has to send a request's line and headers (`Settings.header_timeout_s`).
HEADER_TIMEOUT_S = 10.0


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol`, plus the head deadline."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        transport: Any = self.transport
        if transport is not None and not transport.is_closing():
            transport.close()
