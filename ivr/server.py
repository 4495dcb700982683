"""The FastAGI server: panoramisk's Application with a guarded connection handler.

panoramisk 1.4's `Application.handler` loops on `reader.read()` until it sees a
blank line, so a client that closes before sending its headers makes it spin on
`b''` forever and freezes the event loop; it also decodes each TCP read on its
own. We keep its routing table (`add_route`) and replace the handler: headers
are read with a size limit and a deadline, parsed as bytes, and junk or an
early close only ends that one connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from panoramisk import fast_agi

from ivr.agi import HEADER_END, MAX_REQUEST_BYTES, AgiProtocolError, AgiRequest, parse_request
from ivr.channel import AgiChannel
from ivr.runner import CallRunner, IvrServices

log = logging.getLogger(__name__)

HEADER_TIMEOUT = 5.0
ROUTE = "ivr"

Endpoint = Callable[[AgiRequest, AgiChannel], Awaitable[Any]]


class GuardedApplication(fast_agi.Application):  # type: ignore[misc]
    """panoramisk Application whose handler survives early closes and junk."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)

    async def handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            async with asyncio.timeout(HEADER_TIMEOUT):
                raw = await reader.readuntil(HEADER_END)
            request = parse_request(raw)
        except (asyncio.IncompleteReadError, ConnectionError):
            log.debug("FastAGI client %s closed before its headers", peer)
            await _close(writer)
            return
        except (TimeoutError, asyncio.LimitOverrunError, AgiProtocolError) as exc:
            log.warning("FastAGI client %s refused: %s", peer, exc or type(exc).__name__)
            await _close(writer)
            return
        endpoint: Endpoint | None = self._route.get(request.script)
        channel = AgiChannel(reader, writer)
        try:
            if endpoint is None:
                log.error("no FastAGI route for %r", request.script)
            else:
                await endpoint(request, channel)
        except asyncio.CancelledError:
            # Server shutdown: this connection's task is the top of its own stack, and
            # asyncio's stream callback would log a cancelled handler as an error.
            log.info("FastAGI call %s dropped by shutdown", request.call_id)
        except Exception:
            log.exception("FastAGI route %r failed", request.script)
        finally:
            await _close(writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


class IvrServer:
    """Listens for `AGI(agi://host:port/ivr)` and runs one CallRunner per call."""

    def __init__(self, services: IvrServices, host: str, port: int) -> None:
        self.services = services
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        app = GuardedApplication(asyncio.get_running_loop())
        app.add_route(ROUTE, self._call)
        self._server = await asyncio.start_server(
            app.handler, self.host, self.port, limit=MAX_REQUEST_BYTES, reuse_address=True)
        sock = self._server.sockets[0].getsockname()
        self.port = int(sock[1])
        log.info("IVR FastAGI listening on %s:%d", self.host, self.port)

    async def _call(self, request: AgiRequest, channel: AgiChannel) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            await CallRunner(self.services, request, channel).run()
        finally:
            self._calls.discard(task)

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    async def close(self) -> None:
        """Stop listening and drop the calls in progress: the dialplan queues them on general."""
        if self._server is None:
            return
        self._server.close()
        calls = list(self._calls)
        for task in calls:
            task.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2.0)
        self._server = None

    async def __aenter__(self) -> IvrServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
