"""Shared pieces of the IVR's sandbox tests and of bench/ivr_load.

- `AmiEvents`: an AMI connection whose reader runs in the background and keeps
  every event, so a test can start calls and then look for QueueCallerJoin.
- `running_ivr`: the IVR's FastAGI server in-process on the settings' AGI port,
  with its prompts built into the sandbox's sounds folder.
- `key_caller_scenario`: a sipp scenario replaying a capture with the given keys.
- cross-correlation of recorded call audio with a prompt file.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import shutil
import wave
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import numpy as np

from hotline.bus import EventBus
from hotline.keycalls import key_caller_scenario as key_caller_scenario
from hotline.settings import Settings
from ivr.ports import TicketPort
from ivr.runner import IvrServices
from ivr.server import IvrServer
from ivr.service import build_missing_prompts, make_ivr_store
from ivr.store import IvrStore
from tests.integration.sandbox.amiraw import Message, parse_message

ROOT = Path(__file__).resolve().parents[3]
SPECIALIST_QUEUES = ("enterprise", "property", "hr_social_security", "womens_rights",
                     "market_regulation")
GENERAL_QUEUE = "general_line"  # Asterisk's name of the `general` line (queues.conf)

# Keys (pressed in order) -> the Asterisk queue the call must join.
ROUTES: dict[str, str] = {
    "1": "enterprise",
    "2": "property",
    "31": "hr_social_security",
    "32": "womens_rights",
    "4": "market_regulation",
    "0": GENERAL_QUEUE,
}


class AmiEvents:
    """AMI with a background reader: responses by ActionID, every event kept."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self.events: list[Message] = []
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, settings: Settings) -> AsyncIterator[AmiEvents]:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(settings.ami.host, settings.ami.port), 5)
        await asyncio.wait_for(reader.readline(), 5)  # banner
        ami = cls(reader, writer)
        try:
            reply = await ami.action("Login", Username=settings.ami.username,
                                     Secret=settings.ami_secret().reveal())
            if reply.get("Response") != "Success":
                raise AssertionError(f"AMI login refused: {reply.get('Message')}")
            yield ami
        finally:
            await ami.close()

    async def _read(self) -> None:
        while True:
            try:
                block = await self._reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            message = parse_message(block[:-4])
            future = self._pending.pop(message.get("ActionID", ""), None)
            if future is not None and "Response" in message and not future.done():
                future.set_result(message)
            elif "Event" in message:
                async with self._changed:
                    self.events.append(message)
                    self._changed.notify_all()

    async def action(self, name: str, timeout: float = 10.0, **headers: str) -> Message:
        action_id = f"ivr{next(self._ids)}"
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self._writer.drain()
        return await asyncio.wait_for(future, timeout)

    async def wait_for(self, match: Callable[[Message], bool], timeout: float,
                       count: int = 1) -> list[Message]:
        """The first `count` events matching, waiting up to `timeout` s for them."""
        async def enough() -> list[Message]:
            async with self._changed:
                while True:
                    found = [e for e in self.events if match(e)]
                    if len(found) >= count:
                        return found
                    await self._changed.wait()
        try:
            return await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            found = [e for e in self.events if match(e)]
            raise AssertionError(f"{len(found)}/{count} matching AMI events after {timeout} s; "
                                 f"last events: {self.events[-5:]}") from None

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.action("Logoff", timeout=2)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()


@contextlib.asynccontextmanager
async def staffed(ami: AmiEvents, interface: str,
                  queues: Sequence[str] = (*SPECIALIST_QUEUES, GENERAL_QUEUE)
                  ) -> AsyncIterator[None]:
    """`interface` logged in to `queues` for the duration of the block."""
    for queue in queues:
        await ami.action("QueueAdd", Queue=queue, Interface=interface, Paused="false",
                         MemberName=f"ivr-test-{interface}")
    try:
        yield
    finally:
        for queue in queues:
            with contextlib.suppress(Exception):
                await ami.action("QueueRemove", Queue=queue, Interface=interface)


def copy_ivr_yaml(settings: Settings, tmp: Path) -> Settings:
    """Settings whose config folder is a copy in `tmp` (for live-edit tests)."""
    from dataclasses import replace
    config = tmp / "config"
    shutil.copytree(settings.config_path / "prompts", config / "prompts")
    shutil.copy(settings.config_path / "ivr.yaml", config / "ivr.yaml")
    return replace(settings, config_dir=str(config))


