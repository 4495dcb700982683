"""The desk's aiohttp sub-application: one factory, routes set up in one place."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from desk import web_api, web_auth, web_live, web_pages
from desk.services import DESK, DeskDeps, build_desk

STATIC_DIR = Path(__file__).parent / "static"


async def _event_listener(app: web.Application) -> AsyncIterator[None]:
    desk = app[DESK]
    subscription = desk.deps.bus.subscribe(maxsize=5000)
    task = asyncio.create_task(desk.router.run(subscription))
    yield
    task.cancel()
    subscription.close()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await desk.router.pending.close()
    await desk.agents.close()
    await desk.notifier.close_all()


def build_desk_app(deps: DeskDeps) -> web.Application:
    """The desk as an aiohttp application; mount it with `add_subapp("/desk/", ...)` or serve it."""
    app = web.Application(
        middlewares=[web_auth.errors_middleware, web_auth.auth_middleware],
        client_max_size=256 * 1024,
    )
    app[DESK] = build_desk(deps)
    web_pages.add_routes(app, STATIC_DIR)
    web_auth.add_routes(app)
    web_api.add_routes(app)
    web_live.add_routes(app)
    app.cleanup_ctx.append(_event_listener)
    return app
