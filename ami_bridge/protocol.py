"""panoramisk glue: its Manager sends actions and matches replies; our parser reads the stream.

panoramisk 1.4 decodes each TCP read on its own (losing UTF-8 characters split
between reads) and reconnects on a fixed timer. We keep its action/response
bookkeeping but feed it from `AmiStreamParser`, hand events straight to our sink
(no panoramisk Message built per event: that is most of its cost), and leave
reconnection to `AmiBridge`'s supervisor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from ami_bridge.parser import AmiMessage, AmiStreamParser


class StreamSink(Protocol):
    def on_banner(self, version: str) -> None: ...
    def on_event(self, message: AmiMessage) -> None: ...
    def on_junk(self, count: int) -> None: ...
    def on_connection_lost(self, exc: Exception | None) -> None: ...


class BridgeProtocol(AMIProtocol):  # type: ignore[misc]
    """AMIProtocol with a byte-level parser; replies go to panoramisk, events to our sink."""

    def __init__(self, sink: StreamSink, max_message_bytes: int) -> None:
        self._sink = sink
        self._parser = AmiStreamParser(max_message_bytes)

    def data_received(self, data: bytes) -> None:
        result = self._parser.feed(data)
        if result.banner is not None:
            self.version = result.banner
            self._sink.on_banner(result.banner)
        if result.junk:
            self._sink.on_junk(result.junk)
        responses = self.responses
        for message in result.messages:
            action_id = message.get("ActionID")
            if action_id and action_id in responses:
                reply = Message(message.as_dict())
                reply.raw = message
                self.handle_message(reply)
            elif message.event:
                self._sink.on_event(message)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.close()
            self._sink.on_connection_lost(exc)


class SupervisedManager(Manager):  # type: ignore[misc]
    """panoramisk's Manager without its own reconnect timer and pinger: we supervise."""

    pinger: asyncio.TimerHandle | None

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if f.cancelled() or f.exception() is not None:
            return  # the supervisor awaits the same task and handles the failure
        super().connection_made(f)
        if self.pinger is not None:
            self.pinger.cancel()
            self.pinger = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        self.authenticated = False


def protocol_factory(sink: StreamSink, max_message_bytes: int) -> Callable[[], BridgeProtocol]:
    return lambda: BridgeProtocol(sink, max_message_bytes)
