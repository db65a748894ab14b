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

Under gunicorn (``gunicorn.conf.py``), :class:`GunicornLogger` writes gunicorn's own access and
error lines to standard output as JSON objects too. An access line has the portal's request id
(from the response's ``X-Request-Id``), the method, the path *without* the query string, the
status, the size and the duration: never a header (so never ``Authorization`` or a cookie), a query
string, a body or a referrer, which is where a picker session, a KS or a launch token could be.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_request_context, request
from gunicorn.glogging import Logger as _GunicornBaseLogger

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


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's logger with JSON lines on standard output (``logger_class`` in gunicorn.conf.py)."""

    #: Longest user agent kept: enough to tell browsers and tools apart, not a place to smuggle data.
    USER_AGENT_MAX = 200

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            if getattr(handler, "_gunicorn", False):
                handler.setFormatter(JsonFormatter())
                if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                    handler.setStream(sys.stdout)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """One JSON line per request (see the module docstring for what it never contains)."""
        if not self.access_log_enabled:
            return
        try:
            self.access_log.info("%s", json.dumps(access_fields(resp, environ, request_time), ensure_ascii=False))
        except Exception:
            self.error(traceback.format_exc())


def access_fields(resp: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
    """The fields of an access line, from gunicorn's response, WSGI environ and duration."""
    status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
    headers = dict((name.lower(), value) for name, value in resp.headers)
    moment = datetime.now(UTC)
    agent = str(environ.get("HTTP_USER_AGENT") or "")
    return {
        "ts": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "level": "INFO",
        "logger": "gunicorn.access",
        "request_id": headers.get("x-request-id") or None,
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "status": int(status) if str(status).isdigit() else status,
        "bytes": getattr(resp, "sent", None),
        "duration_ms": round(request_time.total_seconds() * 1000, 1),
        "remote": environ.get("REMOTE_ADDR"),
        "user_agent": "".join(c for c in agent if c.isprintable())[: GunicornLogger.USER_AGENT_MAX] or None,
    }
