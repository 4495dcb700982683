from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hotline.bus import EventBus
from ivr.config import IvrConfig
from ivr.ports import SpeechResult
from ivr.prompts import PromptCatalog, catalog_for
from ivr.record import IvrPath
from ivr.runner import IvrError, IvrServices
from ivr.server import IvrServer
from ivr.store import IvrStore

from .fakes import DEFAULT_YAML, Decision, FakeRouter, FakeSession, FakeSpeech, FakeTickets

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ivr"
HEADERS = (FIXTURES / "agi_request.bin").read_bytes()


def make_store(tmp_path: Path, prepare: Callable[[IvrConfig], PromptCatalog] | None = None
               ) -> IvrStore:
    path = tmp_path / "ivr.yaml"
    shutil.copy(DEFAULT_YAML, path)
    store = IvrStore(path, prepare or (lambda c: catalog_for(c, None)))
    assert store.load() == []
    return store


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[IvrServer]:
    services = IvrServices(make_store(tmp_path), EventBus())
    async with IvrServer(services, "127.0.0.1", 0) as srv:
        yield srv


Responder = Callable[[str], list[bytes]]


def caller(keys: list[str]) -> Responder:
    """An Asterisk channel whose caller presses `keys` at the waits ('' = silence)."""
    keys = list(keys)

    def respond(command: str) -> list[bytes]:
        if command.startswith("STREAM FILE"):
            return [b"200 result=0 endpos=8000"]
        if command.startswith("WAIT FOR DIGIT"):
            key = keys.pop(0)
            return [f"200 result={ord(key) if key else 0}".encode()]
        if command.startswith("GET DATA"):
            return [f"200 result={keys.pop(0)}".encode()]
        if command.startswith(("SET VARIABLE", "EXEC")):
            return [b"200 result=0"]
        return [b"510 Invalid or unknown command"]
    return respond


