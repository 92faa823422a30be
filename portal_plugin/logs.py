"""Logging for the server and the worker: one line per event on stderr, as text or JSON.

`LOG_FORMAT=text` (the default) writes `time level logger: message`, with ` request_id=…`
appended while a request is handled; `LOG_FORMAT=json` writes one JSON object per line (keys
`time`, `level`, `logger`, `message`, `request_id` during a request, `exc_info` with a
traceback) for a log collector. `serve` passes `uvicorn_log_config` to uvicorn so uvicorn's own
lines (start-up, access log) come out the same way, in every worker process.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

from portal_plugin.request_id import current_request_id

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = ("asctime", "levelname", "name", "message")
JSON_RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}
# APScheduler logs every firing at INFO; the worker's own line per run says more.
QUIET_LOGGERS = {"apscheduler": "WARNING"}


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        return line if request_id is None else f"{line} request_id={request_id}"


class JsonLineFormatter(JsonFormatter):
    def __init__(self) -> None:
        super().__init__(list(JSON_FIELDS), rename_fields=JSON_RENAMED, json_ensure_ascii=False)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        if log_data.get("request_id") is None:
            log_data.pop("request_id", None)
        log_data.pop("color_message", None)  # uvicorn's copy of the message for terminals
        return log_data


def make_formatter(log_format: LogFormat = "text") -> logging.Formatter:
    if log_format == "json":
        return JsonLineFormatter()
    if log_format == "text":
        return TextFormatter()
    raise ValueError(f"unknown log format {log_format!r}; use text or json")


def configure_logging(level: str = "INFO", log_format: LogFormat = "text") -> None:
    """Send the root logger's records to stderr in `log_format` (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_portal_marketplace", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._portal_marketplace = True  # type: ignore[attr-defined]
    handler.setFormatter(make_formatter(log_format))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet)


def uvicorn_log_config(log_format: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn: its loggers and the application's all go
    through one stderr handler in `log_format` (uvicorn applies it in each worker)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"line": {"()": make_formatter, "log_format": log_format}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "line",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.access": {"handlers": [], "propagate": True, "level": level},
            **{name: {"level": quiet} for name, quiet in QUIET_LOGGERS.items()},
        },
    }
