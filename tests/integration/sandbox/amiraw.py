"""A deliberately plain AMI client over a raw socket, for checking the sandbox itself.

The sandbox tests must not depend on the project's AMI bridge (they check the
Asterisk the bridge is tested against), so this speaks the protocol directly:
messages are header lines ending in a blank line.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable

Message = dict[str, str]


def parse_message(block: bytes) -> Message:
    """One AMI message (without its blank line) as a dict.

    `ChanVariable: NAME=VALUE` headers repeat, one per variable: each becomes the key
    `ChanVariable(NAME)`. Other repeated keys keep the last value.
    """
    out: Message = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "ChanVariable" and "=" in value:
            name, _, var_value = value.partition("=")
            out[f"ChanVariable({name})"] = var_value
        else:
            out[key] = value
    return out


class RawAmi:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 banner: str) -> None:
        self.reader = reader
        self.writer = writer
        self.banner = banner
        self._ids = itertools.count(1)
        self.events: list[Message] = []

    @classmethod
    async def connect(cls, host: str, port: int, timeout: float = 5.0) -> RawAmi:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        banner = await asyncio.wait_for(reader.readline(), timeout)
        return cls(reader, writer, banner.decode().strip())

    async def read_message(self, timeout: float = 10.0) -> Message:
        block = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        return parse_message(block[:-4])

    async def action(self, name: str, timeout: float = 10.0, **headers: str) -> Message:
        """Send an action and return its response; events read meanwhile are kept."""
        action_id = f"t{next(self._ids)}"
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.read_message(max(0.1, deadline - loop.time()))
            if message.get("ActionID") == action_id and "Response" in message:
                return message
            if "Event" in message:
                self.events.append(message)

    async def list_action(self, name: str, timeout: float = 10.0, **headers: str) -> list[Message]:
        """An action answered by a list of events (CoreShowChannels, QueueStatus...)."""
        action_id = f"t{next(self._ids)}"
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        items: list[Message] = []
        while True:
            message = await self.read_message(max(0.1, deadline - loop.time()))
            if message.get("ActionID") != action_id:
                if "Event" in message:
                    self.events.append(message)
                continue
            if message.get("Response") == "Error":
                raise RuntimeError(f"{name} failed: {message}")
            if message.get("EventList") == "Complete":
                return items
            if "Event" in message:
                items.append(message)

    async def login(self, username: str, secret: str) -> Message:
        return await self.action("Login", Username=username, Secret=secret)

    async def wait_event(self, match: Callable[[Message], bool], timeout: float) -> Message:
        """The first event (already read or still to come) for which `match` is true."""
        for event in self.events:
            if match(event):
                return event
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("no matching AMI event")
            message = await self.read_message(remaining)
            if "Event" in message:
                self.events.append(message)
                if match(message):
                    return message

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()
