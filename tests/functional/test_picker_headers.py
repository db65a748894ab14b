"""The header walk for the picker: only picker responses may be framed, by exactly the hub's origins
(or the portal itself for the Media Library); everything carries the usual headers; nothing in
the picker sets a cookie."""

from __future__ import annotations

import re

import pytest

from tests import picker_support as ps
from tests.functional.test_security_headers import assert_secure
from tests.helpers import CSRF, sign_in

SECOND = "https://lms.example.org"


@pytest.fixture
def embedding(app, db, demo):  # type: ignore[no-untyped-def]
    return ps.embed(app, db, origins=(ps.HOST, SECOND))


def _assert_picker_headers(response, frame_ancestors: str) -> None:  # type: ignore[no-untyped-def]
    csp = response.headers["Content-Security-Policy"]
    assert re.search(r"script-src 'self' 'nonce-[A-Za-z0-9_-]{20,}'", csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp and "connect-src 'self'" in csp
    assert re.search(r"frame-ancestors ([^;]*)", csp).group(1) == frame_ancestors
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Set-Cookie" not in response.headers


def test_every_picker_route_frames_for_exactly_the_hub_origins(client, embedding):  # type: ignore[no-untyped-def]
    launched = ps.launch(client, ps.token(embedding))
    exactly = f"{ps.HOST} {SECOND}"  # the hub's list, sorted; nothing else, not even 'self'
    _assert_picker_headers(launched, exactly)
    bearer = ps.bearer(ps.session_token(launched))
    for response in (
        client.get("/embed/picker/media?q=harbour", headers=bearer),
        client.get("/embed/picker/media?page=abc", headers=bearer),
        client.get("/embed/picker/media/0_abcd1234", headers=bearer),
        client.post("/embed/picker/import", data={"entry_id": "0_abcd1234"}, headers=bearer),
        client.post("/embed/picker/import", data={}, headers=bearer),
    ):
        _assert_picker_headers(response, exactly)


def test_picker_errors_and_refusals_cannot_be_framed_by_strangers(client, embedding):  # type: ignore[no-untyped-def]
    for response in (
        client.get("/embed/picker/media"),  # no session: 401
        client.get("/embed/picker"),
        ps.launch(client, ps.token(embedding, origin="https://evil.example"), origin="https://evil.example"),
        ps.launch(client, "garbage", origin="https://evil.example"),
    ):
        assert_secure(response)
        assert "Set-Cookie" not in response.headers


def test_the_library_launch_page_is_framed_by_the_portal_only(client, embedding):  # type: ignore[no-untyped-def]
    sign_in(client, "pat@northwind.example")
    page = client.get("/hubs/northwind/library")
    token = CSRF.search(client.get("/account").text).group(1)

    response = client.post("/hubs/northwind/library/launch", data={"csrf_token": token})

    assert response.status_code == 200
    assert re.search(r"frame-ancestors ([^;]*)", response.headers["Content-Security-Policy"]).group(1) == "'self'"
    assert 'name="launch_token"' in response.text and 'action="/embed/picker"' in response.text
    assert "X-Frame-Options" not in response.headers
    assert_secure(page)  # the library page itself is never framed
