"""HMAC-SHA256 request signing, the same for requests we receive and requests we send.

The canonical string is six lines joined by "\\n" (no trailing newline), UTF-8 encoded:

    HOTLINE-HMAC-SHA256-V1
    <METHOD, upper case>
    <path with query string exactly as on the request line, e.g. /api/110/referrals?x=1>
    <timestamp: Unix seconds, decimal digits, the X-Timestamp header>
    <nonce: the X-Nonce header, 16-64 of [A-Za-z0-9_-]>
    <lower-case hex SHA-256 of the raw body bytes (of b"" when there is no body)>

X-Signature is the lower-case hex HMAC-SHA256 of that string under the sender's key;
X-Partner-Id names the sender (and so the key). Pure functions: no clock, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from police110 import errors
from police110.errors import ExchangeError

VERSION = "HOTLINE-HMAC-SHA256-V1"
HEADER_PARTNER = "X-Partner-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_SIGNATURE = "X-Signature"

_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
_PARTNER = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def canonical_string(method: str, path_qs: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((VERSION, method.upper(), path_qs, timestamp, nonce, digest)).encode("utf-8")


def signature(key: bytes, method: str, path_qs: str, timestamp: str, nonce: str,
              body: bytes) -> str:
    return hmac.new(key, canonical_string(method, path_qs, timestamp, nonce, body),
                    hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_urlsafe(18)  # 24 characters from the allowed alphabet


def signed_headers(partner_id: str, key: bytes, method: str, path_qs: str, body: bytes,
                   now: float, nonce: str | None = None) -> dict[str, str]:
    """Headers that sign one outgoing request (a fresh nonce unless one is given)."""
    timestamp = str(int(now))
    nonce = nonce or new_nonce()
    return {
        HEADER_PARTNER: partner_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature(key, method, path_qs, timestamp, nonce, body),
    }


@dataclass(frozen=True)
class SignedRequest:
    """The signature headers of one received request, syntax already checked."""

    partner_id: str
    timestamp: str  # kept as sent: the signature covers these exact characters
    nonce: str
    signature: str

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> SignedRequest:
        values = [headers.get(h) for h in
                  (HEADER_PARTNER, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)]
        partner, timestamp, nonce, sig = values
        if partner is None or timestamp is None or nonce is None or sig is None:
            missing = [h for h, v in zip((HEADER_PARTNER, HEADER_TIMESTAMP, HEADER_NONCE,
                                          HEADER_SIGNATURE), values, strict=True) if v is None]
            raise ExchangeError(errors.UNSIGNED, {"missing": missing})
        if not _PARTNER.fullmatch(partner):
            raise ExchangeError(errors.UNKNOWN_PARTNER)
        if not _TIMESTAMP.fullmatch(timestamp):
            raise ExchangeError(errors.BAD_TIMESTAMP)
        if not _NONCE.fullmatch(nonce):
            raise ExchangeError(errors.BAD_NONCE)
        if not _SIGNATURE.fullmatch(sig):
            raise ExchangeError(errors.BAD_SIGNATURE)
        return cls(partner, timestamp, nonce, sig.lower())

    def check_fresh(self, now: float, max_skew_s: float) -> None:
        if abs(now - int(self.timestamp)) > max_skew_s:
            raise ExchangeError(errors.STALE_TIMESTAMP)

    def check_signature(self, key: bytes, method: str, path_qs: str, body: bytes) -> None:
        expected = signature(key, method, path_qs, self.timestamp, self.nonce, body)
        if not hmac.compare_digest(expected, self.signature):
            raise ExchangeError(errors.BAD_SIGNATURE)
