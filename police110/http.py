"""The aiohttp sub-application mounted under /api/110: thin handlers over `Exchange`.

Two middlewares: `error_middleware` renders every failure as
`{"error": {"id": ..., "message": ...}}` (the one place errors become JSON), and
`signature_middleware` enforces the body limit and the partner's signature before any
handler runs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiohttp import web

from police110 import errors
from police110.errors import ErrorKind, ExchangeError
from police110.messages import CASE_NO, Feedback, InboundReferral
from police110.openapi import openapi_document
from police110.outbox import outbox_sender_ctx
from police110.partners import Partner
from police110.service import Exchange

log = logging.getLogger(__name__)

EXCHANGE = web.AppKey("police110_exchange", Exchange)
OPENAPI = web.AppKey("police110_openapi", dict[str, Any])
PARTNER = web.RequestKey("police110_partner", Partner)
BODY = web.RequestKey("police110_body", bytes)

OPENAPI_PATH = "/openapi.json"
OPENAPI_ROUTE = "police110-openapi"
_HTTP_ERROR_KINDS = {404: errors.NOT_FOUND, 405: errors.METHOD_NOT_ALLOWED,
                     413: errors.BODY_TOO_LARGE}
ALL_ERROR_KINDS: list[ErrorKind] = [v for v in vars(errors).values() if isinstance(v, ErrorKind)]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_dumps = partial(json.dumps, ensure_ascii=False)


@dataclass(frozen=True)
class Police110Deps:
    exchange: Exchange
    run_sender: bool = True  # start the outbox sender with the application


def _error_response(error: ExchangeError) -> web.Response:
    return web.json_response(error.body(), status=error.kind.status, dumps=_dumps)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ExchangeError as exc:
        if exc.kind.status == 401:
            log.info("police110 refused %s %s: %s", request.method, request.path, exc.kind.id)
        return _error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kind = _HTTP_ERROR_KINDS.get(exc.status) or ErrorKind(exc.status, "http-error", exc.reason)
        return _error_response(ExchangeError(kind))
    except Exception:
        log.exception("police110 handler failed on %s %s", request.method, request.path)
        return _error_response(ExchangeError(errors.INTERNAL))


async def _read_limited(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise ExchangeError(errors.BODY_TOO_LARGE, {"limit": limit})
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise ExchangeError(errors.BODY_TOO_LARGE, {"limit": limit})
        chunks.append(chunk)
    return b"".join(chunks)


@web.middleware
async def signature_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.route.name == OPENAPI_ROUTE:  # the one public document
        return await handler(request)
    exchange = request.app[EXCHANGE]
    body = await _read_limited(request, exchange.config.limits.max_body_bytes)
    partner = await exchange.authenticate(request.method, request.raw_path, request.headers,
                                          body)
    request[PARTNER] = partner
    request[BODY] = body
    return await handler(request)


def _json_body(request: web.Request) -> Any:
    try:
        return json.loads(request[BODY])
    except (ValueError, RecursionError) as exc:
        raise ExchangeError(errors.MALFORMED_JSON) from exc


async def post_referral(request: web.Request) -> web.Response:
    referral = InboundReferral.parse(_json_body(request))
    answer = await request.app[EXCHANGE].receive_referral(request[PARTNER], referral)
    return web.json_response(
        {"incident_no": answer.incident_no, "ticket_number": answer.ticket_number,
         "created": answer.created}, status=201 if answer.created else 200, dumps=_dumps)


async def get_referral(request: web.Request) -> web.Response:
    incident_no = request.match_info["incident_no"]
    if not CASE_NO.fullmatch(incident_no):
        raise ExchangeError(errors.UNKNOWN_REFERRAL)
    ticket = await request.app[EXCHANGE].referral_ticket(request[PARTNER], incident_no)
    return web.json_response({"incident_no": incident_no, "ticket_number": ticket,
                              "created": False}, dumps=_dumps)


async def post_feedback(request: web.Request) -> web.Response:
    fb = Feedback.parse_inbound(_json_body(request))
    answer = await request.app[EXCHANGE].receive_feedback(request[PARTNER], fb)
    return web.json_response({"ticket_number": answer.ticket_number, "seq": answer.seq,
                              "applied": answer.applied, "reason": answer.reason},
                             dumps=_dumps)


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI], dumps=_dumps)


def build_police110_app(deps: Police110Deps) -> web.Application:
    """The sub-application the service mounts with `app.add_subapp("/api/110", ...)`."""
    exchange = deps.exchange
    app = web.Application(middlewares=[error_middleware, signature_middleware])
    app[EXCHANGE] = exchange
    app[OPENAPI] = openapi_document(ALL_ERROR_KINDS)
    app.router.add_get(OPENAPI_PATH, get_openapi, name=OPENAPI_ROUTE)
    app.router.add_post("/referrals", post_referral)
    app.router.add_get("/referrals/{incident_no}", get_referral)
    app.router.add_post("/feedback", post_feedback)
    if deps.run_sender:
        app.cleanup_ctx.append(outbox_sender_ctx(exchange.config, exchange.store,
                                                 exchange.doorbell))
    return app
