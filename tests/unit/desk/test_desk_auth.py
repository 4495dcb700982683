"""Without a session nothing is served; CSRF, origin, roles and the login rate limit."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import TestClient

from desk.memory import RecordingAmi
from desk.sessions import LoginLimiter
from tests.unit.desk.conftest import PASSWORD, FakeClock, another_client, desk_of, login


async def test_pages_redirect_to_login_without_session(app_client: TestClient) -> None:
    for path in ("/", "/supervisor", "/admin"):
        resp = await app_client.get(path, allow_redirects=False)
        assert resp.status == 302, path
        assert resp.headers["Location"] == "login"
    resp = await app_client.get("/login")
    assert resp.status == 200
    assert "坐席工作台" in await resp.text()


async def test_apis_and_websocket_refuse_without_session(app_client: TestClient) -> None:
    for method, path in [
        ("GET", "/api/me"),
        ("GET", "/api/live"),
        ("GET", "/api/tickets"),
        ("GET", "/api/kb?q=物业"),
        ("GET", "/api/admin/status"),
        ("GET", "/api/tickets/20261126-0001"),
        ("POST", "/api/tickets/20261126-0001/dispatch"),
        ("POST", "/api/pause"),
        ("POST", "/api/call/hold"),
        ("GET", "/ws"),
    ]:
        resp = await app_client.request(method, path)
        assert resp.status == 401, (method, path)
        assert (await resp.json())["error_id"] == "no-session"


async def test_websocket_upgrade_refused_without_session(app_client: TestClient) -> None:
    try:
        await app_client.ws_connect("/ws")
    except Exception as exc:  # aiohttp raises WSServerHandshakeError
        assert "401" in str(exc)
    else:
        raise AssertionError("websocket opened without a session")


async def test_login_sets_strict_httponly_cookie(app_client: TestClient) -> None:
    resp = await app_client.post("/api/login", json={"username": "agent1001", "password": PASSWORD})
    assert resp.status == 200
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    body = await resp.json()
    assert body["user"]["endpoint"] == "PJSIP/1001"
    assert "password_hash" not in str(body)
    me = await app_client.get("/api/me")
    assert (await me.json())["user"]["username"] == "agent1001"


async def test_wrong_password_refused(app_client: TestClient) -> None:
    resp = await app_client.post("/api/login", json={"username": "agent1001", "password": "nope"})
    assert resp.status == 401
    assert (await resp.json())["message"] == "用户名或密码错误"
    resp = await app_client.post("/api/login", json={"username": "nobody", "password": PASSWORD})
    assert resp.status == 401


async def test_state_change_needs_csrf_token(app_client: TestClient, ami: RecordingAmi) -> None:
    csrf = await login(app_client, "agent1001")
    resp = await app_client.post("/api/pause", json={"reason": "培训"})
    assert resp.status == 403
    assert (await resp.json())["error_id"] == "csrf"
    resp = await app_client.post(
        "/api/pause", json={"reason": "培训"}, headers={"X-CSRF-Token": "x" + csrf}
    )
    assert resp.status == 403
    assert ami.actions == []
    resp = await app_client.post(
        "/api/pause", json={"reason": "培训"}, headers={"X-CSRF-Token": csrf}
    )
    assert resp.status == 200
    assert ami.actions == [
        {"Action": "QueuePause", "Interface": "PJSIP/1001", "Paused": "true", "Reason": "培训"}
    ]


async def test_foreign_origin_refused(app_client: TestClient) -> None:
    csrf = await login(app_client, "agent1001")
    resp = await app_client.post(
        "/api/pause", json={}, headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"}
    )
    assert resp.status == 403
    assert (await resp.json())["error_id"] == "bad-origin"


async def test_login_rate_limited_per_user(app_client: TestClient, clock: FakeClock) -> None:
    for _ in range(5):
        resp = await app_client.post(
            "/api/login", json={"username": "agent1001", "password": "bad"}
        )
        assert resp.status == 401
    # Even the right password is refused while the limit holds.
    resp = await app_client.post("/api/login", json={"username": "agent1001", "password": PASSWORD})
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0
    clock.advance(301)
    resp = await app_client.post("/api/login", json={"username": "agent1001", "password": PASSWORD})
    assert resp.status == 200


async def test_login_rate_limited_per_address(app_client: TestClient) -> None:
    for name in ("a1", "a2", "a3", "a4", "a5"):
        await app_client.post("/api/login", json={"username": name, "password": "bad"})
    resp = await app_client.post(
        "/api/login", json={"username": "supervisor", "password": PASSWORD}
    )
    assert resp.status == 429
    assert "登录失败次数过多" in (await resp.json())["message"]


async def test_roles(app_client: TestClient) -> None:
    await login(app_client, "agent1001")
    assert (await app_client.get("/api/tickets")).status == 403
    assert (await app_client.get("/api/live")).status == 403
    assert (await app_client.get("/supervisor")).status == 403
    assert (await app_client.get("/api/admin/status")).status == 403
    async with another_client(app_client, "supervisor") as sup:
        assert (await sup.get("/api/tickets")).status == 200
        assert (await sup.get("/supervisor")).status == 200
        assert (await sup.get("/admin")).status == 403
        # A supervisor has no phone: no queue membership.
        csrf = (await (await sup.get("/api/me")).json())["csrf"]
        resp = await sup.post("/api/lines/general/login", headers={"X-CSRF-Token": csrf})
        assert resp.status == 403


async def test_admin_page_and_status(app_client: TestClient) -> None:
    await login(app_client, "admin")
    assert (await app_client.get("/admin")).status == 200
    body = await (await app_client.get("/api/admin/status")).json()
    assert {u["username"] for u in body["users"]} >= {"agent1001", "admin"}
    assert "password_hash" not in str(body)
    assert body["kb_articles"] >= 15


async def test_logout_ends_session(app_client: TestClient, ami: RecordingAmi) -> None:
    csrf = await login(app_client, "agent1001")
    await app_client.post("/api/lines/property/login", headers={"X-CSRF-Token": csrf})
    resp = await app_client.post("/api/logout", headers={"X-CSRF-Token": csrf})
    assert resp.status == 200
    assert (await app_client.get("/api/me")).status == 401
    # Logging out takes the agent off the lines, so calls stop ringing at an empty desk.
    assert ami.actions[-1] == {
        "Action": "QueueRemove",
        "Queue": "property",
        "Interface": "PJSIP/1001",
    }
    assert desk_of(app_client).sessions.get(None, 0) is None


async def test_metrics_from_loopback(app_client: TestClient) -> None:
    resp = await app_client.get("/metrics")
    assert resp.status == 200
    text = await resp.text()
    assert "desk_screenpop_latency_seconds" in text
    assert "hotline_queue_waiting_calls" in text


async def test_pages_carry_no_external_assets(app_client: TestClient) -> None:
    await login(app_client, "admin")
    for path in ("/", "/supervisor", "/admin", "/login"):
        resp = await app_client.get(path)
        html = await resp.text()
        assert "http://" not in html and "https://" not in html, path
        assert "default-src 'self'" in resp.headers["Content-Security-Policy"]


async def test_login_accepts_json_only(app_client: TestClient) -> None:
    body = json.dumps({"username": "agent1001", "password": PASSWORD})
    resp = await app_client.post("/api/login", data=body, headers={"Content-Type": "text/plain"})
    assert resp.status == 403


async def test_logout_closes_the_sessions_websocket(app_client: TestClient) -> None:
    csrf = await login(app_client, "agent1001")
    ws = await app_client.ws_connect("/ws")
    await app_client.post("/api/logout", headers={"X-CSRF-Token": csrf})
    async with asyncio.timeout(2):
        while not ws.closed:
            await ws.receive()
    assert ws.close_code == 4401


def test_limiter_memory_is_bounded() -> None:
    limiter = LoginLimiter(max_keys=100)
    for i in range(1000):
        limiter.failed(f"user{i}", "10.0.0.1", float(i))
    assert len(limiter._failures) <= 100
    # The address key is recent and still counts.
    assert limiter.retry_after("anyone", "10.0.0.1", 999.5) > 0
