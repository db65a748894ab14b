"""Every route, for anonymous and signed-in users, carries the security headers."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from tests.helpers import sign_in

IGNORED = {"static"}
ARGS = {"slot": "client", "membership_id": 1, "entry_id": "0_abcd1234", "item_id": 1}


def _get_urls(app):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in IGNORED or "GET" not in rule.methods:
                continue
            yield url_for(rule.endpoint, **{arg: ARGS.get(arg, "northwind") for arg in rule.arguments})
    yield "/no-such-page"


def assert_secure(response) -> None:  # type: ignore[no-untyped-def]
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert re.search(r"script-src 'self' 'nonce-[A-Za-z0-9_-]{20,}'", csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Request-Id"]


@pytest.mark.parametrize("who", ["anonymous", "admin", "support"])
def test_every_page_carries_security_headers(app, client, demo, who):  # type: ignore[no-untyped-def]
    if who != "anonymous":
        sign_in(client, {"admin": "ada@northwind.example", "support": "sue@support.example"}[who])
    urls = list(_get_urls(app))
    assert len(urls) >= 6
    for url in urls:
        assert_secure(client.get(url))


def test_posts_and_errors_carry_security_headers_too(client, demo):  # type: ignore[no-untyped-def]
    assert_secure(client.post("/sign-in", data={"email": "x@example.com", "password": "y"}))  # CSRF failure page
    sign_in(client, "ada@northwind.example")
    assert_secure(client.post("/hubs/northwind/settings/members", data={}))


def test_each_response_gets_a_fresh_nonce_used_by_its_script_tags(client):  # type: ignore[no-untyped-def]
    first, second = client.get("/sign-in"), client.get("/sign-in")
    nonce = re.search(r"'nonce-([^']+)'", first.headers["Content-Security-Policy"]).group(1)
    assert f'nonce="{nonce}"' in first.text
    assert nonce not in second.headers["Content-Security-Policy"]


def test_static_files_are_cacheable_and_nosniff(client):  # type: ignore[no-untyped-def]
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()


def test_session_cookie_is_httponly_and_lax(client, demo):  # type: ignore[no-untyped-def]
    sign_in(client, "ada@northwind.example")
    cookie = client.get_cookie("portal_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_production_cookies_are_secure_and_host_prefixed(database_url, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    from portal import create_app

    monkeypatch.setenv("PORTAL_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", "k1:" + "A" * 43 + "=")
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    app = create_app({"ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-portal_session"
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    app.extensions["db"].kw["bind"].dispose()
