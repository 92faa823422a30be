"""Every request header the plugin reads, fuzzed with raw bytes (issue 16, item 6).

A header reaches the app as bytes; Starlette decodes them as latin-1, so any byte from 0x80 up
arrives as a non-ASCII character. The requests here are driven straight through the ASGI
interface with raw header bytes (an HTTP client would refuse or re-encode them), as a server
such as uvicorn passes them on: h11 admits any byte but NUL, CR and LF in a header value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal_plugin.identity import HEADER, ResidentIdentity, mint_token
from tests.support.settings import TEST_IDENTITY_SECRET

# What a server hands over in a header value: tab, printable ASCII and every byte from 0x80.
HEADER_BYTES = [9, *range(0x20, 0x7F), *range(0x80, 0x100)]
# Every request header the plugin itself reads (Host and Content-Length are the server's).
READ_HEADERS = [
    HEADER.lower(),
    "authorization",
    "accept",
    "accept-language",
    "user-agent",
    "idempotency-key",
    "stripe-signature",
    "x-csrf-token",
    "content-type",
    "cookie",
]
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes = b""
    content_type: str = ""


CALLS = [
    Call("GET", "/api/me"),
    Call("GET", "/api/feed"),
    Call("GET", "/fragment/feed"),
    Call("GET", "/fragment/side"),
    Call("GET", "/api/articles"),
    Call("GET", "/i/abc.def"),
    Call("GET", "/c/abc.def"),
    Call("GET", "/h/abc.def"),
    Call("GET", "/staff/"),
    Call("GET", "/shop/login"),
    Call("GET", "/api/marketplace/placements"),
    Call("POST", "/api/marketplace/bookings", b'{"placement_id": 1}', "application/json"),
    Call("PUT", "/api/articles/a-1", b"{}", "application/json"),
    Call("POST", "/billing/stripe/webhook", b"{}", "application/json"),
    Call("POST", "/staff/login", b"email=a%40b.jp&password=x", FORM),
    Call("POST", "/shop/login", b"email=a%40b.jp&password=x", FORM),
    Call("POST", "/shop/signup", b"email=a%40b.jp", FORM),
]


class RawClient:
    """Sends requests with raw header bytes through the app's own event loop."""

    def __init__(self, app: Starlette, client: TestClient) -> None:
        self.app = app
        self.client = client
        self.client.get("/shop/login")  # a session with a CSRF token, so the check runs
        self.cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items()).encode()

    def send(self, call: Call, headers: dict[str, bytes]) -> tuple[int, bytes]:
        base = {
            "accept": b"application/json",
            "user-agent": b"Mozilla/5.0 (iPhone) Safari/604.1",
            "cookie": self.cookie,
        }
        if call.content_type:
            base["content-type"] = call.content_type.encode()
        base.update(headers)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": call.method,
            "scheme": "https",
            "path": call.path,
            "raw_path": call.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"content-length", str(len(call.body)).encode()),
                *((name.encode(), value) for name, value in base.items()),
            ],
            "client": ("203.0.113.7", 50000),
            "server": ("testserver", 443),
            "state": {},
        }
        portal = self.client.portal
        assert portal is not None
        return portal.call(self._drive, scope, call.body)

    async def _drive(self, scope: dict[str, object], body: bytes) -> tuple[int, bytes]:
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, object]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, object]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])  # type: ignore[call-overload]
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))  # type: ignore[arg-type]

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


@pytest.fixture
def raw(app: Starlette, client: TestClient) -> Iterator[RawClient]:
    yield RawClient(app, client)


def header_values() -> st.SearchStrategy[bytes]:
    fuzz = st.lists(st.sampled_from(HEADER_BYTES), max_size=80).map(bytes)
    token = mint_token(TEST_IDENTITY_SECRET, ResidentIdentity(external_id="resident-000001"))
    prefixes = st.sampled_from([b"", b"Bearer ", b"Basic ", token.encode(), b"t=1,v1="])
    return st.builds(lambda prefix, tail: prefix + tail, prefixes, fuzz)


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    call=st.sampled_from(CALLS),
    name=st.sampled_from(READ_HEADERS),
    value=header_values(),
)
@example(call=CALLS[0], name=HEADER.lower(), value=b"abc\xff.def")
@example(call=CALLS[1], name=HEADER.lower(), value=b"abc\xff.def")
@example(call=CALLS[2], name=HEADER.lower(), value=b"abc\xff.def")
@example(call=CALLS[14], name="x-csrf-token", value=b"\xe4\xbd\xa0")
@example(call=CALLS[5], name="user-agent", value=b"\xff\xfe")
def test_no_header_value_makes_a_server_error(
    raw: RawClient, call: Call, name: str, value: bytes
) -> None:
    status, body = raw.send(call, {name: value})
    assert status < 500, (call, name, value, body[:300])


@pytest.mark.parametrize("path", ["/api/feed", "/fragment/feed", "/fragment/side"])
def test_a_non_ascii_resident_token_gets_the_anonymous_feed(raw: RawClient, path: str) -> None:
    anonymous, _ = raw.send(Call("GET", path), {})
    status, _ = raw.send(Call("GET", path), {HEADER.lower(): b"abc\xff.def"})
    assert status == anonymous == 200


@pytest.mark.parametrize("value", [b"abc\xff.def", b"\xe4\xbd\xa0.\xe5\xa5\xbd", b"\x80"])
def test_a_non_ascii_resident_token_is_refused_with_a_reason(raw: RawClient, value: bytes) -> None:
    status, body = raw.send(Call("GET", "/api/me"), {HEADER.lower(): value})
    assert status == 401
    assert b'"invalid_resident_token"' in body
    assert "住民トークンが無効です".encode() in body


@pytest.mark.parametrize("path", ["/i/abc.%C3%BF", "/c/abc.%E4%BD%A0", "/h/abc.%FF"])
def test_a_non_ascii_tracking_token_is_refused(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_tracking_token"
