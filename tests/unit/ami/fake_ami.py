"""A small in-process AMI server for unit tests of the bridge (the real one is in integration)."""

from __future__ import annotations

import asyncio
import contextlib

from ami_bridge.parser import AmiStreamParser


class FakeAmi:
    def __init__(self, secret: str = "s3cret") -> None:
        self.secret = secret
        self.port = 0
        self.logins = 0
        self.channels: list[dict[str, str]] = []
        self.queue_entries: list[dict[str, str]] = []
        self.secrets_seen: list[str] = []
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.refuse = False

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.drop_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def drop_all(self) -> None:
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()

    def send_raw(self, data: bytes) -> None:
        for w in self._writers:
            w.write(data)

    def event(self, **headers: str) -> None:
        self.send_raw(self._msg(headers))

    @staticmethod
    def _msg(headers: dict[str, str]) -> bytes:
        return "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refuse:
            writer.close()
            return
        self._writers.add(writer)
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        parser = AmiStreamParser()
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(4096):
                for m in parser.feed(data).messages:
                    self._answer(
                        m.get("Action").lower(), m.get("ActionID"), m.get("Secret"), writer
                    )
        self._writers.discard(writer)

    def _answer(self, action: str, aid: str, secret: str, w: asyncio.StreamWriter) -> None:
        if action == "login":
            self.secrets_seen.append(secret)
            if secret == self.secret:
                self.logins += 1
                w.write(
                    self._msg(
                        {
                            "Response": "Success",
                            "ActionID": aid,
                            "Message": "Authentication accepted",
                        }
                    )
                )
                w.write(self._msg({"Event": "FullyBooted", "Status": "Fully Booted"}))
            else:
                w.write(
                    self._msg(
                        {"Response": "Error", "ActionID": aid, "Message": "Authentication failed"}
                    )
                )
        elif action == "ping":
            w.write(self._msg({"Response": "Success", "ActionID": aid, "Ping": "Pong"}))
        elif action == "queueadd":
            # Asterisk's own words, which panoramisk mistakes for the start of an event list.
            w.write(
                self._msg(
                    {"Response": "Success", "ActionID": aid, "Message": "Added interface to queue"}
                )
            )
        elif action == "coreshowchannels":
            w.write(self._msg({"Response": "Success", "ActionID": aid, "EventList": "start"}))
            for ch in self.channels:
                w.write(self._msg({"Event": "CoreShowChannel", "ActionID": aid, **ch}))
            w.write(
                self._msg(
                    {"Event": "CoreShowChannelsComplete", "ActionID": aid, "EventList": "Complete"}
                )
            )
        elif action == "queuestatus":
            w.write(self._msg({"Response": "Success", "ActionID": aid, "EventList": "start"}))
            for entry in self.queue_entries:
                w.write(self._msg({"Event": "QueueEntry", "ActionID": aid, **entry}))
            w.write(
                self._msg(
                    {"Event": "QueueStatusComplete", "ActionID": aid, "EventList": "Complete"}
                )
            )
        else:
            w.write(
                self._msg(
                    {"Response": "Error", "ActionID": aid, "Message": "Invalid/unknown command"}
                )
            )
