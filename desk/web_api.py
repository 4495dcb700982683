"""JSON API of the agent's desk: lines, pause, call control, knowledge base, tickets, dispatch."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from desk.agents import DeskRefused
from desk.payloads import audit_json, hits_json, ticket_json
from desk.ports import LINES, TicketFilter
from desk.services import DESK
from desk.web_auth import current_user


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise DeskRefused("bad-json", "请求格式错误", 400) from exc
    if not isinstance(body, dict):
        raise DeskRefused("bad-json", "请求格式错误", 400)
    return body


def _agent(request: web.Request) -> Any:
    user = current_user(request)
    if not user.endpoint:
        raise DeskRefused("no-phone", "您的账号没有绑定话机", 403)
    return user


async def line_login(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    st = await desk.agents.login_line(_agent(request), request.match_info["line"])
    return web.json_response(desk.agents.state_json(st))


async def line_logout(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    st = await desk.agents.logout_line(_agent(request), request.match_info["line"])
    return web.json_response(desk.agents.state_json(st))


async def pause(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    body = await _body(request)
    st = await desk.agents.pause(_agent(request), str(body.get("reason", "")))
    return web.json_response(desk.agents.state_json(st))


async def unpause(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    st = await desk.agents.unpause(_agent(request))
    return web.json_response(desk.agents.state_json(st))


async def finish_wrapup(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    st = await desk.agents.finish_wrapup(_agent(request))
    return web.json_response(desk.agents.state_json(st))


async def call_action(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    user = _agent(request)
    action = request.match_info["action"]
    if action == "hold":
        await desk.calls.hold(user)
    elif action == "unhold":
        await desk.calls.unhold(user)
    elif action == "transfer":
        body = await _body(request)
        await desk.calls.transfer(user, str(body.get("target", "")))
    elif action == "three-way-110":
        result = await desk.calls.three_way_110(user)
        if not result.ok:
            raise DeskRefused("three-way-failed", result.message, 502)
        return web.json_response({"ok": True, "message": result.message})
    else:
        raise web.HTTPNotFound()
    return web.json_response({"ok": True, "agent": desk.agents.state_json(desk.agents.state(user))})


async def kb_search(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    current_user(request)
    query = request.query.get("q", "")[:200]
    line = request.query.get("line") or None
    return web.json_response({"hits": hits_json(desk.deps.kb.search(query, 8, line))})


async def ticket_get(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    user = current_user(request)
    number = request.match_info["number"]
    if not desk.pops.may_handle(user, number):
        raise DeskRefused("not-your-ticket", "该工单不是分配给您的", 403)
    ticket = await desk.deps.tickets.get(number)
    if ticket is None:
        raise DeskRefused("no-such-ticket", "工单不存在", 404)
    # Supervisors read tickets from lists: the number stays masked for them.
    return web.json_response(ticket_json(ticket, reveal_number=not user.is_supervisor))


async def ticket_dispatch(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    user = current_user(request)
    body = await _body(request)
    changes = body.get("changes", {})
    if not isinstance(changes, dict):
        raise DeskRefused("bad-json", "请求格式错误", 400)
    ticket = await desk.dispatcher.dispatch(
        user, request.match_info["number"], str(body.get("department", "")), changes
    )
    return web.json_response({"ok": True, "ticket": ticket_json(ticket, reveal_number=False)})


async def ticket_list(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    current_user(request, "supervisor", "admin")
    q = request.query
    line = q.get("line") or None
    if line is not None and line not in LINES:
        raise DeskRefused("bad-line", "未知线路", 400)
    try:
        limit = min(int(q.get("limit", "100")), 500)
    except ValueError as exc:
        raise DeskRefused("bad-limit", "limit 应为整数", 400) from exc
    where = TicketFilter(
        line=line,
        status=q.get("status") or None,
        caller_number=q.get("caller") or None,
        text=q.get("q") or None,
        limit=limit,
    )
    tickets = await desk.deps.tickets.list_tickets(where)
    return web.json_response({"tickets": [ticket_json(t, reveal_number=False) for t in tickets]})


async def ticket_audit(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    current_user(request, "supervisor", "admin")
    trail = await desk.deps.tickets.audit_trail(request.match_info["number"])
    return web.json_response({"audit": audit_json(trail)})


async def recording(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    user = current_user(request)
    number, name = request.match_info["number"], request.match_info["name"]
    if not desk.pops.may_handle(user, number):
        raise DeskRefused("not-your-ticket", "该工单不是分配给您的", 403)
    ticket = await desk.deps.tickets.get(number)
    if ticket is None or name not in ticket.recordings:
        raise DeskRefused("no-such-recording", "录音不存在", 404)
    action = "download" if request.query.get("download") == "1" else "play"
    path = desk.recordings.open(user.username, number, name, action)
    if path is None:
        raise DeskRefused("no-such-recording", "录音文件不存在", 404)
    headers = (
        {"Content-Disposition": f'attachment; filename="{path.name}"'}
        if action == "download"
        else {}
    )
    return web.FileResponse(path, headers=headers)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/lines/{line}/login", line_login)
    r.add_post("/api/lines/{line}/logout", line_logout)
    r.add_post("/api/pause", pause)
    r.add_post("/api/unpause", unpause)
    r.add_post("/api/wrapup/finish", finish_wrapup)
    r.add_post("/api/call/{action}", call_action)
    r.add_get("/api/kb", kb_search)
    r.add_get("/api/tickets", ticket_list)
    r.add_get("/api/tickets/{number}", ticket_get)
    r.add_post("/api/tickets/{number}/dispatch", ticket_dispatch)
    r.add_get("/api/tickets/{number}/audit", ticket_audit)
    # A recording's name is its path in the recordings folder: `<day>/<call id>/<file>`.
    r.add_get("/api/tickets/{number}/recordings/{name:.+}", recording)
