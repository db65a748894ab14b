"""Signing in and out, the Account page, and sign-in throttling."""

from __future__ import annotations

import sqlalchemy as sa

from portal import create_app
from portal.models import AuditEvent
from tests.helpers import csrf_token, sign_in


def _attempt(client, email, password, **kwargs):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token}, **kwargs)


def test_sign_in_lands_on_my_hubs_and_audits_it(client, db, demo):  # type: ignore[no-untyped-def]
    response = _attempt(client, "  ADA@Northwind.example ", "demo-password")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    page = client.get("/")
    assert "Northwind Studios" in page.text and "Riverside Club" not in page.text
    assert db.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "auth.sign_in")) == "auth.sign_in"


def test_wrong_password_and_unknown_email_get_the_same_generic_message(client, demo):  # type: ignore[no-untyped-def]
    wrong_password = _attempt(client, "ada@northwind.example", "nope-nope-nope")
    unknown_email = _attempt(client, "nobody@northwind.example", "nope-nope-nope")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 422
        assert "The email or password is wrong." in response.text
    assert 'value="ada@northwind.example"' in wrong_password.text  # the email is kept


def test_empty_fields_say_what_is_missing(client):  # type: ignore[no-untyped-def]
    response = _attempt(client, "", "")
    assert response.status_code == 422
    assert "Enter the email address you sign in with." in response.text
    assert "Enter your password." in response.text


def test_next_parameter_only_follows_local_paths(client, demo):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/sign-in")
    data = {"email": "ada@northwind.example", "password": "demo-password", "csrf_token": token}
    response = client.post("/sign-in?next=https://evil.example/phish", data=data)
    assert response.headers["Location"] == "/"
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in?next=/hubs/northwind", data={**data, "csrf_token": token})
    assert response.headers["Location"] == "/hubs/northwind"


def test_protected_page_sends_anonymous_users_to_sign_in_and_back(client):  # type: ignore[no-untyped-def]
    response = client.get("/hubs/northwind")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_sign_out_invalidates_the_old_cookie_everywhere(app, client, demo):  # type: ignore[no-untyped-def]
    sign_in(client, "ada@northwind.example")
    other_browser = app.test_client()
    sign_in(other_browser, "ada@northwind.example")
    stolen = client.get_cookie("portal_session").value
    response = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    replay = app.test_client()
    replay.set_cookie("portal_session", stolen)
    assert replay.get("/account").status_code == 302
    assert other_browser.get("/account").status_code == 302


def test_account_page_lists_profile_and_hubs(signed_in):  # type: ignore[no-untyped-def]
    page = signed_in("pat@northwind.example").get("/account")
    assert "pat@northwind.example" in page.text
    assert "Northwind Studios" in page.text and "Riverside Club" in page.text


def test_too_many_failures_from_one_address_get_429_with_when_to_retry(database_url, tmp_path, demo):  # type: ignore[no-untyped-def]
    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": database_url,
            "LOGIN_LIMIT_PER_ADDRESS": "3 per 10 minutes",
            "LOGIN_LIMIT_PER_ACCOUNT": "100 per minute",
        }
    )
    client = app.test_client()
    statuses = [_attempt(client, f"user{i}@northwind.example", "wrong-password").status_code for i in range(4)]
    assert statuses == [422, 422, 422, 429]
    blocked = _attempt(client, "ada@northwind.example", "demo-password")
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text and "10 minutes" in blocked.text
    assert 0 < int(blocked.headers["Retry-After"]) <= 600
    # Another address is not affected.
    other = _attempt(client, "ada@northwind.example", "demo-password", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 303
    app.extensions["db"].kw["bind"].dispose()


def test_failures_against_one_account_are_limited_across_addresses(database_url, tmp_path, demo):  # type: ignore[no-untyped-def]
    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": database_url,
            "LOGIN_LIMIT_PER_ACCOUNT": "2 per 5 minutes",
        }
    )
    client = app.test_client()
    for i in range(2):
        assert (
            _attempt(client, "ada@northwind.example", "x" * 12, environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
            == 422
        )
    third = _attempt(client, "ADA@northwind.example", "x" * 12, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert third.status_code == 429
    # Someone else's account is still open from those addresses.
    assert (
        _attempt(client, "pat@northwind.example", "demo-password", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code
        == 303
    )
    app.extensions["db"].kw["bind"].dispose()


def test_successful_sign_ins_are_not_counted(database_url, tmp_path, demo):  # type: ignore[no-untyped-def]
    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": database_url,
            "LOGIN_LIMIT_PER_ACCOUNT": "2 per 5 minutes",
            "LOGIN_LIMIT_PER_ADDRESS": "2 per 5 minutes",
        }
    )
    client = app.test_client()
    for _ in range(4):
        assert _attempt(client, "ada@northwind.example", "demo-password").status_code == 303
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    app.extensions["db"].kw["bind"].dispose()


def test_expired_form_explains_and_offers_a_reload(client, demo):  # type: ignore[no-untyped-def]
    client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"email": "ada@northwind.example", "password": "demo-password", "csrf_token": "stale"},
        headers={"Referer": "http://localhost/sign-in"},
    )
    assert response.status_code == 400
    assert "This form expired" in response.text and "Nothing was saved" in response.text
    assert 'href="http://localhost/sign-in"' in response.text
    assert client.get("/account").status_code == 302  # not signed in


def test_redis_storage_shares_limits_between_workers(database_url, tmp_path, demo):  # type: ignore[no-untyped-def]
    """Two app instances (two gunicorn workers) on one Redis see each other's failed attempts."""
    import uuid

    import pytest
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (CI and project machines run it)")
    redis.Redis.from_url(url).flushdb()
    settings = {
        "ENV": "testing",
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": url,
        "LOGIN_LIMIT_PER_ACCOUNT": "2 per 5 minutes",
        "LOGIN_LIMIT_PER_ADDRESS": "100 per minute",
    }
    workers = [create_app({**settings, "INSTANCE_PATH": str(tmp_path / f"w{i}")}) for i in range(2)]
    email = f"{uuid.uuid4().hex[:8]}@northwind.example"
    first, second = (worker.test_client() for worker in workers)
    assert _attempt(first, email, "wrong-password").status_code == 422
    assert _attempt(second, email, "wrong-password").status_code == 422
    assert _attempt(first, email, "wrong-password").status_code == 429
    redis.Redis.from_url(url).flushdb()
    for worker in workers:
        worker.extensions["db"].kw["bind"].dispose()
