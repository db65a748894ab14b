"""Every state-changing route refuses a request without its form token, and the refusal signs nobody out.

The routes come from ``app.url_map``: a new POST route is covered the day it is added, and one
that is exempted from CSRF protection (or whose check is lost) fails here. The request is the
one that succeeds in the authorization matrix - the right user, the right data - minus the token.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.models import AuditEvent
from tests.functional.test_authorization import CLOSED_PORT, MATRIX, ROLES, USERS, _url, world  # noqa: F401
from tests.helpers import csrf_token, sign_in, snapshot

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Routes allowed to take state-changing requests without a CSRF token, each with the reason.
EXEMPT: dict[str, str] = {
    # The host application's page posts the launch form cross-site on purpose (LTI style); the
    # signed, single-use launch token bound to the host's origin is what protects it.
    "embed.launch": "authenticated by its signed launch token, not a cookie",
    # Picker routes take only an Authorization: Bearer header, which a browser never adds to a
    # forged cross-site request, and refuse cookies (tests/functional/test_picker_session.py).
    "embed.import_items": "authenticated by the picker's Bearer header only",
    # The upload routes (issue 12) are picker routes: the same Bearer header, no cookie.
    "embed.upload_check": "authenticated by the picker's Bearer header only",
    "embed.upload_prepare": "authenticated by the picker's Bearer header only",
    "embed.upload_session": "authenticated by the picker's Bearer header only",
    "embed.upload_finish": "authenticated by the picker's Bearer header only",
    "embed.upload_cancel": "authenticated by the picker's Bearer header only",
}


@pytest.fixture
def app_settings():  # type: ignore[no-untyped-def]
    return {"KALTURA_SANDBOX_URL": CLOSED_PORT}


def _state_changing_routes(app):  # type: ignore[no-untyped-def]
    return sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods & UNSAFE
        if rule.endpoint not in EXEMPT
    )


def _acting_role(endpoint: str, method: str) -> str:
    """The kind of user for whom this request succeeds (so only the missing token can refuse it)."""
    expected = MATRIX[endpoint][method][1]
    for role in ROLES:
        status = expected[role]
        if (200 <= status < 400 and not (role != "anonymous" and status == 302)) or status == 422:
            return role
    raise AssertionError(f"{endpoint} {method}: no role succeeds in the matrix")


def test_every_state_changing_route_is_in_the_matrix(app):  # type: ignore[no-untyped-def]
    routes = _state_changing_routes(app)
    assert len(routes) >= 12
    assert not [route for route in routes if route[0] not in MATRIX], "add the route to the authorization matrix"


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_every_state_changing_route_refuses_a_request_without_its_token(app, db, world, htmx):  # type: ignore[no-untyped-def]  # noqa: F811
    refused = []
    for endpoint, method in _state_changing_routes(app):
        role = _acting_role(endpoint, method)
        client = app.test_client()
        if role != "anonymous":
            sign_in(client, USERS[role])
        data = MATRIX[endpoint][method][0] or {}
        before = snapshot(db)
        last = db.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
        headers = {"HX-Request": "true"} if htmx else {}

        response = client.open(_url(app, endpoint, world), method=method, data=data, headers=headers)

        assert response.status_code == 400, f"{endpoint} {method} as {role}: {response.status_code}"
        assert "This form expired" in response.text
        after = snapshot(db)
        assert {k: v for k, v in after.items() if k != "audit_events"} == {
            k: v for k, v in before.items() if k != "audit_events"
        }, f"{endpoint} changed data without a token"
        db.expire_all()
        events = list(db.scalars(sa.select(AuditEvent).where(AuditEvent.id > last)))
        assert [e.action for e in events] == ["security.csrf_failed"], endpoint
        assert events[0].details["route"] == endpoint
        assert events[0].request_id == response.headers["X-Request-Id"]
        if role != "anonymous":
            assert events[0].actor_email == USERS[role]
        refused.append(endpoint)
    assert len(refused) == len(_state_changing_routes(app))


def test_a_wrong_token_keeps_the_session_cookie(client, demo):  # type: ignore[no-untyped-def]
    sign_in(client, USERS["admin"])
    response = client.post("/hubs/northwind/settings", data={"name": "Hijacked", "csrf_token": "forged"})
    assert response.status_code == 400
    assert "portal_session" not in response.headers.get("Set-Cookie", "")
    assert client.get("/account").status_code == 200  # still signed in


def test_a_cross_site_post_does_not_replace_the_victims_session(app, client, demo):  # type: ignore[no-untyped-def]
    """SameSite=Lax keeps the cookie off a cross-site POST; the error page must not set a new one."""
    sign_in(client, USERS["admin"])
    attacker_page = app.test_client()  # the same browser, but the cookie is not sent cross-site

    response = attacker_page.post("/sign-out", data={}, headers={"Origin": "https://evil.example"})

    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers
    assert client.get("/account").status_code == 200


def test_the_csrf_page_for_htmx_is_a_fragment(client, demo):  # type: ignore[no-untyped-def]
    sign_in(client, USERS["admin"])
    response = client.post(
        "/hubs/northwind/settings/members", data={"email": "x@example.com"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert "<html" not in response.text and 'id="error-body"' in response.text
    assert csrf_token(client, "/account")  # the form can be reloaded
