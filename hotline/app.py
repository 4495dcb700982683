"""The composition root: every long-lived object is built here, once, and handed on.

`build_app` loads and validates the configuration (a bad file stops the start with
file:line), opens the database (migrating it), and builds each part with the ports
it needs. Everything that runs in the background lives in its own aiohttp
`cleanup_ctx` (start, yield, stop), so shutdown cancels and awaits every task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

from ami_bridge.bridge import AmiBridge
from ami_bridge.tracker import CallTracker
from asr.bootstrap import build_speech_service
from asr.service import SpeechService
from desk.app import build_desk_app
from desk.clock import SystemClock
from desk.services import DeskDeps
from desk.ticket_store_port import StoreTickets
from desk.wiring import BridgeActions, load_desk_files
from hotline.bus import EventBus
from hotline.logs import mask_phone
from hotline.settings import Settings
from hotline.wiring import (
    ConfigBoard,
    LiveRouter,
    PoliceTickets,
    TransferOutcomes,
    link_call_recordings,
    translate_for_desk,
)
from hotline.yamlconf import ConfigError
from ivr.service import build_missing_prompts, ivr_service
from ivr.ticket_port import StoreTicketPort
from police110.call import ThreeWayCaller, TransferOutcomeRecorder
from police110.http import Police110Deps, build_police110_app
from police110.partners import load_partners
from police110.service import Exchange
from police110.store import Police110Store
from recordings.retention import retention_loop
from recordings.settings import recordings_path
from recordings.store import RecordingStore
from routing.config import load_routing_config
from routing.live import watch_config
from routing.service import build_router, config_file
from tickets.calendar_watch import CalendarReloader
from tickets.commands import RepeatPolicy
from tickets.engine import make_engine
from tickets.migrate import upgrade
from tickets.store import TicketStore
from tickets.workcalendar import WorkCalendar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parts:
    """Which parts `build_app` starts (tests of one part switch the others off)."""

    ivr: bool = True
    speech: bool = True
    police110: bool = True
    watch_config: bool = True


@dataclass
class Service:
    """The objects of one running service, reachable from handlers and tests."""

    settings: Settings
    bus: EventBus
    tracker: CallTracker
    bridge: AmiBridge
    store: TicketStore
    router: LiveRouter
    board: ConfigBoard
    speech: SpeechService | None = None
    police_store: Police110Store | None = None
    police_disabled: str | None = None
    ivr_running: bool = False


SERVICE = web.AppKey("service", Service)
THREE_WAY = web.AppKey("three_way", ThreeWayCaller)


# -- background parts, each in its own lifetime context --------------------------------


async def supervised(
    name: str, run: Callable[[], Coroutine[Any, Any, None]], max_delay: float = 60.0
) -> None:
    """Run a background part; if it fails, log it and start it again after a backoff.

    A watcher or recorder that dies on an unexpected error must not stay dead silently
    while the service goes on answering calls.
    """
    delay = 1.0
    while True:
        try:
            await run()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; restarting it in %.0f s", name, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)


def _task_ctx(
    name: str, make: Callable[[Service], Coroutine[Any, Any, None]]
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        service = app[SERVICE]
        task: asyncio.Task[None] = asyncio.create_task(
            supervised(name, lambda: make(service)), name=name
        )
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ctx


async def _speech_ctx(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE]
    speech = await build_speech_service(service.settings, service.bus)
    service.speech = speech
    await speech.start(service.settings.audiosocket.host, service.settings.audiosocket.port)
    yield
    await speech.close()


async def _ivr_ctx(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE]
    settings = service.settings
    try:
        await asyncio.to_thread(build_missing_prompts, settings)
    except (OSError, RuntimeError) as exc:
        log.warning(
            "prompts not built (callers may hear silence where a prompt is missing): %s", exc
        )
    async with ivr_service(
        settings,
        service.bus,
        speech=service.speech,
        router=service.router,
        tickets=StoreTicketPort(service.store, recent_days=7,
                                recordings=RecordingStore(recordings_path(settings))),
    ):
        service.ivr_running = True
        service.board.loaded("ivr.yaml", settings.config_path / "ivr.yaml")
        yield
        service.ivr_running = False


async def _watch_routing(service: Service) -> None:
    path = config_file(service.settings)

    async def on_change(config: Any) -> None:
        # Edited rules keep the trained models (training them again takes seconds and
        # learns nothing new); jieba is reloaded only when the place names changed.
        router = await asyncio.to_thread(service.router.current.with_config, config)
        service.router.replace(router)
        service.board.loaded("routing.yaml", path)

    def on_error(error: ConfigError) -> None:
        service.board.refused("routing.yaml", path, error)

    await watch_config(path, load_routing_config, on_change, on_error)


async def _watch_holidays(service: Service) -> None:
    path = service.settings.config_path / "holidays.yaml"

    def on_calendar(calendar: WorkCalendar) -> None:
        service.store.use_calendar(calendar)
        service.store.refresh_estimated_deadlines()
        service.board.loaded("holidays.yaml", path)

    reloader = CalendarReloader(path, on_calendar)
    await reloader.watch()


async def _close_store_ctx(app: web.Application) -> AsyncIterator[None]:
    yield
    app[SERVICE].store.close()


async def _three_way_ctx(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[THREE_WAY].close()


async def _record_transfers(service: Service) -> None:
    await TransferOutcomeRecorder(service.bus, TransferOutcomes(service.store)).run()


async def _retention(service: Service) -> None:
    settings = service.settings
    await retention_loop(recordings_path(settings), settings.recordings.retention_days)


# -- HTTP -----------------------------------------------------------------------------


async def status_handler(request: web.Request) -> web.Response:
    """Truthful health: 503 while a dependency calls need is down."""
    service = request.app[SERVICE]
    ami = service.bridge.status()
    database_ok = await asyncio.to_thread(_database_ok, service.store)
    speech = service.speech.status if service.speech is not None else None
    body: dict[str, Any] = {
        "ok": ami.ok and database_ok,
        "ami": asdict(ami),
        "database": {"ok": database_ok},
        "calls_in_progress": len(service.tracker),
        "calls_started": service.tracker.calls_started,
        "calls_ended": service.tracker.calls_ended,
        "ivr": {"running": service.ivr_running},
        "speech": asdict(speech) if speech is not None else {"ok": False, "detail": "disabled"},
        "police110": (
            {"enabled": True, "outbox": service.police_store.outbox_counts()}
            if service.police_store is not None
            else {"enabled": False, "detail": service.police_disabled}
        ),
        "config": service.board.as_json(),
    }
    return web.json_response(body, status=200 if body["ok"] else 503, dumps=_dumps)


def _dumps(obj: Any) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False, default=str)


def _database_ok(store: TicketStore) -> bool:
    try:
        store.list_tickets()[:1]
    except Exception:  # any driver error means "down" for /status; the log says which
        log.exception("database check failed")
        return False
    return True


async def calls_handler(request: web.Request) -> web.Response:
    # Citizens' numbers are masked: this page needs no login.
    calls = [
        {**asdict(c), "caller_num": mask_phone(c.caller_num)}
        for c in request.app[SERVICE].tracker.calls()
    ]
    return web.json_response({"calls": calls})


async def root_handler(request: web.Request) -> web.Response:
    raise web.HTTPFound("/desk/")


# -- building ---------------------------------------------------------------------------


async def build_app(settings: Settings, parts: Parts = Parts()) -> web.Application:
    """Validate the configuration, open the database, build every part."""
    config = settings.config_path
    board = ConfigBoard()
    bus = EventBus()

    calendar = await asyncio.to_thread(WorkCalendar.from_file, config / "holidays.yaml")
    board.loaded("holidays.yaml", config / "holidays.yaml")
    settings.data_path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    await asyncio.to_thread(upgrade, engine)
    store = TicketStore(engine, calendar, repeat_policy=RepeatPolicy(30, 2))

    router = LiveRouter(await asyncio.to_thread(build_router, settings))
    board.loaded("routing.yaml", config_file(settings))

    tracker = CallTracker(time.monotonic, on_call_ended=bus.publish)
    bridge = AmiBridge(settings.ami, settings.ami_secret(), tracker, bus)
    service = Service(settings, bus, tracker, bridge, store, router, board)

    app = web.Application()
    app[SERVICE] = service
    app.cleanup_ctx.append(_close_store_ctx)
    app.cleanup_ctx.append(_task_ctx("ami-bridge", lambda s: s.bridge.run()))
    app.cleanup_ctx.append(_task_ctx("desk-events", lambda s: translate_for_desk(s.bus, s.tracker)))
    app.cleanup_ctx.append(_task_ctx("police110-transfers", _record_transfers))
    app.cleanup_ctx.append(_task_ctx("recordings-retention", _retention))
    app.cleanup_ctx.append(
        _task_ctx("recordings-link", lambda s: link_call_recordings(s.bus, s.store))
    )
    if parts.speech:
        app.cleanup_ctx.append(_speech_ctx)
    if parts.ivr:
        app.cleanup_ctx.append(_ivr_ctx)
    if parts.watch_config:
        app.cleanup_ctx.append(_task_ctx("routing-watch", _watch_routing))
        app.cleanup_ctx.append(_task_ctx("holidays-watch", _watch_holidays))

    bridge_actions = BridgeActions(bridge.send_action)
    three_way = ThreeWayCaller(bridge_actions.send_action, bus, TransferOutcomes(store))
    app[THREE_WAY] = three_way
    app.cleanup_ctx.append(_three_way_ctx)
    desk_files = await asyncio.to_thread(load_desk_files, config)
    board.loaded("users.yaml", config / "users.yaml")
    board.loaded("kb", config / "kb")
    desk = DeskDeps(
        tickets=StoreTickets(store),
        bus=bus,
        ami=bridge_actions,
        kb=desk_files.kb,
        users=desk_files.users,
        clock=SystemClock(),
        police110=three_way,
        config=desk_files.config,
        config_status=board,
        recordings_dir=recordings_path(settings),
    )
    app.add_subapp("/desk/", build_desk_app(desk))

    if parts.police110:
        _add_police110(app, service, engine)

    app.router.add_get("/", root_handler)
    app.router.add_get("/status", status_handler)
    app.router.add_get("/calls", calls_handler)
    return app


def _add_police110(app: web.Application, service: Service, engine: Any) -> None:
    path = service.settings.config_path / "partners.yaml"
    try:
        partners = load_partners(path, base_dir=service.settings.path("."))
    except ConfigError as exc:
        # Keys are set per deployment; without them the exchange stays off and says why.
        service.police_disabled = str(exc)
        service.board.refused("partners.yaml", path, exc)
        log.warning("110 exchange disabled: %s", exc)
        return
    service.board.loaded("partners.yaml", path)
    police_store = Police110Store(engine)
    service.police_store = police_store
    exchange = Exchange(partners, police_store, PoliceTickets(service.store, service.router))
    app.add_subapp("/api/110", build_police110_app(Police110Deps(exchange)))


def run_service(settings: Settings) -> int:
    web.run_app(
        build_app(settings), host=settings.http.host, port=settings.http.port, print=log.info
    )
    return 0
