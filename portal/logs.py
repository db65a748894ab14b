"""The portal's log lines: one structured line per record, findable by the reference a user quotes.

``create_app`` calls :func:`configure`: the ``portal`` logger (and every ``portal.*`` logger under
it) gets one handler on standard error, at ``PORTAL_LOG_LEVEL`` (INFO by default), so INFO lines
are no longer dropped for want of a handler. Records still propagate, so an operator's own root
configuration (or pytest) sees them too.

Each line carries the UTC time, the level, the logger, the portal's request id, the route
(endpoint), the method and path, and for an exception its type, message and traceback: as
``key=value`` pairs (``PORTAL_LOG_FORMAT=text``, the default) or one JSON object
(``PORTAL_LOG_FORMAT=json``). Newlines inside a value are escaped, so a traceback stays on its
line. A request id a client sent is logged as ``client_request_id``, apart from ours, and never
used for anything else. Messages and tracebacks pass through the Kaltura redaction, so a
session or token that slips into an exception is masked here too.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_request_context, request

from portal.kaltura.redaction import redact_text

LOGGER = "portal"
FORMATS = ("text", "json")
# Fields taken from the request (or "-" outside one), in the order a line shows them.
_CONTEXT_FIELDS = ("request_id", "route", "method", "path", "client_request_id")


class RequestContextFilter(logging.Filter):
    """Adds the request id, route, method and path of the current request to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            values = {
                "request_id": g.get("request_id"),
                "route": request.endpoint,
                "method": request.method,
                "path": request.path,
                "client_request_id": g.get("client_request_id"),
            }
        else:
            values = {}
        for name in _CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, values.get(name))
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    moment = datetime.fromtimestamp(record.created, UTC)
    fields: dict[str, Any] = {
        "ts": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "level": record.levelname,
        "logger": record.name,
    }
    for name in _CONTEXT_FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            fields[name] = value
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not lose the record
        message = str(record.msg)
    fields["msg"] = redact_text(message)
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        fields["exc_type"] = type(error).__name__
        fields["exc"] = redact_text(str(error))
        fields["traceback"] = redact_text("".join(traceback.format_exception(*record.exc_info)).rstrip())
    return fields


class TextFormatter(logging.Formatter):
    """``key=value`` pairs on one line; values with spaces or quotes are quoted, newlines escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={_quote(value)}" for key, value in _fields(record).items())


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record), ensure_ascii=False, default=str)


def _quote(value: Any) -> str:
    text = str(value)
    if text and not any(char in text for char in ' "=\\') and text.isprintable():
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


class PortalHandler(logging.StreamHandler):
    """The handler :func:`configure` installs; marked by its class so a second app replaces it."""


def configure(app: Flask) -> logging.Logger:
    """Give the ``portal`` logger its handler, level and format from the app's settings."""
    logger = logging.getLogger(LOGGER)
    for handler in [h for h in logger.handlers if isinstance(h, PortalHandler)]:
        logger.removeHandler(handler)
    handler = PortalHandler()
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter() if app.config["LOG_FORMAT"] == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(app.config["LOG_LEVEL"])
    return logger


def handler() -> PortalHandler | None:
    """The installed handler (tests point its stream elsewhere to read the lines)."""
    return next((h for h in logging.getLogger(LOGGER).handlers if isinstance(h, PortalHandler)), None)
