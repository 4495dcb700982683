"""The composition root: every long-lived object is built here, once, and handed on.

Each resource lives in its own aiohttp `cleanup_ctx` generator (create, yield,
dispose), so start-up and shutdown happen in a fixed order and every background
task is cancelled and awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import asdict

from aiohttp import web

from ami_bridge.bridge import AmiBridge
from ami_bridge.tracker import CallTracker
from hotline.bus import EventBus
from hotline.logs import mask_phone
from hotline.settings import Settings

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
BUS = web.AppKey("bus", EventBus)
TRACKER = web.AppKey("tracker", CallTracker)
BRIDGE = web.AppKey("bridge", AmiBridge)


async def _bridge_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    bus = app[BUS]
    tracker = CallTracker(time.monotonic, on_call_ended=bus.publish)
    bridge = AmiBridge(settings.ami, settings.ami_secret(), tracker, bus)
    app[TRACKER] = tracker
    app[BRIDGE] = bridge
    task = asyncio.create_task(bridge.run(), name="ami-bridge")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def status_handler(request: web.Request) -> web.Response:
    """Truthful health: 503 when a dependency the service needs is down."""
    ami = request.app[BRIDGE].status()
    tracker = request.app[TRACKER]
    body = {
        "ok": ami.ok,
        "ami": asdict(ami),
        "calls_in_progress": len(tracker),
        "calls_started": tracker.calls_started,
        "calls_ended": tracker.calls_ended,
    }
    return web.json_response(body, status=200 if ami.ok else 503)


async def calls_handler(request: web.Request) -> web.Response:
    # Citizens' numbers are masked: this page needs no login.
    calls = [
        {**asdict(c), "caller_num": mask_phone(c.caller_num)} for c in request.app[TRACKER].calls()
    ]
    return web.json_response({"calls": calls})


def build_app(settings: Settings, bus: EventBus | None = None) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app[BUS] = bus or EventBus()
    app.cleanup_ctx.append(_bridge_ctx)
    app.router.add_get("/status", status_handler)
    app.router.add_get("/calls", calls_handler)
    return app


def run_service(settings: Settings) -> int:
    app = build_app(settings)
    web.run_app(app, host=settings.http.host, port=settings.http.port, print=log.info)
    return 0
