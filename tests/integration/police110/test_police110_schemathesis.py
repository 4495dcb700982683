"""schemathesis against the served OpenAPI document, every request signed: no 5xx.

The service runs on a real port in a background thread (schemathesis calls it with
`requests`); a requests auth hook signs each prepared request, so generated cases get
past the signature check and reach the handlers.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis import checks

from police110.http import ALL_ERROR_KINDS, Police110Deps, build_police110_app
from police110.openapi import openapi_document
from police110.service import Exchange
from police110.store import Police110Store
from tests.integration.police110.police110_testkit import (
    PARTNER_KEY,
    FakeTickets,
    hand_signed,
    make_config,
)

schema = schemathesis.openapi.from_dict(openapi_document(ALL_ERROR_KINDS))


class SignRequests(requests.auth.AuthBase):
    """Signs exactly the bytes and path requests is about to send."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        assert isinstance(body, bytes), type(body)
        r.headers.update(hand_signed(PARTNER_KEY, "city-110", r.method or "GET",
                                     r.path_url, body))
        return r


class LiveService:
    def __init__(self, tmp: Any) -> None:
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.runner: web.AppRunner | None = None
        self.base_url = ""
        self.tickets = FakeTickets()
        self.statuses: Counter[str] = Counter()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        store = Police110Store.from_url(f"sqlite:///{self.tmp / 'st.db'}")
        store.create_tables()
        # The ticket of the document's feedback example, exchanged with this partner.
        self.tickets.add_ticket("T00000001")
        store.record_referral("city-110", "J2026-000001", "T00000001")
        exchange = Exchange(make_config("http://127.0.0.1:9/none"), store, self.tickets)
        root = web.Application()
        root.add_subapp("/api/110", build_police110_app(Police110Deps(exchange,
                                                                      run_sender=False)))
        self.runner = web.AppRunner(root)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/api/110"

    def stop(self) -> None:
        assert self.runner is not None
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    service = LiveService(tmp_path_factory.mktemp("schemathesis"))
    service.thread.start()
    if not service.ready.wait(20):
        raise AssertionError("the exchange did not start")
    yield service
    service.stop()
    print("\nschemathesis responses:", dict(sorted(service.statuses.items())))


def test_served_document_is_the_one_tested(live: LiveService) -> None:
    served = requests.get(f"{live.base_url}/openapi.json", timeout=5).json()
    assert served == openapi_document(ALL_ERROR_KINDS)


@pytest.mark.integration
@schema.parametrize()
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_no_server_errors(case: schemathesis.Case, live: LiveService) -> None:
    response = case.call_and_validate(
        base_url=live.base_url, auth=SignRequests(), timeout=10,
        checks=[checks.not_a_server_error, checks.status_code_conformance,
                checks.content_type_conformance, checks.response_schema_conformance])
    # Every generated request is signed, so none may be refused for its signature: the
    # cases really reach the handlers.
    assert response.status_code != 401, response.text
    live.statuses[f"{case.method} {case.path} {response.status_code}"] += 1
