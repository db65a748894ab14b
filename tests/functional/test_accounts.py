"""Signing in and out, the Account page, and sign-in throttling."""

from __future__ import annotations

import os

import pytest
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


def _limited_app(database_url, tmp_path, **limits):  # type: ignore[no-untyped-def]
    return create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": database_url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **limits,
        }
    )


def test_failures_against_one_account_from_one_address_are_limited(database_url, tmp_path, demo):  # type: ignore[no-untyped-def]
    app = _limited_app(database_url, tmp_path, LOGIN_LIMIT_PER_ACCOUNT="2 per 5 minutes")
    client = app.test_client()
    attacker = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(2):
        assert _attempt(client, "ada@northwind.example", "x" * 12, environ_base=attacker).status_code == 422
    assert _attempt(client, "ADA@northwind.example", "x" * 12, environ_base=attacker).status_code == 429
    # Someone else's account is still open from that address...
    assert _attempt(client, "pat@northwind.example", "demo-password", environ_base=attacker).status_code == 303
    app.extensions["db"].kw["bind"].dispose()


def test_the_lockout_cannot_be_triggered_from_other_addresses(database_url, tmp_path, demo):  # type: ignore[no-untyped-def]
    """Failures against Ada's account from an attacker's addresses do not lock Ada out."""
    app = _limited_app(database_url, tmp_path, LOGIN_LIMIT_PER_ACCOUNT="2 per 5 minutes")
    attacker = app.test_client()
    for _ in range(5):
        _attempt(attacker, "ada@northwind.example", "x" * 12, environ_base={"REMOTE_ADDR": "10.6.6.6"})
    ada = app.test_client()
    response = _attempt(ada, "ada@northwind.example", "demo-password", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 303
    app.extensions["db"].kw["bind"].dispose()


def test_the_all_addresses_ceiling_spares_browsers_that_signed_in_before(database_url, tmp_path, demo):  # type: ignore[no-untyped-def]
    """Spread over many addresses, failures hit the per-account ceiling; Ada's own browser is exempt."""
    app = _limited_app(
        database_url, tmp_path, LOGIN_LIMIT_PER_ACCOUNT="2 per 5 minutes", LOGIN_LIMIT_ACCOUNT_CEILING="4 per hour"
    )
    ada = app.test_client()
    home = {"REMOTE_ADDR": "192.0.2.7"}
    assert _attempt(ada, "ada@northwind.example", "demo-password", environ_base=home).status_code == 303
    ada.post("/sign-out", data={"csrf_token": csrf_token(ada, "/account")}, environ_base=home)
    botnet = app.test_client()
    statuses = [
        _attempt(botnet, "ada@northwind.example", "x" * 12, environ_base={"REMOTE_ADDR": f"10.1.0.{i}"}).status_code
        for i in range(6)
    ]
    assert statuses == [422, 422, 422, 422, 429, 429]  # the ceiling slows the attack down...
    stranger = _attempt(
        app.test_client(), "ada@northwind.example", "demo-password", environ_base={"REMOTE_ADDR": "198.51.100.1"}
    )
    assert stranger.status_code == 429  # ...for browsers the account never used...
    again = _attempt(ada, "ada@northwind.example", "demo-password", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert again.status_code == 303  # ...but not for Ada's own, even from a new address
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

    # Its own key prefix and a fresh email: nothing another run on the same Redis does can interfere,
    # and nothing is flushed.
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (CI and project machines run it)")
    settings = {
        "ENV": "testing",
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": url,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "LOGIN_LIMIT_PER_ACCOUNT": "2 per 5 minutes",
        "LOGIN_LIMIT_PER_ADDRESS": "100 per minute",
    }
    workers = [create_app({**settings, "INSTANCE_PATH": str(tmp_path / f"w{i}")}) for i in range(2)]
    email = f"{uuid.uuid4().hex[:8]}@northwind.example"
    first, second = (worker.test_client() for worker in workers)
    assert _attempt(first, email, "wrong-password").status_code == 422
    assert _attempt(second, email, "wrong-password").status_code == 422
    assert _attempt(first, email, "wrong-password").status_code == 429
    for worker in workers:
        worker.extensions["db"].kw["bind"].dispose()


# --- issue 8: the audit trail of signing in and out ----------------------------------------------


def _events(db, action):  # type: ignore[no-untyped-def]
    db.expire_all()
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_sign_ins_failures_and_sign_outs_are_audited_with_address_and_request_id(client, db, demo):  # type: ignore[no-untyped-def]
    address = {"REMOTE_ADDR": "198.51.100.23"}
    wrong = _attempt(client, "ada@northwind.example", "wrong-password-1", environ_base=address)
    unknown = _attempt(client, "Nobody@Northwind.example", "wrong-password-2", environ_base=address)
    right = _attempt(client, "ada@northwind.example", "demo-password", environ_base=address)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")}, environ_base=address)

    failed = _events(db, "auth.sign_in_failed")
    assert [(e.actor_id, e.actor_email, e.details["reason"]) for e in failed] == [
        (None, "ada@northwind.example", "wrong_password"),
        (None, "nobody@northwind.example", "unknown_account"),
    ]
    assert [e.request_id for e in failed] == [wrong.headers["X-Request-Id"], unknown.headers["X-Request-Id"]]
    (signed_in,) = _events(db, "auth.sign_in")
    (signed_out,) = _events(db, "auth.sign_out")
    assert signed_in.request_id == right.headers["X-Request-Id"]
    for event in [*failed, signed_in, signed_out]:
        assert event.client_address == "198.51.100.23" and event.source == "web"
        assert event.created_at.tzinfo is not None
        assert "demo-password" not in str(event.details) and "wrong-password" not in str(event.details)
    assert signed_in.actor_email == signed_out.actor_email == "ada@northwind.example"


def test_the_client_address_comes_from_trusted_proxies_only(database_url, tmp_path, demo, db):  # type: ignore[no-untyped-def]
    app = _limited_app(database_url, tmp_path, PROXY_HOPS=1)
    client = app.test_client()
    forwarded = {"X-Forwarded-For": "203.0.113.66, 198.51.100.5"}  # the client spoofed the first entry
    _attempt(client, "ada@northwind.example", "wrong-password-1", headers=forwarded)
    (event,) = _events(db, "auth.sign_in_failed")
    assert event.client_address == "198.51.100.5"
    app.extensions["db"].kw["bind"].dispose()


def test_a_client_request_id_is_never_trusted_or_recorded(client, db, demo):  # type: ignore[no-untyped-def]
    response = _attempt(client, "ada@northwind.example", "wrong-password-1", headers={"X-Request-Id": "forged-id-1234"})
    (event,) = _events(db, "auth.sign_in_failed")
    assert response.headers["X-Request-Id"] != "forged-id-1234"
    assert event.request_id == response.headers["X-Request-Id"]
    assert "forged" not in str(event.details)


# --- issue 8: sign-in abuse -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["pbkdf2:sha256:1000", "scrypt:1024:8:1"])
def test_unknown_emails_cost_the_same_hash_as_wrong_passwords(database_url, tmp_path, demo, monkeypatch, method):  # type: ignore[no-untyped-def]
    """Count the hash computations (not time): one each, with the configured method and cost."""
    import werkzeug.security

    app = _limited_app(database_url, tmp_path, PASSWORD_HASH_METHOD=method)
    from portal.accounts.services import hash_password

    with app.app_context():
        from portal import db as portal_db
        from portal.models import User

        ada = portal_db.session().scalar(sa.select(User).where(User.email == "ada@northwind.example"))
        ada.password_hash = hash_password("demo-password")  # Ada's hash made with this method
        portal_db.session().commit()
    computed: list[str] = []
    real = werkzeug.security._hash_internal

    def counting(method: str, salt: str, password: str):  # type: ignore[no-untyped-def]
        computed.append(method)
        return real(method, salt, password)

    client = app.test_client()
    token = csrf_token(client, "/sign-in")
    monkeypatch.setattr(werkzeug.security, "_hash_internal", counting)
    client.post("/sign-in", data={"email": "ada@northwind.example", "password": "wrong-password", "csrf_token": token})
    for_known = list(computed)
    computed.clear()
    client.post(
        "/sign-in", data={"email": "nobody@northwind.example", "password": "wrong-password", "csrf_token": token}
    )
    assert for_known == computed == [method]
    app.extensions["db"].kw["bind"].dispose()


def test_production_refuses_memory_rate_limit_storage(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    import pytest as _pytest

    from portal.config import ConfigError

    monkeypatch.setenv("PORTAL_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", "k1:" + "A" * 43 + "=")
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with _pytest.raises(ConfigError) as refused:
        create_app({"ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    assert "PORTAL_RATELIMIT_STORAGE_URI" in str(refused.value) and "redis://" in str(refused.value)


def test_gunicorn_binds_to_loopback_unless_told_otherwise(monkeypatch):  # type: ignore[no-untyped-def]
    from pathlib import Path

    source = (Path(__file__).parents[2] / "gunicorn.conf.py").read_text()
    monkeypatch.delenv("PORTAL_BIND", raising=False)
    namespace: dict = {}
    exec(source, namespace)
    assert namespace["bind"] == "127.0.0.1:8000"
    monkeypatch.setenv("PORTAL_BIND", "0.0.0.0:9000")
    exec(source, namespace)
    assert namespace["bind"] == "0.0.0.0:9000"


# --- issue 8: inputs that gave a 500 ----------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["/%0d%0aX", "/%0aLocation:%20https://evil.example", "/\\evil.example", "//evil.example"]
)
def test_next_with_control_characters_or_another_host_goes_home(client, demo, target):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/sign-in")
    response = client.post(
        f"/sign-in?next={target}",
        data={"email": "ada@northwind.example", "password": "demo-password", "csrf_token": token},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_a_nul_in_the_sign_in_email_is_a_field_error(client, db, demo):  # type: ignore[no-untyped-def]
    """Reachable without signing in; PostgreSQL refuses NUL in text, so it must never reach a query."""
    response = _attempt(client, "ada\x00@northwind.example", "demo-password")
    assert response.status_code == 422
    assert "NUL character (U+0000) at character 4" in response.text
    assert _events(db, "auth.sign_in_failed") == []  # refused before anything was looked up


def test_the_sign_in_email_sent_as_a_file_is_a_field_error(client, demo):  # type: ignore[no-untyped-def]
    import io

    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in",
        data={
            "email": (io.BytesIO(b"ada@northwind.example"), "email.txt"),
            "password": "demo-password",
            "csrf_token": token,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "This field takes typed text, but a file was sent." in response.text


def test_a_huge_password_is_refused_before_it_is_hashed(client, demo, monkeypatch):  # type: ignore[no-untyped-def]
    import werkzeug.security

    token = csrf_token(client, "/sign-in")
    calls: list[str] = []
    monkeypatch.setattr(werkzeug.security, "_hash_internal", lambda *args: calls.append("hash") or ("", ""))
    response = client.post(
        "/sign-in", data={"email": "ada@northwind.example", "password": "p" * 5000, "csrf_token": token}
    )
    assert (
        response.status_code == 422 and "A password has at most 1,024 characters; this one has 5,000." in response.text
    )
    assert calls == []


def test_a_request_larger_than_the_limit_is_refused_with_a_page(client, demo):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"email": "a@b.example", "password": "p" * (2 * 1024 * 1024), "csrf_token": token}
    )
    assert response.status_code == 413
    assert "<html" in response.text and response.headers["X-Request-Id"]


def test_signing_in_after_a_post_returns_to_the_page_the_form_was_on(client, demo):  # type: ignore[no-untyped-def]
    response = client.post(
        "/hubs/northwind/settings/members/1/remove",
        data={},
        headers={"Referer": "http://localhost/hubs/northwind/settings/members"},
    )
    assert response.status_code == 400  # no form token: CSRF refuses first, as for anyone
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/hubs/northwind/settings/members/1/remove",
        data={"csrf_token": token},
        headers={"Referer": "http://localhost/hubs/northwind/settings/members"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/hubs/northwind/settings/members"


def test_an_htmx_request_without_a_session_is_told_to_load_the_sign_in_page(client, demo):  # type: ignore[no-untyped-def]
    response = client.get(
        "/hubs/northwind/settings/members",
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/hubs/northwind/settings/members"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/sign-in?next=/hubs/northwind/settings/members"
    assert response.text == ""
