"""Login, logout and the two middlewares every request passes: errors and authentication.

Without a session nothing but the login page, its assets and the login call is
served: pages redirect to the login page, APIs and websockets answer 401. Every
state-changing request must carry the session's CSRF token (header X-CSRF-Token)
and, when the browser sends one, an Origin of this very host.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from desk.agents import AmiActionFailed, DeskRefused
from desk.ports import KINDS_ZH, LINE_NAMES_ZH
from desk.services import DESK
from desk.sessions import Session
from desk.users import User

log = logging.getLogger(__name__)

COOKIE = "hotline_desk"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_KEY = web.RequestKey("session", Session)
USER_KEY = web.RequestKey("user", User)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, error_id: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error_id": error_id, "message": message, **extra}, status=status)


def _is_public(request: web.Request) -> bool:
    resource = request.match_info.route.resource
    if isinstance(resource, web.StaticResource):
        return True
    return getattr(request.match_info.handler, "desk_public", False) is True


def public(handler: Handler) -> Handler:
    handler.desk_public = True  # type: ignore[attr-defined]
    return handler


def _origin_ok(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DeskRefused as exc:
        return error(exc.status, exc.error_id, exc.message)
    except AmiActionFailed as exc:
        return error(502, "ami-failed", exc.message)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _is_public(request):
        return await handler(request)
    desk = request.app[DESK]
    session = desk.sessions.get(request.cookies.get(COOKIE), desk.deps.clock.monotonic())
    user = desk.deps.users.get(session.username) if session else None
    if session is None or user is None:
        if request.path.rstrip("/").split("/")[-1] in ("ws", "metrics") or "/api/" in request.path:
            return error(401, "no-session", "请先登录")
        raise web.HTTPFound("login")
    upgrading = request.headers.get("Upgrade", "").lower() == "websocket"
    if (request.method not in SAFE_METHODS or upgrading) and not _origin_ok(request):
        return error(403, "bad-origin", "请求来源不被允许")
    if request.method not in SAFE_METHODS and not desk.sessions.csrf_ok(
        session, request.headers.get("X-CSRF-Token")
    ):
        return error(403, "csrf", "页面已过期,请刷新后重试")
    request[SESSION_KEY] = session
    request[USER_KEY] = user
    return await handler(request)


def current_user(request: web.Request, *roles: str) -> User:
    """The logged-in user; 403 unless their role is among `roles` (any role when none given)."""
    user = request[USER_KEY]
    if roles and user.role not in roles:
        raise DeskRefused("forbidden", "您没有权限访问此功能", 403)
    return user


def user_json(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "endpoint": user.endpoint,
        "lines": list(user.lines),
    }


@public
async def login(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    # JSON only: a cross-site HTML form cannot send it, so nobody is logged in behind their back.
    if not _origin_ok(request) or request.content_type != "application/json":
        return error(403, "bad-origin", "请求来源不被允许")
    try:
        body = await request.json()
    except ValueError:
        return error(400, "bad-json", "请求格式错误")
    username = str(body.get("username", ""))[:64] if isinstance(body, dict) else ""
    password = str(body.get("password", ""))[:256] if isinstance(body, dict) else ""
    remote = request.remote or "?"
    now = desk.deps.clock.monotonic()
    wait = desk.limiter.retry_after(username, remote, now)
    if wait > 0:
        desk.metrics.logins.labels("limited").inc()
        response = error(429, "too-many-attempts", f"登录失败次数过多,请 {int(wait) + 1} 秒后再试")
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    # argon2 is deliberately slow: verify off the event loop.
    user = await asyncio.get_running_loop().run_in_executor(
        None, desk.deps.users.authenticate, username, password
    )
    if user is None:
        desk.limiter.failed(username, remote, now)
        desk.metrics.logins.labels("failed").inc()
        log.info("desk login failed for %r from %s", username, remote)
        return error(401, "bad-credentials", "用户名或密码错误")
    desk.limiter.succeeded(username)
    desk.metrics.logins.labels("ok").inc()
    old = request.cookies.get(COOKIE)
    if old:
        desk.sessions.drop(old)
    session = desk.sessions.create(user.username, now)
    response = web.json_response({"user": user_json(user), "csrf": session.csrf})
    response.set_cookie(
        COOKIE,
        session.token,
        httponly=True,
        samesite="Strict",
        secure=desk.deps.config.cookie_secure,
        path="/",
    )
    log.info("desk login: %s (%s)", user.username, user.role)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    user = current_user(request)
    st = desk.agents.state(user)
    for line in sorted(st.lines):  # an empty desk must not keep receiving calls
        try:
            await desk.agents.logout_line(user, line)
        except AmiActionFailed as exc:
            log.warning("logout of %s from %s failed: %s", user.username, line, exc.message)
    token = request[SESSION_KEY].token
    desk.sessions.drop(token)
    await desk.notifier.close_session(token)
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    user = current_user(request)
    config = desk.deps.config
    return web.json_response(
        {
            "user": user_json(user),
            "csrf": request[SESSION_KEY].csrf,
            "agent": desk.agents.state_json(desk.agents.state(user)) if user.endpoint else None,
            "lines": [{"id": k, "zh": v} for k, v in LINE_NAMES_ZH.items()],
            "kinds": [{"id": k, "zh": v} for k, v in KINDS_ZH.items()],
            "departments": list(config.departments),
            "specialists": [{"id": s.id, "name": s.name} for s in config.specialists],
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/me", me)
