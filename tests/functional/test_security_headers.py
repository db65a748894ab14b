"""Every route, for anonymous and signed-in users, carries the security headers."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from tests.helpers import sign_in

IGNORED = {"static"}
ARGS = {
    "slot": "client",
    "membership_id": 1,
    "entry_id": "0_abcd1234",
    "item_id": 1,
    "user_id": 999999,
    "upload_id": "0" * 32,
}


# endpoint -> what each kind of visitor gets from its GET (the demo has no Kaltura connection, so
# there is no saved token to remove: 404 for the admin, 403 for support, who may not remove anyway).
SIGNED_IN_PAGE = {"anonymous": 302, "admin": 200, "support": 200}
STATUS = {
    "main.health": dict.fromkeys(SIGNED_IN_PAGE, 200),
    "accounts.login": {"anonymous": 200, "admin": 302, "support": 302},
    "accounts.account": SIGNED_IN_PAGE,
    "hubs.index": SIGNED_IN_PAGE,
    "hubs.show": SIGNED_IN_PAGE,
    "hubs.settings": SIGNED_IN_PAGE,
    "hubs.members": SIGNED_IN_PAGE,
    "integrations.kaltura": SIGNED_IN_PAGE,
    "integrations.kaltura_remove": {"anonymous": 302, "admin": 404, "support": 403},
    "audit.index": {"anonymous": 302, "admin": 403, "support": 200},
    # Identities: support is in no hub (no member page of their own); user 999999 does not exist (ids are not
    # reset between tests on PostgreSQL, so no real id is known here).
    "accounts.integration": {"anonymous": 302, "admin": 200, "support": 404},
    "identity.preview": SIGNED_IN_PAGE,
    "identity.members": SIGNED_IN_PAGE,
    "identity.move": {"anonymous": 302, "admin": 404, "support": 403},
    "identity.change_user_email": {"anonymous": 302, "admin": 403, "support": 404},
    "audit.hub": SIGNED_IN_PAGE,
    "embedding.settings": SIGNED_IN_PAGE,
    "status.hub": SIGNED_IN_PAGE,
    "status.bundle": {"anonymous": 302, "admin": 403, "support": 200},
    "status.support": {"anonymous": 302, "admin": 403, "support": 200},
    "library.index": SIGNED_IN_PAGE,
    # The demo library is empty: item 1 does not exist.
    "library.item": {"anonymous": 302, "admin": 404, "support": 404},
    # The picker's own pages: a launch needs a POSTed launch token (GET explains that), and its
    # routes take only a Bearer header, which a plain page load never has.
    "embed.launch_help": dict.fromkeys(SIGNED_IN_PAGE, 400),
    "embed.media": dict.fromkeys(SIGNED_IN_PAGE, 401),
    "embed.preview": dict.fromkeys(SIGNED_IN_PAGE, 401),
    "embed.uploads": dict.fromkeys(SIGNED_IN_PAGE, 401),
    None: dict.fromkeys(SIGNED_IN_PAGE, 404),  # /no-such-page
}


def _get_urls(app):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in IGNORED or "GET" not in rule.methods:
                continue
            url = url_for(rule.endpoint, **{arg: ARGS.get(arg, "northwind") for arg in rule.arguments})
            yield rule.endpoint, url
    yield None, "/no-such-page"


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
    unknown = {endpoint for endpoint, _ in urls} - set(STATUS)
    assert not unknown, f"add the expected statuses of these pages to STATUS: {sorted(unknown)}"
    for endpoint, url in urls:
        response = client.get(url)
        assert response.status_code == STATUS[endpoint][who], url
        assert_secure(response)


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
    monkeypatch.setenv("PORTAL_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/8")
    app = create_app({"ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-portal_session"
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    app.extensions["db"].kw["bind"].dispose()
