from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from police110.errors import ExchangeError
from police110.signing import (
    SignedRequest,
    canonical_string,
    signature,
    signed_headers,
)

KEY = b"k" * 32


def test_canonical_string_is_the_documented_six_lines():
    body = b'{"a":1}'
    assert canonical_string("post", "/api/110/referrals?x=1&y=2", "1800000000",
                            "abcdefghijklmnop", body) == (
        b"HOTLINE-HMAC-SHA256-V1\nPOST\n/api/110/referrals?x=1&y=2\n1800000000\n"
        b"abcdefghijklmnop\n" + hashlib.sha256(body).hexdigest().encode())


def test_signature_is_hmac_sha256_hex_of_the_canonical_string():
    sig = signature(KEY, "GET", "/p", "1", "n" * 16, b"")
    expected = hmac.new(KEY, b"HOTLINE-HMAC-SHA256-V1\nGET\n/p\n1\n" + b"n" * 16 + b"\n"
                        + hashlib.sha256(b"").hexdigest().encode(), hashlib.sha256).hexdigest()
    assert sig == expected


@given(method=st.sampled_from(["GET", "POST"]),
       path=st.from_regex(r"/[a-z0-9/]{0,30}(\?[a-z0-9=&]{0,20})?", fullmatch=True),
       body=st.binary(max_size=200))
def test_signed_headers_verify_and_any_change_breaks_them(method, path, body):
    headers = signed_headers("city-110", KEY, method, path, body, 1_800_000_000.5)
    signed = SignedRequest.from_headers(headers)
    signed.check_signature(KEY, method, path, body)
    for changed in ((KEY, method, path + "x", body), (KEY, method, path, body + b" "),
                    (b"x" * 32, method, path, body),
                    (KEY, "PUT", path, body)):
        with pytest.raises(ExchangeError) as err:
            signed.check_signature(*changed)
        assert err.value.kind.id == "bad-signature"


def test_missing_headers_are_unsigned_and_named():
    with pytest.raises(ExchangeError) as err:
        SignedRequest.from_headers({"X-Partner-Id": "a"})
    assert err.value.kind.id == "unsigned"
    assert err.value.details["missing"] == ["X-Timestamp", "X-Nonce", "X-Signature"]


@pytest.mark.parametrize(("field", "value", "error_id"), [
    ("X-Timestamp", "12a", "bad-timestamp"),
    ("X-Timestamp", "-5", "bad-timestamp"),
    ("X-Nonce", "short", "bad-nonce"),
    ("X-Nonce", "a" * 65, "bad-nonce"),
    ("X-Signature", "zz", "bad-signature"),
    ("X-Partner-Id", "bad id", "unknown-partner"),
])
def test_malformed_headers_have_their_own_error_ids(field, value, error_id):
    headers = signed_headers("city-110", KEY, "GET", "/", b"", 1_800_000_000)
    headers[field] = value
    with pytest.raises(ExchangeError) as err:
        SignedRequest.from_headers(headers)
    assert err.value.kind.id == error_id


@pytest.mark.parametrize(("offset", "fresh"), [(0, True), (300, True), (-300, True),
                                                (301, False), (-301, False)])
def test_timestamps_beyond_the_skew_are_stale(offset, fresh):
    signed = SignedRequest.from_headers(signed_headers("p", KEY, "GET", "/", b"", 1_800_000_000))
    if fresh:
        signed.check_fresh(1_800_000_000 + offset, 300)
    else:
        with pytest.raises(ExchangeError) as err:
            signed.check_fresh(1_800_000_000 + offset, 300)
        assert err.value.kind.id == "stale-timestamp"
