from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from portal_plugin.fast_path import (
    FAST_ENDPOINTS_STATE,
    FastPathMiddleware,
    PluginFastLane,
    route_path,
)
from portal_plugin.security.headers import SecurityHeadersMiddleware, security_header_pairs
from portal_plugin.settings import Settings

SECURITY = security_header_pairs(False)


async def fast(scope: Scope, receive: Receive, send: Send) -> None:
    app_name = type(scope.get("app")).__name__
    response = PlainTextResponse(f"fast {scope.get('root_path', '')} {app_name}")
    response.headers.update({name.decode(): value.decode() for name, value in SECURITY})
    await response(scope, receive, send)


async def routed(request: Request) -> Response:
    return PlainTextResponse(f"routed {request.method}")


def plugin() -> Starlette:
    app = Starlette(routes=[Route("/feed", routed, methods=["GET", "POST"])])
    app.add_middleware(FastPathMiddleware, endpoints={"/feed": fast})
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def test_route_path_strips_the_mount_prefix_only_at_a_segment_boundary() -> None:
    assert route_path({"path": "/feed", "root_path": ""}) == "/feed"
    assert route_path({"path": "/m/feed", "root_path": "/m"}) == "/feed"
    assert route_path({"path": "/m", "root_path": "/m"}) == ""
    assert route_path({"path": "/mx/feed", "root_path": "/m"}) == "/mx/feed"


def test_reads_take_the_fast_path_with_security_headers_and_mount_prefix() -> None:
    client = TestClient(Starlette(routes=[Mount("/m", app=plugin())]))
    response = client.get("/m/feed")
    assert response.text == "fast /m Starlette"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert client.head("/m/feed").status_code == 200


def host() -> Starlette:
    async def home(request: Request) -> Response:
        return PlainTextResponse("host home")

    plugin_app = plugin()
    setattr(plugin_app.state, FAST_ENDPOINTS_STATE, {"/feed": fast})
    app = Starlette(routes=[Route("/", home), Mount("/m", app=plugin_app)])
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(PluginFastLane, plugin=plugin_app, prefix="/m/")
    return app


def test_the_host_lane_serves_fast_endpoints_as_the_mount_would() -> None:
    client = TestClient(host())
    response = client.get("/m/feed?x=1")
    assert response.text == "fast /m Starlette"  # the mount's root_path, the plugin as app
    assert response.headers.get_list("content-security-policy") == [SECURITY[0][1].decode()]
    assert client.head("/m/feed").status_code == 200
    assert client.post("/m/feed").text == "routed POST"  # other methods: through the mount
    assert client.get("/").text == "host home"
    assert client.get("/feed").status_code == 404  # only under the prefix
    assert client.get("/mfeed").status_code == 404


def test_other_methods_and_paths_go_through_the_router() -> None:
    client = TestClient(plugin())
    assert client.post("/feed").text == "routed POST"
    assert client.get("/feed/").status_code in (200, 307, 404)
    assert client.get("/other").status_code == 404


def test_the_plugin_serves_its_feed_on_the_fast_path(
    settings: Settings, client: TestClient
) -> None:
    response = client.get("/api/feed?limit=3")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "content-security-policy" in response.headers
    assert "set-cookie" not in response.headers  # no session layer on the feed
    bad = client.get("/api/feed?limit=0")
    assert bad.status_code == 422 and "content-security-policy" in bad.headers
    assert client.post("/api/feed").status_code in (403, 405)
