"""Every error the exchange answers with: an HTTP status, a stable id and a Chinese message.

Partners match on the id (it never changes); the message is for the people reading logs
on either side. Everything is rendered to JSON in one place (`http.error_middleware`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorKind:
    status: int
    id: str
    message: str


UNSIGNED = ErrorKind(401, "unsigned", "请求未签名: 缺少签名相关的请求头")
UNKNOWN_PARTNER = ErrorKind(401, "unknown-partner", "未知的合作方编号")
BAD_TIMESTAMP = ErrorKind(401, "bad-timestamp", "时间戳格式错误: 应为 Unix 秒数")
STALE_TIMESTAMP = ErrorKind(401, "stale-timestamp", "时间戳已过期或超前, 请校准时钟")
BAD_NONCE = ErrorKind(401, "bad-nonce", "随机串格式错误: 应为 16-64 位字母、数字、- 或 _")
BAD_SIGNATURE = ErrorKind(401, "bad-signature", "签名校验失败")
REPLAYED_NONCE = ErrorKind(401, "replayed-nonce", "随机串已使用过, 疑似重放请求")
BODY_TOO_LARGE = ErrorKind(413, "body-too-large", "请求体过大")
MALFORMED_JSON = ErrorKind(400, "malformed-json", "请求体不是合法的 JSON")
INVALID_BODY = ErrorKind(422, "invalid-body", "请求内容不符合接口定义")
NOT_FOUND = ErrorKind(404, "not-found", "资源不存在")
UNKNOWN_TICKET = ErrorKind(404, "unknown-ticket", "工单不存在")
UNKNOWN_REFERRAL = ErrorKind(404, "unknown-referral", "未找到该警情编号对应的转办")
METHOD_NOT_ALLOWED = ErrorKind(405, "method-not-allowed", "不支持的请求方法")
TICKETS_UNAVAILABLE = ErrorKind(503, "tickets-unavailable", "工单系统暂不可用, 请稍后重试")
INTERNAL = ErrorKind(500, "internal", "服务器内部错误")


class ExchangeError(Exception):
    """Raised anywhere in request handling; the middleware turns it into the JSON answer."""

    def __init__(self, kind: ErrorKind, details: dict[str, Any] | None = None) -> None:
        super().__init__(kind.id)
        self.kind = kind
        self.details = details or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"id": self.kind.id, "message": self.kind.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}
