"""Live channels: the desk's websocket, the supervisor's live board, admin status, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging

from aiohttp import WSMsgType, web

from desk.notifier import DeskSocket
from desk.payloads import iso
from desk.services import DESK
from desk.web_auth import COOKIE, current_user, error, public

log = logging.getLogger(__name__)


async def websocket(request: web.Request) -> web.StreamResponse:
    """One per open desk. Pops go only to the agent whose phone rings: asking for
    another agent's desk (`?agent=...` or a `subscribe` message) is refused."""
    desk = request.app[DESK]
    user = current_user(request)
    wanted = request.query.get("agent")
    if wanted is not None and wanted != user.username:
        return error(403, "not-your-desk", "不能订阅其他坐席的弹屏")
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=16 * 1024)
    await ws.prepare(request)
    token = request.cookies.get(COOKIE)
    sock = DeskSocket(ws, user.username, user.role, token or "")
    desk.notifier.add(sock)
    pump = asyncio.create_task(sock.pump())
    hello: dict[str, object] = {"type": "hello", "user": user.username}
    if user.endpoint:
        hello["agent"] = desk.agents.state_json(desk.agents.state(user))
    if user.is_supervisor:
        hello["live"] = _live_json(request)
    sock.offer(hello)
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            # A logged-out session must not keep its socket.
            if desk.sessions.get(token, desk.deps.clock.monotonic()) is None:
                break
            try:
                data = msg.json()
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            if data.get("type") == "rendered":
                desk.pops.rendered(user.username, str(data.get("pop_id", "")))
            elif data.get("type") == "subscribe" and data.get("agent") != user.username:
                sock.offer(
                    {
                        "type": "error",
                        "error_id": "not-your-desk",
                        "message": "不能订阅其他坐席的弹屏",
                    }
                )
    finally:
        desk.notifier.remove(sock)
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        await ws.close()
    return ws


def _live_json(request: web.Request) -> dict[str, object]:
    desk = request.app[DESK]
    return {
        "queues": desk.live.queues_json(),
        "agents": [
            desk.agents.state_json(st)
            for st in desk.agents.known()
            if st.lines or desk.notifier.is_online(st.user.username)
        ],
        "ivr": desk.live.ivr_calls_json(),
    }


async def live(request: web.Request) -> web.StreamResponse:
    current_user(request, "supervisor", "admin")
    return web.json_response(_live_json(request))


async def admin_status(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    current_user(request, "admin")
    return web.json_response(
        {
            "config": [
                {
                    "name": c.name,
                    "path": c.path,
                    "ok": c.ok,
                    "issues": list(c.issues),
                    "last_reload": iso(c.last_reload),
                }
                for c in desk.deps.config_status.config_status()
            ],
            "users": [
                {
                    "username": u.username,
                    "name": u.name,
                    "role": u.role,
                    "endpoint": u.endpoint,
                    "lines": list(u.lines),
                }
                for u in desk.deps.users.all()
            ],
            "kb_articles": len(desk.deps.kb.articles),
            "recording_accesses": [
                {
                    "who": a.who,
                    "at": iso(a.at),
                    "ticket": a.ticket_number,
                    "recording": a.recording,
                    "action": a.action,
                }
                for a in desk.recordings.accesses[-100:]
            ],
        }
    )


@public
async def metrics(request: web.Request) -> web.StreamResponse:
    """Prometheus scrapes from this machine without a session; others need a supervisor's."""
    desk = request.app[DESK]
    try:
        local = ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        local = False
    if not local:
        session = desk.sessions.get(request.cookies.get(COOKIE), desk.deps.clock.monotonic())
        user = desk.deps.users.get(session.username) if session else None
        if user is None or not user.is_supervisor:
            return error(401, "no-session", "请先登录")
    return web.Response(body=desk.metrics.exposition(), content_type="text/plain", charset="utf-8")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ws", websocket)
    app.router.add_get("/api/live", live)
    app.router.add_get("/api/admin/status", admin_status)
    app.router.add_get("/metrics", metrics)
