"""The OpenAPI 3 document of what we serve under /api/110 (kept beside the code it describes).

Field rules mirror `messages.py`; the signing scheme is `signing.py`'s.
"""

from __future__ import annotations

from typing import Any

from police110.errors import ErrorKind
from police110.messages import FEEDBACK_STATUSES, MAX_SEQ

CASE_NO_PATTERN = "^[A-Za-z0-9-]{1,40}$"

SIGNING_TEXT = """\
Every request except GET /openapi.json is signed by the calling partner with its own key:

    X-Partner-Id:  the partner id given in our config/partners.yaml
    X-Timestamp:   Unix time in seconds (decimal); refused when more than 300 s off our clock
    X-Nonce:       16-64 characters of [A-Za-z0-9_-], never reused (stored durably)
    X-Signature:   lower-case hex HMAC-SHA256(key, canonical string)

The canonical string is these six lines joined by "\\n" (no trailing newline), UTF-8:

    HOTLINE-HMAC-SHA256-V1
    METHOD (upper case)
    path with query string exactly as sent on the request line (e.g. /api/110/referrals)
    X-Timestamp value
    X-Nonce value
    lower-case hex SHA-256 of the raw request body (of the empty string when none)

Our own pushes to the partner (POST {base_url}/referrals and {base_url}/feedback) are
signed the same way with our key and carry an Idempotency-Key header equal to the body's
message_id; partners apply each message_id once. Production traffic must use TLS
(a reverse proxy in front of the service, or an aiohttp SSL context)."""


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _text(max_len: int, description: str, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_len, "description": description}
    if pattern:
        schema["pattern"] = pattern
    return schema


def openapi_document(error_kinds: list[ErrorKind]) -> dict[str, Any]:
    ids = sorted({k.id for k in error_kinds})
    auth_errors = _error_response("签名缺失、错误、过期或重放 (unsigned, bad-signature, "
                                  "stale-timestamp, replayed-nonce, ...)")
    common = {
        "400": _error_response("请求体不是合法 JSON (malformed-json)"),
        "401": auth_errors,
        "413": _error_response("请求体过大 (body-too-large)"),
        "422": _error_response("字段不符合定义 (invalid-body)"),
        "503": _error_response("工单系统暂不可用, 可重试 (tickets-unavailable)"),
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "12345 ⇄ 110 警情/非警情互转接口 (referral exchange)",
            "version": "1.0.0",
            "description": SIGNING_TEXT,
        },
        "servers": [{"url": "/api/110"}],
        "security": [{"partnerId": [], "timestamp": [], "nonce": [], "signature": []}],
        "paths": {
            "/referrals": {
                "post": {
                    "operationId": "receiveReferral",
                    "summary": "110 转来非警情诉求, 生成 12345 工单 (idempotent on incident_no)",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Referral"},
                        "example": {"incident_no": "J2026-000123", "category": "噪音扰民",
                                    "summary": "夜间工地施工噪音, 非警情, 转 12345 处理",
                                    "caller_number": "13800138000",
                                    "address": "谯城区某路 1 号",
                                    "occurred_at": "2026-11-26T22:10:00+08:00"}}}},
                    "responses": {
                        "201": {"description": "新建工单", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/ReferralAnswer"}}}},
                        "200": {"description": "重复转办: 返回首次生成的工单号",
                                "content": {"application/json": {"schema": {
                                    "$ref": "#/components/schemas/ReferralAnswer"}}}},
                        **common,
                    },
                },
            },
            "/referrals/{incident_no}": {
                "get": {
                    "operationId": "getReferral",
                    "summary": "按 110 警情编号查询对应的 12345 工单号",
                    "parameters": [{"name": "incident_no", "in": "path", "required": True,
                                    "schema": {"type": "string", "pattern": CASE_NO_PATTERN}}],
                    "responses": {
                        "200": {"description": "已受理", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/ReferralAnswer"}}}},
                        "404": _error_response("未找到 (unknown-referral)"),
                        "401": auth_errors,
                    },
                },
            },
            "/feedback": {
                "post": {
                    "operationId": "receiveFeedback",
                    "summary": "110 反馈办理结果 (our ticket); older seq never overwrites newer",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Feedback"},
                        "example": {"ticket_number": "T00000001", "seq": 2,
                                    "status": "resolved", "note": "已出警处置",
                                    "occurred_at": "2026-11-26T22:40:00+08:00"}}}},
                    "responses": {
                        "200": {"description": "已处理 (applied, or ignored as duplicate/stale)",
                                "content": {"application/json": {"schema": {
                                    "$ref": "#/components/schemas/FeedbackAnswer"}}}},
                        "404": _error_response("工单不存在 (unknown-ticket)"),
                        **common,
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {
                "partnerId": {"type": "apiKey", "in": "header", "name": "X-Partner-Id"},
                "timestamp": {"type": "apiKey", "in": "header", "name": "X-Timestamp"},
                "nonce": {"type": "apiKey", "in": "header", "name": "X-Nonce"},
                "signature": {"type": "apiKey", "in": "header", "name": "X-Signature",
                              "description": "HMAC-SHA256, see info.description"},
            },
            "schemas": {
                "Referral": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["incident_no", "summary"],
                    "properties": {
                        "incident_no": _text(40, "110 警情编号", CASE_NO_PATTERN),
                        "category": _text(64, "分类"),
                        "summary": {**_text(2000, "诉求内容"), "minLength": 1},
                        "caller_number": _text(20, "来电号码", "^[0-9+-]{3,20}$"),
                        "address": _text(200, "地址"),
                        "occurred_at": _text(40, "发生时间 (ISO 8601)"),
                    },
                },
                "ReferralAnswer": {
                    "type": "object",
                    "required": ["incident_no", "ticket_number", "created"],
                    "properties": {
                        "incident_no": {"type": "string"},
                        "ticket_number": {"type": "string", "description": "12345 工单号"},
                        "created": {"type": "boolean"},
                    },
                },
                "Feedback": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["ticket_number", "seq", "status"],
                    "properties": {
                        "ticket_number": _text(40, "12345 工单号", CASE_NO_PATTERN),
                        "seq": {"type": "integer", "minimum": 1, "maximum": MAX_SEQ,
                                "description": "该工单反馈的序号, 每次更新递增"},
                        "status": {"type": "string", "enum": list(FEEDBACK_STATUSES)},
                        "note": _text(2000, "办理说明"),
                        "occurred_at": _text(40, "时间 (ISO 8601)"),
                    },
                },
                "FeedbackAnswer": {
                    "type": "object",
                    "required": ["ticket_number", "seq", "applied", "reason"],
                    "properties": {
                        "ticket_number": {"type": "string"},
                        "seq": {"type": "integer"},
                        "applied": {"type": "boolean"},
                        "reason": {"type": "string", "enum": ["applied", "duplicate", "stale"]},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["id", "message"],
                        "properties": {
                            "id": {"type": "string", "enum": ids},
                            "message": {"type": "string", "description": "中文说明"},
                            "details": {"type": "object"},
                        },
                    }},
                },
            },
        },
    }
