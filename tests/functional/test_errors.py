"""Issue 8, item 1: error pages that cannot fail, structured log lines, request ids we generate."""

from __future__ import annotations

import io
import json
import os
import stat

import pytest
import sqlalchemy as sa
from flask import Flask

from portal import create_app, logs, migrations
from portal.db import make_engine
from portal.models import User
from tests.functional.test_security_headers import assert_secure
from tests.helpers import sign_in


@pytest.fixture
def log_lines():  # type: ignore[no-untyped-def]
    """What the portal's log handler writes, one entry per line (read after the request)."""
    buffer = io.StringIO()
    handler = logs.handler()
    assert handler is not None, "create_app installs the portal's log handler"
    previous = handler.setStream(buffer)
    yield lambda: buffer.getvalue().splitlines()
    handler.setStream(previous)


def _add_failing_route(app: Flask) -> None:
    """A view whose insert violates a unique constraint: a database error mid-request, not a mock."""
    from portal import db

    def duplicate_user():  # type: ignore[no-untyped-def]
        session = db.session()
        session.add(User(email="ada@northwind.example", display_name="Copy", password_hash="x"))
        session.flush()
        return "unreachable"

    app.add_url_rule("/test-only/duplicate-user", "test_only_duplicate_user", duplicate_user, methods=["GET"])


def test_an_untrusted_host_gets_the_branded_400_page_with_headers(database_url, tmp_path):  # type: ignore[no-untyped-def]
    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": database_url,
            "TRUSTED_HOSTS": "portal.example",
        }
    )
    response = app.test_client().get("/sign-in", headers={"Host": "evil.example"})

    assert response.status_code == 400
    assert "Kaltura Hub Portal" in response.text and "/static/css/app.css" in response.text
    assert_secure(response)
    assert app.test_client().get("/sign-in", headers={"Host": "portal.example"}).status_code == 200
    app.extensions["db"].kw["bind"].dispose()


def test_a_database_error_mid_request_gets_the_branded_500_with_headers_and_a_logged_id(app, client, demo, log_lines):  # type: ignore[no-untyped-def]
    _add_failing_route(app)
    sign_in(client, "ada@northwind.example")  # the error page must load the signed-in user again

    response = client.get("/test-only/duplicate-user", headers={"X-Request-Id": "client-chosen-id"})

    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    assert request_id != "client-chosen-id"
    assert "Something went wrong on our side" in response.text and request_id in response.text
    assert "Ada Admin" in response.text  # the full page, with the signed-in header
    assert "Traceback" not in response.text and "IntegrityError" not in response.text
    assert_secure(response)
    (line,) = [line for line in log_lines() if "unhandled error" in line]
    assert f"request_id={request_id}" in line
    assert "route=test_only_duplicate_user" in line and "level=ERROR" in line
    assert "exc_type=IntegrityError" in line and "client_request_id=client-chosen-id" in line
    assert line.startswith("ts=") and "Z level=" in line
    assert "traceback=" in line and "\n" not in line
    assert "pbkdf2" not in line  # statement parameters (a password hash here) never reach the log


def test_the_500_fragment_for_htmx_carries_the_request_id(app, client, demo):  # type: ignore[no-untyped-def]
    _add_failing_route(app)
    response = client.get("/test-only/duplicate-user", headers={"HX-Request": "true"})
    assert response.status_code == 500
    assert "<html" not in response.text and response.headers["X-Request-Id"] in response.text


def test_when_even_the_error_page_fails_a_plain_page_still_answers(tmp_path):  # type: ignore[no-untyped-def]
    """The database breaks for good mid-request (its users table is gone): the page cannot load the user."""
    url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
    engine = make_engine(url)
    migrations.migrate(engine, "head")
    engine.dispose()
    app = create_app({"ENV": "testing", "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": url})
    from portal import db
    from portal.accounts.services import create_user

    with app.app_context():
        create_user(db.session(), email="ada@northwind.example", display_name="Ada", password="demo-password")

    def break_database():  # type: ignore[no-untyped-def]
        with db.engine().begin() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.exec_driver_sql("DROP TABLE users")
        raise RuntimeError("the database went away")

    app.add_url_rule("/test-only/break", "test_only_break", break_database)
    buffer = io.StringIO()
    logs.handler().setStream(buffer)  # type: ignore[union-attr]
    client = app.test_client()
    sign_in(client, "ada@northwind.example")

    response = client.get("/test-only/break")

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert response.headers["X-Request-Id"] in response.text
    assert_secure(response)
    assert any("the error page could not be rendered" in line for line in buffer.getvalue().splitlines())
    app.extensions["db"].kw["bind"].dispose()


def test_portal_info_lines_are_logged_with_the_request_context(app, client, log_lines):  # type: ignore[no-untyped-def]
    import logging

    @app.get("/test-only/hello")
    def hello():  # type: ignore[no-untyped-def]
        logging.getLogger("portal.test").info("hello from a view")
        return "ok"

    response = client.get("/test-only/hello")

    (line,) = [line for line in log_lines() if "hello from a view" in line]
    assert "level=INFO" in line and "logger=portal.test" in line
    assert f"request_id={response.headers['X-Request-Id']}" in line and "route=hello" in line
    assert 'msg="hello from a view"' in line


def test_json_log_lines(database_url, tmp_path):  # type: ignore[no-untyped-def]
    app = create_app(
        {"ENV": "testing", "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": database_url, "LOG_FORMAT": "json"}
    )
    buffer = io.StringIO()
    logs.handler().setStream(buffer)  # type: ignore[union-attr]
    import logging

    with app.test_request_context("/somewhere"):
        from flask import g

        g.request_id = "abc123"
        logging.getLogger("portal.test").warning("careful: %s", "ks=djJ8c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0")

    entry = json.loads(buffer.getvalue())
    assert entry["level"] == "WARNING" and entry["request_id"] == "abc123" and entry["path"] == "/somewhere"
    assert "djJ8" not in entry["msg"]  # secrets are masked in every portal log line
    app.extensions["db"].kw["bind"].dispose()


def test_request_ids_are_ours_and_distinct(client):  # type: ignore[no-untyped-def]
    ids = {
        client.get("/sign-in", headers={"X-Request-Id": "same-for-all-1234"}).headers["X-Request-Id"] for _ in range(3)
    }
    assert len(ids) == 3 and "same-for-all-1234" not in ids


def test_the_sqlite_database_and_instance_keys_are_owner_only(tmp_path):  # type: ignore[no-untyped-def]
    instance = tmp_path / "instance"
    database = instance / "portal.sqlite3"
    previous = os.umask(0o022)  # a typical umask: files world-readable unless created otherwise
    try:
        app = create_app(
            {"ENV": "development", "INSTANCE_PATH": str(instance), "DATABASE_URL": f"sqlite:///{database}"}
        )
        with app.app_context():
            from portal import db

            db.session().execute(sa.text("SELECT 1"))
    finally:
        os.umask(previous)
    for path in (database, instance / "secret_key", instance / "encryption_keys"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    app.extensions["db"].kw["bind"].dispose()
