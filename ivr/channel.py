"""One FastAGI connection: write a command, read its answer as bytes."""

from __future__ import annotations

import asyncio

from ivr.agi import HANGUP_LINE, AgiProtocolError, AgiResponse, parse_response

MAX_LINE = 8192


class AgiConnectionLost(ConnectionError):
    """Asterisk closed the socket (call gone, or AGI step ended by the dialplan)."""


class AgiChannel:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.hung_up = False  # Asterisk said HANGUP: the caller is gone

    async def _line(self) -> bytes:
        try:
            line = await self._reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            raise AgiConnectionLost("FastAGI socket closed") from exc
        except asyncio.LimitOverrunError as exc:
            raise AgiProtocolError("AGI answer line too long") from exc
        return line.rstrip(b"\r\n")

    async def command(self, text: str, timeout: float) -> AgiResponse:
        """Send one command and wait (at most `timeout` s) for its final answer."""
        if "\n" in text or "\r" in text:
            raise ValueError("AGI command may not contain a newline")
        self._writer.write(text.encode() + b"\n")
        await self._writer.drain()
        async with asyncio.timeout(timeout):
            while True:
                line = await self._line()
                if line == HANGUP_LINE:
                    self.hung_up = True
                    continue
                if not line:
                    continue
                response = parse_response(line)
                if response.code == 100:  # "100 Trying...": the real answer follows
                    continue
                if line[3:4] == b"-":  # 520- usage block: skip to its "520 End" line
                    while not (await self._line()).startswith(b"520 "):
                        pass
                return response

    def close(self) -> None:
        if not self._writer.is_closing():
            self._writer.close()
