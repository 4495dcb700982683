"""A loopback TCP proxy for fault tests: cut connections, refuse new ones, inject bytes."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.accepting = True
        self.connections = 0
        # Junk is injected only between whole AMI messages, so it never cuts one in two.
        self._at_boundary: dict[asyncio.StreamWriter, bool] = {}
        self._pending: dict[asyncio.StreamWriter, list[bytes]] = {}

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if not self.accepting:
            client_w.close()
            return
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            return
        self.connections += 1
        pair = (client_w, up_w)
        self._pairs.add(pair)
        self._at_boundary[client_w] = False
        self._pending[client_w] = []
        a = asyncio.create_task(self._pipe(client_r, up_w))
        b = asyncio.create_task(self._pipe_to_client(up_r, client_w))
        self._tasks |= {a, b}
        await asyncio.wait({a, b}, return_when=asyncio.FIRST_COMPLETED)
        for w in pair:
            w.close()
        self._pairs.discard(pair)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def _pipe_to_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                self._at_boundary[writer] = data.endswith(b"\r\n\r\n")
                if self._at_boundary[writer] and self._pending[writer]:
                    for junk in self._pending[writer]:
                        writer.write(junk)
                    self._pending[writer].clear()
                await writer.drain()

    def cut(self) -> None:
        """Drop every open connection (both directions), as a network failure would."""
        for client_w, up_w in list(self._pairs):
            for w in (client_w, up_w):
                transport = w.transport
                transport.abort()
        self._pairs.clear()

    async def inject_to_client(self, data: bytes) -> None:
        """Write raw bytes toward the bridge, between Asterisk's messages."""
        for client_w, _ in list(self._pairs):
            if self._at_boundary.get(client_w):
                client_w.write(data)
                await client_w.drain()
            else:
                self._pending[client_w].append(data)

    async def stop(self) -> None:
        self.accepting = False
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for t in self._tasks:
            t.cancel()
