"""The desk mounted under /desk/ in the service's app, as `hotline run` does it."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ami_bridge import events as ev
from desk.app import build_desk_app
from desk.services import DeskDeps
from hotline.bus import EventBus
from tests.unit.desk.conftest import PASSWORD
from tests.unit.desk.eventkit import agent_event, next_message


async def test_mounted_under_a_prefix(deps: DeskDeps, bus: EventBus) -> None:
    root = web.Application()
    root.add_subapp("/desk/", build_desk_app(deps))
    async with TestClient(TestServer(root)) as client:
        resp = await client.get("/desk/", allow_redirects=False)
        assert resp.status == 302
        assert resp.headers["Location"] == "login"  # relative: /desk/login
        assert (await client.get("/desk/login")).status == 200
        assert (await client.get("/desk/static/desk.js")).status == 200
        assert (await client.get("/desk/api/me")).status == 401
        resp = await client.post("/desk/api/login",
                                 json={"username": "agent1001", "password": PASSWORD})
        assert resp.status == 200
        assert (await client.get("/desk/")).status == 200
        ws = await client.ws_connect("/desk/ws")
        bus.publish(agent_event(ev.AgentCalled, "PJSIP/1001"))
        assert (await next_message(ws, "pop"))["ticket"]["number"] == "20261126-0001"
        await ws.close()
