"""Log lines as text or JSON, each carrying the id of the request it was written for."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from portal_plugin.logs import (
    RequestIdFilter,
    configure_logging,
    make_formatter,
    uvicorn_log_config,
)
from portal_plugin.request_id import RequestIdMiddleware, current_request_id, new_request_id
from portal_plugin.settings import SettingsError, load_settings

SECRETS = {"SECRET_KEY": "s" * 40, "PORTAL_IDENTITY_SECRET": "p" * 40}
log = logging.getLogger("tests.request_log")


def captured(log_format: str) -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter(log_format))  # type: ignore[arg-type]
    handler.addFilter(RequestIdFilter())
    return handler, stream


@pytest.fixture
def logged() -> Iterator[dict[str, io.StringIO]]:
    streams = {}
    handlers = []
    for log_format in ("text", "json"):
        handler, streams[log_format] = captured(log_format)
        handlers.append(handler)
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    yield streams
    for handler in handlers:
        log.removeHandler(handler)


def logging_app() -> Starlette:
    async def on_the_loop(request: Request) -> PlainTextResponse:
        log.info("async %s", request.url.path)
        return PlainTextResponse(current_request_id() or "")

    def in_a_thread(request: Request) -> PlainTextResponse:  # Starlette runs it in its pool
        log.info("sync %s", request.url.path)
        return PlainTextResponse(current_request_id() or "")

    app = Starlette(routes=[Route("/a", on_the_loop), Route("/s", in_a_thread)])
    app.add_middleware(RequestIdMiddleware)
    return app


def test_every_line_of_a_request_carries_its_id_in_text_and_json(
    logged: dict[str, io.StringIO],
) -> None:
    client = TestClient(logging_app())
    for path in ("/a", "/s"):
        response = client.get(path, headers={"X-Request-ID": f"edge-{path[1:]}-0001"})
        assert response.headers["x-request-id"] == f"edge-{path[1:]}-0001"
        assert response.text == f"edge-{path[1:]}-0001"
    text = logged["text"].getvalue().splitlines()
    assert text[0].endswith("INFO tests.request_log: async /a request_id=edge-a-0001")
    assert text[1].endswith("INFO tests.request_log: sync /s request_id=edge-s-0001")
    lines = [json.loads(line) for line in logged["json"].getvalue().splitlines()]
    assert [(line["message"], line["request_id"]) for line in lines] == [
        ("async /a", "edge-a-0001"),
        ("sync /s", "edge-s-0001"),
    ]
    assert {"time", "level", "logger"} <= lines[0].keys() and lines[0]["level"] == "INFO"


@pytest.mark.parametrize(
    "sent", [None, "", "has space", "x" * 129, "semi;colon", "日本語", 'a"quote']
)
def test_a_missing_or_implausible_request_id_is_replaced_by_a_new_one(sent: str | None) -> None:
    client = TestClient(logging_app())
    headers = {} if sent is None else {"X-Request-ID": sent.encode("utf-8")}
    first = client.get("/a", headers=headers)
    second = client.get("/a", headers=headers)
    made = first.headers["x-request-id"]
    assert made != sent and len(made) == 32 and int(made, 16) >= 0
    assert second.headers["x-request-id"] != made  # a new one per request
    assert first.text == made


def test_made_ids_are_32_hex_digits_and_do_not_repeat() -> None:
    made = [new_request_id() for _ in range(10_000)]
    assert all(len(i) == 32 and i == i.lower() and int(i, 16) >= 0 for i in made)
    assert len(set(made)) == len(made)


def test_outside_a_request_lines_have_no_request_id(logged: dict[str, io.StringIO]) -> None:
    log.warning("between requests")
    assert logged["text"].getvalue().rstrip().endswith("tests.request_log: between requests")
    assert "request_id" not in json.loads(logged["json"].getvalue())


def test_a_nested_instance_keeps_the_outer_id_and_adds_one_header() -> None:
    inner = logging_app()
    outer = RequestIdMiddleware(inner)
    response = TestClient(outer).get("/a", headers={"X-Request-ID": "host-made-id"})
    assert response.text == "host-made-id"
    assert response.headers.get_list("x-request-id") == ["host-made-id"]


def test_the_plugin_answers_with_a_request_id(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "probe-42"})
    assert response.headers["x-request-id"] == "probe-42"
    assert len(client.get("/api/feed").headers["x-request-id"]) == 32


def test_json_exceptions_keep_their_traceback(logged: dict[str, io.StringIO]) -> None:
    try:
        raise RuntimeError("database went away")
    except RuntimeError:
        log.exception("job failed")
    line = json.loads(logged["json"].getvalue())
    assert (
        line["message"] == "job failed" and "RuntimeError: database went away" in line["exc_info"]
    )


def test_log_format_setting_is_validated(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    assert load_settings().log_format == "text"
    monkeypatch.setenv("LOG_FORMAT", " JSON ")
    assert load_settings().log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        load_settings()


def test_the_servers_logging_config_sends_uvicorn_and_the_app_through_one_json_handler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        logging.config.dictConfig(uvicorn_log_config("json"))
        logging.getLogger("uvicorn.error").info("Started server process")
        logging.getLogger("marketplace.delivery.writer").warning("spooling")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("uvicorn.error", "Started server process"),
        ("marketplace.delivery.writer", "spooling"),
    ]


def test_configure_logging_replaces_only_its_own_handler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        configure_logging(log_format="text")
        configure_logging(log_format="json")
        ours = [h for h in root.handlers if getattr(h, "_portal_marketplace", False)]
        assert len(ours) == 1 and [h for h in root.handlers if h not in ours] == before
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
