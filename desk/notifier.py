"""The only code that pushes to browsers: open websockets per user, and supervisors' ones.

Sends go through each socket's own bounded queue and writer task, so one slow
browser never delays the pops of the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)


@dataclass(eq=False)
class DeskSocket:
    """One open desk page: its websocket, whose it is, and its outgoing queue."""

    ws: web.WebSocketResponse
    username: str
    role: str
    session_token: str = ""
    queue: asyncio.Queue[Mapping[str, Any]] = field(default_factory=lambda: asyncio.Queue(200))
    dropped: int = 0

    def offer(self, message: Mapping[str, Any]) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)

    async def pump(self) -> None:
        """Write queued messages until the socket closes (run as a task per socket)."""
        while not self.ws.closed:
            message = await self.queue.get()
            try:
                await self.ws.send_json(message)
            except (ConnectionResetError, RuntimeError):
                return


class Notifier:
    def __init__(self) -> None:
        self._by_user: dict[str, set[DeskSocket]] = {}

    def add(self, sock: DeskSocket) -> None:
        self._by_user.setdefault(sock.username, set()).add(sock)

    def remove(self, sock: DeskSocket) -> None:
        socks = self._by_user.get(sock.username)
        if socks is not None:
            socks.discard(sock)
            if not socks:
                del self._by_user[sock.username]

    def is_online(self, username: str) -> bool:
        return bool(self._by_user.get(username))

    def to_user(self, username: str, message: Mapping[str, Any]) -> int:
        socks = tuple(self._by_user.get(username, ()))
        for sock in socks:
            sock.offer(message)
        return len(socks)

    def to_supervisors(self, message: Mapping[str, Any]) -> None:
        for socks in tuple(self._by_user.values()):
            for sock in tuple(socks):
                if sock.role in ("supervisor", "admin"):
                    sock.offer(message)

    async def close_session(self, token: str) -> None:
        """Close the sockets opened under a session that has ended (logout)."""
        for socks in tuple(self._by_user.values()):
            for sock in tuple(socks):
                if sock.session_token == token:
                    with contextlib.suppress(Exception):
                        await sock.ws.close(code=4401, message=b"logged out")

    async def close_all(self) -> None:
        for socks in tuple(self._by_user.values()):
            for sock in tuple(socks):
                with contextlib.suppress(Exception):
                    await sock.ws.close(code=1001, message=b"server shutdown")
        self._by_user.clear()