@contextlib.asynccontextmanager
async def running_ivr(settings: Settings, watch: bool = False, bus: EventBus | None = None,
                      tickets: TicketPort | None = None,
                      ) -> AsyncIterator[tuple[IvrServer, IvrStore]]:
    """The IVR's FastAGI server on settings.agi, prompts built into the sandbox."""
    await asyncio.to_thread(build_missing_prompts, settings)
    store = make_ivr_store(settings)
    issues = await asyncio.to_thread(store.load)
    assert not issues, issues
    server = IvrServer(IvrServices(store, bus or EventBus(), tickets=tickets),
                       settings.agi.host, settings.agi.port)
    await server.start()
    stop = asyncio.Event()
    watcher = asyncio.create_task(store.watch(stop)) if watch else None
    try:
        yield server, store
    finally:
        stop.set()
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await server.close()


def sipp_ports(index: int) -> tuple[int, int]:
    """(SIP port, media port) for the index-th sipp started at once.

    tests.integration.sipp picks the first free port, but sipp processes started
    together all see the same port free before any of them binds it.
    """
    return 5200 + index, 7000 + 4 * index


async def finished_wav(path: Path, timeout: float = 10.0) -> bytes:
    """A recording's bytes once Asterisk has closed it (valid header, size settled)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = -1
    while loop.time() < deadline:
        if await asyncio.to_thread(path.exists):
            data = await asyncio.to_thread(path.read_bytes)
            try:
                with wave.open(io.BytesIO(data)) as w:
                    ready = w.getnframes() > 0 and len(data) == last
            except (wave.Error, EOFError):
                ready = False
            if ready:
                return data
            last = len(data)
        await asyncio.sleep(0.3)
    raise AssertionError(f"no finished recording at {path} after {timeout} s")


def read_wav(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, "expected 16-bit mono"
        assert w.getframerate() == 8000, w.getframerate()
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)


def best_match(recording: np.ndarray, prompt: np.ndarray) -> tuple[float, int]:
    """Peak normalised cross-correlation of `prompt` inside `recording`, and its offset."""
    n, m = len(recording), len(prompt)
    if n < m:
        raise AssertionError(f"recording ({n} samples) shorter than the prompt ({m})")
    size = 1 << int(np.ceil(np.log2(n + m)))
    corr = np.fft.irfft(np.fft.rfft(recording, size) * np.conj(np.fft.rfft(prompt, size)), size)
    corr = corr[: n - m + 1]
    energy = np.concatenate(([0.0], np.cumsum(recording ** 2)))
    window = np.sqrt(np.maximum(energy[m:] - energy[:-m], 1e-9))
    score = corr / (window * np.sqrt(np.sum(prompt ** 2)))
    at = int(np.argmax(score))
    return float(score[at]), at


def heard_fraction(recording: np.ndarray, prompt: np.ndarray, chunk: int = 2000,
                   threshold: float = 0.85, drift: int = 4000) -> tuple[float, int]:
    """Share of the prompt's voiced quarter-second pieces heard where the prompt plays.

    Whole-prompt correlation is too strict for audio taken from a live channel on a
    busy machine: now and then a few frames are lost or repeated, shifting the rest.
    So each piece is found on its own (normalised cross-correlation above
    `threshold`), and only pieces that sit where the others put the prompt (within
    `drift` samples of their median start) count; a piece that merely resembles
    some other sound elsewhere does not. Returns (fraction, start of the prompt).
    """
    starts = list(range(0, len(prompt) - chunk + 1, chunk))
    voiced = [i for i in starts if np.abs(prompt[i:i + chunk]).mean() > 200]
    if not voiced:
        raise AssertionError("prompt has no voiced audio")
    placed = []
    for i in voiced:
        score, at = best_match(recording, prompt[i:i + chunk])
        if score > threshold:
            placed.append(at - i)
    if not placed:
        return 0.0, -1
    centre = int(np.median(placed))
    agreeing = [p for p in placed if abs(p - centre) <= drift]
    return len(agreeing) / len(voiced), centre
