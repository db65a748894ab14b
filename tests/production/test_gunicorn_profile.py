"""gunicorn.conf.py and its logger: JSON lines with the request id, and never a credential."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import runpy
import sys
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from portal.kaltura.diagnostics import CHECK_BUDGET
from portal.logs import GunicornLogger

CONF = "gunicorn.conf.py"
SECRETS = ("picker-session-SECRET", "launch-token-SECRET", "djJ8KS-SECRET", "session-cookie-SECRET")


@pytest.fixture
def logger(monkeypatch):  # type: ignore[no-untyped-def]
    config = Config()
    config.set("accesslog", "-")
    config.set("errorlog", "-")
    made = GunicornLogger(config)
    stream = io.StringIO()
    for handler in [*made.access_log.handlers, *made.error_log.handlers]:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
    made.stream = stream  # type: ignore[attr-defined]
    return made


def _request() -> tuple[SimpleNamespace, list[tuple[str, str]], dict[str, str]]:
    response = SimpleNamespace(
        status="200 OK",
        headers=[("Content-Type", "text/html"), ("X-Request-Id", "abc123requestid"), ("Set-Cookie", SECRETS[3])],
        sent=1234,
    )
    request_headers = [("AUTHORIZATION", f"Bearer {SECRETS[0]}"), ("COOKIE", f"__Host-portal_session={SECRETS[3]}")]
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/embed/picker/media",
        "QUERY_STRING": f"q=drone&access_token={SECRETS[0]}&ks={SECRETS[2]}",
        "RAW_URI": f"/embed/picker/media?q=drone&access_token={SECRETS[0]}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": "Mozilla/5.0\nforged-line",
        "HTTP_AUTHORIZATION": f"Bearer {SECRETS[0]}",
        "HTTP_REFERER": f"https://host.example/page?launch_token={SECRETS[1]}",
    }
    return response, request_headers, environ


def test_an_access_line_is_json_with_the_request_id_and_no_credential(logger):  # type: ignore[no-untyped-def]
    response, headers, environ = _request()

    logger.access(response, SimpleNamespace(headers=headers), environ, dt.timedelta(milliseconds=42))

    line = logger.stream.getvalue()
    assert line.count("\n") == 1  # one line, whatever the user agent holds
    record = json.loads(line)
    assert record["logger"] == "gunicorn.access" and record["request_id"] == "abc123requestid"
    assert record["method"] == "GET" and record["path"] == "/embed/picker/media" and record["status"] == 200
    assert record["bytes"] == 1234 and record["duration_ms"] == 42.0 and record["remote"] == "127.0.0.1"
    for secret in SECRETS:
        assert secret not in line
    assert "drone" not in line and "?" not in line  # no query string at all


def test_error_lines_are_json_on_standard_output(logger):  # type: ignore[no-untyped-def]
    logger.error("Worker (pid:%s) was sent SIGKILL!", 4242)

    record = json.loads(logger.stream.getvalue())
    assert record["logger"] == "gunicorn.error" and record["level"] == "ERROR"
    assert record["msg"] == "Worker (pid:4242) was sent SIGKILL!"
    config = Config()
    config.set("errorlog", "-")
    fresh = GunicornLogger(config)  # (replaces the fixture's handlers: gunicorn's loggers are global)
    assert [h.stream for h in fresh.error_log.handlers if getattr(h, "_gunicorn", False)] == [sys.stdout]


def test_the_configuration_file_uses_the_json_logger_and_outlasts_the_portals_budgets(monkeypatch):  # type: ignore[no-untyped-def]
    for name in ("PORTAL_WORKERS", "PORTAL_WORKER_TIMEOUT", "PORTAL_TLS_CERT", "PORTAL_CONTROL_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    settings = runpy.run_path(CONF)

    assert settings["logger_class"] == "portal.logs.GunicornLogger"
    assert settings["accesslog"] == "-" and settings["errorlog"] == "-"
    assert settings["workers"] >= 2 and settings["worker_class"] == "gthread"
    # A picker request (at most 60 s budget) and a connection test (30 s) end before gunicorn kills a worker.
    assert settings["timeout"] > max(60, CHECK_BUDGET)
    assert settings["graceful_timeout"] >= 10 and settings["max_requests"] > 0
    assert settings["certfile"] is None and settings["control_socket_disable"] is True
    assert "access_log_format" not in settings  # the logger writes its own line, with no header or query


def test_tls_comes_from_the_environment(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PORTAL_TLS_CERT", "/etc/portal/cert.pem")
    monkeypatch.setenv("PORTAL_TLS_KEY", "/etc/portal/key.pem")
    monkeypatch.setenv("PORTAL_WORKERS", "3")

    settings = runpy.run_path(CONF)

    assert (settings["certfile"], settings["keyfile"], settings["workers"]) == (
        "/etc/portal/cert.pem",
        "/etc/portal/key.pem",
        3,
    )