async def fake_asterisk(port: int, respond: Responder, headers: bytes = HEADERS,
                        timeout: float = 5.0) -> list[str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(headers)
    commands: list[str] = []
    async with asyncio.timeout(timeout):
        while line := await reader.readline():
            command = line.decode().strip()
            commands.append(command)
            for out in respond(command):
                writer.write(out + b"\n")
    writer.close()
    return commands


def variables(commands: list[str]) -> dict[str, str]:
    out = {}
    for c in commands:
        if c.startswith("SET VARIABLE ") and "TIMEOUT(absolute)" not in c:
            name, value = c.removeprefix("SET VARIABLE ").split(" ", 1)
            out[name] = value.strip('"')
    return out


async def test_key_call_sets_route_and_publishes_path(server: IvrServer) -> None:
    assert server.services.bus is not None
    sub = server.services.bus.subscribe()
    commands = await fake_asterisk(server.port, caller(["3", "2"]))
    v = variables(commands)
    assert v["ROUTE_QUEUE"] == "womens_rights" and v["ROUTE_ACTION"] == "queue"
    assert v["IVR_PATH"] == "main:3>people:2>womens_rights"
    assert commands[0].startswith("SET VARIABLE TIMEOUT(absolute) ")
    assert commands[1].startswith("STREAM FILE hotline12345/greeting-")
    assert commands[1].endswith('"0123456789*#"')  # any key interrupts the greeting
    path = await asyncio.wait_for(sub.get(), 1)
    assert isinstance(path, IvrPath) and path.caller.trunk == "callers"


async def test_early_close_and_junk_do_not_stall_the_loop(server: IvrServer) -> None:
    for junk in (b"", b"agi_network_script: ivr\n", b"\x00\xff garbage\n\n",
                 b"GET / HTTP/1.1\r\n\r\n"):
        _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(junk)
        await writer.drain()
        writer.close()
    # the same loop still serves a real call promptly
    commands = await fake_asterisk(server.port, caller(["1"]), timeout=3)
    assert variables(commands)["ROUTE_QUEUE"] == "enterprise"


async def test_junk_connection_is_closed_by_the_server(server: IvrServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"hello\n\n")
    assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()


async def test_any_exception_sends_the_call_to_general(tmp_path: Path) -> None:
    store = make_store(tmp_path, lambda c: PromptCatalog({}))  # every prompt lookup fails
    bus = EventBus()
    sub = bus.subscribe()
    async with IvrServer(IvrServices(store, bus), "127.0.0.1", 0) as srv:
        commands = await fake_asterisk(srv.port, caller([]))
    assert variables(commands) == {"ROUTE_QUEUE": "general", "ROUTE_ACTION": "queue",
                                   "ROUTE_LINE": "general"}
    assert isinstance(sub._queue.get_nowait(), IvrError)


async def test_hangup_notice_ends_the_call_without_route(server: IvrServer) -> None:
    def respond(command: str) -> list[bytes]:
        if command.startswith("WAIT FOR DIGIT"):
            return [b"HANGUP", b"200 result=-1"]
        return caller([])(command)
    commands = await fake_asterisk(server.port, respond)
    assert variables(commands) == {}
    assert server.active_calls == 0


async def test_stopping_server_mid_call_closes_the_socket(tmp_path: Path) -> None:
    srv = IvrServer(IvrServices(make_store(tmp_path)), "127.0.0.1", 0)
    await srv.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write(HEADERS)
    assert (await reader.readline()).startswith(b"SET VARIABLE TIMEOUT(absolute)")
    writer.write(b"200 result=1\n")
    assert (await reader.readline()).startswith(b"STREAM FILE")  # caller now in the greeting
    await srv.close()
    assert await asyncio.wait_for(reader.read(), 2) == b""  # AGI ends: dialplan queues general
    writer.close()


async def test_speech_path_through_ports(tmp_path: Path) -> None:
    speech = FakeSpeech([FakeSession(SpeechResult("物业不修电梯", "silence"),
                                     "EXEC AudioSocket abc,127.0.0.1:9092")])
    tickets = FakeTickets(history=(True, 3))
    services = IvrServices(make_store(tmp_path), EventBus(), speech,
                           FakeRouter(Decision("property")), tickets)
    async with IvrServer(services, "127.0.0.1", 0) as srv:
        commands = await fake_asterisk(srv.port, caller(["9"]))
    assert 'EXEC AudioSocket abc,127.0.0.1:9092' in commands
    v = variables(commands)
    assert v["ROUTE_QUEUE"] == "property" and v["TICKET_ID"] == "20261126-00001"
    (call_id, number, transcript, _decision, path), = tickets.created
    assert (number, transcript) == ("13800138001", "物业不修电梯") and call_id
    assert path.caller.called_recently and path.caller.recent_calls == 3


async def test_no_free_recognizer_gets_key_menu(tmp_path: Path) -> None:
    speech = FakeSpeech([])
    services = IvrServices(make_store(tmp_path), None, speech)
    async with IvrServer(services, "127.0.0.1", 0) as srv:
        commands = await fake_asterisk(srv.port, caller(["9", "1"]))
    assert speech.opened == 1
    assert any("speech-busy" in c for c in commands)
    assert variables(commands)["ROUTE_QUEUE"] == "enterprise"


async def test_failing_ticket_store_does_not_block_the_call(tmp_path: Path) -> None:
    class Broken(FakeTickets):
        async def create_ticket(self, *args: object) -> str:
            raise RuntimeError("database down")

    services = IvrServices(make_store(tmp_path), None, tickets=Broken())
    async with IvrServer(services, "127.0.0.1", 0) as srv:
        commands = await fake_asterisk(srv.port, caller(["2"]))
    v = variables(commands)
    assert v["ROUTE_QUEUE"] == "property" and v["TICKET_ID"] == ""


async def test_missing_sound_does_not_stop_the_menu(server: IvrServer) -> None:
    """`200 result=-1 endpos=0` (no such file, as captured) plays on to the key wait."""
    def respond(command: str) -> list[bytes]:
        if command.startswith("STREAM FILE"):
            return [b"200 result=-1 endpos=0"]
        return caller(["2"])(command)
    commands = await fake_asterisk(server.port, respond)
    assert variables(commands)["ROUTE_QUEUE"] == "property"


async def test_hangup_mid_prompt_ends_the_call(server: IvrServer) -> None:
    """`200 result=-1 endpos=N` with N > 0: the caller left while it played."""
    seen: list[str] = []

    def respond(command: str) -> list[bytes]:
        seen.append(command)
        if command.startswith("SET VARIABLE"):
            return [b"200 result=1"]
        if command.startswith("STREAM FILE"):
            return [b"200 result=-1 endpos=5280"]
        return [b"511 Command Not Permitted on a dead channel or intercept routine"]
    await fake_asterisk(server.port, respond)
    assert len(seen) == 2 and server.active_calls == 0


async def test_each_step_renews_the_dialplan_bound(server: IvrServer) -> None:
    """Before every wait the IVR sets TIMEOUT(absolute) to that wait plus a margin."""
    commands = await fake_asterisk(server.port, caller(["", "1"]))
    leases = [i for i, c in enumerate(commands) if c.startswith("SET VARIABLE TIMEOUT(absolute)")]
    waits = [i for i, c in enumerate(commands) if c.startswith(("STREAM FILE", "WAIT FOR"))]
    assert all(i - 1 in leases for i in waits), commands
    catalog = server.services.store.current.catalog
    greeting = int(commands[leases[0]].rsplit(" ", 1)[1])
    assert greeting == int(catalog.duration("greeting") + 10 + 0.999)
    wait = commands[waits[2]]
    assert wait == "WAIT FOR DIGIT 6000" and commands[waits[2] - 1].endswith(" 16")
